"""What the Triton adapters share (on CUDA, under the interpreter): the language's facts for the prompts and the
Coder, its entry point's signature, the static checks' entry point (``check_triton``) and the launch-configuration
questions. ``TritonCudaAdapter`` and ``TritonInterpretAdapter`` add loading and timing on their device."""

from __future__ import annotations

import ast
import re

from ..task import KernelTask
from . import Signature
from .source_text import check_characters
from .triton_guards import FIXED_CONFIG, KERNEL_NAME, PLACEHOLDER, check_module, decorator_name, parse
from .triton_launcher import is_launcher_form, with_inductor_binding
from .triton_launcher_guards import check_launcher_module, launcher_def
from .violations import GuardViolation, raise_if

_DEF = re.compile(r"^def\s+([\w.]+)\s*\(([^)]*)\)\s*:", re.MULTILINE)


class TritonAdapterBase:
    device_note = ""
    language = "python"
    fence_tags = frozenset({"", "python", "py", "python3", "triton"})
    entry_point = "a def"
    contract_section = "Triton candidates"
    config_tunable = True
    keeps_heap = False  # a Triton module allocates nothing the guards allow it to keep
    # Triton kernels may autotune at their first call, inside the sandbox, and Inductor records the winner there.
    runner_owns_inductor_cache = True

    def parse_signature(self, source: str) -> Signature | None:
        """The first top-level ``def``: the kernel in Inductor's module form."""
        match = _DEF.search(source)
        if not match:
            return None
        params = tuple(("", p.split(":")[0].split("=")[0].strip()) for p in match.group(2).split(",") if p.strip())
        return Signature(match.group(1), params)

    def rename_entry_point(self, source: str, name: str) -> str:
        match = _DEF.search(source)
        assert match is not None
        start, end = match.span(1)
        return source[:start] + name + source[end:]

    def restore_prelude(self, baseline: str, source: str) -> tuple[str, list[str]]:
        return source, []

    def own_launcher(self, source: str) -> bool:
        return is_launcher_form(source)

    def source_for_inductor(self, task: KernelTask, source: str) -> str:
        if not is_launcher_form(source):
            return source
        # Its launch runs unsandboxed from here on, in the user's process: the guards' proof admits it, every time.
        raise_if(self.check_source(task, source))
        return with_inductor_binding(source)

    def check_source(self, task: KernelTask, source: str) -> GuardViolation | None:
        return check_triton(task.source, source)

    def baseline_variant(self, task: KernelTask, source: str) -> bool:
        from .triton_configs import launch_config_of

        return launch_config_of(task, source) is not None


def _kernel_def(module: ast.Module) -> ast.FunctionDef | None:
    defs = [n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == PLACEHOLDER]
    return defs[0] if len(defs) == 1 else None


def _decorator_kinds(fn: ast.FunctionDef) -> list[str]:
    return [decorator_name(d) for d in fn.decorator_list]


def check_triton(baseline: str, source: str) -> GuardViolation | None:
    """The first rule ``source`` breaks as a replacement for the Triton kernel module ``baseline``, or None: in
    Inductor's module form (one kernel under the baseline's decorator or ``fixed_config``) or in the launcher form
    (``triton_launcher_guards``)."""
    if violation := check_characters(source):  # comments hold them too, and the AST never sees comments
        return violation
    try:
        module = parse(source)
    except SyntaxError as err:
        return GuardViolation("guard:syntax", f"does not parse: {err}")
    launcher = launcher_def(module)
    if violation := check_module(module, launcher):
        return violation
    want_fn, got_fn = _kernel_def(parse(baseline)), _kernel_def(module)
    if launcher is not None and want_fn is not None:
        return check_launcher_module(module, launcher, want_fn)
    if got_fn is None or want_fn is None:
        return GuardViolation("guard:signature", f"expected exactly one top-level def {KERNEL_NAME}(...)")
    if ast.dump(got_fn.args) != ast.dump(want_fn.args):
        return GuardViolation("guard:signature", f"parameters ({ast.unparse(got_fn.args)}) differ from the "
                                                 f"baseline's ({ast.unparse(want_fn.args)})")
    got, want = _decorator_kinds(got_fn), _decorator_kinds(want_fn)
    # A candidate may pin one launch configuration instead of the baseline's heuristic (the tuner's output).
    if got not in ([*want], [FIXED_CONFIG, *want[1:]]):
        return GuardViolation("guard:signature", f"decorators {got} differ from the baseline's {want} "
                                                 f"(or {FIXED_CONFIG} in place of its heuristic)")
    return None
