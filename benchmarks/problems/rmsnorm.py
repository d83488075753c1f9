"""RMSNorm as Llama writes it: mean of squares in fp32, rsqrt, scale by a weight."""

import torch
from torch import nn


class Model(nn.Module):
    def __init__(self, hidden: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        variance = x.float().pow(2).mean(-1, keepdim=True)
        return (x.float() * torch.rsqrt(variance + self.eps)).to(x.dtype) * self.weight


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096, dtype=torch.float16)]


def get_init_inputs() -> list[int]:
    return [4096]
