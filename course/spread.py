"""Numbers measured over seeds: mean +/- SD, the worst seed, and paired differences.

A number a notebook prints after training is one draw of a random process (initial weights,
batch order, augmentations, noise). To state a claim that holds on another machine, the course
measures it over several seeds and asserts with a margin:

>>> import numpy as np
>>> from course.spread import over_seeds
>>> results = over_seeds(lambda seed: {"dice": 0.80 + 0.01 * seed}, seeds=(0, 1, 2))
>>> print(results["dice"])
dice: 0.810 +/- 0.010 (mean +/- SD over 3 seeds: 0, 1, 2; worst 0.800)
>>> results["dice"].holds(above=0.75)  # the worst seed clears the bound, and by 3 SD
True

A comparison ("A beats B") is made on the paired differences, seed by seed
(:meth:`Spread.minus`), not on two means.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

import course

__all__ = ["Spread", "over_seeds", "seeds"]


def seeds(default: Sequence[int] = (0, 1, 2)) -> tuple[int, ...]:
    """The seeds a notebook measures over: ``default``, or ``$COURSE_SEEDS`` (``"0,1,2,3,4"``),
    which ``bench/robustness.py`` sets to re-run every claim over more seeds.

    Examples
    --------
    >>> seeds((0, 1, 2))  # without COURSE_SEEDS
    (0, 1, 2)
    """
    text = os.environ.get("COURSE_SEEDS", "").strip()
    if not text:
        return tuple(int(s) for s in default)
    try:
        return tuple(int(s) for s in text.split(","))
    except ValueError:
        raise ValueError(
            f"COURSE_SEEDS must be integers separated by commas, got {text!r}"
        ) from None


@dataclass(frozen=True)
class Spread:
    """One quantity measured once per seed.

    Parameters
    ----------
    name : str
    values : sequence of float
        One value per seed, in the order of ``seeds``.
    seeds : sequence of int
    higher_is_better : bool, default True
        Which end is the worst seed.
    """

    name: str
    values: tuple[float, ...]
    seeds: tuple[int, ...]
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if len(self.values) != len(self.seeds) or not self.values:
            raise ValueError(
                f"Spread {self.name!r}: values and seeds must have the same, non-zero length; "
                f"got {len(self.values)} values and {len(self.seeds)} seeds"
            )

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def sd(self) -> float:
        """Sample standard deviation (ddof=1; 0 for a single seed)."""
        return float(np.std(self.values, ddof=1)) if len(self.values) > 1 else 0.0

    @property
    def worst(self) -> float:
        return float(min(self.values) if self.higher_is_better else max(self.values))

    def holds(self, *, above: float | None = None, below: float | None = None, k: float = 3):
        """Whether the claim "above ``above``" (or "below ``below``") holds with a margin.

        True when the worst seed clears the bound and the mean clears it by ``k`` standard
        deviations: a run on another machine, or with another seed, is then very unlikely to
        fall on the other side.
        """
        if (above is None) == (below is None):
            raise ValueError("holds() needs exactly one of above= or below=")
        if above is not None:
            return min(self.values) >= above and self.mean - k * self.sd >= above
        return max(self.values) <= below and self.mean + k * self.sd <= below

    def claim(self, *, above: float | None = None, below: float | None = None, k: float = 3):
        """Print the claim with its margin (one line, read by ``bench/robustness.py``) and
        return :meth:`holds`; a notebook asserts it: ``assert dice.claim(above=0.8)``.

        Examples
        --------
        >>> Spread("dice", (0.84, 0.86, 0.85), (0, 1, 2)).claim(above=0.8)
        CLAIM dice >= 0.8: worst seed 0.840, mean - 3 SD 0.820, margin 0.020 (holds)
        True
        """
        ok = self.holds(above=above, below=below, k=k)
        if above is not None:
            edge, worst = self.mean - k * self.sd, min(self.values)
            margin = min(worst, edge) - above
            text = f"{self.name} >= {above:g}: worst seed {worst:.3f}, mean - {k:g} SD {edge:.3f}"
        else:
            edge, worst = self.mean + k * self.sd, max(self.values)
            margin = below - max(worst, edge)
            text = f"{self.name} <= {below:g}: worst seed {worst:.3f}, mean + {k:g} SD {edge:.3f}"
        print(f"CLAIM {text}, margin {margin:.3f} ({'holds' if ok else 'FAILS'})")
        return ok

    def minus(self, other: Spread, name: str | None = None) -> Spread:
        """The paired differences ``self - other``, seed by seed (the seeds must match)."""
        if tuple(self.seeds) != tuple(other.seeds):
            raise ValueError(
                f"paired differences need the same seeds: {self.seeds} vs {other.seeds}"
            )
        values = tuple(a - b for a, b in zip(self.values, other.values, strict=True))
        return Spread(name or f"{self.name} - {other.name}", values, self.seeds)

    def __str__(self) -> str:
        seeds = ", ".join(str(s) for s in self.seeds)
        return (
            f"{self.name}: {self.mean:.3f} +/- {self.sd:.3f} (mean +/- SD over "
            f"{len(self.seeds)} seeds: {seeds}; worst {self.worst:.3f})"
        )


def over_seeds(
    run: Callable[[int], dict[str, float]], seeds: Sequence[int] = (0, 1, 2)
) -> dict[str, Spread]:
    """Call ``run(seed)`` once per seed, after :func:`course.seed_everything`; collect its numbers.

    Parameters
    ----------
    run : callable(seed) -> dict of str to float
        One experiment; its numbers by name.
    seeds : sequence of int, default (0, 1, 2)

    Returns
    -------
    dict of str to Spread
        One :class:`Spread` per name that ``run`` returned.

    Raises
    ------
    TypeError
        If ``run`` is not callable or does not return a dict of numbers.
    ValueError
        If ``seeds`` is empty or repeats a seed.
    """
    if not callable(run):
        raise TypeError(f"run must be a callable(seed) -> dict, got {type(run).__name__}")
    seeds = tuple(int(s) for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}")
    collected: dict[str, list[float]] = {}
    for seed in seeds:
        course.seed_everything(seed)
        numbers = run(seed)
        if not isinstance(numbers, dict):
            raise TypeError(
                f"run(seed) must return a dict of numbers, got {type(numbers).__name__}"
            )
        for name, value in numbers.items():
            collected.setdefault(name, []).append(float(value))
    return {name: Spread(name, tuple(values), seeds) for name, values in collected.items()}
