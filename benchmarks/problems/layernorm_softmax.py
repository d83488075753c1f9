"""LayerNorm then softmax over the same rows: Inductor writes and re-reads an fp32 intermediate between them."""

import torch
from torch import nn


class Model(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.norm(x), dim=-1)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096, dtype=torch.float16)]


def get_init_inputs() -> list[int]:
    return [4096]
