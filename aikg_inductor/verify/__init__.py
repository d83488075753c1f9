"""Judging kernels: the standalone runner (and, on top of it, correctness and timing)."""
