"""A Llama-style decoder layer (RMSNorm, rotary attention, SwiGLU MLP) from a transformers config, random weights.

One layer of a LlamaModel with a 2048-wide residual stream, bf16, batch 8 x sequence 1024. Needs `transformers`.
"""

import torch
from torch import nn

BATCH, SEQ = 8, 1024


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        from transformers import LlamaConfig, LlamaModel

        config = LlamaConfig(hidden_size=2048, intermediate_size=5632, num_hidden_layers=1, num_attention_heads=16,
                             num_key_value_heads=16, vocab_size=32000, max_position_embeddings=SEQ,
                             attn_implementation="sdpa")
        self.model = LlamaModel(config)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, use_cache=False).last_hidden_state


def get_inputs() -> list[torch.Tensor]:
    return [torch.randint(0, 32000, (BATCH, SEQ))]


def get_init_inputs() -> list:
    return []
