"""The self-checks of lecture 13: right answers are correct, typical mistakes get a hint that does
not give the answer away, an open exercise is "not attempted yet".
"""

import numpy as np
import pytest
import torch
from sklearn.calibration import calibration_curve

from course.checks import lecture13 as check
from course.federated import fedavg

# independent references
FEDAVG = fedavg(
    [{"w": torch.tensor(w, dtype=torch.float64)} for w in check.CLIENT_WEIGHTS],
    list(check.CLIENT_SIZES),
)["w"].item()  # (50 * 1 + 150 * 2 + 300 * 4) / 500
REMOVED = {"PatientAge", "InstitutionAddress", "PatientWeight", "OtherPatientIDsSequence"}
_P = np.array(check.ECE_TABLE["probability"])
_Y = np.array(check.ECE_TABLE["lesion"])
_FREQ, _MEAN = calibration_curve(_Y, _P, n_bins=2)
_SHARE = np.array([np.mean(_P <= 0.5), np.mean(_P > 0.5)])
ECE = float(np.sum(_SHARE * np.abs(_FREQ - _MEAN)))


def verdict(capsys, function, answer) -> str:
    function(answer)
    return capsys.readouterr().out


def test_references():
    assert FEDAVG == pytest.approx(3.1)
    assert ECE == pytest.approx(2 / 6 * 0.2 + 4 / 6 * 0.025)


@pytest.mark.parametrize(
    "function, answer",
    [
        (check.q1, FEDAVG),
        (check.q1, 3.1),
        (check.q1, np.float32(3.1)),
        (check.q2, REMOVED),
        (check.q2, sorted(REMOVED)),
        (check.q2, tuple(REMOVED)),
        (check.q3, ECE),
        (check.q3, 0.0833),
    ],
)
def test_right_answers_are_correct(capsys, function, answer):
    out = verdict(capsys, function, answer)
    assert ": correct." in out, out


@pytest.mark.parametrize("function", [check.q1, check.q2, check.q3])
def test_open_exercises_are_not_attempted(capsys, function):
    assert "not attempted yet" in verdict(capsys, function, ...)


@pytest.mark.parametrize(
    "function, answer, hint",
    [
        (check.q1, np.mean(check.CLIENT_WEIGHTS), "plain mean"),
        (check.q1, 1550.0, "divide by the total"),
        (check.q1, 10.0, "between the smallest and the largest"),
        (check.q1, 3.5, "multiply each client's weight"),
        (check.q1, "3.1", "as a number"),
        (check.q1, True, "as a number"),
        (check.q2, REMOVED | {"PatientName"}, "PatientName is not removed: its code is Z"),
        (check.q2, REMOVED | {"SOPInstanceUID"}, "its code is U"),
        (check.q2, REMOVED | {"Modality"}, "Modality is not in Table E.1-1"),
        (check.q2, {"PatientAge"}, "you missed 3 attribute(s)"),
        (check.q2, "PatientAge", "you missed 3"),
        (check.q2, {"PatientsAge"}, "not in it"),
        (check.q2, 42, "list or a set"),
        (check.q3, float(np.mean(np.abs(_FREQ - _MEAN))), "share of the predictions"),
        (check.q3, abs(float(np.sum(_SHARE * (_FREQ - _MEAN)))), "absolute value"),
        (check.q3, 1.5, "between 0 and 1"),
        (check.q3, 0.3, "for each bin"),
    ],
)
def test_mistakes_get_a_hint_without_the_answer(capsys, function, answer, hint):
    out = verdict(capsys, function, answer)
    assert "not yet" in out and hint in out, out
    for secret in ("3.1", "0.083", "0.0833"):
        assert secret not in out
    for keyword in REMOVED - ({answer} if isinstance(answer, str) else set()):
        if not isinstance(answer, (set, list, tuple)) or keyword not in answer:
            assert keyword not in out
