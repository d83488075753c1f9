"""One client for any OpenAI-compatible endpoint (vLLM, llama.cpp server, a hosted API), for all agents.

It adds what the agents need around the ``openai`` SDK: retries with exponential backoff on transient failures, a
limit on requests in flight, token and time accounting per task and per run, and the transcript store (``record``
writes every exchange, ``replay`` answers only from it). Failures surface as ``LlmUnavailable`` (no answer could be
had) or ``LlmReplyError`` (an answer came but is unusable); callers log them and keep Inductor's kernel.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import threading
import time
from typing import Any, Callable, ContextManager, Iterator, Sequence

import openai

from .config import LlmConfig
from .transcript import LlmReply, LlmRequest, TranscriptStore

log = logging.getLogger(__name__)


class LlmError(RuntimeError):
    pass


class LlmUnavailable(LlmError):
    """No usable answer from the endpoint: not configured, down, timing out, rate-limited past the retries,
    refusing the request, or (replay mode) no recorded reply."""


class LlmReplyError(LlmError):
    """The endpoint answered, but the answer is malformed or empty."""


class LlmBudgetExceeded(LlmError):
    """The task's token or time budget is spent; no request was sent."""


class LlmDeadlinePassed(LlmError):
    """The wall-clock deadline of the work a request serves (``deadline``) came before its answer: the request was
    given up, or not sent. Not the endpoint's fault: a later run with time left asks again."""


# The time (``time.monotonic``) by which the work a request serves must end, set around a search step by
# ``deadline``: a slow endpoint (a small model on a few cores takes tens of seconds a call) must not hold a kernel's
# search past its wall-time budget through its timeouts and retries.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("aikg_llm_deadline", default=None)


@contextlib.contextmanager
def deadline(at: float | None) -> Iterator[None]:
    """Requests sent inside wait for an answer until ``at`` at the latest (None: only their own timeouts)."""
    token = _deadline.set(at)
    try:
        yield
    finally:
        _deadline.reset(token)


def _seconds_left(what: str) -> float | None:
    """Seconds until the deadline, or None without one; raises LlmDeadlinePassed when it has passed."""
    at = _deadline.get()
    if at is None:
        return None
    left = at - time.monotonic()
    if left <= 0:
        raise LlmDeadlinePassed(f"{what}: the wall-time budget ran out before an answer came")
    return left


@dataclasses.dataclass
class Usage:
    calls: int = 0
    failures: int = 0
    replayed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, reply: LlmReply) -> None:
        self.calls += 1
        self.replayed += int(reply.replayed)
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        self.seconds += reply.seconds


# Held around every request this process sends, besides each client's own slots: a limit shared with other
# processes. A cluster run (ray_tuning.py) sets one in each worker, so the endpoint sees at most its concurrency in
# flight across all hosts. The default holds nothing.
_request_gate: Callable[[], ContextManager[Any]] = contextlib.nullcontext


def set_request_gate(gate: Callable[[], ContextManager[Any]] | None) -> None:
    """Make every ``LlmClient`` of this process enter ``gate()`` around each request it sends (None: no gate)."""
    global _request_gate
    _request_gate = gate or contextlib.nullcontext


def _retryable(err: Exception) -> bool:
    # APITimeoutError is a subclass of APIConnectionError.
    if isinstance(err, openai.APIConnectionError):
        return True
    if isinstance(err, openai.APIStatusError):
        return err.status_code == 429 or err.status_code >= 500
    return False


