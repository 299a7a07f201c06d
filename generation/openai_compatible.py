"""``ChatModel`` over OpenAI's chat-completions HTTP API, with async httpx.

- a timeout per attempt, and a bounded number of retries with exponential backoff and full jitter,
  only for faults a retry can cure (timeouts, connection errors, 429 and 5xx);
- a circuit breaker per model: after ``failure_threshold`` consecutive failed calls the model is not
  called for ``open_seconds``, so a dead server costs one fast refusal per request, not a timeout;
- a reply without a message, or with an empty one, is ``MalformedOutputError``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from generation.ports import (
    Completion,
    MalformedOutputError,
    Message,
    ModelError,
    ModelTimeoutError,
    ModelUnavailableError,
)

_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay_s: float = 0.2
    max_delay_s: float = 2.0


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        open_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failure_threshold
        self._open_seconds = open_seconds
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0

    @property
    def open(self) -> bool:
        return self._clock() < self._open_until

    def succeeded(self) -> None:
        self._failures = 0

    def failed(self) -> None:
        self._failures += 1
        if self._failures >= self._threshold:
            self._open_until = self._clock() + self._open_seconds
            self._failures = 0


class OpenAICompatibleModel:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s, transport=transport
        )
        self._model = model
        self._retry = retry or RetryPolicy()
        self._breaker = breaker or CircuitBreaker()
        self._sleep = sleep

    @property
    def name(self) -> str:
        return self._model

    async def complete(
        self, messages: Sequence[Message], *, max_output_tokens: int, temperature: float = 0.0
    ) -> Completion:
        if self._breaker.open:
            raise ModelUnavailableError(f"model {self._model!r} is failing; circuit open")
        body = {
            "model": self._model,
            "messages": [{"role": m.role.value, "content": m.content} for m in messages],
            "max_tokens": max_output_tokens,
            "temperature": temperature,
        }
        try:
            completion = await self._with_retries(body)
        except ModelError:
            self._breaker.failed()
            raise
        self._breaker.succeeded()
        return completion

    async def _with_retries(self, body: dict[str, Any]) -> Completion:
        last: ModelError = ModelUnavailableError("no attempt made")
        for attempt in range(self._retry.attempts):
            if attempt:
                ceiling = min(self._retry.max_delay_s, self._retry.base_delay_s * 2 ** (attempt - 1))
                await self._sleep(random.uniform(0, ceiling))  # full jitter: retries of many callers spread
            try:
                return await self._attempt(body)
            except (ModelTimeoutError, ModelUnavailableError) as error:
                last = error
        raise last

    async def _attempt(self, body: dict[str, Any]) -> Completion:
        try:
            response = await self._client.post("/chat/completions", json=body)
        except httpx.TimeoutException as error:
            raise ModelTimeoutError(f"model {self._model!r} timed out") from error
        except httpx.TransportError as error:
            raise ModelUnavailableError(
                f"model {self._model!r} unreachable: {type(error).__name__}"
            ) from error
        if response.status_code in _RETRYABLE_STATUS:
            raise ModelUnavailableError(f"model {self._model!r} answered {response.status_code}")
        if response.status_code >= 400:
            raise MalformedOutputError(f"model {self._model!r} refused the request ({response.status_code})")
        return _parse(response)

    async def aclose(self) -> None:
        await self._client.aclose()


def _parse(response: httpx.Response) -> Completion:
    try:
        data = response.json()
        choice = data["choices"][0]
        text = choice["message"]["content"]
        usage = data.get("usage") or {}
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise MalformedOutputError("the model's reply is not a chat completion") from error
    if not isinstance(text, str) or not text.strip():
        raise MalformedOutputError("the model replied with an empty message")
    return Completion(
        text=text,
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        model=str(data.get("model") or ""),
        finish_reason=str(choice.get("finish_reason") or ""),
    )
