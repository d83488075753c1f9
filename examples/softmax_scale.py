"""Scaled softmax over the last dimension: one reduction kernel (max, exp, sum, divide) in Inductor."""

import torch
from torch import nn


class Model(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x * self.scale, dim=-1)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(64, 512)]


def get_init_inputs() -> list[float]:
    return [0.125]
