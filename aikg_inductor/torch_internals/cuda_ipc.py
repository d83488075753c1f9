"""One CUDA allocation shared between two processes, described as plain data (the verifier's judge and runner).

torch.multiprocessing's reduction is how torch itself passes CUDA tensors between processes; its rebuild arguments
travel here as plain data (hex and ints in JSON), never as a pickle from the other process.
"""

from __future__ import annotations

from typing import Any

import torch


def segment_of_its_own(nbytes: int) -> torch.Tensor:
    """A uint8 CUDA tensor of ``nbytes`` that is the whole of one segment of the caching allocator: a CUDA IPC handle
    opens the whole segment in the other process, so nothing else of this process's may ever be carved from it (the
    judge's copy of the expected outputs, say). ``nbytes``: at least 20 MiB in whole 2 MiB units, which the allocator
    gives a segment of exactly that size when no cached block can serve it."""
    torch.cuda.empty_cache()  # no cached free block that the request could be split from
    base = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
    address = base.data_ptr()
    segment = next((s for s in torch.cuda.memory_snapshot()
                    if s["address"] <= address < s["address"] + s["total_size"]), None)
    if segment is None or segment["address"] != address or segment["total_size"] != nbytes:
        raise RuntimeError("the shared arena did not get a CUDA allocator segment of its own (with "
                           "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True it cannot): nothing is shared")
    return base


def cuda_ipc_export(base: torch.Tensor) -> dict[str, Any]:
    """The IPC description of ``base`` (a contiguous uint8 CUDA tensor owning its allocation) as JSON data."""
    from torch.multiprocessing.reductions import reduce_tensor

    _, args = reduce_tensor(base)
    (_, size, stride, offset, _, dtype, device, handle, storage_bytes, storage_offset, _, ref_handle, ref_offset,
     event_handle, event_sync) = args
    assert dtype == torch.uint8
    return {"size": list(size), "stride": list(stride), "offset": offset, "device": device,
            "handle": handle.hex(), "storage_bytes": storage_bytes, "storage_offset": storage_offset,
            "ref_handle": ref_handle.hex(), "ref_offset": ref_offset,
            "event_handle": event_handle.hex() if event_handle else None, "event_sync": event_sync}


def cuda_ipc_import(data: dict[str, Any]) -> torch.Tensor:
    """The runner's view of a tensor ``cuda_ipc_export`` described."""
    from torch.multiprocessing.reductions import rebuild_cuda_tensor

    event = bytes.fromhex(data["event_handle"]) if data["event_handle"] else None
    return rebuild_cuda_tensor(torch.Tensor, torch.Size(data["size"]), tuple(data["stride"]), int(data["offset"]),
                               torch.UntypedStorage, torch.uint8, int(data["device"]),
                               bytes.fromhex(data["handle"]), int(data["storage_bytes"]),
                               int(data["storage_offset"]), False, bytes.fromhex(data["ref_handle"]),
                               int(data["ref_offset"]), event, bool(data["event_sync"]))
