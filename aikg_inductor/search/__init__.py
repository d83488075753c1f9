"""Search over candidate kernels: proposers (tuner, LLM agents, retrieval) and the loop that evolves them."""
