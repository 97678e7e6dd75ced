"""De-identification of DICOM files: the Basic Application Level Confidentiality Profile.

Before images leave a hospital (for research, a registry, a teaching file, a federated study's
test set), what identifies the patient must go. The DICOM standard says what that is: PS3.15
Annex E, Table E.1-1, lists the attributes that may identify someone and an *action* for each
(PS3.15 Section E.1.1):

=====  =====================================================================================
code   action
=====  =====================================================================================
D      replace with a non-zero length dummy value consistent with the VR
Z      replace with a zero length value (or a dummy value)
X      remove
K      keep (sequences: keep, with their contents cleaned)
C      clean: replace with values of similar meaning that identify no one
U      replace with a new UID, consistent within the set of instances
Z/D    Z unless D is needed for IOD conformance (a Type 1 attribute); X/Z, X/D, X/Z/D and
       X/Z/U* likewise: X for a Type 3 attribute, Z for Type 2, D (or new UIDs) for Type 1
=====  =====================================================================================

:data:`BASIC_PROFILE` is this module's table: every attribute it handles with its tag, the
code of Table E.1-1 and the action applied here (for a combined code, the one that CT and MR
image IODs allow: ``X`` for their Type 3 attributes, ``Z`` for Type 2). Besides the table, all
private attributes (odd groups), overlays ``(60xx,3000)``, ``(60xx,4000)`` and curves
``(50xx,xxxx)`` are removed, at every depth of sequences.

:func:`deidentify` applies it to a *copy* (never the input); UIDs are replaced by
:func:`pydicom.uid.generate_uid` from a hash of a secret ``key`` and the old UID, so that all
files of a series get the same new Study/Series/Frame of Reference UIDs, and nobody without
the key can recompute them (an unkeyed hash falls to a dictionary attack: PS3.15 E.1.1, note
to item 1). Dates are emptied or removed, or, with ``date_shift_days``, all shifted by the same
number of days (the Retain Longitudinal Temporal Information with Modified Dates Option). It
then sets Patient Identity Removed ``YES`` and the De-identification Method (Code Sequence),
code 113100 of PS3.16 (CID 7050), as Section E.1.1 item 6 requires, and writes new file meta
information and an empty preamble (item 7).

:func:`find_identifiers` is the check after re-reading a file: every person name, date or
time still holding a value, every private attribute, every attribute the table removes, and
pixels that may carry burned-in text. **The header is not the whole file**: ultrasound,
screenshots, scanned documents and secondary captures often show the patient's name *in the
pixels* (Burned In Annotation ``(0028,0301)``); no tag operation removes it
(:func:`with_burned_in_text` shows it). That needs the Clean Pixel Data Option (PS3.15 E.3.1):
blanking known regions, text detection, and a human who looks.

Reference: DICOM PS3.15 (Security and System Management Profiles), Annex E, Table E.1-1;
PS3.16 CID 7050; https://www.dicomstandard.org/current. Table E.1-1 is revised with the
standard (a few codes change between editions): check the edition you claim conformance to.

>>> import pydicom
>>> from course.datasets import sample_path
>>> original = pydicom.dcmread(sample_path("CT_small"))
>>> clean = deidentify(original, key="a secret kept at the hospital")
>>> clean.PatientName, clean.PatientIdentityRemoved, "InstitutionName" in clean
('', 'YES', False)
>>> str(original.PatientName)  # the input is not modified
'CompressedSamples^CT1'
>>> sorted({f.kind for f in find_identifiers(clean)})
['pixels']
"""

from __future__ import annotations

import copy
import datetime
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from course.io.dicom._common import _PYDICOM_3, _as_dataset

__all__ = [
    "Rule",
    "BASIC_PROFILE",
    "KEPT_EXAMPLES",
    "rule_for",
    "deidentify",
    "deidentify_file",
    "Finding",
    "find_identifiers",
    "compare_tags",
    "burn_in_text",
    "with_burned_in_text",
]


class Rule(NamedTuple):
    """One row of the table: an attribute, its code in PS3.15 Table E.1-1, the action taken."""

    tag: str  # "(gggg,eeee)"
    keyword: str
    code: str  # as in Table E.1-1, e.g. "X/Z/D"
    action: str  # the one applied here: "X", "Z" or "U"


