"""The checks of lab02_ct (visible and hidden) accept correct answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
from cheats import AlwaysEqual, cases, hidden_checks
from scipy import ndimage

from course.checks import lab02 as visible
from course.physics import ct

hidden = hidden_checks("lab02")

MODULES = [pytest.param(visible, id="visible"), pytest.param(hidden, id="hidden")]


# --- independent correct answers -------------------------------------------------------------
def transmitted_intensity(i0, hu, lengths_cm, mu_water=0.19):
    mu = mu_water * (1.0 + np.asarray(hu, dtype=float) / 1000.0)
    return i0 * np.exp(-np.sum(mu * np.asarray(lengths_cm, dtype=float), axis=-1))


def forward_project(image, theta):
    image = np.asarray(image, dtype=float)
    n = image.shape[0]
    c = n // 2
    s, t = (np.arange(n) - c)[:, None], (np.arange(n) - c)[None, :]
    sinogram = np.zeros((n, len(theta)))
    for k, angle in enumerate(np.deg2rad(theta)):
        rows = c - s * np.sin(angle) + t * np.cos(angle)
        cols = c + s * np.cos(angle) + t * np.sin(angle)
        sinogram[:, k] = ndimage.map_coordinates(image, [rows, cols], order=1).sum(axis=1)
    return sinogram


def forward_project_by_rotation(image, theta):
    """Rotation about the pixel (c, c) with an affine transform: also a correct answer."""
    image = np.asarray(image, dtype=float)
    n = image.shape[0]
    c = n // 2
    columns = []
    for angle in np.deg2rad(theta):
        # output (row', col') = (t, s) in the rotated frame -> input (row, col)
        matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        offset = np.array([c, c]) - matrix @ np.array([c, c])
        rotated = ndimage.affine_transform(image, matrix, offset=offset, order=1)
        columns.append(rotated.sum(axis=0))
    return np.stack(columns, axis=1)


def backproject(sinogram, theta):
    sinogram = np.asarray(sinogram, dtype=float)
    n = sinogram.shape[0]
    c = n // 2
    offset = np.arange(n) - c
    x, y = offset[None, :], -offset[:, None]
    image = np.zeros((n, n))
    for k, angle in enumerate(np.deg2rad(theta)):
        u = c + x * np.cos(angle) + y * np.sin(angle)
        image += np.interp(u, np.arange(n), sinogram[:, k], left=0.0, right=0.0)
    return image * np.pi / len(theta)


def ramp_filter(size):
    k = np.arange(size)
    k = np.minimum(k, size - k)
    h = np.where(k % 2 == 1, -1.0 / (np.pi * np.maximum(k, 1)) ** 2, 0.0)
    h[0] = 0.25
    return np.fft.fft(h).real


def filter_sinogram(sinogram):
    sinogram = np.asarray(sinogram, dtype=float)
    n = sinogram.shape[0]
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.fft(sinogram, n=size, axis=0) * ramp_filter(size)[:, None]
    return np.fft.ifft(spectrum, axis=0).real[:n]


def fbp(sinogram, theta):
    return backproject(filter_sinogram(sinogram), theta)


def fbp_skimage(sinogram, theta):
    from skimage.transform import iradon

    return iradon(sinogram, theta, circle=True, filter_name="ramp")


CORRECT = {
    "q1_transmitted_intensity": [transmitted_intensity],
    "q2_forward_project": [forward_project, forward_project_by_rotation, ct.radon],
    "q3_backproject": [backproject, ct.backproject],
    "q4_ramp_filter": [ramp_filter, ct.ramp_filter],
    "q5_filter_sinogram": [filter_sinogram, ct.filter_sinogram],
    "q6_fbp": [fbp, ct.fbp, fbp_skimage],
}


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", cases(CORRECT))
def test_correct_answers_pass(module, name, answer):
    getattr(module, name)(answer)


# --- typical wrong answers -------------------------------------------------------------------


def intensity_in_hu(i0, hu, lengths_cm, mu_water=0.19):  # HU used as attenuation
    return i0 * np.exp(-np.sum(np.asarray(hu) * np.asarray(lengths_cm), axis=-1))


def intensity_per_segment(i0, hu, lengths_cm, mu_water=0.19):  # no sum over the segments
    mu = mu_water * (1.0 + np.asarray(hu, dtype=float) / 1000.0)
    return i0 * np.exp(-mu * np.asarray(lengths_cm, dtype=float))


def intensity_fixed_water(i0, hu, lengths_cm, mu_water=0.19):  # ignores mu_water
    return transmitted_intensity(i0, hu, lengths_cm)


def forward_project_scipy_rotate(image, theta):  # centre (N - 1) / 2: wrong for even N
    image = np.asarray(image, dtype=float)
    rotated = [ndimage.rotate(image, -t, reshape=False, order=1) for t in theta]
    return np.stack([r.sum(axis=0) for r in rotated], axis=1)


def forward_project_transposed(image, theta):
    return forward_project(image, theta)[::-1]


def forward_project_radians(image, theta):  # np.cos(theta) with theta in degrees
    return forward_project(image, np.rad2deg(np.asarray(theta, dtype=float)))


def backproject_without_scale(sinogram, theta):
    return backproject(sinogram, theta) * len(theta) / np.pi


def backproject_y_down(sinogram, theta):
    return backproject(sinogram, theta)[::-1]


def backproject_nearest(sinogram, theta):
    sinogram = np.asarray(sinogram, dtype=float)
    n = sinogram.shape[0]
    c = n // 2
    offset = np.arange(n) - c
    x, y = offset[None, :], -offset[:, None]
    image = np.zeros((n, n))
    for k, angle in enumerate(np.deg2rad(theta)):
        u = np.rint(c + x * np.cos(angle) + y * np.sin(angle)).astype(int)
        image += np.where((u >= 0) & (u < n), sinogram[np.clip(u, 0, n - 1), k], 0.0)
    return image * np.pi / len(theta)


def ramp_sampled(size):
    return np.abs(np.fft.fftfreq(size))


def ramp_shifted(size):
    return np.fft.fftshift(ramp_filter(size))


def filter_without_padding(sinogram):
    sinogram = np.asarray(sinogram, dtype=float)
    n = sinogram.shape[0]
    spectrum = np.fft.fft(sinogram, axis=0) * ramp_filter(n)[:, None]
    return np.fft.ifft(spectrum, axis=0).real


def filter_sampled_ramp(sinogram):
    sinogram = np.asarray(sinogram, dtype=float)
    n = sinogram.shape[0]
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.fft(sinogram, n=size, axis=0) * ramp_sampled(size)[:, None]
    return np.fft.ifft(spectrum, axis=0).real[:n]


def filter_wrong_axis(sinogram):
    return filter_sinogram(np.asarray(sinogram, dtype=float).T).T


WRONG = {
    "q1_transmitted_intensity": [
        intensity_in_hu,
        intensity_per_segment,
        lambda *args: AlwaysEqual(),
    ],
    "q2_forward_project": [
        forward_project_scipy_rotate,
        forward_project_transposed,
        forward_project_radians,
        lambda image, theta: forward_project(image, theta).T,
        lambda image, theta: AlwaysEqual(),
    ],
    "q3_backproject": [
        backproject_without_scale,
        backproject_y_down,
        lambda sinogram, theta: backproject(sinogram, theta) / 2,
        lambda sinogram, theta: AlwaysEqual(),
    ],
    "q4_ramp_filter": [ramp_sampled, ramp_shifted, lambda size: AlwaysEqual()],
    "q5_filter_sinogram": [
        filter_without_padding,
        filter_sampled_ramp,
        lambda s: np.asarray(s, dtype=float),
        lambda s: AlwaysEqual(),
    ],
    "q6_fbp": [
        backproject,  # no filter
        lambda s, t: fbp(s, t) / 2,
        lambda s, t: backproject(filter_without_padding(s), t),
        lambda s, t: AlwaysEqual(),
    ],
}

HIDDEN_ONLY = {
    "q1_transmitted_intensity": [intensity_fixed_water],
    "q3_backproject": [backproject_nearest],
    "q5_filter_sinogram": [filter_wrong_axis],
}


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", cases(WRONG))
def test_wrong_answers_fail(module, name, answer):
    with pytest.raises(AssertionError):
        getattr(module, name)(answer)


@pytest.mark.parametrize("name, answer", cases(HIDDEN_ONLY))
def test_hidden_tests_catch_more(name, answer):
    with pytest.raises(AssertionError):
        getattr(hidden, name)(answer)


def test_messages_teach():
    with pytest.raises(AssertionError, match="centre of rotation"):
        visible.q2_forward_project(forward_project_scipy_rotate)
    with pytest.raises(AssertionError, match="pi / n_angles"):
        visible.q3_backproject(backproject_without_scale)
    with pytest.raises(AssertionError, match="zero frequency"):
        visible.q4_ramp_filter(ramp_sampled)
    with pytest.raises(AssertionError, match="ramp filter keeps a small positive"):
        visible.q6_fbp(lambda s, t: backproject(filter_sampled_ramp(s), t))


def test_not_implemented_is_not_swallowed():
    def stub(*args):
        raise NotImplementedError()

    for name in CORRECT:
        with pytest.raises(NotImplementedError):
            getattr(visible, name)(stub)


@pytest.mark.parametrize("module", MODULES)
def test_tampering_is_detected(module, monkeypatch):
    monkeypatch.setattr(np.testing, "assert_allclose", lambda *args, **kwargs: None)
    with pytest.raises(AssertionError, match="replaced"):
        module.q4_ramp_filter(ramp_filter)
