"""The AST allowlist for Triton candidates: a module may contain what Inductor's own kernel modules contain.

Importing a kernel module runs its top level in the user's process (at ``torch.compile``), and its ``@triton.jit``
bodies run as Python under the interpreter, so nothing is judged by name blocklists here. A module may hold:

- the import lines Inductor's Triton codegen writes (``gen_common_triton_imports``), name by name, each binding the
  name Inductor binds; nothing imported from elsewhere, no name re-exported by another module;
- ``triton_helpers.set_driver_to_gpu()``, the one statement Inductor's modules run;
- ``@triton.jit`` functions; the kernel also under ``@triton_heuristics.<kind>(...)`` or the tuner's
  ``@triton_heuristics.fixed_config(...)``, whose arguments are literals (plus ``__file__``, ``DeviceProperties(...)``,
  hint enum members, ``set()``);
- or, in the launcher form, ``@triton.jit`` kernels of its own names and one plain ``launch`` function, whose body
  ``triton_launcher_guards`` checks.

Inside a ``@triton.jit`` function: names are its parameters, its locals, the imported modules, other ``@triton.jit``
functions of the module and a few builtins Triton folds (``float('-inf')``); attributes are the language's own
functions (``tl.*`` from ``triton.language.__all__``, functions defined in Inductor's ``triton_helpers``, in
``libdevice``, in ``tl_math``) or a short list of tensor methods (``x.to(...)``); no dunder, no assignment to
anything but a local, no nested functions, lambdas, imports, ``global``, ``with``, ``try`` or comprehensions.
Every rejection is ``guard:ast`` unless an older, more specific rule names it.
"""

from __future__ import annotations

import ast
import functools
import types
from typing import Iterable

from ..torch_internals.kernels import KERNEL_NAME
from .violations import GuardViolation

PLACEHOLDER = "aikg_kernel"
FIXED_CONFIG = "triton_heuristics.fixed_config"

# (module, name, bound as): every import Inductor's Triton kernel modules make, torch 2.11 and 2.13.
ALLOWED_IMPORTS = {
    ("", "triton", "triton"),
    ("", "triton.language", "tl"),
    ("", "triton.language.extra.tlx", "tlx"),  # written when the installed triton has it
    ("triton.compiler.compiler", "AttrsDescriptor", "AttrsDescriptor"),  # older triton releases
    ("torch._inductor.runtime", "triton_helpers", "triton_helpers"),
    ("torch._inductor.runtime", "triton_heuristics", "triton_heuristics"),
    ("torch._inductor.runtime.triton_helpers", "libdevice", "libdevice"),
    ("torch._inductor.runtime.triton_helpers", "math", "tl_math"),
    ("torch._inductor.runtime.hints", "AutotuneHint", "AutotuneHint"),
    ("torch._inductor.runtime.hints", "ReductionHint", "ReductionHint"),
    ("torch._inductor.runtime.hints", "TileHint", "TileHint"),
    ("torch._inductor.runtime.hints", "DeviceProperties", "DeviceProperties"),
}
HEURISTICS = {"pointwise", "reduction", "persistent_reduction", "cooperative_reduction", "split_scan", "template",
              "foreach", "fixed_config"}
_HINT_ENUMS = ("AutotuneHint", "ReductionHint", "TileHint")
# Public language names that reach outside the kernel: inline assembly, printing; and pointer_type, which Inductor's
# kernels never name. Refusing it is no memory-safety line (review 20: ``x.to(in_ptr0.dtype)`` makes an integer an
# address too, and a pointer plus any int64 offset reaches anywhere): like C++, a Triton kernel reads and writes
# wherever it computes, and the runner's sandbox, the guard bands and the judge's comparisons are what hold.
_LANGUAGE_EXCLUDED = {"inline_asm_elementwise", "device_print", "static_print", "pointer_type"}
# Builtins Triton's code generator folds at compile time, as Inductor uses them (``float('-inf')``).
_JIT_BUILTINS = {"float", "int", "bool", "range", "min", "max", "abs", "len", "isinstance"}
# Methods of Triton tensors and dtypes Inductor's kernels call on values (``tl.load(...).to(tl.float32)``).
_TENSOR_ATTRS = {"to", "dtype", "shape", "T", "reshape", "trans", "permute", "view", "broadcast_to", "expand_dims",
                 "split", "sum", "max", "min", "argmax", "argmin", "cast", "numel", "element_ty", "is_floating",
                 "is_int", "is_int_signed", "primitive_bitwidth", "value", "scalar"}
