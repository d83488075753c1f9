"""Bias add and ReLU, then a sum over rows (a column reduction): a pointwise kernel and a transposed reduction."""

import torch
from torch import nn


class Model(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.randn(features))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.relu(x + self.bias)
        return y, y.sum(dim=0)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(256, 192)]


def get_init_inputs() -> list[int]:
    return [192]
