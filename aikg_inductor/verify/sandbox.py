"""The lockdown a candidate runner applies to itself after compiling and before loading candidate code.

Layers, each from a maintained library or the standard library rather than hand-rolled syscalls:

- **Landlock** (``landlockpy``, kernel ABI >= 1; this project's machines run 6.x with ABI 7): the filesystem is
  read-only but for the runner's scratch folder (and, on a GPU, the ``/dev/nvidia*`` device files the CUDA driver
  opens read-write); TCP bind and connect are refused (ABI >= 4); abstract UNIX sockets and signals cannot reach
  processes outside the sandbox (ABI >= 6). Chosen over bubblewrap/nsjail because it needs no setuid helper, no user
  namespaces and no new process: the runner restricts itself in place, after its compile step, so compilers can run
  before it. ``landlockpy`` tracks the current ABI (net rules, scopes) where the older ``landlock`` package covers
  the filesystem only.
- **seccomp** (``pyseccomp``, a ctypes binding of libseccomp, synced to every thread of the process): no new
  processes (``fork``, ``vfork``, ``execve``, ``execveat``, and ``clone`` without ``CLONE_THREAD``; threads, which
  OpenMP needs, stay allowed; ``clone3``, whose flags a filter cannot read, answers ENOSYS so the C library falls
  back to ``clone``), no sockets, no tracing, mounting, namespaces, kernel modules or BPF. A forbidden call kills
  the process with SIGSYS, which the judge reports as ``sandbox-violation``.
- **Resource limits** (``resource``): CPU seconds, open files, size of files written, no core dumps. No address-space
  limit: CUDA reserves far more virtual memory than it uses, and RLIMIT_AS breaks it.

Landlock without its TSYNC flag (ABI < 8) restricts only the calling thread and threads it starts later, so the
lockdown runs before any OpenMP pool exists; a runner with other threads at lockdown says so in its layers.
Where the kernel lacks a layer, ``lock_down`` logs one warning and the report's ``sandbox`` list lacks that layer:
the guarantee is then what the remaining layers give (the static proof and the process boundary still hold).
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import os
import resource
from typing import Any

log = logging.getLogger(__name__)

# Layer names as VerificationReport.sandbox records them.
LANDLOCK_FS, LANDLOCK_NET, LANDLOCK_SCOPE = "landlock-fs", "landlock-net", "landlock-scope"
SECCOMP, RLIMITS = "seccomp", "rlimits"
ALL_LAYERS = (LANDLOCK_FS, LANDLOCK_NET, LANDLOCK_SCOPE, SECCOMP, RLIMITS)

# Files a runner may keep open: the interpreter's, torch's and the driver's, plus the kernel's own few.
MAX_OPEN_FILES = 1024
# Bytes a runner may write into one file of its scratch folder.
MAX_FILE_BYTES = 64 << 20

_CLONE_THREAD = 0x00010000
_KILLED_CALLS = ("fork", "vfork", "execve", "execveat", "socket", "socketpair", "ptrace", "process_vm_readv",
                 "process_vm_writev", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "bpf",
                 "perf_event_open", "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
                 "reboot", "swapon", "swapoff", "keyctl", "add_key", "request_key", "userfaultfd", "io_uring_setup")


@dataclasses.dataclass(frozen=True)
class Lockdown:
    """What ``lock_down`` applied, and what it could not (with why)."""

    layers: tuple[str, ...]
    missing: tuple[str, ...]
    notes: tuple[str, ...] = ()


def lock_down(scratch: str, device_type: str, cpu_seconds: int) -> Lockdown:
    """Restrict this process for good; returns the layers applied. Call it once, before loading candidate code."""
    notes: list[str] = []
    threads = len(os.listdir("/proc/self/task"))
    if threads > 1:
        notes.append(f"{threads - 1} other threads existed at lockdown (Landlock below ABI 8 does not reach them)")
    _limit_resources(cpu_seconds)
    layers = [RLIMITS]
    # The Landlock ruleset is built first: building it looks up the C library, which runs a helper process.
    ruleset, landlock_layers = _landlock_ruleset(scratch, device_type, notes)
    try:
        _seccomp()
        layers.append(SECCOMP)
    except (ImportError, OSError) as err:
        notes.append(f"seccomp unavailable: {err}")
    if ruleset is not None:
        with ruleset:
            ruleset.restrict()
        layers += landlock_layers
    missing = tuple(layer for layer in ALL_LAYERS if layer not in layers)
    if missing:
        log.warning("aikg: candidate sandbox without %s (%s): candidates run with the remaining layers only",
                    ", ".join(missing), "; ".join(notes) or "not supported here")
    return Lockdown(tuple(layers), missing, tuple(notes))


def _limit_resources(cpu_seconds: int) -> None:
    for limit, value in ((resource.RLIMIT_CPU, cpu_seconds), (resource.RLIMIT_NOFILE, MAX_OPEN_FILES),
                         (resource.RLIMIT_FSIZE, MAX_FILE_BYTES), (resource.RLIMIT_CORE, 0)):
        soft, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value))


def _landlock_ruleset(scratch: str, device_type: str, notes: list[str]) -> tuple[Any, list[str]]:
    """The Landlock ruleset to enforce (None where there is no Landlock) and the layers it gives."""
    try:
        import landlockpy
        from landlockpy import AccessFS, AccessNet, Scope
    except ImportError as err:
        notes.append(f"landlockpy not installed: {err}")
        return None, []
    abi = landlockpy.abi_version()
    if abi < 1:
        notes.append("the kernel has no Landlock")
        return None, []
    handled_fs = landlockpy.fs_for_abi(abi)
    read = AccessFS.READ_FILE | AccessFS.READ_DIR | AccessFS.EXECUTE
    ruleset = landlockpy.Ruleset(handled_fs=handled_fs, handled_net=landlockpy.net_for_abi(abi),
                                 scoped=Scope.ABSTRACT_UNIX_SOCKET | Scope.SIGNAL)
    ruleset.allow_path("/", read)
    ruleset.allow_path(scratch, handled_fs)
    if device_type == "cuda":
        # The CUDA driver opens its device files read-write and talks to them by ioctl.
        for device in glob.glob("/dev/nvidia*"):
            ruleset.allow_path(device, AccessFS.READ_FILE | AccessFS.WRITE_FILE | AccessFS.IOCTL_DEV)
    layers = [LANDLOCK_FS]
    if ruleset.handled_net & AccessNet.CONNECT_TCP:
        layers.append(LANDLOCK_NET)
    if ruleset.scoped & Scope.SIGNAL:
        layers.append(LANDLOCK_SCOPE)
    return ruleset, layers


def _seccomp() -> None:
    import pyseccomp as seccomp

    sandbox = seccomp.SyscallFilter(seccomp.ALLOW)
    sandbox.set_attr(seccomp.Attr.CTL_TSYNC, 1)  # every thread of the process, not just this one
    # Where the kernel's mitigation policy is "seccomp", a filter would also turn on Speculative Store Bypass
    # Disable, slowing the candidate's loads and stores against a baseline timed without it: keep the CPU as is.
    sandbox.set_attr(seccomp.Attr.CTL_SSB, 1)
    for call in _KILLED_CALLS:
        sandbox.add_rule(seccomp.KILL_PROCESS, call)
    sandbox.add_rule(seccomp.KILL_PROCESS, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, _CLONE_THREAD, 0))
    sandbox.add_rule(seccomp.ERRNO(38), "clone3")  # ENOSYS: glibc then creates threads with clone
    sandbox.load()
