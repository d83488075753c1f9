"""Elementwise add then ReLU: the simplest memory-bound fusion (two reads, one write)."""

import torch
from torch import nn


class Model(nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + y)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096, dtype=torch.float16), torch.randn(8192, 4096, dtype=torch.float16)]


def get_init_inputs() -> list:
    return []
