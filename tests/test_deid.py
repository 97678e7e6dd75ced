"""De-identification of pydicom's real test files, checked by writing and re-reading them."""

import copy
import datetime
import hashlib

import numpy as np
import pydicom
import pytest
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import UID

from course.datasets import sample_path
from course.io import deid

SAMPLES = ["CT_small", "MR_small"]
KEY = "test secret"

#: Codes of PS3.15 Table E.1-1 (Basic Profile column), typed again from the standard.
STANDARD = {
    "PatientName": "Z",
    "PatientID": "Z/D",
    "PatientBirthDate": "Z",
    "PatientSex": "Z",
    "PatientAge": "X",
    "PatientWeight": "X",
    "PatientSize": "X",
    "OtherPatientIDsSequence": "X",
    "AdditionalPatientHistory": "X",
    "StudyDate": "Z",
    "StudyTime": "Z",
    "SeriesDate": "X/D",
    "AcquisitionDate": "X/Z",
    "ContentDate": "Z/D",
    "InstanceCreationDate": "X/D",
    "InstanceCreationTime": "X/Z/D",
    "AccessionNumber": "Z",
    "StudyID": "Z",
    "StudyDescription": "X",
    "ReferringPhysicianName": "Z",
    "PerformingPhysicianName": "X",
    "NameOfPhysiciansReadingStudy": "X",
    "OperatorsName": "X/Z/D",
    "InstitutionName": "X/Z/D",
    "InstitutionAddress": "X",
    "StationName": "X/Z/D",
    "DeviceSerialNumber": "X/Z/D",
    "ImageComments": "X",
    "SOPInstanceUID": "U",
    "StudyInstanceUID": "U",
    "SeriesInstanceUID": "U",
    "FrameOfReferenceUID": "U",
    "ReferencedSOPInstanceUID": "U",
    "MediaStorageSOPInstanceUID": "U",
}


# --- the table -------------------------------------------------------------------------------
def test_table_tags_match_the_data_dictionary():
    for rule in deid.BASIC_PROFILE:
        group, element = (int(part, 16) for part in rule.tag[1:-1].split(","))
        assert Tag(group, element) == tag_for_keyword(rule.keyword), rule
    assert len({r.tag for r in deid.BASIC_PROFILE}) == len(deid.BASIC_PROFILE)
    assert len({r.keyword for r in deid.BASIC_PROFILE}) == len(deid.BASIC_PROFILE)


def test_table_codes_match_the_standard_and_actions_are_allowed():
    table = {rule.keyword: rule for rule in deid.BASIC_PROFILE}
    for keyword, code in STANDARD.items():
        assert table[keyword].code == code, keyword
    for rule in deid.BASIC_PROFILE:
        allowed = rule.code.replace("*", "").split("/")
        assert rule.action in allowed, rule
        assert rule.action in ("X", "Z", "U")
        if rule.action == "U":
            assert dictionary_VR(rule.keyword) == "UI", rule
    assert deid.rule_for("Modality") is None
    assert all(deid.rule_for(k) is None for k in deid.KEPT_EXAMPLES)


# --- de-identification of the real files -----------------------------------------------------
def all_tags(ds):
    return {int(e.tag) for e in ds.iterall()}


@pytest.mark.parametrize("name", SAMPLES)
def test_each_action_of_the_table_is_applied(name):
    original = pydicom.dcmread(sample_path(name))
    clean = deid.deidentify(original, key=KEY)
    remaining = all_tags(clean)
    for rule in deid.BASIC_PROFILE:
        tag = int(tag_for_keyword(rule.keyword))
        if rule.keyword == "MediaStorageSOPInstanceUID" or tag not in all_tags(original):
            continue
        if rule.action == "X":
            assert tag not in remaining, rule
        elif rule.action == "Z":
            assert tag in clean and clean[tag].value in ("", None, []), rule
        else:
            new = str(clean[tag].value)
            assert new != str(original[tag].value) and UID(new).is_valid, rule
    assert not any(e.tag.is_private for e in clean.iterall())
    for keyword in deid.KEPT_EXAMPLES:
        if keyword in original:
            assert clean[keyword].value == original[keyword].value, keyword
    np.testing.assert_array_equal(clean.pixel_array, original.pixel_array)
    assert clean.PatientIdentityRemoved == "YES"
    assert clean.LongitudinalTemporalInformationModified == "REMOVED"
    code = clean.DeidentificationMethodCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("113100", "DCM")
    assert "PS3.15" in clean.DeidentificationMethod
    assert clean.file_meta.MediaStorageSOPInstanceUID == clean.SOPInstanceUID
    assert clean.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert clean.preamble == b"\0" * 128


