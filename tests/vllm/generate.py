"""Greedy generations of a model under vLLM, printed as one JSON line (token ids per prompt).

Run with the vLLM virtual environment's Python: ``python tests/vllm/generate.py MODEL_DIR``. Whether the aikg plugin
loads is up to the environment (``VLLM_PLUGINS``, ``AIKG_*``), as in any vLLM process.
"""

from __future__ import annotations

import json
import sys

PROMPTS = ["the kernel cache is", "one two three", "serve the small model with a fused kernel"]


def main(model: str) -> None:
    from vllm import LLM, SamplingParams

    llm = LLM(model=model, dtype="float32", max_model_len=128, max_num_seqs=4, seed=0)
    outputs = llm.generate(PROMPTS, SamplingParams(temperature=0.0, max_tokens=12, ignore_eos=True))
    print("GENERATIONS " + json.dumps([list(o.outputs[0].token_ids) for o in outputs]), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
