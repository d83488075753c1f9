"""GELU of a scaled transpose written contiguously: a pointwise kernel that reads across rows (a 2-D tile)."""

import torch
from torch import nn


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(x.t() * 0.5).contiguous()


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096, dtype=torch.float16)]


def get_init_inputs() -> list:
    return []
