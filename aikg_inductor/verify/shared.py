"""Memory the judge and a candidate runner both see: the candidate's arguments live here and nowhere else.

On CPU an arena is an anonymous memory file (``memfd_create``) mapped by both processes; its descriptor travels over
their socket (SCM_RIGHTS). On a GPU it is one CUDA allocation of the judge's, opened by the runner through a CUDA IPC
handle. Either way the judge draws the inputs into it, the candidate computes in it, and the judge reads the
results from it: nothing the candidate makes is ever unpickled or rebuilt as an object in the judge.

The judge owns the arena; a runner maps it once, before its lockdown. Every trial carves its flat storages from the
start of the arena (``Arena.storage``), so a kernel sees the same pointers call after call: a result cached by
pointer is served stale, and the judge sees it.
"""

from __future__ import annotations

import mmap
import os
import socket
from typing import Any

import torch

ALIGN = 256  # bytes: wider than any vector register or cache line, as allocators align
# What the memory between and after the storages holds, by turns from one ``reset`` to the next: a write there
# skipped a guard band, and the judge sees it. Zeros too, since fresh memory in a user's process is often zeros: a
# kernel that writes out there only where it finds zeros (seen in review) must find them here as well.
PAD_BYTES = (0xA5, 0x00)


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
    """Bytes an arena needs to hold any one of several trials' flat storages (``values.flat_sizes`` each)."""
    return max((sum(_aligned(n * dtype.itemsize) for dtype, n in filter(None, trial)) for trial in sizes), default=0)


class Arena:
    """A region of ``nbytes`` the judge shares with one runner; ``storage`` hands out flats from its start."""

    def __init__(self, base: torch.Tensor, keep_alive: Any = None, fd: int | None = None) -> None:
        self.base = base  # uint8, the whole region
        self.fd = fd
        self._keep_alive = keep_alive
        self._next = 0
        self._pads: list[tuple[int, int]] = []  # (start, end) byte ranges between storages since ``reset``
        self._resets = 0
        self._pad_byte = PAD_BYTES[0]

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

    def reset(self) -> None:
        """The next flats are carved from the start again (a new trial at the same pointers), over memory all one
        of ``PAD_BYTES``: what lies between and after them is checked by ``padding_intact``."""
        self._next = 0
        self._pads = []
        self._pad_byte = PAD_BYTES[self._resets % len(PAD_BYTES)]
        self._resets += 1
        self.base.fill_(self._pad_byte)

    def storage(self, dtype: torch.dtype, n: int) -> torch.Tensor:
        """``n`` elements of ``dtype`` from the arena, after those handed out since ``reset``."""
        nbytes = n * dtype.itemsize
        if self._next + nbytes > self.base.numel():
            raise MemoryError(f"arena of {self.base.numel()} bytes cannot hold {nbytes} more")
        flat = self.base[self._next : self._next + nbytes].view(dtype)
        if _aligned(nbytes) > nbytes:
            self._pads.append((self._next + nbytes, self._next + _aligned(nbytes)))
        self._next += _aligned(nbytes)
        return flat

    def padding_intact(self) -> bool:
        """Whether the padding between the storages handed out since ``reset``, and the arena's tail after them,
        still hold what ``reset`` filled them with: a kernel that wrote past a guard band without touching it (keeping
        results or a call counter there, say: seen in review) did not."""
        ranges = [*self._pads, (self._next, self.base.numel())]
        return all(bool((self.base[start:end] == self._pad_byte).all()) for start, end in ranges if end > start)

    def slots(self, flats: list[Any]) -> list[list[Any] | Any]:
        """``flats`` as the runner rebuilds them: [byte offset, dtype, elements] per tensor, other values as is."""
        base = self.base.data_ptr()
        return [[f.data_ptr() - base, str(f.dtype).removeprefix("torch."), f.numel()]
                if isinstance(f, torch.Tensor) else f for f in flats]

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
