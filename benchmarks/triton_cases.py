"""The verifier's adversarial Triton candidates (issue 4, cases a-j), as text edits of Inductor's pointwise kernel.

Shared by the GPU run (``benchmarks/gpu_verify.py``, on an H100) and the CPU suite under Triton's interpreter
(``tests/test_verify_triton_interpret.py``), so both judge exactly the same sources. The base is Inductor's kernel
for ``relu(x + y)``: ``tl.store(out_ptr0 + (x0), tmpN, mask)`` with two loads ``in_ptr0``/``in_ptr1``, one size
argument ``xnumel``. Each candidate differs from the correct kernel in the way its name says.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from aikg_inductor import KernelTask
from aikg_inductor.dsl.triton_configs import LaunchConfig, kernel_shape, with_fixed_config

# The tuner's smallest block: many more programs than Inductor's configuration, so slower on a GPU and (more
# programs to interpret) under the interpreter.
SLOW_CONFIG = LaunchConfig((("XBLOCK", 32),), num_warps=1)

# A candidate that answers every call after the first from the first call's inputs: a result cached across calls.
# It wraps the kernel's launcher at module level: the AST allowlist refuses module-level code (guard:ast); without
# it, the trials would catch it (cached-result).
CACHED_RESULT = '''

_first_inputs = []
_launch = Placeholder.KERNEL_NAME.run


def _replay(*args, **kwargs):
    if not _first_inputs:
        _first_inputs.extend(args[:2])
    _launch(*_first_inputs, *args[2:], **kwargs)


Placeholder.KERNEL_NAME.run = _replay
'''


def numel(task: KernelTask) -> int:
    return next(a.value for a in task.args if a.param == "xnumel")


def store_line(source: str) -> str:
    return next(line for line in source.splitlines() if line.strip().startswith("tl.store(out_ptr0"))


# The launch configuration cases a-i pin (a body of a candidate's own runs under fixed_config: the verifier's guard
# refuses one under the autotuning heuristic): one of those Inductor's pointwise heuristic tries.
PINNED_CONFIG = LaunchConfig((("XBLOCK", 1024),), num_warps=4)


def variants(task: KernelTask) -> dict[str, tuple[str, set[str]]]:
    """name -> (candidate source, acceptable rules), for cases a-j of an add+relu task."""
    source, n = with_fixed_config(task, kernel_shape(task), PINNED_CONFIG), numel(task)
    store = store_line(source)
    value = re.match(r"\s*tl\.store\(out_ptr0 \+ \(x0\), (\w+), (\w+)\)", store)
    assert value, store
    tmp, mask = value.groups()
    body = source.split("@triton.jit", 1)
    jit_def = body[1].split("\n", 2)[1]
    indent = "    "

    def replace_store(new: str) -> str:
        return source.replace(store, f"{indent}{new}")

    def prepend_body(line: str) -> str:
        return source.replace(jit_def + "\n", jit_def + "\n" + indent + line + "\n", 1)

    def module_prologue(code: str) -> str:
        return source.replace("import triton\n", f"import triton\n{code}\n", 1)

    return {
        "a wrong value in a corner": (replace_store(
            f"tl.store(out_ptr0 + (x0), tl.where(x0 == {n - 1}, {tmp} + 1.0, {tmp}), {mask})"), {"mismatch"}),
        "b writes part of the output": (replace_store(
            f"tl.store(out_ptr0 + (x0), {tmp}, x0 < {n // 2})"), {"unwritten-output"}),
        # Volatile loads are re-read every iteration, so the compiler cannot prove the loop away.
        "c hangs": (prepend_body("while tl.load(in_ptr0, volatile=True) == tl.load(in_ptr0, volatile=True):\n"
                                 "        pass"), {"timeout"}),
        # 4 TiB past the output: an illegal address on a GPU, a segmentation fault under the interpreter.
        "d illegal address": (replace_store(f"tl.store(out_ptr0 + (x0) + 1099511627776, {tmp}, {mask})"),
                              {"crash", "runtime-error"}),
        "e returns a result cached from an earlier call": (source + CACHED_RESULT, {"guard:ast", "cached-result"}),
        "f mutates an input": (replace_store(
            f"tl.store(out_ptr0 + (x0), {tmp}, {mask})\n{indent}tl.store(in_ptr0 + (x0), {tmp}, {mask})"),
            {"input-mutated"}),
        "g calls torch": (module_prologue("import torch").replace(jit_def + "\n", jit_def + "\n" + indent
                                                                  + "torch.zeros(1)\n", 1),
                          {"guard:torch", "guard:include"}),
        "g reaches torch through Inductor's runtime": (prepend_body("triton_helpers.torch.zeros(1)"),
                                                       {"guard:torch"}),
        "h writes out of bounds": (replace_store(f"tl.store(out_ptr0 + (x0) + 16, {tmp}, {mask})"),
                                   {"out-of-bounds-write"}),
        "h reads out of bounds": (source.replace("tl.load(in_ptr1 + (x0)", "tl.load(in_ptr1 + (x0) + 16", 1),
                                  {"out-of-bounds-read", "mismatch", "nan-inf-mismatch"}),
        "i opens a file": (module_prologue("open('/tmp/aikg-leak', 'w')"), {"guard:system"}),
        "i runs a subprocess": (module_prologue("import subprocess\nsubprocess.run(['id'])"),
                                {"guard:include", "guard:system"}),
        "i opens a socket": (module_prologue("import socket\nsocket.create_connection(('example.com', 80))"),
                             {"guard:include", "guard:system"}),
        "i reaches os through Inductor's runtime": (module_prologue(
            "triton_heuristics.os.system('touch /tmp/aikg-pwned')"), {"guard:system"}),
        "i imports os from Inductor's runtime": (module_prologue(
            "from torch._inductor.runtime.triton_heuristics import os as _os\n_os.system('id')"), {"guard:include"}),
        "j correct but slower": (with_fixed_config(task, kernel_shape(task), SLOW_CONFIG), {"not-faster"}),
    }


# ------------------------------------------------------------------------------------------- the adversarial suite

# One file per case (benchmarks/adversarial/{cpp,triton}/): a header names the class of issue 17 it belongs to, the
# rules that may reject it and the task it is written for; the body is the candidate, with placeholders filled from
# the task's own source (Triton) and the canary path its side effect would create.
ADVERSARIAL = Path(__file__).resolve().parent / "adversarial"
CANARY = "@@CANARY@@"


@dataclasses.dataclass(frozen=True)
class AdversarialCase:
    path: Path
    klass: int
    rules: frozenset[str]
    task: str
    text: str

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}"


def adversarial_cases(language: str) -> list[AdversarialCase]:
    """The cases of ``language`` ("cpp" or "triton"), sorted by file name."""
    cases = []
    for path in sorted((ADVERSARIAL / language).iterdir()):
        text = path.read_text()
        fields = dict(re.findall(r"^(?://|#) (class|rules|task): (.*)$", text, re.MULTILINE))
        cases.append(AdversarialCase(path, int(fields["class"].split()[0]), frozenset(fields["rules"].split()),
                                     fields["task"].strip(), text))
    return cases


def render(case: AdversarialCase, task: KernelTask, canary: str) -> str:
    """The candidate source of ``case`` for ``task`` (for Triton, an add+relu kernel of Inductor's; its import lines,
    decorator and size are taken from it; ``@@KERNEL_ONE_BLOCK@@`` is its decorator replaced by the tuner's
    ``fixed_config`` form for one block of ``ONE_BLOCK``)."""
    text = case.text.replace(CANARY, canary)
    if "@@" not in text:
        return text
    kernel, imports = _kernel_lines(task.source)
    one_block, _ = _kernel_lines(with_fixed_config(task, kernel_shape(task), ONE_BLOCK))
    evil = kernel.replace("size_hints=", f"size_hints=triton_heuristics.os.system('touch {canary}') or ", 1)
    numel = re.search(r"^    xnumel = (\d+)$", task.source, re.MULTILINE)
    assert numel and evil != kernel, "the Triton cases are written for Inductor's pointwise add+relu kernel"
    for placeholder, value in (("@@IMPORTS@@", imports), ("@@KERNEL_EVIL_DECORATOR@@", evil),
                               ("@@KERNEL_ONE_BLOCK@@", one_block), ("@@KERNEL@@", kernel),
                               ("@@XNUMEL@@", numel.group(1))):
        text = text.replace(placeholder, value)
    return text


# One program for the whole 64x64 add+relu of the CPU suite (the interpreter's honest speedup over Inductor's
# several): what a case whose trick needs whole rows in a block is written against.
ONE_BLOCK = LaunchConfig((("XBLOCK", 4096),), num_warps=8)


def _kernel_lines(source: str) -> tuple[str, str]:
    """A Triton module's kernel from its first decorator to its ``def`` line, and the lines before (the imports)."""
    lines = source.splitlines()
    first_decorator = next(i for i, line in enumerate(lines) if line.startswith("@"))
    def_line = next(i for i, line in enumerate(lines) if line.startswith("def "))
    return "\n".join(lines[first_decorator:def_line + 1]), "\n".join(lines[:first_decorator]).rstrip()