@pytest.mark.parametrize("name", SAMPLES)
def test_the_input_dataset_and_file_are_not_modified(name, tmp_path):
    path = sample_path(name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    original = pydicom.dcmread(path)
    before = copy.deepcopy(original)
    deid.deidentify(original, key=KEY)
    assert original == before and original.file_meta == before.file_meta
    deid.deidentify_file(path, tmp_path / "out.dcm", key=KEY)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    copied = tmp_path / "copy.dcm"
    copied.write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="destination must differ"):
        deid.deidentify_file(copied, copied, key=KEY)
    assert copied.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("name", SAMPLES)
def test_written_file_round_trips_and_passes_the_reread_check(name, tmp_path):
    original = pydicom.dcmread(sample_path(name))
    written = deid.deidentify_file(sample_path(name), tmp_path / "deid.dcm", key=KEY)
    reread = pydicom.dcmread(tmp_path / "deid.dcm")
    assert reread.preamble == b"\0" * 128
    for elem in written:
        if elem.tag != 0x7FE00010:
            assert reread[elem.tag].value == elem.value, elem.keyword
    np.testing.assert_array_equal(reread.pixel_array, original.pixel_array)
    findings = deid.find_identifiers(reread, original=original)
    assert [f.kind for f in findings] == ["pixels"]  # only the warning about pixels remains
    before = {f.kind for f in deid.find_identifiers(original)}
    assert {"name", "date", "removed"} <= before


def test_uids_are_consistent_within_a_series_and_depend_on_the_key():
    first = pydicom.dcmread(sample_path("CT_small"))
    second = copy.deepcopy(first)
    second.SOPInstanceUID = first.SOPInstanceUID + ".2"  # another slice of the same series
    a, b = (deid.deidentify(ds, key=KEY) for ds in (first, second))
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        assert a[keyword].value == b[keyword].value, keyword
    assert a.SOPInstanceUID != b.SOPInstanceUID
    assert deid.deidentify(first, key=KEY).SOPInstanceUID == a.SOPInstanceUID  # deterministic
    assert deid.deidentify(first, key="another key").SOPInstanceUID != a.SOPInstanceUID


