"""The AST allowlist for a Triton candidate's own launcher (the launcher form of docs/kernel_contract.md).

A launcher-form module holds what an Inductor kernel module may hold (the same imports, ``@triton.jit`` functions
checked by ``triton_guards``), none of them under Inductor's heuristics decorator, plus one plain function
``launch`` taking the baseline kernel's call arguments in order and, keyword-only, ``workspace``: the harness's
allocator (``dsl.triton_launcher``). Its body may only do arithmetic on sizes and launch the module's own kernels:

- statements: assignments to plain local names (or tuples of them), ``if``, ``for <name> in range(...)``, kernel
  launches as expression statements, a bare ``return``, ``pass``; no ``while`` (no unbounded loop), no nested
  ``def``/``lambda``/comprehension, ``global``, ``nonlocal``, ``with``, ``try``, ``import``, ``del``;
- calls: ``K[grid](...)`` for a ``@triton.jit`` function ``K`` of the module, with the kernel's own parameters,
  ``num_warps`` and ``num_stages`` as keywords; ``triton.cdiv``/``triton.next_power_of_2``; ``min``/``max``;
  ``workspace(numel, "dtype", zeroed=...)`` with a literal dtype;
- tensors (the baseline's pointer parameters and what ``workspace`` returned) only as a launch's arguments: any
  other use of a tensor would be a torch operation (``guard:torch``).

Nothing else is visible: no module-level state, no attribute but those two of ``triton``, no dunder, no default or
annotation (both are evaluated when the module loads). Every launch is then a kernel the module defines, on
memory the harness gave it: the launcher itself can neither keep state nor reach outside.
"""

from __future__ import annotations

import ast

from .triton_guards import PLACEHOLDER, _violation
from .triton_launcher import LAUNCHER, WORKSPACE, WORKSPACE_DTYPES
from .violations import GuardViolation

LAUNCH_OPTIONS = {"num_warps", "num_stages"}
_TRITON_FUNCTIONS = {"cdiv", "next_power_of_2"}
_SIZE_BUILTINS = {"min", "max"}
_POINTER_PREFIXES = ("in_out_ptr", "in_ptr", "out_ptr")
_STATEMENTS = (ast.Assign, ast.AugAssign, ast.Expr, ast.If, ast.For, ast.Return, ast.Pass)
_EXPRESSIONS = (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.Subscript, ast.Tuple,
                ast.Constant, ast.Name, ast.Attribute, ast.keyword, ast.Load, ast.Store, ast.operator, ast.unaryop,
                ast.boolop, ast.cmpop, ast.expr_context)


def launcher_def(module: ast.Module) -> ast.FunctionDef | None:
    """The module's launcher: a top-level undecorated ``def launch``; None for Inductor's module form."""
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == LAUNCHER and not node.decorator_list:
            return node
    return None


def call_parameters(baseline_kernel: ast.FunctionDef) -> list[str]:
    """The baseline kernel's call arguments: its parameters less the ``tl.constexpr`` block sizes."""
    return [a.arg for a in baseline_kernel.args.args
            if a.annotation is None or ast.unparse(a.annotation) != "tl.constexpr"]


_RESERVED_PREFIXES = ("triton_", "_aikg")


def check_launcher_module(module: ast.Module, launcher: ast.FunctionDef,
                          baseline_kernel: ast.FunctionDef) -> GuardViolation | None:
    """The first launcher-form rule ``module`` breaks, given the baseline's kernel definition; its ``@triton.jit``
    functions and imports are ``triton_guards.check_module``'s to check."""
    kernels: dict[str, ast.FunctionDef] = {}
    for node in module.body:
        if not isinstance(node, ast.FunctionDef) or node is launcher:
            continue
        if node.name == PLACEHOLDER or len(node.decorator_list) != 1:
            return _violation(node, f"function {node.name}: a launcher's module holds only plain @triton.jit "
                                    "kernels of its own names (no Inductor heuristics, no KERNEL_NAME)")
        if node.name.startswith(_RESERVED_PREFIXES):
            # Inductor names the kernel this module replaces triton_<kind>_<fused name>_<n>, and the binding
            # appended in the user's process assigns that name (and _aikg ones): a kernel of such a name would be
            # rebound under launch's feet there, never in the verifier (review 12).
            return _violation(node, f"function {node.name}: names starting with "
                                    f"{' or '.join(_RESERVED_PREFIXES)} are Inductor's and aikg's (the binding "
                                    "assigns them in your process)")
        kernels[node.name] = node
    if not kernels:
        return _violation(launcher, "a launcher's module defines no @triton.jit kernel")
    return _check_signature(launcher, call_parameters(baseline_kernel)) or _LauncherBody(launcher, kernels).check()


