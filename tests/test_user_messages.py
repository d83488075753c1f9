"""What a user is told when something is wrong or nothing can happen (issue 16, items 3 and 7): bad options reach
the caller as our own one-line error, not as a PyTorch bug; ranges are named; mode tune with no proposer says so
once per compile."""

import logging
import traceback

import pytest
import torch

from aikg_inductor import OptionsError, capture, resolve_options


def test_a_misspelt_option_reaches_the_caller_as_our_error_not_as_a_pytorch_bug():
    compiled = torch.compile(lambda x: x.sin() + 1, backend="aikg", options={"mdoe": "tune"})
    with pytest.raises(OptionsError) as raised:
        compiled(torch.randn(8))
    assert str(raised.value).startswith("aikg: unknown option 'mdoe' in options; valid options: mode, ")
    told = "".join(traceback.format_exception(raised.value))
    assert "BackendCompilerFailed" not in told and "PyTorch" not in told
    assert len(told.splitlines()) < 25  # the traceback ends in our backend, Dynamo's frames are cut


@pytest.mark.parametrize("name, value, allowed", [
    ("margin", -1, "must be from 0 up to (not including) 1; got -1"),
    ("margin", 1, "must be from 0 up to (not including) 1; got 1"),
    ("target_roofline", 2, "must be from 0 up to (not including) 1.5; got 2"),
    ("verify_workers", 0, "must be >= 1; got 0"),
    ("kernel_budget_s", "-1", "must be >= 0; got '-1'"),
])
def test_out_of_range_values_name_the_range(name, value, allowed):
    with pytest.raises(OptionsError) as raised:
        resolve_options({name: value}, environ={})
    assert str(raised.value) == f"option {name!r} {allowed}"


def two_kernels(x):
    return (x.sin() @ x.T).cos()  # the matmul (an extern call) parts the two pointwise kernels


def test_mode_tune_with_no_proposer_warns_once_per_compile_with_the_reasons(tmp_path, monkeypatch, caplog):
    for name in ("AIKG_LLM_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    session, _ = capture(two_kernels, [torch.randn(64, 32)], {"mode": "tune", "cache_dir": str(tmp_path)})
    assert len(session.tasks) >= 2
    warned = [r.getMessage() for r in caplog.records if "mode tune" in r.getMessage()]
    assert len(warned) == 1, warned
    assert "no proposer can search cpp-cpu kernels here" in warned[0]
    assert "tuner: Triton (CUDA) kernels only" in warned[0] and "llm: needs an LLM endpoint" in warned[0]


def test_the_tune_table_keeps_keys_whole_and_says_why_at_100_columns(monkeypatch, capsys):
    from aikg_inductor import cli
    from aikg_inductor.pipeline import TuneOutcome
    from aikg_inductor.search.history import ProposerStatus
    from aikg_inductor.tuning_run import TunedKernel
    from conftest import double, only_task

    task = only_task(double, torch.randn(8))
    status = (ProposerStatus("retrieval", True, "re-offers kernels accepted for similar kernels", searches=False),
              ProposerStatus("tuner", False, "Triton (CUDA) kernels only"),
              ProposerStatus("llm", False, "needs an LLM endpoint: set AIKG_LLM_BASE_URL or OPENAI_BASE_URL"))
    outcome = TuneOutcome(task.key, None, (), "no candidate was offered", 0.2, proposer_status=status)
    rows = [TunedKernel(task, ("softmax_scale", "layernorm_gelu"), outcome),
            TunedKernel(task, ("softmax_scale",), None, "searched before (candidates); --retune to search again")]
    monkeypatch.setenv("COLUMNS", "100")
    cli._print_tune_table(rows)
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 100
    assert sum(f"│ {task.short_key} │" in line for line in lines) == 2  # whole, in the key column
    # The last column, read top to bottom (a narrow column folds words, so compare without spaces).
    result_cells = "".join(line.rsplit("│", 2)[-2] for line in lines if line.count("│") > 2).replace(" ", "")
    why = "no candidate offered; Inductor's kernel kept available: retrieval; not available: tuner (Triton (CUDA) " \
          "kernels only), llm (needs an LLM endpoint: set AIKG_LLM_BASE_URL or OPENAI_BASE_URL)"
    assert why.replace(" ", "") in result_cells
