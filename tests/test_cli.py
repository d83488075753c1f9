"""The aikg command line, run as a user would run it (a subprocess of the installed console script)."""

import json
import subprocess
import sys

import pytest

from conftest import REPO


def aikg(*args, env_extra=None, **kwargs):
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "aikg_inductor.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=300, **kwargs)


def test_inspect_json_lists_every_kernel_with_origins_layouts_and_roles(tmp_path):
    result = aikg("inspect", "examples/bias_add_relu_colsum.py", "--json", "--reps", "5",
                  "--save-tasks", str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kernels"], "no kernels listed"
    for kernel in report["kernels"]:
        assert kernel["origins"] and kernel["baseline_median_s"] > 0
        roles = {arg["role"] for arg in kernel["args"]}
        assert {"in", "out"} <= roles
        for arg in kernel["args"]:
            if arg["role"] != "size":
                assert set(arg["layout"]) == {"size", "stride", "dtype", "offset"}
        assert (tmp_path / f"{kernel['key']}.json").is_file()
    ops = {op for kernel in report["kernels"] for op in kernel["origins"]}
    assert {"aten.add.Tensor", "aten.relu.default", "aten.sum.dim_IntList"} <= ops


def test_inspect_table_and_show():
    table = aikg("inspect", "examples/softmax_scale.py", "--reps", "5")
    assert table.returncode == 0, table.stderr
    assert "fused kernel(s) from Inductor" in table.stdout
    assert "dtype[shape]" in table.stdout  # not eaten as rich markup
    assert "median of 5 runs" in table.stdout and "Indicative only" in table.stdout
    (kernel,) = json.loads(aikg("inspect", "examples/softmax_scale.py", "--json", "--reps", "1").stdout)["kernels"]
    shown = aikg("inspect", "examples/softmax_scale.py", "--show", kernel["key"][:8])
    assert shown.returncode == 0, shown.stderr
    # `--show KEY > cand.cpp` gives the source alone, a candidate to edit; the label goes to stderr
    assert shown.stdout == kernel["source"] + "\n" and 'extern "C"' in shown.stdout
    assert f"# kernel {kernel['key']} (cpp-cpu, " in shown.stderr


BAD_FILES = {
    "no_model.py": ("import torch\ndef get_inputs():\n    return [torch.randn(2)]\n", "no `class Model(nn.Module)`"),
    "raises.py": ("import torch\nclass Model(torch.nn.Module):\n    def forward(self, x):\n        return x\n"
                  "def get_inputs():\n    raise ValueError('no data')\n", "get_inputs() raised ValueError: no data"),
    "syntax.py": ("def broken(:\n", "cannot be imported: SyntaxError"),
    # Review 20 (F15): a forward that fails shape propagation printed torch's logged traceback (inspect: its own).
    "forward_shape.py": ("import torch\nclass Model(torch.nn.Module):\n    def forward(self, x):\n"
                         "        return x @ x[:3]\ndef get_inputs():\n    return [torch.randn(8, 8)]\n",
                         "got RuntimeError('a and b must have same reduction dim, but got [8, 8] X [3, 8].')"),
    "forward_raises.py": ("import torch\nclass Model(torch.nn.Module):\n    def forward(self, x):\n"
                          "        raise ValueError('forward is broken')\ndef get_inputs():\n"
                          "    return [torch.randn(8)]\n", "torch.compile failed: ValueError: forward is broken"),
    # Review 20 (F9): sys.exit() in the user's file ended the command with its code and no aikg line.
    "exits_at_import.py": ("import sys\nsys.exit(3)\n", "cannot be imported: SystemExit: sys.exit(3) was called"),
    "get_inputs_exits.py": ("import sys, torch\nclass Model(torch.nn.Module):\n    def forward(self, x):\n"
                            "        return x\ndef get_inputs():\n    sys.exit('gave up')\n",
                            "get_inputs() raised SystemExit: sys.exit('gave up') was called"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_problem_files_give_one_line_and_exit_2(tmp_path, name):
    text, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    result = aikg("inspect", str(path))
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_file_and_bad_option_value_exit_2(tmp_path):
    missing = aikg("inspect", str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad_env = aikg("inspect", "examples/softmax_scale.py", env_extra={"AIKG_MARGIN": "plenty"})
    assert bad_env.returncode == 2 and "option 'margin' must be a float" in bad_env.stderr


@pytest.mark.parametrize("args, env, told", [
    # Review 20 (F10): a traceback (LlmConfigError), exit 1.
    (("tune", "examples/softmax_scale.py"), {"AIKG_LLM_CONCURRENCY": "0", "AIKG_LLM_BASE_URL": "http://127.0.0.1:9/v1"},
     "aikg: error: 'concurrency' (AIKG_LLM_CONCURRENCY) in the llm option"),
    # Review 20 (F13): nan was taken as a budget and a margin.
    (("tune", "examples/softmax_scale.py", "--budget-s", "nan"), {},
     "aikg: error: option 'kernel_budget_s' must be a finite number; got nan"),
    (("tune", "examples/softmax_scale.py", "--margin", "nan"), {},
     "aikg: error: option 'margin' must be a finite number; got nan"),
    # Review 20 (F14): the variable, not the model file, is what is wrong.
    (("tune", "examples/softmax_scale.py"), {"AIKG_KERNEL_BUDGET_S": "abc"},
     "aikg: error: AIKG_KERNEL_BUDGET_S: option 'kernel_budget_s' must be a float; got 'abc'"),
])
def test_bad_option_values_for_tune_are_one_line_and_exit_2(tmp_path, args, env, told):
    result = aikg(*args, "--cache-dir", str(tmp_path / "cache"), env_extra=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(told), result.stderr


@pytest.mark.parametrize("args, told", [
    (("inspect", "examples/softmax_scale.py", "--reps", "-1"), "argument --reps: must be >= 1; got '-1'"),
    (("verify", "--task", "t", "--candidate", "c", "--margin", "nan"),
     "argument --margin: must be a finite number; got 'nan'"),
    (("verify", "--task", "t", "--candidate", "c", "--margin", "-2"),
     "argument --margin: must be from -1 up to (not including) 1; got '-2'"),
    (("verify", "--task", "t", "--candidate", "c", "--timeout", "inf"),
     "argument --timeout: must be a finite number; got 'inf'"),
    (("cache", "prune", "--max-size", "1e999"), "argument --max-size: not a size: '1e999'"),
])
def test_bad_numbers_for_flags_are_refused_by_argparse_naming_the_flag(tmp_path, args, told):
    result = aikg(*args, env_extra={"AIKG_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert told in result.stderr.strip().splitlines()[-1]


def test_a_device_this_torch_cannot_use_is_one_line_and_exit_2():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this torch has a GPU: --device cuda is valid here")
    result = aikg("inspect", "examples/softmax_scale.py", "--device", "cuda")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"aikg: error: --device cuda: this torch build has no CUDA (torch {torch.__version__}); install a CUDA build "
        "of torch or use --device cpu"]
    assert aikg("tune", "examples/softmax_scale.py", "--device", "gpu").stderr.startswith(
        "aikg: error: --device gpu: not a device (use cpu or cuda)")


def test_help_teaches_the_options():
    result = aikg("--help")
    assert result.returncode == 0
    assert "AIKG_MODE" in result.stdout and "inspect" in result.stdout


def test_doctor_says_what_proposes_on_this_machine_without_an_llm(tmp_path):
    import os

    import torch

    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIKG_", "OPENAI_"))}
    result = subprocess.run([sys.executable, "-m", "aikg_inductor.cli", "doctor"], capture_output=True, text=True,
                            cwd=REPO, env={**environ, "AIKG_CACHE_DIR": str(tmp_path / "cache")}, timeout=300)
    [llm] = [line for line in result.stdout.splitlines() if line.startswith("LLM:")]
    assert llm.startswith("LLM: no endpoint configured (set AIKG_LLM_BASE_URL or OPENAI_BASE_URL); ")
    if torch.cuda.is_available():
        assert "the config tuner still proposes for Triton (CUDA) kernels" in llm
    else:
        assert "no GPU here, so no proposer searches" in llm and "tuner" not in llm
