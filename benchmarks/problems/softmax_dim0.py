"""Softmax over the first dimension: a strided (column) reduction."""

import torch
from torch import nn


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=0)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, 8192, dtype=torch.float16)]


def get_init_inputs() -> list:
    return []
