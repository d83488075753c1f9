"""One CUDA allocation shared between two processes, described as plain data (the verifier's judge and runner).

torch.multiprocessing's reduction is how torch itself passes CUDA tensors between processes; its rebuild arguments
travel here as plain data (hex and ints in JSON), never as a pickle from the other process.
"""

from __future__ import annotations

from typing import Any

import torch


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
