"""Self-checks of lecture 01: right answers pass, typical mistakes get a hint that does not give
the expected value away, an open gap (``...``) is "not attempted yet"; nothing ever raises.
"""

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.pixels import apply_rescale

from course.checks import lecture01 as check


def verdict(capsys, question, answer) -> str:
    question(answer)
    return capsys.readouterr().out


def assert_not_yet(text: str, *secrets: str) -> None:
    assert "not yet." in text, text
    for secret in secrets:
        assert secret not in text, f"the hint gives the answer away ({secret!r}): {text}"


# ---------------------------------------------------------------------------------------------
# q1: stored values -> HU
# ---------------------------------------------------------------------------------------------
def reference_hu(stored, slope, intercept):
    """The modality LUT as pydicom's apply_rescale applies it (DICOM PS3.3 C.11.1.1.2)."""
    dataset = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    dataset.RescaleSlope, dataset.RescaleIntercept = slope, intercept
    return apply_rescale(np.asarray(stored), dataset)


def test_q1_reference_agrees_with_pydicom():
    for stored, slope, intercept in check._RESCALES:
        manual = stored.astype(float) * slope + intercept
        np.testing.assert_allclose(reference_hu(stored, slope, intercept), manual)


@pytest.mark.parametrize(
    "answer",
    [
        lambda stored, slope, intercept: stored * slope + intercept,
        lambda stored, slope, intercept: intercept + slope * np.asarray(stored, np.float32),
        reference_hu,
    ],
)
def test_q1_right(capsys, answer):
    assert verdict(capsys, check.q1, answer).startswith("Exercise 1: correct.")


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda s, m, b: s + b, "slope multiplies"),
        (lambda s, m, b: s * m - b, "sign"),
        (lambda s, m, b: (s + b) * m, "order"),
        (lambda s, m, b: s / m + b, "does not divide"),
        (lambda s, m, b: s * m + b + 1, "by hand"),
        (lambda s, m, b: np.ravel(s * m + b), "one HU value per stored value"),
        (lambda s, m, b: "HU", "str"),
        (lambda s, m, b: s.missing, "AttributeError"),
    ],
)
def test_q1_wrong(capsys, answer, hint):
    text = verdict(capsys, check.q1, answer)
    assert_not_yet(text, "40.0", "-492")
    assert hint in text


def test_q1_not_attempted(capsys):
    def stored_to_hu(stored, slope, intercept):
        return ...

    for answer in (..., stored_to_hu):
        assert "not attempted yet" in verdict(capsys, check.q1, answer)


# ---------------------------------------------------------------------------------------------
# q2: window limits
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("answer", [(-120, 240), [-120.0, 240.0], np.array([-120, 240])])
def test_q2_right(capsys, answer):
    assert verdict(capsys, check.q2, answer).startswith("Exercise 2: correct.")


@pytest.mark.parametrize(
    "answer, hint",
    [
        ((240, -120), "order"),
        ((-300, 420), "half of it"),
        ((0, 360), "centred"),
        ((-60, 180), "width"),
        (60, "two numbers"),
        ("(-120, 240)", "two numbers"),
        (("low", "high"), "number"),
    ],
)
def test_q2_wrong(capsys, answer, hint):
    text = verdict(capsys, check.q2, answer)
    assert_not_yet(text, "-120", "240")
    assert hint in text


@pytest.mark.parametrize("answer", [..., (..., ...), [..., 240]])
def test_q2_not_attempted(capsys, answer):
    assert "not attempted yet" in verdict(capsys, check.q2, answer)


# ---------------------------------------------------------------------------------------------
# q3: lesion volume in mL
# ---------------------------------------------------------------------------------------------
def test_q3_expected_value_is_independent():
    # 250 voxels of 4 mm x 2 mm x 2 mm = 250 * 16 mm^3 = 4000 mm^3 = 4 cm^3 = 4 mL
    assert check._LESION_VOXELS * 4 * 2 * 2 == 4000


@pytest.mark.parametrize("answer", [4, 4.0, np.float32(4.0), np.array(4.0), 4.001])
def test_q3_right(capsys, answer):
    assert verdict(capsys, check.q3, answer).startswith("Exercise 3: correct.")


@pytest.mark.parametrize(
    "answer, hint",
    [
        (4000, "mm^3"),
        (0.004, "litres"),
        (250, "number of voxels"),
        (1.0, "three sides"),
        (2.0, "three sides"),
        (16.0, "voxels x volume"),
        ("four", "one number"),
        ([4, 4], "one number"),
    ],
)
def test_q3_wrong(capsys, answer, hint):
    text = verdict(capsys, check.q3, answer)
    assert_not_yet(text, "4.0", "4 mL")
    assert hint in text


def test_q3_not_attempted(capsys):
    assert "not attempted yet" in verdict(capsys, check.q3, ...)