_JIT_STATEMENTS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr, ast.For, ast.While, ast.If, ast.Return,
                   ast.Pass, ast.Break, ast.Continue)
_JIT_EXPRESSIONS = (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.IfExp, ast.Subscript, ast.Slice,
                    ast.Tuple, ast.List, ast.Constant, ast.Name, ast.Attribute, ast.keyword, ast.Load, ast.Store,
                    ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.expr_context, ast.arguments, ast.arg)


def _defined_in(module: types.ModuleType, names: Iterable[str] | None = None,
                kernel_only: bool = False) -> frozenset[str]:
    """Public names whose object ``module`` itself defines (not re-exported from elsewhere); with ``kernel_only``,
    only ``@triton.jit`` functions and Triton built-ins: the compiler calls any other Python function a kernel names
    while it compiles it (seen in review: ``triton_helpers.set_driver_to_cpu()`` in a kernel body switched Triton's
    driver in the user's process), so those are Python run at compile time, not kernel code. Under Triton's
    interpreter (TRITON_INTERPRET=1 when the module was imported) ``@triton.jit`` makes an ``InterpretedFunction``
    instead of a ``JITFunction``: both are kernel functions, nothing else of ``KernelInterface`` (autotuners) is."""
    from triton.language.core import is_builtin
    from triton.runtime.interpreter import InterpretedFunction
    from triton.runtime.jit import JITFunction

    defined = set()
    for name in names if names is not None else vars(module):
        value = getattr(module, name, None)
        owner = getattr(getattr(value, "fn", value), "__module__", None)
        if name.startswith("_") or owner != module.__name__:
            continue
        if not kernel_only or isinstance(value, (JITFunction, InterpretedFunction)) or is_builtin(value):
            defined.add(name)
    return frozenset(defined)


@functools.cache
def module_members() -> dict[str, frozenset[str]]:
    """Attributes a kernel may take from each imported name."""
    import triton.language as tl
    import triton.language.math as tl_math
    from torch._inductor.runtime import triton_helpers
    from torch._inductor.runtime.triton_helpers import libdevice

    language = {name for name in tl.__all__
                if name not in _LANGUAGE_EXCLUDED and not isinstance(getattr(tl, name, None), types.ModuleType)}
    language.add("math")  # tl.math.<function>, checked against triton.language.math's own functions
    return {
        "tl": frozenset(language),  # the language's curated public API, less what reaches outside the kernel
        "triton_helpers": _defined_in(triton_helpers, kernel_only=True),
        # libdevice's functions are stubs a GPU backend fills in (not built-ins by Triton's own mark): Triton's own.
        "libdevice": _defined_in(libdevice),
        "tl_math": _defined_in(tl_math, kernel_only=True),
    }


# Names that give a rejection a more specific rule than guard:ast (they are refused by the allowlist anyway).
_SPECIFIC_RULES = {
    "guard:eval": {"eval", "exec", "compile", "__import__", "globals", "locals", "vars", "getattr", "setattr",
                   "delattr", "__builtins__", "breakpoint", "inspect", "currentframe", "f_back", "f_globals",
                   "f_locals", "gi_frame", "_getframe"},
    "guard:system": {"open", "input", "exit", "quit", "os", "sys", "subprocess", "socket", "shutil", "pathlib",
                     "ctypes", "system", "popen", "environ", "Path", "threading", "Thread", "signal", "mmap"},
    "guard:torch": {"torch"},
}


def _rule_for(node: ast.AST) -> str:
    """The most specific rule for a refused construct: what it names, else guard:ast."""
    named = {sub.id if isinstance(sub, ast.Name) else sub.attr for sub in ast.walk(node)
             if isinstance(sub, (ast.Name, ast.Attribute))}
    for rule, names in _SPECIFIC_RULES.items():  # in order: reflection, then system, then torch
        if named & names:
            return rule
    return "guard:ast"


