"""Write a tiny Llama-style model with random weights and an offline-built tokenizer to a folder (no hub access).

Run with the vLLM virtual environment's Python: ``python tests/vllm/tiny_llama.py OUT_DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

SPECIAL = ["<unk>", "<s>", "</s>"]
# A closed word list is enough: the test only needs prompts to tokenize and greedy ids to compare.
WORDS = ("the a an of to in and is was for on with as by at it from that this be are or kernel fused cache model "
         "serve token fast slow small large red green blue one two three four five six seven eight nine ten").split()


def build_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {word: i for i, word in enumerate(SPECIAL + WORDS)}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>", eos_token="</s>")


def build_model(vocab_size: int) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,  # head size 64
        bos_token_id=1, eos_token_id=2, torch_dtype="float32",
    )
    return LlamaForCausalLM(config).eval()


def main(out: Path) -> None:
    tokenizer = build_tokenizer()
    model = build_model(len(tokenizer))
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    print(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
