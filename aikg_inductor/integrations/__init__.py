"""Hooks that bring accepted kernels into serving stacks which call Inductor themselves (vLLM)."""
