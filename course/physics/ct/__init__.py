"""Computed tomography from scratch: attenuation, the Radon transform, FBP and SART.

An X-ray beam of ``I_0`` photons that crosses a thickness ``d`` of a material with linear
attenuation coefficient ``mu`` (in 1/cm) comes out with ``I = I_0 exp(-mu d)`` photons
(Beer-Lambert). Through the body ``mu`` changes along the path, so the detector measures

.. math::

    I = I_0 \\exp\\Big(-\\int_{\\text{ray}} \\mu(x, y)\\, ds\\Big), \\qquad
    p = -\\ln \\frac{I}{I_0} = \\int_{\\text{ray}} \\mu(x, y)\\, ds,

the *line integral* ``p`` of the attenuation map. Collecting ``p`` for every detector offset
``s`` and every angle ``theta`` gives the **sinogram**, the Radon transform of the image:

.. math::

    p(s, \\theta) = \\int \\mu(s \\cos\\theta - t \\sin\\theta,\\;
                               s \\sin\\theta + t \\cos\\theta)\\,dt.

CT reconstruction inverts it. Simply smearing every projection back over the image
(:func:`backproject`) gives a blurred image (each point becomes a ``1/r`` star). Filtering each
projection with a ramp ``|f|`` first removes the blur: **filtered back-projection** (:func:`fbp`).
An **iterative** reconstruction (:func:`sart`) instead corrects an estimate until its sinogram
matches the measured one, which handles noisy, low-dose data better.

Conventions (those of :func:`skimage.transform.radon` and :func:`skimage.transform.iradon`, so
that every result here can be compared with scikit-image):

* angles ``theta`` in **degrees**, counter-clockwise from the x axis; a sinogram has shape
  ``(n_detectors, n_angles)``; with ``x = col - N // 2`` to the right and ``y = N // 2 - row``
  up, the point ``(x, y)`` projects onto detector ``N // 2 + x cos(theta) + y sin(theta)``;
* images are square ``(N, N)``, the rotation centre is the pixel ``(N // 2, N // 2)``, detector
  ``N // 2`` is the central ray, and the image must be zero outside the inscribed circle of
  radius ``N // 2`` (:func:`circle_mask`), unless ``circle=False`` (:func:`radon`, :func:`fbp`,
  :func:`backproject`): then the whole square counts and the sinogram has ``ceil(sqrt(2) N)``
  detectors, the length of the image's diagonal;
* leading batch axes are allowed: ``(..., N, N)`` images, ``(..., n_detectors, n_angles)``
  sinograms. A PyTorch tensor is processed with PyTorch on its own device (GPU included).

Both operators are sparse matrices built once per geometry and cached (:func:`projection_matrix`,
:func:`backprojection_matrix`), so a batch of images costs one sparse matrix product.

The package has one module per step of the lecture; everything is imported from here
(``from course.physics.ct import radon, fbp``):

* :mod:`~course.physics.ct.attenuation` - Beer-Lambert, line integrals, HU <-> mu;
* :mod:`~course.physics.ct.geometry` - the reconstruction circle, where every ray goes;
* :mod:`~course.physics.ct.matrices` - the cached system matrices and how they are applied;
* :mod:`~course.physics.ct.projection` - :func:`radon`;
* :mod:`~course.physics.ct.filtering` - the ramp filter and its windows;
* :mod:`~course.physics.ct.reconstruction` - :func:`backproject`, :func:`fbp`;
* :mod:`~course.physics.ct.iterative` - :func:`sart`;
* :mod:`~course.physics.ct.acquisition` - :func:`simulate_ct` (dose and photon noise).

>>> image = np.zeros((64, 64)); image[24:40, 28:36] = 1.0
>>> theta = np.arange(180)
>>> sinogram = radon(image, theta)
>>> sinogram.shape
(64, 180)
>>> reconstruction = fbp(sinogram, theta)
>>> reconstruction.shape
(64, 64)
>>> bool(abs(reconstruction[32, 32] - 1.0) < 0.1)
True
"""

from course.physics.ct.acquisition import simulate_ct
from course.physics.ct.attenuation import (
    MU_AIR,
    MU_WATER,
    beer_lambert,
    hu_to_mu,
    line_integral,
    log_transform,
    mu_to_hu,
)
from course.physics.ct.filtering import (
    FILTERS,
    filter_sinogram,
    ramp_filter,
    reconstruction_filter,
)
from course.physics.ct.geometry import circle_mask
from course.physics.ct.iterative import sart
from course.physics.ct.matrices import MAX_CACHED_NONZEROS as MAX_CACHED_NONZEROS
from course.physics.ct.matrices import _angle_chunks as _angle_chunks
from course.physics.ct.matrices import backprojection_matrix, clear_cache, projection_matrix
from course.physics.ct.projection import radon
from course.physics.ct.reconstruction import backproject, fbp

__all__ = [
    "MU_WATER",
    "MU_AIR",
    "FILTERS",
    "beer_lambert",
    "line_integral",
    "log_transform",
    "hu_to_mu",
    "mu_to_hu",
    "circle_mask",
    "projection_matrix",
    "backprojection_matrix",
    "radon",
    "backproject",
    "ramp_filter",
    "reconstruction_filter",
    "filter_sinogram",
    "fbp",
    "sart",
    "simulate_ct",
    "clear_cache",
]
