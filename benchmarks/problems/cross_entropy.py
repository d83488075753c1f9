"""Cross-entropy of logits over a 32k vocabulary against integer targets (mean over rows)."""

import torch
from torch import nn

VOCAB = 32000


class Model(nn.Module):
    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(logits, targets)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, VOCAB, dtype=torch.float16), torch.randint(0, VOCAB, (4096,))]


def get_init_inputs() -> list:
    return []
