"""What the agents are told about the machine a kernel runs on, read from the machine itself.

CPU: model, the threads a kernel gets, the vector ISA and the cache sizes (Linux sysfs and /proc/cpuinfo, read
with plain Python). GPU: the card's SM count, L2 and shared memory (``torch.cuda`` properties). The copy bandwidth
is measured by the verifier (``verify.device_bandwidth``) and passed in when known. The same facts give the
cache-aware roofline: a kernel whose working set fits in the last-level cache is not compared with DRAM bandwidth.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

_CACHE_DIR = Path("/sys/devices/system/cpu/cpu0/cache")
_ISA_FLAGS = ("avx512_bf16", "avx512_vnni", "avx512f", "avx2", "fma", "neon", "asimd", "sve")


@dataclasses.dataclass(frozen=True)
class DeviceFacts:
    device_type: str  # "cpu", "cuda", "npu"
    name: str = ""
    threads: int | None = None  # CPU: the OpenMP threads a kernel runs with
    isa: tuple[str, ...] = ()  # CPU vector extensions present
    caches: tuple[tuple[str, int], ...] = ()  # ("L1d", bytes per core), ("L2", ...), ("L3", bytes shared), GPU ("L2")
    sm_count: int | None = None
    shared_memory_per_block: int | None = None  # GPU bytes (opt-in maximum)
    bandwidth: float | None = None  # measured copy bandwidth, bytes/s

    def cache_bytes(self, level: str) -> int | None:
        return dict(self.caches).get(level)

    def last_level_cache(self) -> int | None:
        """The largest cache the kernel's working set can sit in: L3 on CPU (L2 without one), L2 on a GPU."""
        sizes = dict(self.caches)
        if self.device_type == "cpu":
            shared = sizes.get("L3")
            per_core = sizes.get("L2")
            if shared is None and per_core is not None:
                return per_core * max(1, self.threads or 1)
            return shared
        return sizes.get("L2")

    def describe(self) -> str:
        """Markdown lines for a prompt."""
        lines = [f"- device: {self.device_type}" + (f", {self.name}" if self.name else "")]
        if self.threads is not None:
            lines.append(f"- threads a kernel runs with (OpenMP): {self.threads}")
        if self.isa:
            lines.append(f"- vector ISA: {', '.join(self.isa)}")
        if self.sm_count is not None:
            lines.append(f"- streaming multiprocessors: {self.sm_count}")
        for level, size in self.caches:
            scope = " per core" if self.device_type == "cpu" and level in ("L1d", "L2") else ""
            lines.append(f"- {level} cache: {_size(size)}{scope}")
        if self.shared_memory_per_block is not None:
            lines.append(f"- shared memory per block (max): {_size(self.shared_memory_per_block)}")
        lines.append("- measured copy bandwidth: " + (f"{self.bandwidth / 1e9:,.1f} GB/s (read + write)"
                                                      if self.bandwidth else "not measured"))
        return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n // (1 << 20)} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n // 1024} KiB"


def facts_for(device_type: str, threads: int | None = None, bandwidth: float | None = None) -> DeviceFacts:
    """The facts of this machine's ``device_type`` device; ``threads`` the kernel's OpenMP threads (default: the
    CPUs this process may run on, or ``OMP_NUM_THREADS``)."""
    if device_type == "cpu":
        return dataclasses.replace(_cpu_facts(), threads=threads or _cpu_threads(), bandwidth=bandwidth)
    if device_type == "cuda":
        return dataclasses.replace(_cuda_facts(), bandwidth=bandwidth)
    return DeviceFacts(device_type, bandwidth=bandwidth)


def _cpu_threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@functools.lru_cache(maxsize=1)
def _cpu_facts() -> DeviceFacts:
    name, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and not name:
                name = value.strip()
            elif key in ("flags", "Features") and not flags:
                flags = set(value.split())
    except OSError:
        pass
    isa = tuple(f for f in _ISA_FLAGS if f in flags)
    return DeviceFacts("cpu", name=name, isa=isa, caches=_cpu_caches())


def _cpu_caches() -> tuple[tuple[str, int], ...]:
    found: dict[str, int] = {}
    for index in sorted(_CACHE_DIR.glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = _parse_size((index / "size").read_text().strip())
        except (OSError, ValueError):
            continue
        if kind == "Instruction":
            continue
        found[f"L{level}" + ("d" if kind == "Data" else "")] = size
    order = ("L1d", "L2", "L3")
    return tuple((level, found[level]) for level in order if level in found)


def _parse_size(text: str) -> int:
    units = {"K": 1024, "M": 1 << 20, "G": 1 << 30}
    if text[-1:].upper() in units:
        return int(text[:-1]) * units[text[-1:].upper()]
    return int(text)


@functools.lru_cache(maxsize=1)
def _cuda_facts() -> DeviceFacts:
    try:
        import torch

        if not torch.cuda.is_available():
            return DeviceFacts("cuda")
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
    except Exception:  # noqa: BLE001 - facts are a courtesy to the model; none is better than a failed task
        return DeviceFacts("cuda")
    l2 = getattr(props, "L2_cache_size", None)
    shared = getattr(props, "shared_memory_per_block_optin", None) or getattr(props, "shared_memory_per_block", None)
    return DeviceFacts("cuda", name=props.name, sm_count=props.multi_processor_count,
                       caches=(("L2", int(l2)),) if l2 else (), shared_memory_per_block=shared)


def roofline_applies(bytes_moved: int, facts: DeviceFacts) -> bool:
    """Whether a kernel moving ``bytes_moved`` bytes is bound by memory bandwidth at all. On CPU the verifier times
    with warm caches: a working set that fits in the last-level cache runs from cache, and comparing it with DRAM
    copy bandwidth would score it above 1.0 of "roofline" and stop the search at its first acceptance."""
    if facts.device_type != "cpu":
        return True  # GPU timing flushes L2 between repetitions
    cache = facts.last_level_cache()
    return cache is None or bytes_moved > cache
