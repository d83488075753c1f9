import os
import re

import pytest

from aikg_inductor.options import Options, OptionsError, resolve_options


def test_defaults():
    options = resolve_options({}, environ={})
    assert options.mode == "cache" and options.margin == 0.03


def test_unknown_key_lists_the_valid_ones():
    with pytest.raises(OptionsError) as err:
        resolve_options({"mdoe": "tune"}, environ={})
    assert "unknown option 'mdoe'" in str(err.value)
    assert "mode, cache_dir" in str(err.value)


@pytest.mark.parametrize("raw", [{"mode": "fast"}, {"margin": "lots"}, {"margin": 1.5}, {"kernel_budget_s": -1}])
def test_bad_values_name_the_option(raw):
    with pytest.raises(OptionsError, match=next(iter(raw))):
        resolve_options(raw, environ={})


@pytest.mark.parametrize("name, value, told", [
    ("kernel_budget_s", float("nan"), "must be a finite number; got nan"),
    ("margin", "nan", "must be a finite number; got 'nan'"),
    ("target_roofline", float("inf"), "must be a finite number; got inf"),
    ("kernel_budget_candidates", float("inf"), "must be an int; got inf"),
    ("kernel_budget_tokens", "1e999", "must be an int; got '1e999'"),
])
def test_nan_and_infinity_are_refused_naming_the_option(name, value, told):
    # Review 20 (F13): `nan < 0` is false, so nan passed every range check.
    with pytest.raises(OptionsError) as err:
        resolve_options({name: value}, environ={})
    assert str(err.value) == f"option {name!r} {told}"


def test_an_infinite_wall_time_budget_means_no_limit():
    options = resolve_options({"kernel_budget_s": "inf", "run_budget_s": float("inf")}, environ={})
    assert options.kernel_budget_s == options.run_budget_s == float("inf")


def test_a_bad_value_is_blamed_on_the_variable_or_file_that_set_it(tmp_path):
    # Review 20 (F14): AIKG_KERNEL_BUDGET_S=abc was reported as the model file's torch.compile failure.
    with pytest.raises(OptionsError) as err:
        resolve_options({}, environ={"AIKG_KERNEL_BUDGET_S": "abc"})
    assert str(err.value) == "AIKG_KERNEL_BUDGET_S: option 'kernel_budget_s' must be a float; got 'abc'"
    config = tmp_path / "aikg.yaml"
    config.write_text("margin: .nan\n")
    with pytest.raises(OptionsError) as err:
        resolve_options({"config_file": str(config)}, environ={})
    assert str(err.value) == f"{config}: option 'margin' must be a finite number; got nan"
    # A value given over the variable is the one read: the variable's is never looked at.
    assert resolve_options({"kernel_budget_s": 5}, environ={"AIKG_KERNEL_BUDGET_S": "abc"}).kernel_budget_s == 5


def test_precedence_yaml_then_env_then_dict(tmp_path):
    config = tmp_path / "aikg.yaml"
    config.write_text("mode: tune\nmargin: 0.1\nkernel_budget_s: 5\n")
    env = {"AIKG_CONFIG_FILE": str(config), "AIKG_MARGIN": "0.2", "AIKG_LLM_MODEL": "m", "AIKG_VLLM_PYTHON": "x"}
    options = resolve_options({"kernel_budget_s": 7}, environ=env)
    assert (options.mode, options.margin, options.kernel_budget_s, options.llm) == ("tune", 0.2, 7.0, {"model": "m"})


def test_docs_packs_dir_is_a_list_of_directories(tmp_path):
    env = {"AIKG_DOCS_PACKS_DIR": f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}"}
    assert resolve_options({}, environ=env).docs_packs_dir == (tmp_path / "a", tmp_path / "b")
    assert resolve_options({"docs_packs_dir": [str(tmp_path)]}, environ={}).docs_packs_dir == (tmp_path,)
    assert resolve_options({}, environ={}).docs_packs_dir == ()
    with pytest.raises(OptionsError, match="docs_packs_dir"):
        resolve_options({"docs_packs_dir": 3}, environ={})


def test_bad_yaml_file(tmp_path):
    config = tmp_path / "aikg.yaml"
    config.write_text("mode: [unclosed\n")
    with pytest.raises(OptionsError, match="not valid YAML"):
        resolve_options({"config_file": str(config)}, environ={})
    config.write_text("speed: 11\n")
    with pytest.raises(OptionsError, match="unknown option 'speed'"):
        resolve_options({"config_file": str(config)}, environ={})


def test_options_instance_passes_through():
    given = Options(mode="off")
    assert resolve_options(given) is given


def test_llm_settings_ride_in_options_and_reach_the_llm_proposer(tmp_path, monkeypatch):
    from aikg_inductor.pipeline import proposer_status, proposers_for
    from conftest import double, only_task
    from openai_stub import OpenAIStub

    import torch

    for name in ("AIKG_LLM_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    task = only_task(double, torch.randn(8))
    nobody = resolve_options({}, environ={})
    assert proposers_for(task, nobody, None, proposer_status(task, nobody)) == []  # CPU task, no endpoint: nobody
    with OpenAIStub(["unused"]) as stub:  # TEST DOUBLE for an LLM server: the probe lists its models
        options = resolve_options({"llm": {"base_url": stub.url, "model": "m", "transcript_dir": str(tmp_path)}},
                                  environ={})
        (llm,) = proposers_for(task, options, None, proposer_status(task, options))
    assert llm.name == "llm" and llm.client.config.base_url == stub.url
    with pytest.raises(OptionsError, match="'llm' must be a mapping"):
        resolve_options({"llm": "http://x"}, environ={})


def test_only_options_reads_aikg_variables():
    # An AIKG_* name (or prefix) as a string of its own anywhere else is a second reader of the environment;
    # the name inside a message ("set AIKG_LLM_BASE_URL or ...") is not.
    import ast
    from pathlib import Path

    import aikg_inductor

    package = Path(aikg_inductor.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "options.py" and path.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.fullmatch(r"AIKG_[A-Z0-9_]*", node.value):
                found.append(f"{path.relative_to(package)}:{node.lineno}: {node.value!r}")
    assert found == []


def test_inductor_mode_is_one_of_torch_compiles_modes():
    assert resolve_options({}, environ={}).inductor_mode == "default"
    env = {"AIKG_INDUCTOR_MODE": "max-autotune-no-cudagraphs"}
    assert resolve_options({}, environ=env).inductor_mode == "max-autotune-no-cudagraphs"
    with pytest.raises(OptionsError, match="'inductor_mode' must be one of default, reduce-overhead"):
        resolve_options({"inductor_mode": "fast"}, environ={})


def test_every_option_is_documented_in_the_readme_table():
    import dataclasses

    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    missing = [f.name for f in dataclasses.fields(Options)
               if f"| `{f.name}` | `AIKG_{f.name.upper()}" not in readme and f.name != "llm"]
    assert not missing, f"README's option table lacks {missing}"
