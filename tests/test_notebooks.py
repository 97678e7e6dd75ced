"""Structure of every notebook: the same setup cell, clean outputs, portable, within size.

The notebooks themselves are executed by nbval (``pytest --nbval-lax notebooks/lectures``, part of
``make test``); this module checks what execution cannot: that every notebook starts with the
identical Colab setup cell, stores no errors, names no device and no absolute path, uses the
Python 3 kernel, stays small, and covers the topics of its syllabus row (COURSE.md section 2).
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "notebooks" / "lectures").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
STUDENT_LABS = sorted((ROOT / "notebooks" / "labs").glob("*/*.ipynb"))
ALL = LECTURES + SOLUTIONS + STUDENT_LABS

#: The first code cell of every notebook, byte for byte. The repository URL is defined here and
#: in the README only.
SETUP_CELL = "\n".join(
    [
        "# Course setup (the same in every notebook): on Colab, install the course package; "
        "elsewhere,",
        "# say how to install it if this kernel lacks it.",
        "import importlib.util",
        "import subprocess",
        "import sys",
        "",
        'REPO_URL = "https://github.com/dlmi-course/dlmi-course"',
        'if "google.colab" in sys.modules:',
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"git+{REPO_URL}"], '
        "check=True)",
        'elif importlib.util.find_spec("course") is None:',
        "    raise ModuleNotFoundError(",
        "        \"this kernel has no course package. In a terminal, in the course's folder "
        '(a clone of "',
        '        f"{REPO_URL}), run\\n    {sys.executable} -m pip install -e .\\n'
        'then restart the kernel."',
        "    )",
    ]
)


def test_setup_cell_tells_a_user_without_the_package_what_to_run():
    namespace = {}
    code = SETUP_CELL.replace('find_spec("course")', 'find_spec("course_not_installed_here")')
    with pytest.raises(ModuleNotFoundError, match="pip install -e ."):
        exec(compile(code, "setup", "exec"), namespace)


EXPECTED_LECTURES = [
    "01_images_as_data",
    "02_ct_physics",
    "03_mri_physics",
    "04_convolution",
    "05_pooling_and_architectures",
    "06_classification_evaluation",
    "07_segmentation_unet",
    "08_augmentation",
    "09_registration_enhancement",
    "10_training_a_network",
    "11_detection",
    "12_attention_transformers",
    "13_model_to_clinic",
]

#: Syllabus topics (COURSE.md section 2) that must each have a heading in their notebook:
#: notebook -> regular expressions, matched case-insensitively against the markdown headings.
TOPICS = {
    "01_images_as_data": [
        r"pixel",
        r"bit depth",
        r"rgb",
        r"modalit",
        r"dicom",
        r"hounsfield|HU",
        r"window",
        r"nifti",
        r"series",
        r"threshold|edge",
    ],
    "02_ct_physics": [
        r"inverse problem",
        r"beer",
        r"radon|sinogram",
        r"back-?projection",
        r"filter",
        r"angles",
        r"dose|noise",
        r"hounsfield|HU",
    ],
    "03_mri_physics": [
        r"k-space",
        r"fft|fourier",
        r"centre|center|periphery",
        r"mask|undersampl",
        r"alias",
        r"zero-filled",
        r"partial fourier|hermitian",
        r"pet|ultrasound",
    ],
    "04_convolution": [
        r"dense",
        r"equivarian",
        r"cross-correlation|formula",
        r"channel",
        r"stride",
        r"padding",
        r"dilat",
        r"1 ?[x×] ?1",
        r"depthwise|separable",
        r"transposed",
        r"naive|vectoris|vectoriz|speed",
    ],
    "05_pooling_and_architectures": [
        r"max.*pool|pool.*max",
        r"global|adaptive",
        r"strided",
        r"activation|relu",
        r"receptive",
        r"lenet|alexnet|vgg",
        r"resnet|skip",
        r"mobilenet|densenet",
        r"fully connected|fc|dense",
        r"train",
        r"transfer",
    ],
    "06_classification_evaluation": [
        r"multi-?class|multi-?label|ordinal",
        r"split|fold",
        r"imbalance",
        r"metric",
        r"roc",
        r"grad-?cam",
        r"dropout|uncertaint",
        r"subgroup|fairness",
    ],
    "07_segmentation_unet": [
        r"semantic|instance|detection",
        r"u-?net",
        r"iou|dice",
        r"loss",
        r"train",
        r"2\.?5?d|3d|memory",
        r"sliding|patch",
        r"nnu-?net",
    ],
    "08_augmentation": [
        r"geometric|flip|rotat",
        r"elastic",
        r"intensity",
        r"erasing|crop",
        r"mixup|cutmix",
        r"pros|cons",
        r"mask",
        r"lateral",
        r"test-time",
        r"ablation",
    ],
    "09_registration_enhancement": [
        r"registration",
        r"affine|rigid",
        r"u-?net|voxelmorph|deformable",
        r"denois",
        r"psnr|ssim",
    ],
    "10_training_a_network": [
        r"training loop",
        r"sgd|adam|optimi[sz]er",
        r"learning.rate|range test|schedule",
        r"cosine|one-cycle",
        r"batch norm",
        r"dropout",
        r"weight decay",
        r"early stopping",
        r"overfitting",
    ],
    "11_detection": [
        r"detection.*segmentation|segmentation.*detection",
        r"box",
        r"iou|intersection over union",
        r"non-maximum|nms",
        r"anchor",
        r"r-cnn",
        r"yolo|retinanet|one-stage",
        r"focal",
        r"small detector|train",
        r"precision|average precision",
        r"froc",
    ],
    "12_attention_transformers": [
        r"self-attention",
        r"multi-head",
        r"patch embedding",
        r"position embedding",
        r"vision transformer|vit",
        r"data hunger|vit vs cnn",
        r"transunet|hybrid",
        r"self-supervised|contrastive",
        r"foundation model",
        r"limit",
    ],
    "13_model_to_clinic": [
        r"de-?identif",
        r"burned-in|burnt-in",
        r"federated|fedavg",
        r"domain shift",
        r"calibration",
        r"subgroup|bias",
        r"claim|tripod|stard|reporting",
        r"regulat|medical device",
    ],
}
ABSOLUTE_PATH = re.compile(r"""["'](/(home|tmp|work|Users|root|mnt|opt)/|[A-Za-z]:\\\\)""")
DEVICE = re.compile(r"""["']cuda(:\d)?["']|\.cuda\(\)|["']mps["']""")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def test_lectures_are_named_after_the_syllabus():
    assert {p.stem for p in LECTURES} <= set(EXPECTED_LECTURES)