def _rules(code_action_pairs: str) -> tuple[Rule, ...]:
    """Rows from lines ``"(gggg,eeee) Keyword code action"``."""
    rows = (line.split() for line in code_action_pairs.strip().splitlines())
    return tuple(Rule(tag, keyword, code, action) for tag, keyword, code, action in rows)


#: The attributes handled, with their code in PS3.15 Table E.1-1 and the action applied.
BASIC_PROFILE: tuple[Rule, ...] = _rules(
    """
    (0010,0010) PatientName Z Z
    (0010,0020) PatientID Z/D Z
    (0010,0021) IssuerOfPatientID X X
    (0010,0030) PatientBirthDate Z Z
    (0010,0032) PatientBirthTime X X
    (0010,0040) PatientSex Z Z
    (0010,1000) OtherPatientIDs X X
    (0010,1001) OtherPatientNames X X
    (0010,1002) OtherPatientIDsSequence X X
    (0010,1005) PatientBirthName X X
    (0010,1010) PatientAge X X
    (0010,1020) PatientSize X X
    (0010,1030) PatientWeight X X
    (0010,1040) PatientAddress X X
    (0010,1060) PatientMotherBirthName X X
    (0010,1090) MedicalRecordLocator X X
    (0010,2154) PatientTelephoneNumbers X X
    (0010,2160) EthnicGroup X X
    (0010,2180) Occupation X X
    (0010,21B0) AdditionalPatientHistory X X
    (0010,4000) PatientComments X X
    (0008,0020) StudyDate Z Z
    (0008,0021) SeriesDate X/D X
    (0008,0022) AcquisitionDate X/Z X
    (0008,0023) ContentDate Z/D Z
    (0008,002A) AcquisitionDateTime X/Z/D X
    (0008,0030) StudyTime Z Z
    (0008,0031) SeriesTime X/D X
    (0008,0032) AcquisitionTime X/Z X
    (0008,0033) ContentTime Z/D Z
    (0008,0012) InstanceCreationDate X/D X
    (0008,0013) InstanceCreationTime X/Z/D X
    (0008,0201) TimezoneOffsetFromUTC X X
    (0008,0050) AccessionNumber Z Z
    (0020,0010) StudyID Z Z
    (0008,1030) StudyDescription X X
    (0008,103E) SeriesDescription X X
    (0018,1030) ProtocolName X/D X
    (0020,4000) ImageComments X X
    (0018,0010) ContrastBolusAgent Z/D Z
    (0040,0244) PerformedProcedureStepStartDate X X
    (0040,0245) PerformedProcedureStepStartTime X X
    (0040,0253) PerformedProcedureStepID X X
    (0040,0254) PerformedProcedureStepDescription X X
    (0040,0275) RequestAttributesSequence X X
    (0008,1110) ReferencedStudySequence X/Z X
    (0008,1111) ReferencedPerformedProcedureStepSequence X/Z/D X
    (0008,1120) ReferencedPatientSequence X X
    (0008,1140) ReferencedImageSequence X/Z/U* X
    (0008,2112) SourceImageSequence X/Z/U* X
    (0008,0090) ReferringPhysicianName Z Z
    (0008,0092) ReferringPhysicianAddress X X
    (0008,0094) ReferringPhysicianTelephoneNumbers X X
    (0008,1048) PhysiciansOfRecord X X
    (0008,1050) PerformingPhysicianName X X
    (0008,1060) NameOfPhysiciansReadingStudy X X
    (0008,1070) OperatorsName X/Z/D X
    (0032,1032) RequestingPhysician X X
    (0008,0080) InstitutionName X/Z/D X
    (0008,0081) InstitutionAddress X X
    (0008,1040) InstitutionalDepartmentName X X
    (0008,1010) StationName X/Z/D X
    (0008,0055) StationAETitle X X
    (0018,1000) DeviceSerialNumber X/Z/D X
    (0008,0018) SOPInstanceUID U U
    (0020,000D) StudyInstanceUID U U
    (0020,000E) SeriesInstanceUID U U
    (0020,0052) FrameOfReferenceUID U U
    (0020,0200) SynchronizationFrameOfReferenceUID U U
    (0008,0014) InstanceCreatorUID U U
    (0008,1155) ReferencedSOPInstanceUID U U
    (0008,3010) IrradiationEventUID U U
    (0020,9161) ConcatenationUID U U
    (0020,9164) DimensionOrganizationUID U U
    (0088,0140) StorageMediaFileSetUID U U
    (0040,A124) UID U U
    (0002,0003) MediaStorageSOPInstanceUID U U
    (0088,0200) IconImageSequence X X
    (FFFA,FFFA) DigitalSignaturesSequence X X
    (FFFC,FFFC) DataSetTrailingPadding X X
    """
)

