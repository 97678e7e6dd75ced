"""Self-checks of the exercises of lecture 13 (from model to clinic).

Each check prints a verdict (not attempted yet / correct / not yet, with a hint) and never the
expected value (see :mod:`course.checks._selfcheck`):

1. :func:`q1`: the FedAvg average of three clients' weights, weighted by their sizes
   (:data:`CLIENT_WEIGHTS`, :data:`CLIENT_SIZES`);
2. :func:`q2`: which attributes of :data:`CANDIDATES` the basic profile of DICOM PS3.15
   (Table E.1-1) *removes* (action X);
3. :func:`q3`: the expected calibration error of the small table :data:`ECE_TABLE` with two
   bins.

References: McMahan et al. (2017), AISTATS; DICOM PS3.15 Annex E; Guo et al. (2017), ICML.

>>> q1(...)
Exercise 1: not attempted yet. Replace the ... with your answer, run again.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from course.checks._selfcheck import Wrong, answered, exercise
from course.io.deid import rule_for

__all__ = ["CLIENT_WEIGHTS", "CLIENT_SIZES", "CANDIDATES", "ECE_TABLE", "q1", "q2", "q3"]

#: Exercise 1: one weight per client, and the clients' numbers of training images.
CLIENT_WEIGHTS = (1.0, 2.0, 4.0)
CLIENT_SIZES = (50, 150, 300)

#: Exercise 2: attributes of a CT header; which does the basic profile remove?
CANDIDATES = (
    "PatientName",
    "PatientAge",
    "StudyDate",
    "InstitutionAddress",
    "Modality",
    "PatientWeight",
    "SOPInstanceUID",
    "PixelSpacing",
    "OtherPatientIDsSequence",
)

#: Exercise 3: predicted probabilities of "lesion" and the truth, for 2 bins (0, 0.5], (0.5, 1].
ECE_TABLE = {"probability": (0.2, 0.4, 0.6, 0.7, 0.9, 0.9), "lesion": (0, 1, 1, 0, 1, 1)}


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise Wrong(f"give {what} as a number, got a {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise Wrong(f"{what} must be a finite number")
    return value


@exercise(
    1,
    correct="the large clients pull the average towards their weights; with equal sizes it "
    "would be the plain mean.",
)
def q1(answer) -> None:
    """Check the weighted average of :data:`CLIENT_WEIGHTS` with sizes :data:`CLIENT_SIZES`."""
    value = _number(answered(answer), "the average")
    sizes, weights = np.array(CLIENT_SIZES, float), np.array(CLIENT_WEIGHTS)
    expected = float(sizes @ weights / sizes.sum())
    if math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-9):
        return
    if math.isclose(value, weights.mean(), rel_tol=1e-6):
        raise Wrong("that is the plain mean: FedAvg weights each client by its number of images")
    if math.isclose(value, float(sizes @ weights), rel_tol=1e-6):
        raise Wrong("you added n_k w_k: now divide by the total number of images")
    if not weights.min() <= value <= weights.max():
        raise Wrong("a weighted mean lies between the smallest and the largest client's weight")
    raise Wrong(
        "multiply each client's weight by its number of images, add, and divide by the "
        "total number of images"
    )


def _keywords(answer) -> set[str]:
    if isinstance(answer, str):
        answer = [answer]
    try:
        keywords = {str(k) for k in answer}
    except TypeError:
        raise Wrong(
            "give the keywords as a list or a set of strings, e.g. {'PatientName'}"
        ) from None
    unknown = sorted(keywords - set(CANDIDATES))
    if unknown:
        raise Wrong(f"choose among CANDIDATES; these are not in it: {unknown}")
    return keywords


@exercise(
    2,
    correct="X removes; the names and the study date are emptied (Z, they are required), UIDs "
    "replaced (U), and what the image needs is kept.",
)
def q2(answer) -> None:
    """Check the set of :data:`CANDIDATES` whose basic-profile action is X (remove)."""
    chosen = _keywords(answered(answer))
    removed = {k for k in CANDIDATES if rule_for(k) is not None and rule_for(k).code == "X"}
    for keyword in sorted(chosen - removed):
        rule = rule_for(keyword)
        if rule is None:
            raise Wrong(f"{keyword} is not in Table E.1-1: the image needs it, it is kept")
        raise Wrong(f"{keyword} is not removed: its code is {rule.code} (see the table above)")
    missing = len(removed - chosen)
    if missing:
        raise Wrong(
            f"you missed {missing} attribute(s) that the profile removes: look again at "
            "the patient's characteristics and at what else can identify a patient"
        )


@exercise(
    3,
    correct="the low bin is under-confident by 0.2 but holds only a third of the cases, so it "
    "counts for a third.",
)
def q3(answer) -> None:
    """Check the ECE of :data:`ECE_TABLE` with 2 bins of width 0.5."""
    value = _number(answered(answer), "the ECE")
    p, y = np.array(ECE_TABLE["probability"]), np.array(ECE_TABLE["lesion"], float)
    bins = [p <= 0.5, p > 0.5]
    gaps = [y[b].mean() - p[b].mean() for b in bins]
    shares = [b.mean() for b in bins]
    expected = sum(s * abs(g) for s, g in zip(shares, gaps, strict=True))
    if math.isclose(value, expected, abs_tol=1e-3):
        return
    if math.isclose(value, float(np.mean(np.abs(gaps))), abs_tol=1e-3):
        raise Wrong("weight each bin's gap by its share of the predictions (|B_m| / n)")
    if math.isclose(
        value, abs(sum(s * g for s, g in zip(shares, gaps, strict=True))), abs_tol=1e-3
    ):
        raise Wrong(
            "take the absolute value of each bin's gap before adding: errors in opposite "
            "directions must not cancel"
        )
    if not 0 <= value <= 1:
        raise Wrong("an ECE lies between 0 and 1")
    raise Wrong(
        "for each bin: the fraction of lesions minus the mean probability, in absolute "
        "value, times the bin's share of the 6 predictions; then add the two bins"
    )