def test_every_lecture_of_the_syllabus_exists():
    assert [p.stem for p in LECTURES] == EXPECTED_LECTURES


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_setup_cell_first_and_identical(path):
    cells = load(path)["cells"]
    assert cells[0]["cell_type"] == "markdown", "a notebook opens with its title"
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code and source(code[0]).strip() == SETUP_CELL


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_python3_kernel_no_devices_no_absolute_paths(path):
    notebook = load(path)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        text = source(cell)
        assert not DEVICE.search(text), f"hard-coded device in: {text[:200]}"
        assert not ABSOLUTE_PATH.search(text), f"absolute path in: {text[:200]}"


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.stem)
def test_lectures_are_stored_executed_without_errors_and_small(path):
    assert path.stat().st_size <= 3 * 1024 * 1024
    code = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), "store the notebook executed"
    for cell in code:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"stored error in: {source(cell)[:200]}"


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.stem)
def test_lectures_cover_their_syllabus_row(path):
    cells = load(path)["cells"]
    headings = [
        line.lstrip("#").strip()
        for cell in cells
        if cell["cell_type"] == "markdown"
        for line in source(cell).splitlines()
        if line.startswith("#")
    ]
    missing = [
        topic
        for topic in TOPICS[path.stem]
        if not any(re.search(topic, h, re.IGNORECASE) for h in headings)
    ]
    assert not missing, f"no heading for {missing}; headings: {headings}"
    text = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
    assert "<details>" in text, "give 'Try it' prompts with collapsed answers"
    assert re.search(r"key takeaways", text, re.IGNORECASE)


def test_stored_outputs_checked_somewhere():
    """At least some cells of the lectures pin their printed numbers (NBVAL_CHECK_OUTPUT)."""
    checked = sum(
        source(c).startswith("# NBVAL_CHECK_OUTPUT")
        for path in LECTURES
        for c in load(path)["cells"]
        if c["cell_type"] == "code"
    )
    assert checked >= len(LECTURES)
