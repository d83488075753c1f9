"""Memory the judge and a candidate runner both see: the candidate's arguments live here and nowhere else.

On CPU an arena is an anonymous memory file (``memfd_create``) mapped by both processes; its descriptor travels over
their socket (SCM_RIGHTS). On a GPU it is one CUDA allocation of the judge's, opened by the runner through a CUDA IPC
handle. Either way the judge draws the inputs into it, the candidate computes in it, and the judge reads the
results from it: nothing the candidate makes is ever unpickled or rebuilt as an object in the judge.

The judge owns the arena; a runner maps it once, before its lockdown. A trial (or a measurement) places its flat
storages once (``Arena.storage``) and keeps them: within it a kernel sees the same pointers call after call, so a
result cached by pointer is served stale, and the judge sees it. Between trials the layout changes: each ``reset``
places the storages anew, at either end of the free space in turn drawn at random and after random gaps, over memory
filled anew (random bytes or zeros). Nothing outside a kernel's arguments is a constant it could recognise the judge
by (review 12: distances between arguments, pads and bands were fixed and public).
"""

from __future__ import annotations

import mmap
import os
import random
import socket
from typing import Any

import torch

ALIGN = 256  # bytes: wider than any vector register or cache line, as allocators align
# Before each storage, a gap of up to this many ALIGN units (drawn per storage): the distance between two arguments
# is no constant.
MAX_GAP_UNITS = 16
MAX_GAP = MAX_GAP_UNITS * ALIGN
# What the memory between and around the storages holds, drawn per ``reset``: a write there skipped a guard band, and
# the judge sees it. Random bytes, or zeros, since fresh memory in a user's process is often zeros: a kernel that
# writes out there only where it finds zeros (seen in review) must find them here as well.
BACKGROUNDS = ("random", "zeros")
# Random backgrounds are drawn, and checked, in chunks of this many bytes (a multiple of 4), each from a seed of its
# own: the judge regenerates the bytes it compares rather than keep a copy of the arena.
FILL_CHUNK = 4 << 20


# What a runner can reach is the whole mapping, not the bytes asked for: mmap maps whole pages, and a CUDA IPC handle
# opens the whole allocator segment. So an arena is as large as its mapping, and every byte of it is filled and
# checked. The caching allocator gives a request of at least 20 MiB in whole 2 MiB units a segment of exactly its size.
CUDA_SEGMENT_MIN, CUDA_SEGMENT_UNIT = 20 << 20, 2 << 20


def _aligned(nbytes: int, unit: int = ALIGN) -> int:
    return (nbytes + unit - 1) // unit * unit


def _mapped_bytes(nbytes: int, device_type: str) -> int:
    if device_type == "cuda":
        return max(_aligned(nbytes, CUDA_SEGMENT_UNIT), CUDA_SEGMENT_MIN)
    return _aligned(max(nbytes, ALIGN), mmap.PAGESIZE)


def arena_bytes(sizes: list[list[tuple[torch.dtype, int] | None]]) -> int:
    """Bytes an arena needs to hold any one of several trials' flat storages (``values.flat_sizes`` each), each
    after a gap of up to ``MAX_GAP``."""
    return max((sum(_aligned(n * dtype.itemsize) + MAX_GAP for dtype, n in filter(None, trial)) for trial in sizes),
               default=0)


