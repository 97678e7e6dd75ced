"""The package itself: version, device selection, seeding, the command line."""

import random
import subprocess
import sys

import numpy as np
import pytest
import torch

import course
from course.cli import main


def test_version_matches_distribution_metadata():
    from importlib.metadata import version

    assert course.__version__ == version("dlmi-course")


def test_get_device_is_a_usable_torch_device():
    device = course.get_device()
    assert isinstance(device, torch.device)
    assert device.type in {"cuda", "mps", "cpu"}
    assert (device.type == "cuda") == torch.cuda.is_available()
    torch.ones(2, device=device).sum().item()


def test_seed_everything_makes_every_generator_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()  # noqa: NPY002

    assert course.seed_everything(123) == 123
    first = draw()
    course.seed_everything(123)
    assert draw() == first
    course.seed_everything(124)
    assert draw() != first
    # the deterministic mode is asked for by name (tests/test_train.py checks it)
    assert not torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize(
    "seed, exc",
    [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)],
)
def test_seed_everything_rejects_bad_seeds(seed, exc):
    with pytest.raises(exc, match="seed"):
        course.seed_everything(seed)


def test_doctor_reports_versions_and_device(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"dlmi-course {course.__version__}" in out
    assert "torch" in out and "device:" in out


def test_python_dash_m_course_runs():
    result = subprocess.run(
        [sys.executable, "-m", "course", "doctor"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "device:" in result.stdout
