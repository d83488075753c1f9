"""The LLM client against real HTTP: a closed port, and the scripted stub server of ``openai_stub`` (a test double
for the LLM, labelled as such there)."""

import json
import pickle
import re
import threading
import time

import pytest

from aikg_inductor.agents import (
    LlmBudgetExceeded,
    LlmClient,
    LlmConfig,
    LlmConfigError,
    LlmReplyError,
    LlmUnavailable,
)
from aikg_inductor.agents.llm_client import LlmDeadlinePassed, deadline
from aikg_inductor.options import resolve_options
from openai_stub import OpenAIStub, closed_port


def client_for(url, tmp_path, sleeps=None, **overrides):
    config = LlmConfig.from_dict(
        {"base_url": url, "model": "stub-model", "transcript_dir": str(tmp_path / "transcripts"),
         "backoff_s": 0.01, **overrides}
    )
    return LlmClient(config, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def ask(client, text="hello", task="task-a"):
    return client.complete(client.request([("user", text)]), task)


def test_config_from_env_prefers_aikg_over_openai_and_dict_over_env(tmp_path):
    env = {"OPENAI_BASE_URL": "http://openai/v1", "OPENAI_API_KEY": "k1", "AIKG_LLM_BASE_URL": "http://local/v1/",
           "AIKG_LLM_ENDPOINT": "completions", "AIKG_LLM_MAX_RETRIES": "5", "AIKG_LLM_MODEL": "env-model",
           "AIKG_OTHER": "ignored"}
    config = LlmConfig.from_options(resolve_options({"llm": {"model": "m"}}, environ=env))
    assert (config.base_url, config.api_key, config.endpoint, config.max_retries, config.model) == (
        "http://local/v1", "k1", "completions", 5, "m")
    with pytest.raises(LlmConfigError, match="'endpoint'.*chat, completions"):
        LlmConfig.from_dict({"endpoint": "embeddings"})
    with pytest.raises(LlmConfigError, match="unknown key.*'bogus'"):
        LlmConfig.from_dict({"bogus": 1})
    with pytest.raises(LlmConfigError, match="'timeout_s'.*float"):
        LlmConfig.from_options(resolve_options({}, environ={"AIKG_LLM_TIMEOUT_S": "soon"}))


@pytest.mark.parametrize("variable, value, told", [
    ("AIKG_LLM_CONCURRENCY", "0", "'concurrency' (AIKG_LLM_CONCURRENCY) in the llm option"),
    ("AIKG_LLM_TIMEOUT_S", "nan", "must be a finite number; got 'nan'"),
    ("AIKG_LLM_TEMPERATURE", "inf", "must be a finite number; got 'inf'"),
])
def test_a_bad_llm_setting_is_an_options_error_naming_its_variable(variable, value, told):
    # Review 20 (F10): LlmConfigError was not an OptionsError, so `aikg` printed its traceback.
    from aikg_inductor.options import OptionsError

    with pytest.raises(OptionsError, match=re.escape(told)):
        LlmConfig.from_options(resolve_options({}, environ={variable: value}))
    unlimited = LlmConfig.from_options(resolve_options({}, environ={"AIKG_LLM_TASK_TIME_BUDGET_S": "inf"}))
    assert unlimited.task_time_budget_s == float("inf")


def test_llm_settings_merge_key_by_key_file_then_env_then_dict(tmp_path):
    config_file = tmp_path / "aikg.yaml"
    config_file.write_text("llm:\n  base_url: http://file/v1\n  model: file-model\n  concurrency: 3\n")
    env = {"AIKG_CONFIG_FILE": str(config_file), "AIKG_LLM_MODEL": "env-model", "OPENAI_API_KEY": "k1",
           "OPENAI_BASE_URL": "http://openai/v1"}
    config = LlmConfig.from_options(resolve_options({"llm": {"concurrency": 2}}, environ=env))
    assert (config.base_url, config.model, config.concurrency, config.api_key) == (
        "http://file/v1", "env-model", 2, "k1")


def test_llm_settings_travel_inside_the_options(tmp_path):
    # Ray workers get the driver's Options pickled, the background worker as JSON with an empty environment: the
    # driver's AIKG_LLM_* settings must be inside them, not left to each process's own environment.
    from aikg_inductor.background import _options_json

    env = {"AIKG_LLM_BASE_URL": "http://llm.internal:8000/v1", "AIKG_LLM_CONCURRENCY": "2"}
    options = resolve_options({"cache_dir": str(tmp_path), "llm": {"model": "m"}}, environ=env)
    for shipped in (pickle.loads(pickle.dumps(options)), resolve_options(json.loads(_options_json(options)),
                                                                           environ={})):
        on_worker = LlmConfig.from_options(shipped)
        assert (on_worker.base_url, on_worker.concurrency, on_worker.model) == ("http://llm.internal:8000/v1", 2, "m")
    assert resolve_options({"cache_dir": str(tmp_path)}, environ={}).llm is None


def test_no_endpoint_configured_is_unavailable(tmp_path):
    client = LlmClient(LlmConfig(transcript_dir=tmp_path, model="m"))
    with pytest.raises(LlmUnavailable, match="no LLM endpoint configured"):
        ask(client)


def test_endpoint_down_retries_with_exponential_backoff_then_unavailable(tmp_path):
    sleeps = []
    client = client_for(f"http://127.0.0.1:{closed_port()}/v1", tmp_path, sleeps, max_retries=3, backoff_s=0.5,
                        backoff_max_s=1.5)
    with pytest.raises(LlmUnavailable, match="failed after 4 attempt.*connection failed"):
        ask(client)
    assert sleeps == [0.5, 1.0, 1.5]  # doubling, capped
    assert client.usage_for("task-a").failures == 1 and client.run_usage.calls == 0


def test_rate_limit_429_is_retried_then_succeeds(tmp_path):
    sleeps = []
    with OpenAIStub([429, 429, "fine"]) as stub:
        reply = ask(client_for(stub.url, tmp_path, sleeps))
    assert reply.text == "fine" and len(stub.requests) == 3 and len(sleeps) == 2


def test_server_errors_exhaust_retries(tmp_path):
    with OpenAIStub([503]) as stub:
        with pytest.raises(LlmUnavailable, match="failed after 3 attempt.*HTTP 503"):
            ask(client_for(stub.url, tmp_path, max_retries=2))
    assert len(stub.requests) == 3


def test_client_errors_are_not_retried(tmp_path):
    with OpenAIStub([401]) as stub:
        with pytest.raises(LlmUnavailable, match="refused.*HTTP 401"):
            ask(client_for(stub.url, tmp_path))
    assert len(stub.requests) == 1


def test_timeout_is_retried_then_unavailable(tmp_path):
    with OpenAIStub([("delay", 2.0, "late")]) as stub:
        with pytest.raises(LlmUnavailable, match="timed out"):
            ask(client_for(stub.url, tmp_path, timeout_s=0.2, max_retries=1))
    assert len(stub.requests) == 2


def test_no_request_waits_past_the_deadline_of_the_work_it_serves(tmp_path):
    """A slow endpoint (a small model on a few cores takes tens of seconds a call) holds a kernel's search no longer
    than its wall-time budget: the request is given up at the deadline, not after its timeout and retries, and none
    is sent once the deadline has passed."""
    with OpenAIStub([("delay", 3.0, "late")] * 3) as stub:
        client = client_for(stub.url, tmp_path, timeout_s=30, max_retries=2)
        started = time.monotonic()
        with deadline(started + 0.5), pytest.raises(LlmDeadlinePassed, match="wall-time budget"):
            ask(client)
        assert time.monotonic() - started < 2.5 and len(stub.requests) == 1
        with deadline(time.monotonic() - 1), pytest.raises(LlmDeadlinePassed):
            ask(client)
        assert len(stub.requests) == 1
        assert client.usage_for("task-a").seconds >= 0.5  # the wait counts against the task's time budget


@pytest.mark.parametrize(
    "body, match",
    [("   ", "empty reply"), ({"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []},
                              "no choices")],
)
def test_empty_or_malformed_reply_is_a_reply_error(tmp_path, body, match):
    with OpenAIStub([body]) as stub:
        with pytest.raises(LlmReplyError, match=match):
            ask(client_for(stub.url, tmp_path))


@pytest.mark.parametrize("body", [b"\x00\xffnot json at all {{{", b"<html>login</html>", b"[1, 2]", b"null"],
                         ids=["undecodable", "html", "json-list", "json-null"])
def test_a_200_reply_that_is_not_an_api_object_is_a_reply_error_and_not_retried(tmp_path, body):
    # Review 20 (F8): the SDK raised UnicodeDecodeError / JSONDecodeError / AttributeError out of the client.
    with OpenAIStub([body]) as stub:
        with pytest.raises(LlmReplyError, match=f"reply from {stub.url}"):
            ask(client_for(stub.url, tmp_path, max_retries=2))
    assert len(stub.requests) == 1


@pytest.mark.parametrize("models_reply", [b"\x00\xffnot json at all {{{", b"not json", b'"a string"',
                                          {"object": "list", "data": 5}, {"object": "list", "data": [5]}])
def test_a_model_list_that_is_not_one_is_an_llm_error(tmp_path, models_reply):
    with OpenAIStub(["unused"], models_reply=models_reply) as stub:
        client = client_for(stub.url, tmp_path, model="")
        with pytest.raises(LlmReplyError, match=f"reply from {stub.url} to GET /models"):
            client.ping()


def test_record_then_replay_without_server(tmp_path):
    with OpenAIStub(["recorded answer"]) as stub:
        first = ask(client_for(stub.url, tmp_path))
    assert not first.replayed and len(client_for(stub.url, tmp_path).store) == 1
    replay = client_for(stub.url, tmp_path, transcript_mode="replay")  # the server is gone now
    again = ask(replay)
    assert again.replayed and again.text == "recorded answer" and again.tokens == first.tokens
    with pytest.raises(LlmUnavailable, match="replay mode: no recorded reply"):
        ask(replay, text="a prompt never recorded")
    record = client_for(stub.url, tmp_path).store.records()[0]
    assert record["request"]["messages"] == [["user", "hello"]] and record["meta"]["task"] == "task-a"


def test_accounting_per_task_and_run_and_token_budget(tmp_path):
    with OpenAIStub(["a"]) as stub:
        client = client_for(stub.url, tmp_path, task_token_budget=200)
        ask(client, "one", task="t1")
        ask(client, "two", task="t2")
        ask(client, "three", task="t1")  # t1 now at 220 tokens: over its budget
        with pytest.raises(LlmBudgetExceeded, match="token budget spent"):
            ask(client, "four", task="t1")
    assert client.usage_for("t1").tokens == 220 and client.usage_for("t2").calls == 1
    assert client.run_usage.calls == 3 and client.run_usage.prompt_tokens == 300
    assert len(stub.requests) == 3  # the over-budget request never went out


def test_concurrency_limit_holds_requests_in_flight(tmp_path):
    with OpenAIStub([("delay", 0.2, "ok")]) as stub:
        client = client_for(stub.url, tmp_path, concurrency=1, transcript_mode="off")
        threads = [threading.Thread(target=ask, args=(client, f"q{i}")) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(stub.requests) == 3 and stub.max_in_flight == 1


def test_a_process_wide_request_gate_limits_requests_across_clients(tmp_path):
    # What a cluster worker installs (a slot of the cluster's LLM limit); here a plain semaphore of one.
    from aikg_inductor.agents.llm_client import set_request_gate

    shared = threading.BoundedSemaphore(1)
    set_request_gate(lambda: shared)
    try:
        with OpenAIStub([("delay", 0.2, "ok")]) as stub:
            clients = [client_for(stub.url, tmp_path, concurrency=4, transcript_mode="off") for _ in range(2)]
            threads = [threading.Thread(target=ask, args=(clients[i % 2], f"q{i}")) for i in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        set_request_gate(None)
    assert len(stub.requests) == 4 and stub.max_in_flight == 1


def test_model_is_discovered_and_completions_endpoint_joins_messages(tmp_path):
    with OpenAIStub(["continued"], model="served-model") as stub:
        client = client_for(stub.url, tmp_path, model="", endpoint="completions")
        assert client.ping() == "served-model"
        reply = client.complete(client.request([("system", "S"), ("user", "U")], stop=("END",)), "t")
    assert reply.text == "continued"
    assert stub.requests[0]["path"].endswith("/completions") and stub.requests[0]["prompt"] == "S\n\nU"
    assert stub.requests[0]["stop"] == ["END"]
