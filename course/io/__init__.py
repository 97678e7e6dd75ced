"""Medical image file formats.

* :mod:`course.io.dicom` - DICOM: Hounsfield units, window level/width, a folder of slices to a
  3D volume sorted by position, writing a valid CT series, a metadata summary;
* :mod:`course.io.nifti` - NIfTI: load/save with the affine, voxel spacing, orientation codes
  and reorientation to RAS.

Import the module you need, e.g. ``from course.io import dicom``; this package imports neither
on its own, so using one does not load the other's library (pydicom or nibabel).
"""