def test_date_shift_keeps_intervals():
    original = pydicom.dcmread(sample_path("CT_small"))
    shifted = deid.deidentify(original, key=KEY, date_shift_days=-100)

    def moved(value):
        day = datetime.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        return (day - datetime.timedelta(days=100)).strftime("%Y%m%d")

    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
        assert shifted[keyword].value == moved(original[keyword].value), keyword
    assert shifted.StudyTime == original.StudyTime  # times are kept
    assert shifted.PatientBirthDate == ""
    codes = [item.CodeValue for item in shifted.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113107"]
    assert shifted.LongitudinalTemporalInformationModified == "MODIFIED"


def nested_dataset():
    ds = pydicom.dcmread(sample_path("MR_small"))
    item = Dataset()
    item.PatientName = "Doe^Jane"
    item.ReferencedSOPInstanceUID = "1.2.3.4.5"
    item.add_new(0x00110010, "LO", "ACME private")
    item.add_new(0x00111001, "LO", "hidden name")
    ds.ReferencedPerformedProcedureStepSequence = Sequence([copy.deepcopy(item)])
    ds.add_new(0x00081250, "SQ", Sequence([item]))  # RelatedSeriesSequence: not in the table
    ds.add_new(0x60003000, "OW", b"\0" * 8)  # overlay data
    ds.add_new(0x60004000, "LT", "Jane's overlay")  # overlay comments
    ds.add_new(0x50000005, "US", 1)  # a retired curve attribute
    return ds


def test_sequences_overlays_and_curves():
    clean = deid.deidentify(nested_dataset(), key=KEY)
    assert "ReferencedPerformedProcedureStepSequence" not in clean  # X
    inner = clean[0x00081250].value[0]
    assert inner.PatientName == ""  # Z inside a sequence
    assert inner.ReferencedSOPInstanceUID != "1.2.3.4.5"  # U inside a sequence
    assert not any(e.tag.is_private for e in clean.iterall())
    assert all(int(t) not in clean for t in (0x60003000, 0x60004000, 0x50000005))


def test_patient_id_pseudonym_and_bad_options():
    clean = deid.deidentify(sample_path("CT_small"), key=KEY, patient_id="SUBJ-007")
    assert clean.PatientID == "SUBJ-007"
    with pytest.raises(TypeError, match="key"):
        deid.deidentify(sample_path("CT_small"), key=3)
    with pytest.raises(ValueError, match="key must not be empty"):
        deid.deidentify(sample_path("CT_small"), key="")
    with pytest.raises(TypeError, match="date_shift_days"):
        deid.deidentify(sample_path("CT_small"), key=KEY, date_shift_days=True)
    with pytest.raises(TypeError, match="Dataset or a file path"):
        deid.deidentify(42, key=KEY)
    with pytest.raises(FileNotFoundError):
        deid.deidentify("no/such/file.dcm", key=KEY)


# --- what remains, before/after, burned-in text ----------------------------------------------
def test_find_identifiers_reports_uids_left_unchanged():
    original = pydicom.dcmread(sample_path("CT_small"))
    kinds = {f.kind for f in deid.find_identifiers(original, original=original)}
    assert {"uid", "private", "name", "date", "removed", "pixels"} <= kinds
    declared = copy.deepcopy(original)
    declared.BurnedInAnnotation = "NO"
    assert "pixels" not in {f.kind for f in deid.find_identifiers(declared)}


def test_compare_tags_table():
    before = pydicom.dcmread(sample_path("CT_small"))
    after = deid.deidentify(before, key=KEY)
    rows = {row[1]: row for row in deid.compare_tags(before, after)}
    assert rows["PatientName"] == ("(0010,0010)", "PatientName", "Z", "CompressedSamples^CT1", "")
    assert rows["InstitutionName"][3:] == ("JFK IMAGING CENTER", "(removed)")
    assert rows["Modality"][2:] == ("K", "CT", "CT")
    assert rows["OtherPatientIDsSequence"][3] == "<2 items>"


def test_burned_in_text_survives_header_deidentification():
    original = pydicom.dcmread(sample_path("MR_small"))
    marked = deid.with_burned_in_text(original, "DOE^JANE")
    pixels, before = marked.pixel_array, original.pixel_array
    changed = pixels != before
    assert changed.any() and changed[:20].any() and not changed[32:].any()  # text at the top
    assert np.all(pixels[changed] == before.max())
    assert marked.BurnedInAnnotation == "YES" and "BurnedInAnnotation" not in original
    clean = deid.deidentify(marked, key=KEY)
    np.testing.assert_array_equal(clean.pixel_array, pixels)  # the header tools leave it
    pixel_findings = [f for f in deid.find_identifiers(clean) if f.kind == "pixels"]
    assert pixel_findings and pixel_findings[0].value == "YES"
    image = np.zeros((20, 40), np.uint8)
    drawn = deid.burn_in_text(image, "AB", position=(5, 5), value=7)
    assert set(np.unique(drawn)) == {0, 7} and drawn.dtype == np.uint8
    assert not drawn[:5].any() and not image.any()
    with pytest.raises(ValueError, match="2D"):
        deid.burn_in_text(np.zeros((2, 3, 4)), "A")
