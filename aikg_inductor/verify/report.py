"""``VerificationReport``: the verifier's verdict on one candidate, as the cache stores it and the CLI prints it.

Rules a rejection can name (``rule``): the static ``guard:*`` rules (see ``guards``), ``compile-error``,
``compile-timeout``, ``crash``, ``timeout``, ``runtime-error``, ``out-of-bounds-write``, ``input-mutated``,
``unwritten-output``, ``out-of-bounds-read``, ``nan-inf-mismatch``, ``cached-result``, ``mismatch``,
``stale-output`` (a checked timed call's outputs were wrong), ``late-write`` (outputs changed after the kernel
returned), ``heap-kept`` (a call returned with heap memory still allocated: state between calls),
``sandbox-violation`` (the candidate's runner tried something its sandbox forbids), ``too-large`` (the kernel's
arguments need more than a third of the device's free memory; not judged), ``not-faster``, and ``harness-error``
when the baseline itself could not be run as recorded (the candidate is then not judged).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from ..options import DEFAULT_MARGIN

Verdict = Literal["accepted", "rejected"]


@dataclasses.dataclass
class VerificationReport:
    verdict: Verdict
    rule: str | None  # None when accepted
    reason: str
    task_key: str
    dsl: str
    device: str = ""  # the card or CPU model the timings are valid for
    seeds: list[int] = dataclasses.field(default_factory=list)
    trials: list[str] = dataclasses.field(default_factory=list)  # trial kinds, one per seed
    sizes: dict[str, str] = dataclasses.field(default_factory=dict)  # kernel parameter -> layout or size value
    # Dynamic-shape kernels: the other symbol values correctness trials ran at (sizes above are the recorded ones).
    size_variants: list[dict[str, int]] = dataclasses.field(default_factory=list)
    max_abs_error: float | None = None  # over live outputs, all trials, finite elements
    max_rel_error: float | None = None
    tolerances: dict[str, list[float]] = dataclasses.field(default_factory=dict)  # dtype -> [atol, rtol]
    baseline_s: list[float] = dataclasses.field(default_factory=list)  # median per measurement
    candidate_s: list[float] = dataclasses.field(default_factory=list)
    # Per measurement: how far the baseline and its control arm (the baseline timed again) disagreed, relative, or
    # on CPU the largest share of the time a worker thread waited for a core, if larger; the speedup had to exceed
    # 1 + margin + this.
    timing_noise: list[float] = dataclasses.field(default_factory=list)
    speedup: float | None = None  # the smaller of the measurements' speedups (baseline / candidate)
    margin: float = DEFAULT_MARGIN
    elapsed_s: float = 0.0
    # The candidate runner's sandbox layers (sandbox.ALL_LAYERS) that were applied, and those this machine lacked.
    sandbox: list[str] = dataclasses.field(default_factory=list)
    sandbox_missing: list[str] = dataclasses.field(default_factory=list)
    # Judged in the judge's own process, with no runner: the candidate was the baseline's own kernel with other
    # launch parameters (``DslAdapter.baseline_variant``), code as trusted as the baseline.
    in_process: bool = False
    # Where the time went, in seconds: "runner" (waiting for a started runner), "compile" (the candidate's compile
    # and proofs), "load" (sharing memory, the lockdown, loading), "trials", "spares" (few cores: runners started
    # ahead finish starting before anything is timed), "timing".
    phase_s: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.verdict == "accepted"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerificationReport:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def summary(self) -> str:
        """A few lines for people."""
        head = "ACCEPTED" if self.accepted else f"REJECTED [{self.rule}]"
        lines = [f"{head}: {self.reason}", f"task {self.task_key[:12]} ({self.dsl}) on {self.device or '-'}"]
        if self.seeds:
            trials = ", ".join(f"{s}:{k}" for s, k in zip(self.seeds, self.trials))
            lines.append(f"trials (seed:kind): {trials}")
        if self.max_abs_error is not None:
            tols = ", ".join(f"{d} atol={a:g} rtol={r:g}" for d, (a, r) in self.tolerances.items())
            lines.append(f"max abs error {self.max_abs_error:.3g}, max rel error {self.max_rel_error:.3g} ({tols})")
        for i, (b, c) in enumerate(zip(self.baseline_s, self.candidate_s)):
            noise = f" (timing noise {self.timing_noise[i]:.1%})" if i < len(self.timing_noise) else ""
            lines.append(f"timing {i + 1}: baseline {b * 1e6:,.2f} us, candidate {c * 1e6:,.2f} us, "
                         f"speedup {b / c:.3f}x{noise}")
        if self.speedup is not None:
            lines.append(f"speedup {self.speedup:.3f}x (margin {self.margin:.0%})")
        if self.in_process:
            lines.append("judged in-process: Inductor's own kernel with other launch parameters")
        elif self.sandbox or self.sandbox_missing:
            missing = f" (missing: {', '.join(self.sandbox_missing)})" if self.sandbox_missing else ""
            lines.append(f"candidate sandbox: {', '.join(self.sandbox) or 'none'}{missing}")
        phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in self.phase_s.items())
        lines.append(f"verified in {self.elapsed_s:.2f} s" + (f" ({phases})" if phases else ""))
        return "\n".join(lines)
