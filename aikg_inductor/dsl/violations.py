"""What a failed static proof is: the rule it broke and why. The DSLs' checks raise or return these; the verifier
reports them. A module of its own so both can import it without importing each other."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class GuardViolation:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class GuardRejected(Exception):
    """A static proof failed: the candidate must not be loaded. Carries the violation (rule and message)."""

    def __init__(self, violation: GuardViolation) -> None:
        super().__init__(str(violation))
        self.violation = violation

    @property
    def rule(self) -> str:
        return self.violation.rule


def raise_if(violation: GuardViolation | None) -> None:
    if violation is not None:
        raise GuardRejected(violation)