def case_task(case: AdversarialCase, add_relu: KernelTask) -> KernelTask:
    """The task a Triton case is written against: Inductor's add+relu kernel, or its form for int64 or int32 values
    (``add_relu_i64``, ``add_relu_i32``)."""
    dtype = {"add_relu_i64": "int64", "add_relu_i32": "int32"}.get(case.task)
    return integer_variant(add_relu, dtype) if dtype else add_relu


def integer_variant(task: KernelTask, dtype: str) -> KernelTask:
    """The recorded add+relu kernel as Inductor writes it for integer values (relu(x + y) of counts): pointers typed
    as ``dtype``, no conversion to float, the inputs recorded as integers used in arithmetic only. Made by editing the
    recorded float task (no integer Triton kernel was recorded on a GPU)."""
    from aikg_inductor.task import IntRange, task_key

    pointer = {"int64": "'*i64'", "int32": "'*i32'"}[dtype]
    source = task.source.replace("'*fp32'", pointer).replace("'*fp16'", pointer).replace(".to(tl.float32)", "")
    args = tuple(dataclasses.replace(a, layout=dataclasses.replace(a.layout, dtype=dtype),
                                     int_range=IntRange() if a.role == "in" else None) if a.layout else a
                 for a in task.args)
    return dataclasses.replace(task, source=source, args=args, key=task_key(
        source, task.dsl, task.device_type, task.arch, task.torch_version, task.triton_version))