#: Attributes that Table E.1-1 does not list: kept, as the image needs them (shown by
#: :func:`compare_tags` next to the table's).
KEPT_EXAMPLES = (
    "SOPClassUID",
    "Modality",
    "Manufacturer",
    "PixelSpacing",
    "SliceThickness",
    "RescaleSlope",
    "RescaleIntercept",
)

_BY_TAG = {int(Tag(*(int(part, 16) for part in rule.tag[1:-1].split(",")))): rule
           for rule in BASIC_PROFILE}  # fmt: skip
_DATE_VRS = ("DA", "DT", "TM")
_METHOD = "DICOM PS3.15 E.1 Basic Profile (course.io.deid)"
_CODES = {  # PS3.16 CID 7050, De-identification Method
    "113100": "Basic Application Confidentiality Profile",
    "113107": "Retain Longitudinal Temporal Information Modified Dates Option",
}


def rule_for(keyword: str) -> Rule | None:
    """The row of :data:`BASIC_PROFILE` for a keyword, or None if the table does not list it.

    Examples
    --------
    >>> rule_for("PatientAge")
    Rule(tag='(0010,1010)', keyword='PatientAge', code='X', action='X')
    >>> rule_for("Modality") is None
    True
    """
    return next((rule for rule in BASIC_PROFILE if rule.keyword == keyword), None)


def _removed_group(tag) -> bool:
    """Private attributes, overlay data and comments (60xx,3000/4000), curves (50xx,xxxx)."""
    group, element = tag.group, tag.element
    overlay = (group & 0xFF00) == 0x6000 and element in (0x3000, 0x4000)
    return tag.is_private or overlay or (group & 0xFF00) == 0x5000


def _shift(value: str, vr: str, days: int) -> str:
    """A DA value, or the date part of a DT value, moved by ``days``; a TM value unchanged."""
    if vr == "TM" or not value:
        return value
    date = datetime.datetime.strptime(value[:8], "%Y%m%d").date() + datetime.timedelta(days)
    return date.strftime("%Y%m%d") + value[8:]


def _new_uid_factory(key: str) -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def new_uid(old: str) -> str:
        if old not in cache:  # the same old UID always gets the same new one, for this key
            cache[old] = str(generate_uid(entropy_srcs=[key, str(old)]))
        return cache[old]

    return new_uid


def _act(dataset: Dataset, elem: DataElement, new_uid, date_shift_days) -> None:
    """Apply the table (and the group rules) to one element of ``dataset``, in place."""
    if _removed_group(elem.tag):
        del dataset[elem.tag]
        return
    rule = _BY_TAG.get(int(elem.tag))
    if rule is None:
        return
    shifts = date_shift_days is not None and elem.VR in _DATE_VRS
    if shifts and rule.keyword != "PatientBirthDate":
        values = elem.value if elem.VM > 1 else [elem.value]
        shifted = [_shift(str(v), elem.VR, date_shift_days) for v in values]
        elem.value = shifted if elem.VM > 1 else shifted[0]
    elif rule.action == "X":
        del dataset[elem.tag]
    elif rule.action == "Z":
        elem.value = Sequence() if elem.VR == "SQ" else ""
    elif rule.action == "U" and elem.value:
        uids = elem.value if elem.VM > 1 else [elem.value]
        replaced = [new_uid(str(uid)) for uid in uids]
        elem.value = replaced if elem.VM > 1 else replaced[0]


def _method_codes(date_shift_days) -> Sequence:
    codes = ["113100"] + (["113107"] if date_shift_days is not None else [])
    items = []
    for value in codes:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", _CODES[value]
        items.append(item)
    return Sequence(items)


def _new_file_meta(ds: Dataset, original_meta) -> FileMetaDataset:
    """File meta information that describes the de-identifier (PS3.15 E.1.1 item 7)."""
    meta = FileMetaDataset()
    syntax = getattr(original_meta, "TransferSyntaxUID", None) if original_meta else None
    meta.TransferSyntaxUID = syntax or ExplicitVRLittleEndian
    if "SOPClassUID" in ds:
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
    if "SOPInstanceUID" in ds:
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "COURSE_DEID"
    return meta


