"""Imaging physics: how the scanners form the images that the course's networks learn from.

* :mod:`course.physics.ct` - X-ray attenuation, Hounsfield units, the Radon transform,
  back-projection and filtered back-projection, simulated low-dose acquisitions;
* :mod:`course.physics.mri` - k-space, centred FFTs, undersampling masks, zero-filled
  reconstruction;
* :mod:`course.physics.phantoms` - Shepp-Logan phantoms (2D and 3D) and random body phantoms
  with lesion masks, the ground truth of the synthetic datasets.

Import the submodules directly, e.g. ``from course.physics.ct import radon, fbp``.
"""
