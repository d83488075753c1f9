"""LayerNorm followed by GELU: a row reduction with a pointwise epilogue."""

import torch
from torch import nn


class Model(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(self.norm(x))


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(128, 256)]


def get_init_inputs() -> list[int]:
    return [256]