def estimate_tokens(text: str) -> int:
    """Rough token count (about four characters a token) for servers that report no usage."""
    return max(1, len(text) // 4)


class LlmClient:
    def __init__(self, config: LlmConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.store = TranscriptStore(self.config.transcripts)
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(self.config.concurrency)
        self._lock = threading.Lock()
        self._model: str | None = self.config.model or None
        self.run_usage = Usage()
        self.task_usage: dict[str, Usage] = {}
        self._replay_calls: dict[str, int] = {}  # replay: calls so far per request key (the n-th gets reply n)
        self._sdk: openai.OpenAI | None = None

    # ------------------------------------------------------------------ accounting

    def usage_for(self, task_key: str) -> Usage:
        with self._lock:
            return self.task_usage.setdefault(task_key, Usage())

    def check_budget(self, task_key: str) -> None:
        usage = self.usage_for(task_key)
        if usage.tokens >= self.config.task_token_budget:
            raise LlmBudgetExceeded(
                f"token budget spent ({usage.tokens} of {self.config.task_token_budget} tokens for this task)"
            )
        if usage.seconds >= self.config.task_time_budget_s:
            raise LlmBudgetExceeded(
                f"time budget spent ({usage.seconds:.1f} of {self.config.task_time_budget_s:.0f} s for this task)"
            )

    def _account(self, task_key: str, reply: LlmReply | None, seconds: float = 0.0) -> None:
        with self._lock:
            usage = self.task_usage.setdefault(task_key, Usage())
            for u in (usage, self.run_usage):
                if reply is None:
                    # Time lost to a failing endpoint counts against the task's time budget too.
                    u.failures += 1
                    u.seconds += seconds
                else:
                    u.add(reply)

    # ------------------------------------------------------------------ requests

    @property
    def sdk(self) -> openai.OpenAI:
        if self.config.base_url is None:
            raise LlmUnavailable("no LLM endpoint configured (set AIKG_LLM_BASE_URL or OPENAI_BASE_URL)")
        if self._sdk is None:
            # Retries are ours (to log and account them), so the SDK's own are off.
            self._sdk = openai.OpenAI(
                base_url=self.config.base_url,
                api_key=self.config.api_key or "not-needed",
                timeout=self.config.timeout_s,
                max_retries=0,
            )
        return self._sdk

    def model(self) -> str:
        """The configured model, or the first one the endpoint lists."""
        if self._model is None:
            if self.config.transcript_mode == "replay":
                raise LlmUnavailable("replay mode needs an explicit model name (AIKG_LLM_MODEL)")
            models = self._with_retries(lambda timeout: self.sdk.models.list(timeout=timeout).data, "GET /models")
            if not models:
                raise LlmUnavailable(f"the endpoint {self.config.base_url} serves no model")
            self._model = self._first_model_id(models)
        return self._model

    def _first_model_id(self, models: Any) -> str:
        # The SDK hands back whatever JSON the endpoint sent under "data": check it is a list of models.
        first = models[0] if isinstance(models, list) else None
        model_id = getattr(first, "id", None)
        if not isinstance(model_id, str) or not model_id:
            raise LlmReplyError(f"malformed reply from {self.config.base_url} to GET /models: no model list")
        return model_id

    def request(
        self,
        messages: Sequence[tuple[str, str]],
        stop: Sequence[str] = (),
        max_tokens: int | None = None,
        temperature: float | None = None,
        prefill: str = "",
    ) -> LlmRequest:
        """The request for ``messages`` (role, content) shaped for the configured endpoint kind. ``prefill`` is
        where a base model on the completions endpoint starts writing (an opening fence, a sketch header); a chat
        request never carries it, so no chat prompt ends on an open fence."""
        common = dict(
            model=self.model(),
            max_tokens=max_tokens or self.config.max_tokens,
            temperature=self.config.temperature if temperature is None else temperature,
            stop=tuple(stop),
        )
        if self.config.endpoint == "chat":
            return LlmRequest(endpoint="chat", messages=tuple(messages), **common)
        # A base model continues text: the messages become one document, the last one's end is where it writes.
        prompt = "\n\n".join(content for _, content in messages) + ("\n\n" + prefill if prefill else "")
        return LlmRequest(endpoint="completions", prompt=prompt, **common)

    def complete(self, request: LlmRequest, task_key: str = "", meta: dict[str, Any] | None = None) -> LlmReply:
        """Send ``request`` (or answer it from the store in replay mode), account for it, record it. A reply cut at
        ``max_tokens`` (``finish_reason == "length"``: a reasoning model still thinking, a long kernel) is asked
        again once with twice the budget; both calls are accounted and recorded."""
        reply = self._complete_once(request, task_key, meta)
        if reply.finish_reason == "length":
            larger = dataclasses.replace(request, max_tokens=request.max_tokens * 2)
            log.info("aikg: llm reply cut at %d tokens; asking again with %d", request.max_tokens, larger.max_tokens)
            cut = reply
            reply = self._complete_once(larger, task_key, meta)
            # The reply cost both calls: callers that keep their own accounts (a lane's budget) see the sum.
            reply = dataclasses.replace(reply, prompt_tokens=reply.prompt_tokens + cut.prompt_tokens,
                                        completion_tokens=reply.completion_tokens + cut.completion_tokens)
        if not reply.text.strip():
            raise LlmReplyError(f"empty reply from {self.config.base_url or 'the transcript'} "
                                f"(finish_reason={reply.finish_reason})")
        return reply

    def _complete_once(self, request: LlmRequest, task_key: str, meta: dict[str, Any] | None) -> LlmReply:
        self.check_budget(task_key)
        mode = self.config.transcript_mode
        if mode == "replay":
            key = request.key()
            with self._lock:
                n = self._replay_calls.get(key, 0)
                self._replay_calls[key] = n + 1
            reply = self.store.get(request, n)
            if reply is None:
                self._account(task_key, None)
                raise LlmUnavailable(
                    f"replay mode: no recorded reply for call {n} of request {key[:16]} in {self.store.directory}"
                )
            self._account(task_key, reply)
            return reply
        start = time.monotonic()
        try:
            reply = self._send(request)
        except LlmError:
            self._account(task_key, None, time.monotonic() - start)
            raise
        self._account(task_key, reply)
        if mode == "record":
            self.store.put(request, reply, {"task": task_key, **(meta or {})})
        return reply

    def _send(self, request: LlmRequest) -> LlmReply:
        start = time.monotonic()
        with self._slot(), _request_gate():
            if request.endpoint == "chat":
                response = self._with_retries(
                    lambda timeout: self.sdk.chat.completions.create(
                        model=request.model,
                        messages=[{"role": r, "content": c} for r, c in request.messages],
                        max_tokens=request.max_tokens,
                        temperature=request.temperature,
                        stop=list(request.stop) or None,
                        timeout=timeout,
                    ),
                    "chat completion",
                )
            else:
                response = self._with_retries(
                    lambda timeout: self.sdk.completions.create(
                        model=request.model,
                        prompt=request.prompt,
                        max_tokens=request.max_tokens,
                        temperature=request.temperature,
                        stop=list(request.stop) or None,
                        timeout=timeout,
                    ),
                    "completion",
                )
        return self._reply_from(request, response, time.monotonic() - start)

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        """One of the client's request slots, waited for no longer than the deadline allows."""
        left = _seconds_left("waiting for a request slot")
        if not self._slots.acquire(timeout=left):  # None: as long as it takes
            raise LlmDeadlinePassed("waiting for a request slot: the wall-time budget ran out first")
        try:
            yield
        finally:
            self._slots.release()

    def _reply_from(self, request: LlmRequest, response: Any, seconds: float) -> LlmReply:
        choices = getattr(response, "choices", None)
        if not choices or not isinstance(choices, list):
            raise LlmReplyError(f"malformed reply from {self.config.base_url}: no choices")
        choice = choices[0]
        if request.endpoint == "chat":
            message = getattr(choice, "message", None)
            text = getattr(message, "content", None)
        else:
            text = getattr(choice, "text", None)
        if text is None:
            text = ""  # a reasoning model cut off while thinking sends only reasoning_content: asked again above
        if not isinstance(text, str):
            raise LlmReplyError(f"malformed reply from {self.config.base_url}: the text is {type(text).__name__}")
        usage = getattr(response, "usage", None)
        prompt_text = request.prompt or "".join(c for _, c in request.messages)
        return LlmReply(
            text=text,
            model=getattr(response, "model", None) or request.model,
            prompt_tokens=getattr(usage, "prompt_tokens", None) or estimate_tokens(prompt_text),
            completion_tokens=getattr(usage, "completion_tokens", None) or estimate_tokens(text),
            finish_reason=getattr(choice, "finish_reason", None),
            seconds=seconds,
        )

    def _with_retries(self, call: Callable[[float], Any], what: str) -> Any:
        """``call(timeout)`` until it answers, retrying what may pass (timeouts, 429, 5xx); no attempt waits past
        the deadline (``deadline``), and none starts after it."""
        attempts = self.config.max_retries + 1
        for attempt in range(1, attempts + 1):
            left = _seconds_left(what)
            timeout = self.config.timeout_s if left is None else min(self.config.timeout_s, left)
            try:
                return call(timeout)
            except _UNREADABLE_REPLY as err:
                # Not retried: an endpoint that answers 200 with a body that is not an API reply (a proxy's login
                # page, a different service on the port) answers the same way again.
                raise LlmReplyError(
                    f"unreadable reply from {self.config.base_url} to {what}: not the JSON object an "
                    f"OpenAI-compatible API sends ({type(err).__name__}: {_one_line(str(err))})"
                ) from err
            except openai.OpenAIError as err:
                if not _retryable(err):
                    raise LlmUnavailable(f"{what} refused by {self.config.base_url}: {_describe(err)}") from err
                if isinstance(err, openai.APITimeoutError):
                    _seconds_left(what)  # a timeout the deadline set is the deadline's, not the endpoint's
                if attempt == attempts:
                    raise LlmUnavailable(
                        f"{what} failed after {attempts} attempt(s) at {self.config.base_url}: {_describe(err)}"
                    ) from err
                delay = min(self.config.backoff_s * 2 ** (attempt - 1), self.config.backoff_max_s)
                log.warning("aikg: llm %s: %s; retry %d in %.1f s", what, _describe(err), attempt, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")

    def ping(self) -> str:
        """The model that answers at the endpoint; raises LlmUnavailable (for ``aikg doctor``)."""
        self._model = self.config.model or None
        return self.model()


# What the SDK raises (besides its own OpenAIError) when a 200 reply is not the JSON object it expects: a body that
# does not decode (UnicodeDecodeError, json.JSONDecodeError: ValueErrors), or JSON of another shape (the SDK then
# calls model methods on a list or str: AttributeError, TypeError).
_UNREADABLE_REPLY = (ValueError, AttributeError, TypeError)


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _describe(err: Exception) -> str:
    if isinstance(err, openai.APITimeoutError):
        return "request timed out"
    if isinstance(err, openai.APIStatusError):
        return f"HTTP {err.status_code}"
    if isinstance(err, openai.APIConnectionError):
        cause = err.__cause__ or err
        return f"connection failed ({type(cause).__name__}: {cause})"
    return f"{type(err).__name__}: {err}"