class Arena:
    """A region of ``nbytes`` the judge shares with one runner; ``storage`` places flats in it, anew after each
    ``reset``."""

    def __init__(self, base: torch.Tensor, keep_alive: Any = None, fd: int | None = None) -> None:
        self.base = base  # uint8, the whole region
        self.fd = fd
        self._keep_alive = keep_alive
        self._placement = random.Random(0)
        self._front, self._back = 0, base.numel()  # the free space between the storages placed since ``reset``
        self._placed: list[tuple[int, int]] = []  # (start, end) byte ranges of the storages placed since ``reset``
        self._background = BACKGROUNDS[0]
        self._fill_seed = 0

    @classmethod
    def create(cls, nbytes: int, device_type: str) -> Arena:
        """An arena of at least ``nbytes``: all of its mapping, whose every byte the judge fills and checks."""
        nbytes = _mapped_bytes(nbytes, device_type)
        if device_type == "cuda":
            from ..torch_internals import cuda_ipc

            return cls(cuda_ipc.segment_of_its_own(nbytes))
        fd = os.memfd_create("aikg-arena", os.MFD_CLOEXEC)
        os.ftruncate(fd, nbytes)
        mapping = mmap.mmap(fd, nbytes)
        return cls(torch.frombuffer(mapping, dtype=torch.uint8), mapping, fd)

    def export(self) -> tuple[dict[str, Any], list[int]]:
        """What a runner needs to map this arena: a message header and the descriptors to pass with it."""
        if self.base.is_cuda:
            from ..torch_internals import cuda_ipc

            return {"cuda_ipc": cuda_ipc.cuda_ipc_export(self.base)}, []
        assert self.fd is not None
        return {"bytes": self.base.numel()}, [self.fd]

    @classmethod
    def attach(cls, header: dict[str, Any], fds: list[int]) -> Arena:
        """The runner's side of ``export``."""
        if "cuda_ipc" in header:
            from ..torch_internals import cuda_ipc

            return cls(cuda_ipc.cuda_ipc_import(header["cuda_ipc"]))
        (fd,) = fds
        mapping = mmap.mmap(fd, int(header["bytes"]))
        os.close(fd)
        return cls(torch.frombuffer(mapping, dtype=torch.uint8), mapping)

    def reset(self, seed: int) -> None:
        """Storages are placed anew from here on (``storage``), over memory all drawn anew from ``seed``: what lies
        between and around them is checked by ``padding_intact``."""
        self._placement = random.Random(seed)
        self._front, self._back = 0, self.base.numel()
        self._placed = []
        self._background = self._placement.choice(BACKGROUNDS)
        self._fill_seed = self._placement.randrange(2**62)
        for start in range(0, self.base.numel(), FILL_CHUNK):
            chunk = self.base[start : start + FILL_CHUNK]
            chunk.copy_(self._background_of(start, chunk.numel()))

    def _background_of(self, start: int, nbytes: int) -> torch.Tensor:
        """What ``reset`` filled the ``nbytes`` from ``start``, the start of a chunk, with."""
        if self._background == "zeros":
            return torch.zeros(nbytes, dtype=torch.uint8, device=self.base.device)
        generator = torch.Generator(device=self.base.device).manual_seed(self._fill_seed + start // FILL_CHUNK)
        words = torch.empty(nbytes // 4, dtype=torch.int32, device=self.base.device)
        return words.random_(-2**31, 2**31, generator=generator).view(torch.uint8)

    def storage(self, dtype: torch.dtype, n: int) -> torch.Tensor:
        """``n`` elements of ``dtype`` from the arena, placed at random: at the front or the back of the space the
        storages placed since ``reset`` left free, after a random gap (none where the gap would not fit)."""
        nbytes = n * dtype.itemsize
        room = _aligned(nbytes)
        if room > self._back - self._front:
            raise MemoryError(f"arena of {self.base.numel()} bytes cannot hold {nbytes} more")
        gap = min(self._placement.randrange(MAX_GAP_UNITS + 1) * ALIGN, self._back - self._front - room)
        if self._placement.random() < 0.5:
            start = self._front + gap
            self._front = start + room
        else:
            start = self._back - gap - room
            self._back = start
        self._placed.append((start, start + nbytes))
        return self.base[start : start + nbytes].view(dtype)

    def padding_intact(self) -> bool:
        """Whether all of the arena outside the storages placed since ``reset`` (the gaps and pads between them, the
        free space) still holds what ``reset`` filled it with: a kernel that wrote past a guard band without
        touching it (keeping results or a call counter there, say: seen in review) did not."""
        outside, end = [], 0
        for start, stop in sorted(self._placed):
            outside.append((end, start))
            end = stop
        outside.append((end, self.base.numel()))
        for chunk in range(0, self.base.numel(), FILL_CHUNK):
            chunk_end = min(chunk + FILL_CHUNK, self.base.numel())
            inside = [(max(a, chunk), min(b, chunk_end)) for a, b in outside if a < chunk_end and b > chunk]
            if not any(b > a for a, b in inside):
                continue
            expected = self._background_of(chunk, chunk_end - chunk)
            if not all(torch.equal(self.base[a:b], expected[a - chunk : b - chunk]) for a, b in inside if b > a):
                return False
        return True

    def slots(self, flats: list[Any]) -> list[list[Any] | Any]:
        """``flats`` as the runner rebuilds them: [byte offset, dtype, elements] per tensor, other values as is."""
        base = self.base.data_ptr()
        return [[f.data_ptr() - base, str(f.dtype).removeprefix("torch."), f.numel()]
                if isinstance(f, torch.Tensor) else f for f in flats]

    def copy_at_same_offsets(self, source: Arena, flats: list[Any]) -> list[Any]:
        """Copies of ``flats`` (storages of ``source``) at the same byte offsets in this arena, an arena of the same
        size: the judge's own arguments laid out as the runner's are (distances, alignment and offsets within a page
        alike), so that the baseline and the candidate are timed on layouts that differ in nothing but the base
        address (see ``reset`` for what a layout did to a timing)."""
        copies = self.flats(source.slots(flats))
        for copy, flat in zip(copies, flats):
            if isinstance(flat, torch.Tensor):
                copy.copy_(flat)
        return copies

    def flats(self, slots: list[Any]) -> list[Any]:
        """The runner's side of ``slots``: the same storages, as views of its mapping."""
        from .values import torch_dtype

        out: list[Any] = []
        for slot in slots:
            if isinstance(slot, list):
                offset, dtype_name, n = slot
                dtype = torch_dtype(dtype_name)
                if offset < 0 or offset + n * dtype.itemsize > self.base.numel():
                    raise ValueError("slot outside the arena")
                if self._keep_alive is not None:
                    # A storage of its own per flat (over the same mapping): Triton's interpreter copies a tensor's
                    # whole storage in and out around a launch, which with one shared storage would mix arguments.
                    out.append(torch.frombuffer(self._keep_alive, dtype=dtype, count=n, offset=offset))
                else:
                    out.append(self.base[offset : offset + n * dtype.itemsize].view(dtype))
            else:
                out.append(slot)
        return out

    def close(self) -> None:
        self.base = torch.empty(0, dtype=torch.uint8)
        self._keep_alive = None  # the mapping goes when the last view of it does
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def send_fds(conn_fd: int, fds: list[int]) -> None:
    """Pass descriptors over the socket ``conn_fd`` (one marker byte carries them)."""
    with socket.socket(fileno=os.dup(conn_fd)) as sock:
        socket.send_fds(sock, [b"F"], fds)


def receive_fds(conn_fd: int, count: int) -> list[int]:
    with socket.socket(fileno=os.dup(conn_fd)) as sock:
        _, fds, _, _ = socket.recv_fds(sock, 1, count)
    return list(fds)
