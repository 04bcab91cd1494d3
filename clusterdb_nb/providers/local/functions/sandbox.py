"""The sandbox function workers run in: bubblewrap (``bwrap``) where the machine offers it.

A sandboxed worker gets new user, PID, mount, IPC and cgroup namespaces and dies
with its parent; it sees the interpreter and system libraries read-only, its
code read-only at ``/var/task``, the runtime at ``/var/runtime``, a private
``/tmp`` of ``EPHEMERAL_BYTES`` and its own ``/proc``, and nothing of the
host's home, state file or processes. Where ``bwrap`` is missing or cannot
create namespaces, workers are plain processes and ``probe()`` says why (once,
with a warning)::

    >>> probe().available, probe().reason
    (True, 'bubblewrap 0.8.0')
    >>> argv = command(probe(), "/tmp/code", "/opt/runtime", [sys.executable, "-c", "pass"])
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import threading
import warnings
from dataclasses import dataclass

__all__ = ["command", "EPHEMERAL_BYTES", "probe", "RUNTIME_DIR", "Sandbox", "TASK_ROOT"]

EPHEMERAL_BYTES = 512 * 2**20  # Lambda's default ephemeral storage (/tmp)
TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ssl", "/etc/ca-certificates", "/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/localtime")
_PROBE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Sandbox:
    """Whether workers run in bubblewrap, and why (or why not)."""

    bwrap: str | None
    reason: str

    @property
    def available(self) -> bool:
        return self.bwrap is not None


_probed: Sandbox | None = None


def _python_dirs() -> list[str]:
    """The directories the interpreter and its packages live in (outside the system directories)."""
    candidates = {sys.prefix, sys.base_prefix, sysconfig.get_paths()["stdlib"], *site.getsitepackages()}
    candidates.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    dirs = sorted(os.path.realpath(d) for d in candidates if os.path.isdir(d))
    kept: list[str] = []
    for d in dirs:  # sorted, so a parent comes before what it contains
        if not any(d == k or d.startswith(k + os.sep) for k in kept) and not d.startswith(_SYSTEM_DIRS):
            kept.append(d)
    return kept


def command(sandbox: Sandbox, code_dir: str, runtime_dir: str, argv: list[str], tmp_bytes: int = EPHEMERAL_BYTES) -> list[str]:
    """``argv`` wrapped in bwrap: code at TASK_ROOT, ``runtime_dir`` at RUNTIME_DIR, both read-only."""
    assert sandbox.bwrap is not None
    # no --new-session: the pool starts bwrap in a session of its own already, without a terminal
    args = [sandbox.bwrap, "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-cgroup-try", "--die-with-parent"]
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for path in _ETC_FILES:
        args += ["--ro-bind-try", path, path]
    for d in _python_dirs():
        args += ["--ro-bind", d, d]
    args += ["--ro-bind", code_dir, TASK_ROOT, "--ro-bind", runtime_dir, RUNTIME_DIR]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(tmp_bytes), "--tmpfs", "/tmp", "--chdir", TASK_ROOT]
    return [*args, "--", *argv]


def probe() -> Sandbox:
    """Find out once whether bwrap runs here; warn once when it does not."""
    global _probed
    with _PROBE_LOCK:
        if _probed is None:
            _probed = _probe()
            if not _probed.available:
                warnings.warn(
                    f"function handlers run as plain processes, not sandboxed: {_probed.reason} "
                    "(install bubblewrap, e.g. `apt-get install bubblewrap`, for the sandbox)",
                    RuntimeWarning,
                    stacklevel=4,
                )
        return _probed


def _probe() -> Sandbox:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Sandbox(None, "bwrap (bubblewrap) is not installed")
    here = os.path.dirname(os.path.abspath(__file__))
    argv = command(Sandbox(bwrap, ""), here, here, [sys.executable, "-I", "-S", "-c", "pass"])
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, env={}, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Sandbox(None, f"bwrap did not run: {exc}")
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return Sandbox(None, f"bwrap cannot create a sandbox here: {detail[-1] if detail else done.returncode}")
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    return Sandbox(bwrap, version or "bubblewrap")