def _violation(node: ast.AST, message: str, rule: str | None = None) -> GuardViolation:
    line = getattr(node, "lineno", None)
    return GuardViolation(rule or _rule_for(node), f"{message}" + (f" (line {line})" if line else ""))


def parse(source: str) -> ast.Module:
    return ast.parse(source.replace(KERNEL_NAME, PLACEHOLDER))


def check_module(module: ast.Module, launcher: ast.FunctionDef | None = None) -> GuardViolation | None:
    """The first construct of ``module`` outside the allowlist, or None. ``launcher``: the module's own launcher
    (``triton_launcher_guards`` checks it); every other function is a ``@triton.jit`` one."""
    functions = [n for n in module.body if isinstance(n, ast.FunctionDef) and n is not launcher]
    # A function may not take a name the module or its decorators rely on (``def tl``, ``def set``).
    taken = {bound for _, _, bound in ALLOWED_IMPORTS} | _JIT_BUILTINS | {"set", "__file__"}
    for fn in functions:
        if fn.name in taken:
            return _violation(fn, f"function {fn.name} rebinds a name the kernel module relies on")
    # The module's shape first (cheap), then the function bodies (which need the language's name lists).
    for node in module.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            violation = _check_import(node)
        elif isinstance(node, ast.Expr) and ast.unparse(node) == "triton_helpers.set_driver_to_gpu()":
            violation = None
        elif node is launcher:
            violation = None
        elif isinstance(node, ast.FunctionDef):
            violation = _check_decorators(node)
        else:
            violation = _violation(node, f"module-level {type(node).__name__} is not in Inductor's kernel modules: "
                                         f"{ast.unparse(node)[:80]!r}")
        if violation:
            return violation
    jit_names = {fn.name for fn in functions}
    for fn in functions:
        if violation := _check_jit_body(fn, jit_names):
            return violation
    return None


def _check_import(node: ast.Import | ast.ImportFrom) -> GuardViolation | None:
    for alias in node.names:
        if isinstance(node, ast.Import):
            triple = ("", alias.name, alias.asname or alias.name)
        else:
            triple = (node.module or "" if not node.level else ".", alias.name, alias.asname or alias.name)
        if triple not in ALLOWED_IMPORTS:
            return _violation(node, f"import {ast.unparse(node)!r}: only the imports Inductor's kernels make, "
                                    "binding the names Inductor binds", "guard:include")
    return None


def constexpr_params(fn: ast.FunctionDef) -> tuple[str, ...]:
    """The kernel's ``tl.constexpr`` parameters (its block sizes), in order."""
    return tuple(a.arg for a in fn.args.args
                 if a.annotation is not None and ast.unparse(a.annotation) == "tl.constexpr")


def decorator_name(decorator: ast.expr) -> str:
    return ast.unparse(decorator.func if isinstance(decorator, ast.Call) else decorator)


def _check_decorators(fn: ast.FunctionDef) -> GuardViolation | None:
    names = [decorator_name(d) for d in fn.decorator_list]
    if not names or names[-1] != "triton.jit" or isinstance(fn.decorator_list[-1], ast.Call):
        return _violation(fn, f"function {fn.name} is not a plain @triton.jit function")
    for decorator in fn.decorator_list[:-1]:
        name = decorator_name(decorator)
        if fn.name != PLACEHOLDER or not name.startswith("triton_heuristics.") \
                or name.split(".", 1)[1] not in HEURISTICS or not isinstance(decorator, ast.Call):
            return _violation(decorator, f"decorator {name} is not Inductor's heuristics decorator")
        for value in [*decorator.args, *(k.value for k in decorator.keywords)]:
            if violation := _check_literal(value):
                return violation
        if any(k.arg is None for k in decorator.keywords):
            return _violation(decorator, "** arguments to the heuristics decorator")
    if len(fn.decorator_list) > 2:
        return _violation(fn, f"function {fn.name} has more decorators than Inductor writes")
    return None


