"""The local LLM runtime: one GGUF model (llama.cpp via xllamacpp) shared by every request.

The API other modules call (``services.llm``)::

    text = services.llm.complete(
        [{"role": "system", "content": "..."}, {"role": "user", "content": "..."}],
        max_tokens=300,
        json_schema=None,        # a JSON schema: output is constrained to it (grammar sampling)
        client=principal.limit_key,  # whose request: waiting requests are served round-robin by client
    )
    data = services.llm.complete_json(messages, MyPydanticModel, max_tokens=400)  # parsed + validated
    result = services.llm.run(messages, ...)  # a Completion: text, token counts, finish reason
    for piece in services.llm.stream(messages, ...):  # str pieces as generated, then the Completion
        ...
    services.llm.check_capacity()  # 503 (LLMBusy) at once if the queue is full: call before
                                   # costly preparation of a multi-call request
    n = services.llm.count_tokens(text)
    services.llm.context_tokens     # usable context per request (prompt + output)
    services.llm.model_id           # id of the model in use (for responses)

Errors: ``LLMBusy`` (queue full or no slot in time → HTTP 503), ``LLMTimeout`` (generation ran past
``llm_timeout_s`` → 503), ``LLMOutputError`` (structured output invalid or cut short → 503),
``ContextOverflow`` (prompt + max_tokens do not fit → 400 for the caller to explain),
``ModelNotInstalled`` (→ 400 via the app's handler). The model loads on the first call, through
the model pool (which unloads it when idle, never during a call).
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from vocable.config import Settings
from vocable.device import detect_device
from vocable.registry.llm import FAMILY, LLMRegistry, LLMSpec
from vocable.registry.pool import ModelPool

log = logging.getLogger("vocable.llm.runtime")

# llama.cpp's CPU build runs its threads with OpenMP. Busy-waiting OpenMP threads collapse when the
# cores are shared (measured here: 1 token/s instead of 10 with other work on the machine);
# passive waiting costs little when they are not. Set before any OpenMP runtime loads; an
# operator's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

Message = dict[str, str]
M = TypeVar("M", bound=BaseModel)


class LLMError(Exception):
    """The LLM could not serve the request (busy, timed out, unusable output)."""


class LLMBusy(LLMError):
    def __init__(self, message: str, retry_after: int = 5):
        super().__init__(message)
        self.retry_after = retry_after


class LLMTimeout(LLMError):
    pass


class LLMOutputError(LLMError):
    pass


class ContextOverflow(LLMError):
    """The input does not fit the model's context: the caller's to shorten."""


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" | "length"
    prompt_seconds: float
    generation_seconds: float
    queued_seconds: float


class FairScheduler:
    """Bounded slots served round-robin across clients, so one client's burst (or a long
    map-reduce made of many calls) cannot starve others; a full queue refuses at once."""

    def __init__(self, slots: int, max_waiting: int):
        self.slots = max(1, slots)
        self.max_waiting = max(0, max_waiting)
        self._cond = threading.Condition()
        self._running = 0
        self._waiting: OrderedDict[str, deque[list[bool]]] = OrderedDict()
        self._n_waiting = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._n_waiting

    def check(self) -> None:
        """Raise LLMBusy now if a new request would be refused."""
        with self._cond:
            busy = self._running >= self.slots
            if busy and self._n_waiting >= self.max_waiting:
                raise LLMBusy("The language model queue is full; retry shortly.")

    @contextmanager
    def slot(self, client: str, timeout: float) -> Iterator[float]:
        """Hold one slot for the block; yields the seconds spent waiting for it."""
        started = time.monotonic()
        with self._cond:
            if self._running < self.slots and not self._n_waiting:
                self._running += 1
            else:
                if self._n_waiting >= self.max_waiting:
                    raise LLMBusy("The language model queue is full; retry shortly.")
                ticket = [False]
                self._waiting.setdefault(client, deque()).append(ticket)
                self._n_waiting += 1
                deadline = started + timeout
                while not ticket[0]:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._cond.wait(left):
                        if ticket[0]:
                            break
                        self._drop(client, ticket)
                        raise LLMBusy("The language model is busy; no slot became free in time.")
        try:
            yield time.monotonic() - started
        finally:
            with self._cond:
                self._running -= 1
                self._grant()

    def _drop(self, client: str, ticket: list[bool]) -> None:
        queue = self._waiting.get(client)
        if queue is not None and ticket in queue:
            queue.remove(ticket)
            self._n_waiting -= 1
            if not queue:
                del self._waiting[client]

    def _grant(self) -> None:
        while self._running < self.slots and self._waiting:
            client, queue = next(iter(self._waiting.items()))
            ticket = queue.popleft()
            self._n_waiting -= 1
            del self._waiting[client]
            if queue:  # this client goes to the back of the line
                self._waiting[client] = queue
            ticket[0] = True
            self._running += 1
        self._cond.notify_all()


@dataclass
class LoadedLLM:
    """What the pool holds for the LLM family: the embedded llama.cpp server and its access key."""

    spec: LLMSpec
    server: Any
    http_key: str  # the server also listens on a loopback port, locked with this key


class LLMExecutor:
    """The LLM family's executor; safe to call from any thread. Blocking calls: run them off the
    event loop. ``pool``: the process's model pool (``Services.create`` passes it); without one
    the executor keeps a pool of its own."""

    def __init__(self, registry: LLMRegistry, settings: Settings, pool: ModelPool | None = None):
        self.registry = registry
        self.settings = settings
        self.pool = pool if pool is not None else ModelPool(settings.model_idle_unload_s)
        self.scheduler = FairScheduler(settings.llm_parallel, settings.llm_queue_size)
        self._spec: LLMSpec | None = None  # the model this executor last loaded
        self.load_seconds = 0.0

    # -- model ------------------------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self._spec.id if self._spec else self.registry.default_model(self.settings.llm_model)

    @property
    def spec(self) -> LLMSpec:
        spec = self._spec or self.registry.get(self.model_id)
        assert spec is not None
        return spec

    @property
    def context_tokens(self) -> int:
        return min(self.settings.llm_context, self.spec.context_length)

    def check_capacity(self) -> None:
        """Raise LLMBusy (a 503) at once when the queue is full: call before costly preparation."""
        self.scheduler.check()

    def status(self) -> dict[str, Any]:
        """For /health: the model in use, whether it is loaded, the queue (never loads it)."""
        try:
            model: str | None = self.model_id
        except LookupError:
            model = None
        return {
            "model": model, "loaded": self._loaded() is not None,
            "running": self.scheduler.running, "waiting": self.scheduler.waiting,
        }

    def loaded(self) -> list[str]:
        loaded = self._loaded()
        return [loaded.spec.id] if loaded is not None else []

    def _loaded(self) -> LoadedLLM | None:
        return self.pool.peek(FAMILY, self._spec.id) if self._spec is not None else None

    @contextmanager
    def _model(self) -> Iterator[LoadedLLM]:
        """The loaded model, held for the block (the pool never unloads it while in use)."""
        spec = self._spec if self._loaded() is not None else None
        if spec is None:  # (re)loading: the model chosen now (an operator may have added one)
            spec = self.registry.get(self.registry.default_model(self.settings.llm_model))
            assert spec is not None
        with self.pool.use(FAMILY, spec.id, lambda: self._load(spec)) as loaded:
            self._spec = loaded.spec
            yield loaded

    def _load(self, spec: LLMSpec) -> LoadedLLM:
        import xllamacpp as xlc

        path = self.registry.path(spec.id)
        threads = self.settings.llm_threads or os.cpu_count() or 1
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_parallel = max(1, self.settings.llm_parallel)
        # n_ctx is shared by the slots: give each slot the configured context.
        params.n_ctx = min(self.settings.llm_context, spec.context_length) * params.n_parallel
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        on_gpu = detect_device(self.settings.device).kind == "cuda"
        params.n_gpu_layers = (
            (self.settings.llm_gpu_layers if self.settings.llm_gpu_layers >= 0 else 999)
            if on_gpu else 0
        )
        # The embedded server also listens on a loopback port: lock it with a random key and
        # no browser access, so nothing but this process can use it.
        http_key = secrets.token_urlsafe(24)
        params.api_keys = [http_key]
        params.cors_origins = "null"
        params.ui = False
        params.endpoint_slots = False
        params.warmup = False
        params.verbosity = 0
        started = time.monotonic()
        server = xlc.Server(params)
        self.load_seconds = time.monotonic() - started
        log.info("loaded LLM %s (%s threads, ctx %d) in %.1fs",
                 spec.id, threads, params.n_ctx, self.load_seconds)
        return LoadedLLM(spec, server, http_key)

    def close(self) -> None:
        if self._spec is not None:
            self.pool.unload(FAMILY, self._spec.id)

    # -- tokens -----------------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """Exact token count with the model's tokenizer (no slot needed)."""
        with self._model() as loaded:
            resp = httpx.post(
                loaded.server.listening_address + "/tokenize",
                json={"content": text},
                headers={"Authorization": f"Bearer {loaded.http_key}"},
                timeout=60,
            )
        resp.raise_for_status()
        return len(resp.json()["tokens"])

    # -- generation -------------------------------------------------------------------------------
    def complete(
        self,
        messages: list[Message],
        max_tokens: int = 512,
        json_schema: dict | None = None,
        *,
        temperature: float = 0.2,
        client: str = "",
        timeout: float | None = None,
        cache_prompt: bool = True,
        repeat_penalty: float = 1.05,
    ) -> str:
        """The assistant's reply text. With ``json_schema`` the reply is JSON constrained to it."""
        return self.run(
            messages, max_tokens, json_schema, temperature=temperature, client=client,
            timeout=timeout, cache_prompt=cache_prompt, repeat_penalty=repeat_penalty,
        ).text

    def complete_json(
        self,
        messages: list[Message],
        model: type[M],
        max_tokens: int = 512,
        *,
        temperature: float = 0.0,
        client: str = "",
        timeout: float | None = None,
        cache_prompt: bool = True,
        repeat_penalty: float = 1.05,
    ) -> M:
        """A reply constrained to ``model``'s JSON schema, parsed and validated. Greedy by
        default: structured answers (extraction, judgements) are the same for the same input."""
        result = self.run(
            messages, max_tokens, schema_of(model),
            temperature=temperature, client=client, timeout=timeout, cache_prompt=cache_prompt,
            repeat_penalty=repeat_penalty,
        )
        if result.finish_reason == "length":
            raise LLMOutputError("The model's structured answer was cut short; try shorter input.")
        try:
            return model.model_validate_json(result.text)
        except ValidationError as exc:
            raise LLMOutputError(f"The model's structured answer did not validate: {exc}") from exc

    def run(
        self,
        messages: list[Message],
        max_tokens: int = 512,
        json_schema: dict | None = None,
        *,
        temperature: float = 0.2,
        client: str = "",
        timeout: float | None = None,
        cache_prompt: bool = True,
        repeat_penalty: float = 1.05,
        stop: list[str] | None = None,
        on_text: Callable[[str], bool] | None = None,
    ) -> Completion:
        """One generation. ``stop``: strings that end it (not included in the text). ``on_text``
        sees each piece of text as it is generated; returning True stops the generation (the
        Completion then holds what was generated so far)."""
        max_tokens = max(1, min(max_tokens, self.settings.llm_max_tokens))
        request: dict[str, Any] = {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "top_p": 0.9,
            "repeat_penalty": repeat_penalty,
            "seed": 7,  # same input, same answer
            "stream": True,
            # Reuse a shared prompt prefix (same transcript, other task). Off where the same
            # input must give the same output whatever ran before: a partly cached prompt is
            # computed in other batches, and greedy decoding can flip on a near-tie.
            "cache_prompt": cache_prompt,
        }
        if json_schema is not None:
            request["json_schema"] = json_schema
        if stop:
            request["stop"] = list(stop)
        deadline_s = self.settings.llm_timeout_s if timeout is None else timeout
        with (
            self.scheduler.slot(client, self.settings.llm_queue_timeout_s) as queued,
            self._model() as loaded,
        ):
            server = loaded.server
            parts: list[str] = []
            final: dict[str, Any] = {}
            started = time.monotonic()
            timed_out = stopped = False

            def on_chunk(chunk: Any) -> bool:
                nonlocal timed_out, stopped
                if isinstance(chunk, dict):
                    for choice in chunk.get("choices") or ():
                        content = (choice.get("delta") or {}).get("content")
                        if content:
                            parts.append(content)
                            if on_text is not None and on_text(content):
                                stopped = True
                        if choice.get("finish_reason"):
                            final["finish_reason"] = choice["finish_reason"]
                    if "timings" in chunk:
                        final["timings"] = chunk["timings"]
                    if "error" in chunk:
                        final["error"] = chunk["error"]
                if time.monotonic() - started > deadline_s:
                    timed_out = True
                    return True  # stops the generation
                return stopped

            try:
                server.handle_chat_completions(request, on_chunk)
            except ValueError as exc:
                message = str(exc)
                if "context" in message.lower() or "exceed" in message.lower():
                    raise ContextOverflow(
                        f"The input is too long for the language model's context: {message}"
                    ) from exc
                raise LLMError(f"The language model rejected the request: {message}") from exc
        if timed_out:
            raise LLMTimeout(f"Generation took longer than {deadline_s:.0f}s and was stopped.")
        if "error" in final:
            error = final["error"]
            message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
            if "context" in message.lower():
                raise ContextOverflow(f"The input is too long for the language model: {message}")
            raise LLMError(f"The language model failed: {message}")
        timings = final.get("timings") or {}
        return Completion(
            text="".join(parts).strip(),
            prompt_tokens=int(timings.get("prompt_n", 0)) + int(timings.get("cache_n", 0)),
            completion_tokens=int(timings.get("predicted_n", 0)),
            finish_reason=final.get("finish_reason") or "stop",
            prompt_seconds=float(timings.get("prompt_ms", 0.0)) / 1000,
            generation_seconds=float(timings.get("predicted_ms", 0.0)) / 1000,
            queued_seconds=queued,
        )


    def stream(
        self,
        messages: list[Message],
        max_tokens: int = 512,
        json_schema: dict | None = None,
        *,
        temperature: float = 0.2,
        client: str = "",
        timeout: float | None = None,
        stop: list[str] | None = None,
    ) -> Iterator[str | Completion]:
        """``run``, streamed: yields each piece of the reply as it is generated, then the
        ``Completion`` (token counts, finish reason). The errors of ``run`` raise from the
        iteration (a full queue before any text). Closing the iterator stops the generation."""
        pieces: queue.Queue[str | Completion | BaseException] = queue.Queue()
        closed = threading.Event()

        def on_text(text: str) -> bool:
            pieces.put(text)
            return closed.is_set()

        def generate() -> None:
            try:
                pieces.put(self.run(
                    messages, max_tokens, json_schema, temperature=temperature, client=client,
                    timeout=timeout, stop=stop, on_text=on_text,
                ))
            except BaseException as exc:  # noqa: BLE001 - handed to the reader, raised there
                pieces.put(exc)

        # The generation runs on its own thread, holding its slot; this iterator only reads.
        threading.Thread(target=generate, name="vocable-llm-stream", daemon=True).start()
        try:
            while True:
                piece = pieces.get()
                if isinstance(piece, BaseException):
                    raise piece
                yield piece
                if isinstance(piece, Completion):
                    return
        finally:
            closed.set()


def schema_of(model: type[BaseModel]) -> dict:
    """The model's JSON schema, as given to the grammar sampler."""
    return model.model_json_schema()
