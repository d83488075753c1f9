"""What the Triton adapters share (on CUDA, under the interpreter): the language's facts for the prompts and the
Coder, its entry point's signature, the static checks' entry point (``check_triton``) and the launch-configuration
questions. ``TritonCudaAdapter`` and ``TritonInterpretAdapter`` add loading and timing on their device."""

from __future__ import annotations

import ast
import re

from ..task import KernelTask
from . import Signature
from .source_text import check_characters
from .triton_guards import FIXED_CONFIG, KERNEL_NAME, PLACEHOLDER, check_module, constexpr_params, decorator_name, parse
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
    if got_fn.decorator_list[:-1] and want_fn.decorator_list[:-1]:
        if violation := _heuristic_as_baselines(got_fn, got_fn.decorator_list[0], want_fn.decorator_list[0]):
            return violation
    # Under the heuristic decorator a kernel autotunes over several configurations at its first call, in each
    # process apart: the runner judges the one its own autotuning picked, a user's process may pick another (review
    # 21: a body wrong under one configuration only). So a body of the candidate's own pins one (fixed_config).
    if got[0] != FIXED_CONFIG and ast.dump(module) != ast.dump(parse(baseline)):
        return GuardViolation("guard:signature", f"a kernel body of your own runs under {FIXED_CONFIG}(...) with "
                                                 "one launch configuration, not the baseline's autotuning heuristic "
                                                 "(or in the launcher form)")
    return None


# fixed_config's arguments: its own configuration, and the baseline heuristic's arguments of these names, unchanged.
_FIXED_CONFIG_KEPT = ("filename", "triton_meta", "inductor_meta")
_LAUNCH_OPTIONS = {"num_warps", "num_stages"}


def _heuristic_as_baselines(fn: ast.FunctionDef, got: ast.expr, want: ast.expr) -> GuardViolation | None:
    """The heuristics decorator's arguments are the baseline's: the literals are data to the guard, but Inductor's
    runtime executes some of them (``inductor_meta``'s grid expressions are ``exec``'d on every launch, review 20) and
    acts on others (caches, profiling, file names). Only ``fixed_config``'s ``config``, one launch configuration, is
    the candidate's own."""
    assert isinstance(got, ast.Call) and isinstance(want, ast.Call)  # check_module allows nothing else
    if decorator_name(got) != FIXED_CONFIG:
        if ast.dump(got) != ast.dump(want):
            return GuardViolation("guard:ast", "the heuristics decorator's arguments differ from the baseline's: "
                                               "keep them as Inductor wrote them")
        return None
    given = {k.arg: k.value for k in got.keywords}
    kept = {k.arg: k.value for k in want.keywords if k.arg in _FIXED_CONFIG_KEPT}
    if got.args or given.keys() != {"config", *kept}:
        return GuardViolation("guard:ast", f"{FIXED_CONFIG} takes config= and the baseline's "
                                           f"{', '.join(f'{k}=' for k in kept)}, nothing else")
    if changed := [name for name, value in kept.items() if ast.dump(given[name]) != ast.dump(value)]:
        return GuardViolation("guard:ast", f"{FIXED_CONFIG}'s {', '.join(changed)} differ from the baseline's: keep "
                                           "them as Inductor wrote them")
    return _check_launch_config(fn, given["config"])


def _check_launch_config(fn: ast.FunctionDef, config: ast.expr) -> GuardViolation | None:
    """``config=``: a dict of the kernel's ``tl.constexpr`` parameters, ``num_warps`` and ``num_stages`` to positive
    integers."""
    constexprs = set(constexpr_params(fn))
    try:
        values = ast.literal_eval(config)
    except (ValueError, SyntaxError, TypeError):
        values = None
    if not isinstance(values, dict) or not all(
            isinstance(k, str) and k in constexprs | _LAUNCH_OPTIONS and type(v) is int and v > 0
            for k, v in values.items()):
        return GuardViolation("guard:ast", f"{FIXED_CONFIG}'s config must map the kernel's tl.constexpr parameters, "
                                           f"num_warps and num_stages to positive integers, not "
                                           f"{ast.unparse(config)[:80]!r}")
    return None
