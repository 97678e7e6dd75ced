"""The ``course`` command line (also ``python -m course``).

- ``course doctor``: versions of Python and of the course's dependencies, and the device
  PyTorch will use;
- ``course validate NOTEBOOK``: for students, run a lab notebook and list which parts pass the
  visible tests;
- ``course release [LAB ...]``: for instructors, generate the student versions of the labs
  (nbgrader) into ``notebooks/labs/``;
- ``course autograde LAB SUBMISSIONS``: grade a class; writes ``grades.csv`` and one feedback
  page per student in the workspace (see ``autograder/README.md``);
- ``course datasets build OUT``: write every dataset of the course to disk.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

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
    if sys.platform.startswith("linux"):
        from course.grading.sandbox import report

        for name, verdict in report().items():
            print(f"grading sandbox {name}: {verdict}")
    if missing:
        print(f'missing: {", ".join(missing)} -- run: pip install -e ".[dev]"', file=sys.stderr)
        return 1
    return 0


def _grading():
    """The grading engine (needs nbgrader: ``pip install "dlmi-course[grading]"``)."""
    # jsonschema imports rfc3987_syntax (4+ s, builds a grammar) for IRI formats that notebooks
    # never use: skip it in this process
    sys.modules.setdefault("rfc3987_syntax", None)
    try:
        from course import grading
    except ImportError as error:
        raise SystemExit(
            f"course: grading needs nbgrader ({error}); "
            'install it with: pip install -e ".[grading]"'
        ) from None
    return grading


def _course(args):
    grading = _grading()
    return grading, grading.Course.at(args.root, args.workspace)


def cmd_release(args) -> int:
    """``course release [LAB ...]``: write the student versions of the labs; exit status 0."""
    grading, course = _course(args)
    paths = grading.release(course, args.labs or None, out=args.out)
    for path in paths:
        print(f"released {path}")
    return 0


def cmd_autograde(args) -> int:
    """``course autograde LAB SUBMISSIONS``: grade a class; 0 if the run finished, else 1."""
    grading, course = _course(args)
    run = grading.autograde(
        course,
        args.lab,
        args.submissions,
        workers=args.workers,
        scheduler=args.scheduler,
        threads=args.threads,
        reuse=not args.regrade,
        timeout=args.timeout,
        memory_mb=args.memory_mb,
        sandbox=args.sandbox,
        limits=grading.Limits(
            cpu_seconds=args.cpu_seconds, processes=args.processes, scratch_mb=args.scratch_mb
        ),
        show_hidden=args.show_hidden_tests,
    )
    return 0 if run.rows is not None else 1


def cmd_validate(args) -> int:
    """``course validate NOTEBOOK``: run the visible tests like the grader; 0 if all pass."""
    grading = _grading()
    rows, findings = grading.validate(args.notebook, timeout=args.timeout, memory_mb=args.memory_mb)
    if not rows:
        print(f"{args.notebook}: no test cells found (is it a lab notebook?)")
        return 1
    width = max(len(r["part"]) for r in rows)
    for row in rows:
        mark = "pass" if row["passed"] else "FAIL"
        message = row["message"]
        if message.rstrip() == "NotImplementedError:":  # the answer cell's stub
            message = "not answered yet"
        lines = message.splitlines() or [""]
        line = f"  {mark}  {row['part']:<{width}}  {row['points']:g} pt"
        print(f"{line}  {lines[0][:150]}" if message else line)
        for extra in lines[1:] if args.verbose else []:
            print(f"        {extra}")
    passed = sum(r["passed"] for r in rows)
    points = sum(r["points"] for r in rows if r["passed"])
    total = sum(r["points"] for r in rows)
    print(
        f"{passed}/{len(rows)} parts pass the visible tests ({points:g}/{total:g} points); "
        "hidden tests run on other inputs when the lab is graded."
    )
    if not args.verbose and any(len(r["message"].splitlines()) > 1 for r in rows):
        print("  (first line of each message; --verbose shows them whole)")
    for finding in findings:
        print(f"  WARNING: the grader will flag this notebook: {finding}")
    return 0 if passed == len(rows) and not findings else 1


def cmd_datasets_build(args) -> int:
    """``course datasets build``: write every data set to a folder; exit status 0."""
    from course import datasets

    build = getattr(datasets, "build_datasets", None)
    if build is None:
        raise SystemExit("course: this version of the course has no dataset builder")
    written = build(Path(args.out))
    for name, path in (written or {}).items():
        print(f"  {name}: {path}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="versions of Python and the dependencies, and the device")

    def course_options(sub) -> None:
        sub.add_argument("--root", help="course root (default: this repository)")
        sub.add_argument(
            "--workspace",
            help="grading workspace (default: $COURSE_WORKSPACE or autograder/workspace)",
        )

    release = commands.add_parser("release", help="generate the student versions (nbgrader)")
    release.add_argument("labs", nargs="*", metavar="LAB", help="labs (default: all)")
    release.add_argument("--out", help="output folder (default: notebooks/labs)")
    course_options(release)
    release.set_defaults(func=cmd_release)

    grade = commands.add_parser("autograde", help="grade a class: grades.csv and feedback")
    grade.add_argument("lab", metavar="LAB", help="e.g. lab04_convolution")
    grade.add_argument(
        "submissions", metavar="SUBMISSIONS", help="folder: one folder/.zip/notebook per student"
    )
    grade.add_argument(
        "--workers", type=int, default=1, help="worker processes here: students graded at once"
    )
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on this Dask cluster instead: tcp://HOST:8786 or a scheduler file "
        "(see autograder/README.md)",
    )
    grade.add_argument(
        "--threads",
        type=int,
        help="BLAS/PyTorch threads per grading kernel (default: cores / workers here, 1 on a "
        "cluster)",
    )
    grade.add_argument(
        "--regrade",
        action="store_true",
        help="grade every submission again (default: reuse the saved result of a submission "
        "already graded with the same lab, settings and course version)",
    )
    grade.add_argument("--timeout", type=int, default=120, help="seconds per cell (120)")
    grade.add_argument(
        "--memory-mb", type=int, default=4096, help="memory of a grading kernel (4096 MB)"
    )
    grade.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "landlock", "none"),
        default="auto",
        help="where each submission runs: auto (the strongest that works here), bwrap, "
        "landlock, or none (no protection; must be asked for)",
    )
    grade.add_argument("--cpu-seconds", type=int, default=3600, help="CPU time per process")
    grade.add_argument("--processes", type=int, default=256, help="processes per submission")
    grade.add_argument("--scratch-mb", type=int, default=1024, help="scratch folder size (MB)")
    grade.add_argument(
        "--show-hidden-tests",
        action="store_true",
        help="show the hidden tests in the feedback (after the deadline; solutions stay hidden)",
    )
    course_options(grade)
    grade.set_defaults(func=cmd_autograde)

    check = commands.add_parser("validate", help="run a lab notebook against the visible tests")
    check.add_argument("notebook", metavar="NOTEBOOK")
    check.add_argument("--timeout", type=int, default=120, help="seconds per cell (120)")
    check.add_argument("--memory-mb", type=int, default=4096, help="kernel memory (4096 MB)")
    check.add_argument(
        "--verbose",
        action="store_true",
        help="show each failing part's whole message",
    )
    check.set_defaults(func=cmd_validate)

    data = commands.add_parser("datasets", help="the course's datasets")
    data_commands = data.add_subparsers(dest="datasets_command", required=True)
    build = data_commands.add_parser("build", help="write every dataset to OUT")
    build.add_argument("out", metavar="OUT", help="output folder")
    build.set_defaults(func=cmd_datasets_build)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``course`` command."""
    args = _parser().parse_args(argv)
    if args.command == "doctor":
        return doctor()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("course: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `course autograde ... | head`: the reader went away
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:
        if any(k.__name__ == "CourseError" for k in type(error).__mro__):  # and SandboxError
            print(f"course: {error}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    raise SystemExit(main())
