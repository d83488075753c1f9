"""Triton kernels on Huawei Ascend NPUs: the doc pack ships, the adapter needs hardware this project cannot run.

Importing this module on a machine without ``torch_npu`` and an Ascend device fails with a message saying so, so
a pack that names it is understood, and refused, clearly.
"""

from __future__ import annotations


class AscendUnavailable(ImportError):
    pass


def _require_ascend() -> None:
    try:
        import torch_npu  # noqa: F401
    except ImportError:
        raise AscendUnavailable(
            "the triton-ascend DSL needs the torch_npu package and an Ascend NPU; torch_npu is not installed"
        ) from None
    import torch

    if not (hasattr(torch, "npu") and torch.npu.is_available()):
        raise AscendUnavailable("the triton-ascend DSL needs an Ascend NPU; torch_npu found none")
    raise AscendUnavailable("the triton-ascend adapter is not implemented yet: only its doc pack ships")


_require_ascend()