def deidentify(
    ds, *, key: str, patient_id: str = "", date_shift_days: int | None = None
) -> Dataset:
    """A de-identified copy of a DICOM data set, following :data:`BASIC_PROFILE`.

    Parameters
    ----------
    ds : pydicom.Dataset or path
        The data set (or the file) to de-identify; it is not modified.
    key : str
        A secret kept by whoever de-identifies (not shipped with the data): new UIDs are
        ``generate_uid(entropy_srcs=[key, old_uid])``, the same for every file of a series.
    patient_id : str, default ""
        The value of Patient ID: empty (action Z), or a study pseudonym such as ``"SUBJ-007"``
        (Z allows a dummy value); keep the link to the real patient elsewhere, under lock.
    date_shift_days : int, optional
        Instead of emptying or removing dates, shift every date of the table (not the birth
        date) by this many days and keep times: intervals between examinations survive.

    Returns
    -------
    pydicom.Dataset
        A new data set, with new file meta information and a zero preamble.

    Raises
    ------
    TypeError
        If ``ds`` is neither a Dataset nor a path, or ``key`` is not a non-empty string.
    ValueError
        If ``key`` is empty.
    FileNotFoundError
        If a path does not exist.
    """
    if not isinstance(key, str):
        raise TypeError(f"key must be a str (a secret), got {type(key).__name__}")
    if not key:
        raise ValueError("key must not be empty: without a secret, new UIDs can be recomputed")
    if date_shift_days is not None and (
        isinstance(date_shift_days, bool) or not isinstance(date_shift_days, int)
    ):
        raise TypeError(f"date_shift_days must be an int or None, got {date_shift_days!r}")
    original = _as_dataset(ds)
    out = copy.deepcopy(original)
    new_uid = _new_uid_factory(key)
    out.walk(lambda dataset, elem: _act(dataset, elem, new_uid, date_shift_days))
    out.PatientID = patient_id
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = _METHOD
    out.DeidentificationMethodCodeSequence = _method_codes(date_shift_days)
    shifted = date_shift_days is not None
    out.LongitudinalTemporalInformationModified = "MODIFIED" if shifted else "REMOVED"
    out.file_meta = _new_file_meta(out, getattr(original, "file_meta", None))
    out.preamble = b"\0" * 128
    return out


def deidentify_file(source, destination, **options) -> Dataset:
    """Read ``source``, write its de-identified copy to ``destination``, return the copy.

    ``options`` are those of :func:`deidentify` (``key`` is required). The source file is
    never written to: a ``destination`` that is the source raises a ValueError.

    Examples
    --------
    >>> import tempfile
    >>> from course.datasets import sample_path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = deidentify_file(sample_path("MR_small"), Path(folder) / "mr.dcm", key="k")
    ...     pydicom.dcmread(Path(folder) / "mr.dcm").PatientIdentityRemoved
    'YES'
    """
    source, destination = Path(source), Path(destination)
    if destination.exists() and source.exists() and os.path.samefile(source, destination):
        raise ValueError(f"destination must differ from source, got {destination} twice")
    out = deidentify(pydicom.dcmread(source), **options)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if _PYDICOM_3:
        out.save_as(destination, enforce_file_format=True)
    else:  # pragma: no cover - pydicom 2
        out.save_as(destination, write_like_original=False)
    return out


class Finding(NamedTuple):
    """Something that may still identify the patient."""

    kind: str  # "name", "date", "private", "removed", "uid", "pixels"
    tag: str
    keyword: str
    value: str


def _finding(kind: str, elem: DataElement, value: str | None = None) -> Finding:
    shown = str(elem.value) if value is None else value
    return Finding(kind, str(elem.tag), elem.keyword or "(private)", shown[:60])


