"""KernelBench-style problem files: ``class Model(nn.Module)``, ``get_inputs()`` and ``get_init_inputs()``.

Every ``aikg`` command that takes a model takes one of these files.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

# torch is imported inside the functions that build models: the ``aikg`` commands that only catch ProblemError
# (all of them) must not pay for importing torch.


class ProblemError(ValueError):
    """The problem file cannot be used; the message says what is wrong in one line."""


# What the user's code may raise while the file is imported, or get_inputs() and Model() run: any error, and
# SystemExit (a script's sys.exit() outside an ``if __name__ == "__main__"`` guard), which must cost only this file,
# not the whole command. KeyboardInterrupt still stops the command.
_USER_CODE_FAILURES = (Exception, SystemExit)


def _describe(err: BaseException) -> str:
    if isinstance(err, SystemExit):
        return f"SystemExit: sys.exit({err.code!r}) was called"
    return f"{type(err).__name__}: {err}"


@dataclasses.dataclass
class Problem:
    path: Path
    model: torch.nn.Module
    inputs: list[Any]

    @property
    def name(self) -> str:
        return self.path.stem


def _call(module: Any, name: str, path: Path) -> Any:
    func = getattr(module, name, None)
    if func is None:
        if name == "get_init_inputs":
            return []
        raise ProblemError(f"{path}: no {name}() defined")
    try:
        return func()
    except _USER_CODE_FAILURES as err:  # the user's code; report it in one line
        raise ProblemError(f"{path}: {name}() raised {_describe(err)}") from None


def load_problem(path: Path | str, device: str = "cpu", dtype: torch.dtype | None = None) -> Problem:
    """Import a problem file and build its model and inputs on ``device``; ``dtype`` (if given) replaces the
    floating-point dtype of the model and of the floating-point inputs."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise ProblemError(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(f"aikg_problem_{uuid.uuid4().hex}", path)
    if spec is None or spec.loader is None:
        raise ProblemError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling inside the file look themselves up here
    try:
        spec.loader.exec_module(module)
    except _USER_CODE_FAILURES as err:  # syntax errors, missing imports, sys.exit(): the user's file
        raise ProblemError(f"{path}: cannot be imported: {_describe(err)}") from None
    model_cls = getattr(module, "Model", None)
    if not (isinstance(model_cls, type) and issubclass(model_cls, torch.nn.Module)):
        raise ProblemError(f"{path}: no `class Model(nn.Module)` defined")
    init_inputs = _call(module, "get_init_inputs", path)
    inputs = _call(module, "get_inputs", path)
    if not isinstance(inputs, (list, tuple)) or not isinstance(init_inputs, (list, tuple)):
        raise ProblemError(f"{path}: get_inputs() and get_init_inputs() must return lists")
    try:
        model = model_cls(*init_inputs).to(device=device, dtype=dtype).eval()
    except _USER_CODE_FAILURES as err:
        raise ProblemError(f"{path}: Model(*get_init_inputs()) raised {_describe(err)}") from None
    return Problem(path=path, model=model, inputs=[_move(x, device, dtype) for x in inputs])


def _move(value: Any, device: str, dtype: torch.dtype | None) -> Any:
    import torch

    if not isinstance(value, torch.Tensor):
        return value
    if dtype is not None and value.is_floating_point():
        return value.to(device=device, dtype=dtype)
    return value.to(device)


def parse_dtype(name: str) -> torch.dtype:
    """A dtype from a user's spelling: fp16/float16/half, bf16/bfloat16, fp32/float32/float."""
    import torch

    aliases = {"fp16": "float16", "half": "float16", "bf16": "bfloat16", "fp32": "float32", "float": "float32"}
    dtype = getattr(torch, aliases.get(name, name), None)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ProblemError(f"unknown floating-point dtype {name!r}; use fp16, bf16 or fp32")
    return dtype


def find_problems(target: Path | str) -> list[Path]:
    """A problem file, or every ``*.py`` file in a folder (not starting with ``_``), sorted."""
    target = Path(target)
    if target.is_dir():
        files = sorted(p for p in target.glob("*.py") if not p.name.startswith("_"))
        if not files:
            raise ProblemError(f"{target}: no problem files (*.py) in this folder")
        return files
    if not target.exists():
        raise ProblemError(f"{target}: no such file or folder")
    return [target]
