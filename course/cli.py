"""The ``course`` command line (also ``python -m course``).

``course doctor`` prints what a student or an instructor needs to know when something does not
work: the versions of Python and of the course's dependencies, and the device PyTorch will use.
"""

from __future__ import annotations

import argparse
import platform
import sys
from importlib import metadata

DEPENDENCIES = [
    "numpy",
    "scipy",
    "matplotlib",
    "torch",
    "torchvision",
    "pydicom",
    "nibabel",
    "scikit-image",
    "ipywidgets",
    "tqdm",
    "jupyterlab",
    "nbgrader",
]


def doctor() -> int:
    """Print versions and the device; return 1 if a required dependency is missing."""
    import course

    print(
        f"dlmi-course {course.__version__} on Python {platform.python_version()} "
        f"({platform.system()} {platform.machine()})"
    )
    missing = []
    for name in DEPENDENCIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
            if name not in ("jupyterlab", "nbgrader"):  # optional extras
                missing.append(name)
        print(f"  {name:<14} {version}")
    if "torch" not in missing:
        print(f"device: {course.get_device()}")
    if missing:
        print(f'missing: {", ".join(missing)} -- run: pip install -e ".[dev]"', file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``course`` command."""
    parser = argparse.ArgumentParser(prog="course", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="versions, device and data availability")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        return doctor()
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    raise SystemExit(main())
