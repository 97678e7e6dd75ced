"""DICOM: from stored pixel values to Hounsfield units, windows, series and a metadata summary.

A DICOM file is a 128-byte preamble, the magic ``DICM``, a *file meta* header (how the rest is
encoded: the transfer syntax) and a data set of tagged elements, e.g. ``(0028,0030)
PixelSpacing``. The pixels are stored as integers (``BitsAllocated``/``BitsStored`` bits,
``SamplesPerPixel`` channels); the *modality LUT* turns them into physical units, Hounsfield
units (HU) for CT:

.. math:: \\mathrm{HU} = \\mathrm{stored} \\times \\mathrm{RescaleSlope}
          + \\mathrm{RescaleIntercept}

Some files give a lookup table instead, the *Modality LUT Sequence* ``(0028,3000)``.

A CT scan is a *series*: one file per slice, all sharing a ``SeriesInstanceUID``. File names
carry no order; the slice order comes from the geometry, the position of each slice
(``ImagePositionPatient``) projected on the normal of the slice plane
(``ImageOrientationPatient``).

One module per step, every public name importable from :mod:`course.io.dicom`:

* :mod:`course.io.dicom.values` - one image: :func:`to_hu` (the modality LUT), :func:`window`
  and :data:`WINDOW_PRESETS` (display), :func:`describe` (the metadata summary);
* :mod:`course.io.dicom.read` - :func:`load_series`: a folder of slices to a volume sorted by
  position (a ``DICOMDIR`` skipped, orientation, sizes and slice gaps checked);
* :mod:`course.io.dicom.write` - :func:`write_series`: a volume in HU to a valid CT Image
  Storage series, one file per slice;
* :mod:`course.io.dicom._common` - what they share: a tag's value, errors that name the file and
  the tag, the grayscale check, decimal strings for writing.

Reference: the DICOM standard, https://www.dicomstandard.org/current: PS3.10 Section 7 (the file
format), PS3.5 (the encoding), PS3.3 (the modules of an image; each module above names its
sections).

>>> import pydicom.data
>>> ds = pydicom.dcmread(pydicom.data.get_testdata_file("CT_small.dcm"))
>>> hu = to_hu(ds)
>>> hu.shape, hu.dtype
((128, 128), dtype('float32'))
>>> shown = window(hu, preset="soft_tissue")  # values in [0, 1] for display
>>> float(shown.min()), float(shown.max())
(0.0, 1.0)
"""

from __future__ import annotations

from course.io.dicom._common import _PYDICOM_3 as _PYDICOM_3  # private, used by course.checks.lab01
from course.io.dicom._common import _ds as _ds
from course.io.dicom.read import load_series
from course.io.dicom.values import WINDOW_PRESETS, describe, to_hu, window
from course.io.dicom.write import write_series

__all__ = [
    "WINDOW_PRESETS",
    "to_hu",
    "window",
    "load_series",
    "write_series",
    "describe",
]