def _check_literal(node: ast.expr) -> GuardViolation | None:
    """Arguments of the heuristics decorator: data only."""
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Constant, ast.Dict, ast.List, ast.Tuple, ast.Set, ast.Load, ast.keyword,
                            ast.UnaryOp, ast.USub, ast.UAdd)):
            continue
        if isinstance(sub, ast.Name) and sub.id in ("__file__", "DeviceProperties", "set", *_HINT_ENUMS):
            continue
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id in _HINT_ENUMS \
                and not sub.attr.startswith("_"):
            continue
        if isinstance(sub, ast.Attribute) and ast.unparse(sub) == "AttrsDescriptor.from_dict":
            continue
        if isinstance(sub, ast.Call) and ast.unparse(sub.func) in ("DeviceProperties", "set",
                                                                    "AttrsDescriptor.from_dict"):
            continue
        return _violation(sub, f"decorator arguments must be literals, not {ast.unparse(sub)[:60]!r}")
    return None


def _locals_of(fn: ast.FunctionDef) -> set[str]:
    names = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _check_jit_body(fn: ast.FunctionDef, jit_names: set[str]) -> GuardViolation | None:
    if fn.args.vararg or fn.args.kwarg:
        return _violation(fn, f"{fn.name} takes *args or **kwargs")
    for default in [*fn.args.defaults, *fn.args.kw_defaults]:
        if default is not None and not isinstance(default, ast.Constant):
            return _violation(default, "parameter defaults must be constants")
    local_names = _locals_of(fn)
    members = module_members()
    visible = local_names | jit_names | set(members) | _JIT_BUILTINS
    body = ast.Module(body=fn.body, type_ignores=[])
    # A module is only ever the base of an attribute (``tl.load``), never a value (``x = tl``).
    attribute_bases = {id(n.value) for n in ast.walk(body) if isinstance(n, ast.Attribute)}
    for node in ast.walk(body):
        if isinstance(node, ast.Module):
            continue
        if isinstance(node, ast.Name) and node.id in members and id(node) not in attribute_bases:
            return _violation(node, f"uses the module {node.id} as a value")
        if isinstance(node, ast.stmt) and not isinstance(node, _JIT_STATEMENTS):
            return _violation(node, f"{type(node).__name__} statements are not kernel code")
        if isinstance(node, ast.expr) and not isinstance(node, _JIT_EXPRESSIONS):
            return _violation(node, f"{type(node).__name__} expressions are not kernel code")
        if isinstance(node, ast.Name):
            if node.id.startswith("__"):
                return _violation(node, f"uses {node.id}", "guard:eval")
            if node.id not in visible:
                return _violation(node, f"name {node.id!r} is neither a parameter, a local, an imported module of "
                                        "the language nor a @triton.jit function")
            if isinstance(node.ctx, ast.Store) and (node.id in members or node.id in jit_names):
                return _violation(node, f"assigns to {node.id}")
        elif isinstance(node, ast.Attribute) and (violation := _check_attribute(node, local_names, members)):
            return violation
    # Annotations are evaluated too: only tl.constexpr.
    for arg in fn.args.args + fn.args.kwonlyargs:
        if arg.annotation is not None and ast.unparse(arg.annotation) != "tl.constexpr":
            return _violation(arg, f"parameter annotation {ast.unparse(arg.annotation)!r}")
    return None


def _check_attribute(node: ast.Attribute, local_names: set[str],
                     members: dict[str, frozenset[str]]) -> GuardViolation | None:
    if node.attr.startswith("_"):
        return _violation(node, f"reflection through .{node.attr}", "guard:eval")
    if not isinstance(node.ctx, ast.Load):
        return _violation(node, f"assigns to an attribute: {ast.unparse(node)}")
    base = node.value
    if isinstance(base, ast.Name) and base.id in members and base.id not in local_names:
        if node.attr not in members[base.id]:
            return _violation(node, f"{ast.unparse(node)} is not a function {base.id} defines")
        return None
    if isinstance(base, ast.Attribute) and ast.unparse(base) == "tl.math":
        if node.attr not in members["tl_math"]:
            return _violation(node, f"{ast.unparse(node)} is not a function triton.language.math defines")
        return None
    if node.attr not in _TENSOR_ATTRS:
        return _violation(node, f"attribute .{node.attr} is not a Triton tensor method")
    return None
