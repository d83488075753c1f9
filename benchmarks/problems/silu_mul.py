"""SwiGLU's gate: SiLU of one half times the other half of a projection output."""

import torch
from torch import nn


class Model(nn.Module):
    def forward(self, gate_up: torch.Tensor) -> torch.Tensor:
        gate, up = gate_up.chunk(2, dim=-1)
        return nn.functional.silu(gate) * up


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 2 * 4096, dtype=torch.float16)]


def get_init_inputs() -> list:
    return []
