"""Proposers turn a task (and what was tried so far) into candidate kernels for the verifier."""

from .base import Attempt, Candidate, Proposer, SearchContext, speed

__all__ = ["Attempt", "Candidate", "Proposer", "SearchContext", "speed"]
