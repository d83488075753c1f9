"""Residual add then LayerNorm, returning both the new residual stream and the normalised value."""

import torch
from torch import nn


class Model(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        summed = x + residual
        return summed, self.norm(summed)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096, dtype=torch.float16), torch.randn(8192, 4096, dtype=torch.float16)]


def get_init_inputs() -> list[int]:
    return [4096]