def find_identifiers(ds, original=None) -> list[Finding]:
    """What in a data set may still identify the patient (run it on the re-read file).

    Reported, at every depth of sequences: a person name (VR PN) with a value (``"name"``); a
    date, time or date-time with a value (``"date"``; after a date shift, the shifted dates,
    for a human to confirm); a private attribute (``"private"``); an attribute that
    :data:`BASIC_PROFILE` removes (``"removed"``); with ``original``, a UID of the table still
    equal to the original's (``"uid"``); and ``"pixels"`` unless Burned In Annotation is
    ``NO``: nothing in the header says that the pixels are free of text.

    Parameters
    ----------
    ds : pydicom.Dataset or path
    original : pydicom.Dataset or path, optional
        The data set before de-identification, to compare UIDs with.

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> from course.datasets import sample_path
    >>> sorted({f.kind for f in find_identifiers(sample_path("MR_small"))})  # before
    ['date', 'name', 'pixels', 'removed']
    """
    ds = _as_dataset(ds)
    old_uids = set()
    if original is not None:
        old_uids = {str(e.value) for e in _as_dataset(original).iterall() if e.VR == "UI"}
    findings = []
    for elem in ds.iterall():
        rule = _BY_TAG.get(int(elem.tag))
        if elem.tag.is_private:
            findings.append(_finding("private", elem, repr(elem.value)))
        elif rule is not None and rule.action == "X":
            findings.append(_finding("removed", elem, repr(elem.value)))
        elif elem.VR == "PN" and str(elem.value or "").strip():
            findings.append(_finding("name", elem))
        elif elem.VR in _DATE_VRS and str(elem.value or "").strip():
            findings.append(_finding("date", elem))
        elif rule is not None and rule.action == "U" and str(elem.value) in old_uids:
            findings.append(_finding("uid", elem))
    if str(ds.get("BurnedInAnnotation", "")).upper() != "NO":
        said = ds.get("BurnedInAnnotation", "absent")
        findings.append(Finding("pixels", "(0028,0301)", "BurnedInAnnotation", str(said)))
    return findings


def compare_tags(before, after, keywords=None) -> list[tuple[str, str, str, str, str]]:
    """Rows ``(tag, keyword, action, before, after)`` for a before/after table.

    By default: every top-level attribute of ``before`` that :data:`BASIC_PROFILE` lists, then
    :data:`KEPT_EXAMPLES`; the action is the table's (``"K"`` for kept attributes) and an absent
    value shows as ``"(removed)"``. Values are cut to 30 characters.

    Examples
    --------
    >>> from course.datasets import sample_path
    >>> before = pydicom.dcmread(sample_path("CT_small"))
    >>> rows = compare_tags(before, deidentify(before, key="k"), keywords=["PatientAge"])
    >>> rows[0]
    ('(0010,1010)', 'PatientAge', 'X', '000Y', '(removed)')
    """
    before, after = _as_dataset(before), _as_dataset(after)
    if keywords is None:
        listed = [rule.keyword for rule in BASIC_PROFILE if rule.keyword in before]
        keywords = listed + [k for k in KEPT_EXAMPLES if k in before]

    def shown(ds: Dataset, keyword: str) -> str:
        if keyword not in ds:
            return "(removed)"
        value = ds[keyword].value
        text = f"<{len(value)} items>" if isinstance(value, Sequence) else str(value)
        return text[:30]

    rows = []
    for keyword in keywords:
        rule = rule_for(keyword)
        tag = rule.tag if rule else str(Tag(keyword))
        rows.append((tag, keyword, rule.code if rule else "K", shown(before, keyword),
                     shown(after, keyword)))  # fmt: skip
    return rows


def burn_in_text(image: np.ndarray, text: str, position=(2, 2), value=None) -> np.ndarray:
    """A copy of a 2D image with ``text`` drawn into its pixels (as a scanner's overlay does).

    Parameters
    ----------
    image : ndarray, shape (H, W)
    text : str
    position : (int, int), default (2, 2)
        Row and column of the text's top-left corner.
    value : number, optional
        The value of the text pixels; default the image's maximum (white).

    Returns
    -------
    ndarray, same shape and dtype as ``image``
    """
    from PIL import Image, ImageDraw, ImageFont

    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be 2D (H, W), got shape {image.shape}")
    canvas = Image.new("L", (image.shape[1], image.shape[0]), 0)
    row, col = position
    ImageDraw.Draw(canvas).text((col, row), text, fill=255, font=ImageFont.load_default())
    marked = image.copy()
    marked[np.asarray(canvas) > 127] = image.max() if value is None else value
    return marked


def with_burned_in_text(ds, text: str, position=(2, 2)) -> Dataset:
    """A copy of an image data set whose pixels show ``text``; Burned In Annotation ``YES``.

    For the lecture: :func:`deidentify` cleans the header of this copy but leaves the text in
    the pixels, where anyone who opens the image reads it.
    """
    out = copy.deepcopy(_as_dataset(ds))
    pixels = out.pixel_array
    out.PixelData = burn_in_text(pixels, text, position).astype(pixels.dtype).tobytes()
    out.BurnedInAnnotation = "YES"
    return out
