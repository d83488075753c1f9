"""Sum over the last (contiguous) dimension: an inner reduction."""

import torch
from torch import nn


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=-1)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096, dtype=torch.float16)]


def get_init_inputs() -> list:
    return []
