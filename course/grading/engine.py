"""Where grading tasks run: Dask distributed, on this machine or on a cluster.

One engine for every class size. :func:`connect` gives a Dask client: by default a
``LocalCluster`` of ``workers`` processes on this machine (one thread each), or an existing
cluster (a scheduler address ``tcp://HOST:8786``, a scheduler file written by
``dask scheduler --scheduler-file``, or a ``distributed.Client`` the caller made, e.g. from
dask-jobqueue or Dask Gateway). :func:`grade_all` sends one :func:`~course.grading.task.grade_task`
per submission and hands each result to the caller as it arrives, so that only the caller (the
client) writes the gradebook and the reports.

Faults: the scheduler sends a task whose worker died to another worker once
(``allowed-failures`` = 1, and a worker holds one task per thread, so that only the task it was
running is blamed); a submission whose task killed two workers comes back as a result
"crashed the grader twice". A submission that hangs is stopped by the task itself (the grading
process's time limit).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .layout import CourseError
from .task import LabBundle, failed, grade_task

ALLOWED_FAILURES = 1  # worker deaths a task may cause before it is given up: one retry
CRASHED_TWICE = "crashed the grader twice"


def _one_task_per_thread(dask_scheduler) -> None:
    """(Runs on the scheduler.) Retry a task once after its worker died, and send a worker a
    task only when it has a free thread.

    A worker that dies counts against every task assigned to it, running or queued: with one
    task per thread, a submission that kills its worker cannot use up the retry of another.
    """
    dask_scheduler.allowed_failures = ALLOWED_FAILURES
    dask_scheduler.WORKER_SATURATION = 1.0


@contextlib.contextmanager
def connect(scheduler=None, workers: int = 1, echo=print) -> Iterator:
    """A Dask client for a class run; a local cluster it started is closed afterwards.

    Parameters
    ----------
    scheduler : str, path or distributed.Client, optional
        None: a ``LocalCluster`` of ``workers`` processes here. A string ``tcp://...`` (or any
        Dask address): that scheduler. An existing file: a scheduler file. A client: used as
        is (not closed).
    workers : int
        Processes of the local cluster (ignored with ``scheduler``).
    echo : callable or None
        Where the dashboard link goes, when the cluster has a dashboard.
    """
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as error:  # pragma: no cover - a dependency of the grading extra
        raise CourseError(
            "grading needs Dask distributed: pip install 'dlmi-course[grading]'"
        ) from error
    if isinstance(scheduler, Client):
        _configure_scheduler(scheduler)
        yield scheduler
        return
    quiet = {
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
        "distributed.scheduler.worker-saturation": 1.0,
        "distributed.worker.daemon": False,  # a worker may start its fork server
    }
    with contextlib.ExitStack() as stack:
        stack.enter_context(dask.config.set(quiet))
        if scheduler is None:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=int(workers),
                    threads_per_worker=1,
                    processes=True,
                    memory_limit=0,  # the grading kernels have their own memory limit
                    dashboard_address=":0" if _has_bokeh() else None,
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))
        elif Path(str(scheduler)).is_file():
            client = stack.enter_context(Client(scheduler_file=str(scheduler), timeout="60s"))
        else:
            client = stack.enter_context(Client(str(scheduler), timeout="60s"))
        _configure_scheduler(client)
        if echo is not None and "dashboard" in client.scheduler_info().get("services", {}):
            echo(f"Dask dashboard: {client.dashboard_link}")
        yield client


def _configure_scheduler(client) -> None:
    """:func:`_one_task_per_thread`, whatever the cluster's own configuration says."""
    with contextlib.suppress(Exception):  # a scheduler that refuses run_on_scheduler
        client.run_on_scheduler(_one_task_per_thread)


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def grade_all(
    client,
    bundle: LabBundle,
    jobs: dict[str, bytes],
    on_result: Callable[[str, dict], None],
    *,
    progress: bool = True,
    function: Callable = grade_task,
) -> int:
    """Grade every ``student -> notebook bytes`` of ``jobs``; call ``on_result`` for each.

    Each task is ``function(bundle, student, notebook)`` (:func:`~course.grading.task.grade_task`;
    a benchmark passes a task that grades nothing). Results arrive in the order the tasks
    finish; ``on_result(student, result)`` runs in this process (the client), the only place
    results are written. A task whose worker died twice gives a result with status
    ``crashed`` ("crashed the grader twice"); any other exception a task raised gives a failed
    result that a rerun grades again.

    Returns
    -------
    int
        How many results were failures (status other than ``ok``).
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    futures = {
        client.submit(
            function, bundle, student, data, key=f"grade-{bundle.lab}-{student}", pure=False
        ): student
        for student, data in jobs.items()
    }
    bar = _progress(len(futures), bundle.lab, progress)
    failures = 0
    try:
        for future in as_completed(futures):
            student = futures[future]
            try:
                result = future.result()
            except KilledWorker:
                result = failed(student, f"the submission {CRASHED_TWICE} (two workers died)")
                result["status"] = "crashed"
            except Exception as error:  # noqa: BLE001 - one task's failure is one row
                why = f"the grading task failed: {type(error).__name__}: {error}"
                result = failed(student, why[:500], retry=True)
            future.release()
            failures += result.get("status") != "ok"
            on_result(student, result)
            bar.update(1)
            bar.set_postfix(failures=failures, refresh=False)
    finally:
        bar.close()
        for future in futures:  # an interrupted run: cancel what has not started
            if not future.done():
                future.cancel()
    return failures


def _progress(total: int, lab: str, show: bool):
    """A progress bar: graded/total, failures so far, the estimated time left (tqdm)."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=f"grading {lab}",
        unit="submission",
        disable=not show or total == 0,
        file=sys.stderr,
        mininterval=1.0 if os.environ.get("CI") or not sys.stderr.isatty() else 0.1,
        smoothing=0.1,
    )


def wait_for_workers(client, n: int, timeout: float = 120) -> None:
    """Wait until the cluster has ``n`` workers (a cluster's workers may still be starting)."""
    deadline = time.monotonic() + timeout
    while len(client.scheduler_info(n_workers=-1)["workers"]) < n:
        if time.monotonic() > deadline:
            raise CourseError(f"the Dask cluster did not reach {n} worker(s) in {timeout} s")
        time.sleep(0.2)
