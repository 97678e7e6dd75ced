"""Splits of a data set: train/validation/test and k folds, stratified if asked (scikit-learn)."""

from __future__ import annotations

import numpy as np
from sklearn import model_selection

from course._validate import generator, integer


def _random_state(seed) -> int:
    """scikit-learn's ``random_state`` (an int) from a seed or a NumPy Generator."""
    rng = generator(seed)
    return seed if isinstance(seed, int) else int(rng.integers(2**31 - 1))


def _split_off(index: np.ndarray, share: float, labels, random_state: int):
    """``index`` cut in two (``share`` of it first), stratified on ``labels[index]`` if given."""
    n_first = int(round(share * index.size))
    if n_first in (0, index.size):  # nothing to cut (scikit-learn refuses an empty part)
        return (index, index[:0]) if n_first else (index[:0], index)
    try:
        return model_selection.train_test_split(
            index,
            train_size=n_first,
            random_state=random_state,
            stratify=None if labels is None else labels[index],
        )
    except ValueError as error:  # a class too small to be in both parts
        raise ValueError(f"stratify: {error} Merge rare classes or do not stratify.") from None


def train_val_test_split(
    n: int,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 0,
    stratify=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` and split it into train, validation and test indices.

    Two calls of :func:`sklearn.model_selection.train_test_split`: train against the rest, then
    the rest into validation and test. With ``stratify`` (one label per sample) every part keeps
    the class proportions: important for the rare positive class of medical data sets.
    In practice split by **patient**, not by image: pass one index per patient.

    Parameters
    ----------
    n : int
        Number of samples.
    fractions : (float, float, float)
        Non-negative, summing to 1; part sizes are rounded to whole samples.
    seed : int or numpy.random.Generator
        The same seed gives the same split.
    stratify : array-like of shape (n,), optional
        One class label per sample.

    Returns
    -------
    train, val, test : ndarray of int
        Sorted, disjoint, together ``range(n)``.

    Raises
    ------
    ValueError
        If the fractions are negative or do not sum to 1, ``stratify`` has the wrong length, or
        a class of ``stratify`` is too small to appear in every non-empty part.

    Examples
    --------
    >>> train, val, test = train_val_test_split(20, seed=0)
    >>> len(train), len(val), len(test)
    (14, 3, 3)
    >>> labels = np.array([1] * 8 + [0] * 24)
    >>> train, val, test = train_val_test_split(32, (0.5, 0.25, 0.25), stratify=labels)
    >>> [float(labels[part].mean()) for part in (train, val, test)]
    [0.25, 0.25, 0.25]
    """
    n = integer("n", n, minimum=1)
    fractions = np.asarray(fractions, dtype=float)
    if fractions.shape != (3,) or (fractions < 0).any() or not np.isclose(fractions.sum(), 1):
        raise ValueError(f"fractions must be 3 non-negative numbers summing to 1, got {fractions}")
    if stratify is not None:
        stratify = np.asarray(stratify)
        if stratify.shape != (n,):
            raise ValueError(f"stratify must have shape ({n},), got {stratify.shape}")
    random_state = _random_state(seed)
    train, rest = _split_off(np.arange(n), fractions[0], stratify, random_state)
    rest_share = fractions[1] / (fractions[1] + fractions[2]) if fractions[0] < 1 else 0.0
    val, test = _split_off(rest, rest_share, stratify, random_state)
    return tuple(np.sort(part).astype(np.int64) for part in (train, val, test))


def kfold_indices(
    n: int, k: int = 5, seed: int = 0, stratify=None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Indices of a shuffled k-fold cross-validation: ``k`` pairs ``(train, validation)``.

    Each sample is in exactly one validation fold; fold sizes differ by at most one. This is
    :class:`sklearn.model_selection.KFold` (or :class:`~sklearn.model_selection.StratifiedKFold`
    with ``stratify``, every fold keeping the class proportions) with ``shuffle=True``.

    Parameters
    ----------
    n : int
        Number of samples, >= 2.
    k : int, default 5
        Number of folds, from 2 to ``n``.
    seed : int or numpy.random.Generator, default 0
    stratify : array-like of shape (n,), optional
        One class label per sample.

    Returns
    -------
    list of (train, validation) pairs of sorted int ndarrays

    Raises
    ------
    ValueError
        If ``k < 2`` or ``k > n``, ``stratify`` has the wrong length, or a class of
        ``stratify`` has fewer than ``k`` samples.

    Examples
    --------
    >>> folds = kfold_indices(10, k=5)
    >>> [len(val) for _, val in folds]
    [2, 2, 2, 2, 2]
    """
    n = integer("n", n, minimum=2)
    k = integer("k", k, minimum=2, maximum=n)
    random_state = _random_state(seed)
    if stratify is None:
        splits = model_selection.KFold(k, shuffle=True, random_state=random_state).split(range(n))
    else:
        stratify = np.asarray(stratify)
        if stratify.shape != (n,):
            raise ValueError(f"stratify must have shape ({n},), got {stratify.shape}")
        smallest = np.unique(stratify, return_counts=True)[1].min()
        if smallest < k:
            raise ValueError(f"stratify: a class has {smallest} samples, fewer than k={k} folds")
        folds = model_selection.StratifiedKFold(k, shuffle=True, random_state=random_state)
        splits = folds.split(np.zeros(n), stratify)
    return [(np.sort(train), np.sort(val)) for train, val in splits]
