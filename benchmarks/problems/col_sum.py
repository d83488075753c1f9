"""Sum over the first dimension: an outer reduction whose elements are strided in memory."""

import torch
from torch import nn


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=0)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096, dtype=torch.float16)]


def get_init_inputs() -> list:
    return []
