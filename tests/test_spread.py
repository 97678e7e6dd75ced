"""course.spread: numbers over seeds, checked against the standard library's statistics."""

import statistics

import numpy as np
import pytest

from course.spread import Spread, over_seeds


def test_mean_sd_worst_match_statistics():
    values = (0.81, 0.86, 0.84, 0.79, 0.88)
    spread = Spread("dice", values, (0, 1, 2, 3, 4))
    assert spread.mean == pytest.approx(statistics.mean(values))
    assert spread.sd == pytest.approx(statistics.stdev(values))
    assert spread.worst == 0.79
    assert Spread("loss", values, (0, 1, 2, 3, 4), higher_is_better=False).worst == 0.88
    assert Spread("one", (0.5,), (7,)).sd == 0.0


def test_holds_needs_the_worst_seed_and_three_sd():
    spread = Spread("acc", (0.90, 0.92, 0.94), (0, 1, 2))  # mean 0.92, sd 0.02
    assert spread.holds(above=0.85)  # 0.92 - 0.06 = 0.86 >= 0.85
    assert not spread.holds(above=0.87)  # worst 0.90 clears it, 3 SD do not
    assert not spread.holds(above=0.91)  # the worst seed does not
    assert spread.holds(below=0.99) and not spread.holds(below=0.97)
    with pytest.raises(ValueError, match="exactly one"):
        spread.holds()


def test_paired_differences_seed_by_seed():
    a = Spread("a", (0.80, 0.70, 0.90), (0, 1, 2))
    b = Spread("b", (0.75, 0.66, 0.84), (0, 1, 2))
    diff = a.minus(b)
    assert diff.values == pytest.approx((0.05, 0.04, 0.06)) and diff.name == "a - b"
    assert diff.holds(above=0.0)  # always better, although the means differ by less than 1 SD
    assert a.mean - b.mean < a.sd + b.sd
    with pytest.raises(ValueError, match="same seeds"):
        a.minus(Spread("c", (1.0, 1.0, 1.0), (3, 4, 5)))


def test_over_seeds_seeds_each_run():
    def run(seed):
        return {"draw": float(np.random.rand()), "seed": seed}  # noqa: NPY002 - the global one

    first, again = over_seeds(run, (3, 4)), over_seeds(run, (3, 4))
    assert first["draw"].values == again["draw"].values  # seed_everything before each run
    assert first["seed"].values == (3.0, 4.0)
    assert "mean +/- SD over 2 seeds: 3, 4" in str(first["seed"])


@pytest.mark.parametrize(
    ("run", "seeds", "error"),
    [
        (None, (0,), TypeError),
        (lambda s: 1.0, (0,), TypeError),
        (lambda s: {}, (), ValueError),
        (lambda s: {}, (1, 1), ValueError),
    ],
)
def test_bad_input(run, seeds, error):
    with pytest.raises(error):
        over_seeds(run, seeds)


def test_spread_needs_one_value_per_seed():
    with pytest.raises(ValueError, match="same, non-zero length"):
        Spread("x", (1.0,), (0, 1))


def test_claim_prints_the_margin(capsys):
    spread = Spread("dice", (0.84, 0.86, 0.85), (0, 1, 2))  # mean 0.85, sd 0.01
    assert spread.claim(above=0.8)
    assert capsys.readouterr().out.strip() == (
        "CLAIM dice >= 0.8: worst seed 0.840, mean - 3 SD 0.820, margin 0.020 (holds)"
    )
    assert not spread.claim(below=0.85)
    assert "(FAILS)" in capsys.readouterr().out


def test_seeds_from_the_environment(monkeypatch):
    from course.spread import seeds

    monkeypatch.delenv("COURSE_SEEDS", raising=False)
    assert seeds() == (0, 1, 2)
    monkeypatch.setenv("COURSE_SEEDS", "0, 1,2,3,4")
    assert seeds() == (0, 1, 2, 3, 4)
    monkeypatch.setenv("COURSE_SEEDS", "a,b")
    with pytest.raises(ValueError, match="COURSE_SEEDS"):
        seeds()