def _check_signature(launcher: ast.FunctionDef, params: list[str]) -> GuardViolation | None:
    args = launcher.args
    wanted = f"def {LAUNCHER}({', '.join(params)}, *, {WORKSPACE})"
    if args.defaults or any(args.kw_defaults) or launcher.returns is not None \
            or any(a.annotation is not None for a in args.posonlyargs + args.args + args.kwonlyargs):
        return _violation(launcher, "the launcher's parameters take no defaults or annotations (they are "
                                    "evaluated when the module loads, and a default outlives the call)", "guard:ast")
    got = [a.arg for a in args.posonlyargs + args.args]
    if args.posonlyargs or args.vararg or args.kwarg or got != params \
            or [a.arg for a in args.kwonlyargs] != [WORKSPACE]:
        return GuardViolation("guard:signature", f"the launcher must be {wanted}, not def {LAUNCHER}"
                                                 f"({ast.unparse(args)})")
    return None


class _LauncherBody:
    """One walk over the launcher's body; each node is checked where its parent gives it a meaning."""

    def __init__(self, launcher: ast.FunctionDef, kernels: dict[str, ast.FunctionDef]) -> None:
        self.launcher = launcher
        self.kernels = kernels
        params = [a.arg for a in launcher.args.args]
        self.pointers = {p for p in params if p.startswith(_POINTER_PREFIXES)}
        self.sizes = set(params) - self.pointers
        for node in ast.walk(ast.Module(body=launcher.body, type_ignores=[])):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                    and ast.unparse(node.value.func) == WORKSPACE:
                self.pointers.update(t.id for t in node.targets if isinstance(t, ast.Name))
        self.fixed = set(kernels) | {WORKSPACE, "triton", LAUNCHER, "range"} | _SIZE_BUILTINS | set(params)

    def check(self) -> GuardViolation | None:
        for statement in self.launcher.body:
            if violation := self._statement(statement):
                return violation
        return None

    def _statement(self, node: ast.stmt) -> GuardViolation | None:
        if not isinstance(node, _STATEMENTS):
            return _violation(node, f"{type(node).__name__} statements are not launcher code")
        if isinstance(node, ast.Assign):
            if isinstance(node.value, ast.Call) and ast.unparse(node.value.func) == WORKSPACE:
                return self._targets(node.targets) or self._workspace(node.value)
            return self._targets(node.targets) or self._size(node.value)
        if isinstance(node, ast.AugAssign):
            return self._targets([node.target]) or self._size(node.value)
        if isinstance(node, ast.Expr):
            return self._launch(node.value)
        if isinstance(node, ast.If):
            return self._size(node.test) or self._block(node.body) or self._block(node.orelse)
        if isinstance(node, ast.For):
            if not (isinstance(node.iter, ast.Call) and ast.unparse(node.iter.func) == "range"
                    and not node.iter.keywords) or node.orelse:
                return _violation(node, "a launcher loops only over range(...)")
            return self._targets([node.target]) or self._sizes(node.iter.args) or self._block(node.body)
        if isinstance(node, ast.Return) and node.value is not None:
            return _violation(node, "the launcher returns nothing: its results are the kernels' outputs")
        return None

    def _block(self, statements: list[ast.stmt]) -> GuardViolation | None:
        for statement in statements:
            if violation := self._statement(statement):
                return violation
        return None

    def _targets(self, targets: list[ast.expr]) -> GuardViolation | None:
        for target in targets:
            names = target.elts if isinstance(target, ast.Tuple) else [target]
            for name in names:
                if not isinstance(name, ast.Name):
                    return _violation(name, f"a launcher assigns only to local names, not {ast.unparse(name)}")
                if name.id in self.fixed or name.id.startswith("__"):
                    return _violation(name, f"the launcher rebinds {name.id}")
        return None

    def _workspace(self, call: ast.Call) -> GuardViolation | None:
        """``workspace(numel, "dtype", zeroed=<literal>)``: sizes, a literal dtype of the list, a literal flag."""
        keywords = {k.arg: k.value for k in call.keywords}
        if len(call.args) != 2 or set(keywords) - {"zeroed"}:
            return _violation(call, f"{WORKSPACE}(numel, dtype, zeroed=False) is how a launcher asks for scratch")
        dtype = call.args[1]
        if not (isinstance(dtype, ast.Constant) and dtype.value in WORKSPACE_DTYPES):
            return _violation(dtype, f"a workspace's dtype is one of {', '.join(WORKSPACE_DTYPES)}, as a literal")
        zeroed = keywords.get("zeroed")
        if zeroed is not None and not (isinstance(zeroed, ast.Constant) and isinstance(zeroed.value, bool)):
            return _violation(zeroed, "zeroed= takes True or False")
        return self._size(call.args[0])

    def _launch(self, call: ast.expr) -> GuardViolation | None:
        """``K[grid](args..., CONST=..., num_warps=..., num_stages=...)`` for a kernel ``K`` of the module."""
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Subscript)
                and isinstance(call.func.value, ast.Name)):
            callee = call.func if isinstance(call, ast.Call) else call
            tensors = {n.id for n in ast.walk(callee) if isinstance(n, ast.Name)} & self.pointers
            return _violation(call, "a launcher's statements are launches of its kernels: K[grid](...)"
                              + (f"; this one operates on the tensor {min(tensors)} (torch)" if tensors else ""),
                              "guard:torch" if tensors else None)
        name = call.func.value.id
        if name not in self.kernels:
            return _violation(call, f"{name} is not a @triton.jit kernel this module defines")
        kernel_params = {a.arg for a in self.kernels[name].args.args}
        grid = call.func.slice
        if violation := self._sizes(grid.elts if isinstance(grid, ast.Tuple) else [grid]):
            return violation
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return _violation(call, "a launch names its arguments: no * or ** unpacking")
        for arg in call.args:
            if violation := self._argument(arg):
                return violation
        for keyword in call.keywords:
            if keyword.arg not in kernel_params | LAUNCH_OPTIONS:
                return _violation(keyword, f"{keyword.arg}= is neither a parameter of {name} nor one of "
                                           f"{', '.join(sorted(LAUNCH_OPTIONS))}")
            if violation := self._argument(keyword.value):
                return violation
        return None

    def _argument(self, node: ast.expr) -> GuardViolation | None:
        if isinstance(node, ast.Name) and node.id in self.pointers:
            return None
        return self._size(node)

    def _sizes(self, nodes: list[ast.expr]) -> GuardViolation | None:
        for node in nodes:
            if violation := self._size(node):
                return violation
        return None

    def _size(self, node: ast.expr) -> GuardViolation | None:
        """An integer expression: sizes, locals, literals, arithmetic, ``min``/``max``, ``triton.cdiv``."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.pointers:
                return _violation(sub, f"the tensor {sub.id} is used outside a kernel launch's arguments: that is "
                                       "a torch operation", "guard:torch")
        for sub in ast.walk(node):
            if not isinstance(sub, _EXPRESSIONS) or isinstance(sub, ast.Subscript):
                return _violation(sub, f"{ast.unparse(sub)[:60]!r} is not arithmetic on sizes")
            if isinstance(sub, ast.Name):
                if sub.id.startswith("__"):
                    return _violation(sub, f"uses {sub.id}", "guard:eval")
                if sub.id in self.kernels or sub.id in (WORKSPACE, LAUNCHER, "range"):
                    return _violation(sub, f"{sub.id} used as a value")
            elif isinstance(sub, ast.Attribute):
                if not (isinstance(sub.value, ast.Name) and sub.value.id == "triton"
                        and sub.attr in _TRITON_FUNCTIONS and isinstance(sub.ctx, ast.Load)):
                    return _violation(sub, f"attribute {ast.unparse(sub)}: a launcher uses only triton.cdiv and "
                                           "triton.next_power_of_2")
            elif isinstance(sub, ast.Call):
                callee = ast.unparse(sub.func)
                if callee not in _SIZE_BUILTINS and callee not in {f"triton.{f}" for f in _TRITON_FUNCTIONS}:
                    return _violation(sub, f"call to {callee}: a launcher computes sizes with min, max and "
                                           "triton.cdiv only")
                if sub.keywords or any(isinstance(a, ast.Starred) for a in sub.args):
                    return _violation(sub, f"{callee} takes positional sizes only")
        bases = {id(sub.value) for sub in ast.walk(node) if isinstance(sub, ast.Attribute)}
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id == "triton" and id(sub) not in bases:
                return _violation(sub, "the module triton used as a value")
            if isinstance(sub, ast.Constant) and type(sub.value) not in (int, bool):
                return _violation(sub, f"the constant {sub.value!r} is not a size")
        return self._names_known(node)

    def _names_known(self, node: ast.expr) -> GuardViolation | None:
        local_names = {n.id for n in ast.walk(ast.Module(body=self.launcher.body, type_ignores=[]))
                       if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        visible = self.sizes | local_names | _SIZE_BUILTINS | {"triton"}
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id not in visible:
                return _violation(sub, f"name {sub.id!r} is neither a size parameter, a local nor min/max")
        return None
