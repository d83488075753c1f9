"""A GPT-2 block (LayerNorm, attention, GELU MLP) from a transformers config, random weights.

One layer of a GPT2Model with a 1024-wide residual stream, bf16, batch 8 x sequence 1024. Needs `transformers`.
"""

import torch
from torch import nn

BATCH, SEQ = 8, 1024


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        from transformers import GPT2Config, GPT2Model

        config = GPT2Config(n_embd=1024, n_layer=1, n_head=16, n_positions=SEQ, vocab_size=50257,
                            attn_implementation="sdpa")
        self.model = GPT2Model(config)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, use_cache=False).last_hidden_state


def get_inputs() -> list[torch.Tensor]:
    return [torch.randint(0, 50257, (BATCH, SEQ))]


def get_init_inputs() -> list:
    return []
