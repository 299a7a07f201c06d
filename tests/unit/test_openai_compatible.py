"""The OpenAI-compatible adapter over a scripted HTTP transport: retries, jitter bounds, breaker, faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from generation.openai_compatible import CircuitBreaker, OpenAICompatibleModel, RetryPolicy
from generation.ports import MalformedOutputError, Message, ModelTimeoutError, ModelUnavailableError, Role

ASK = [Message(Role.USER, "hello")]


def reply(text: str = "hi there") -> httpx.Response:
    body = {
        "model": "smollm2",
        "choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3},
    }
    return httpx.Response(200, json=body)


def model(
    handler: Callable[[httpx.Request], httpx.Response], **kwargs: object
) -> tuple[OpenAICompatibleModel, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    built = OpenAICompatibleModel(
        base_url="http://llm.test/v1",
        model="smollm2",
        transport=httpx.MockTransport(handler),
        sleep=sleep,
        **kwargs,  # type: ignore[arg-type]
    )
    return built, slept


def test_a_completion_carries_text_usage_and_the_request_is_openai_shaped() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        assert request.url.path == "/v1/chat/completions"
        return reply()

    llm, _ = model(handler)
    done = asyncio.run(llm.complete(ASK, max_output_tokens=32))
    assert (done.text, done.input_tokens, done.output_tokens, done.finish_reason) == (
        "hi there",
        7,
        3,
        "stop",
    )
    assert seen == [
        {
            "model": "smollm2",
            "messages": [{"role": "user", "content": "hello"}],
            "max_tokens": 32,
            "temperature": 0.0,
        }
    ]


def test_server_errors_are_retried_a_bounded_number_of_times_with_jittered_backoff() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503) if len(calls) < 3 else reply()

    llm, slept = model(handler, retry=RetryPolicy(attempts=3, base_delay_s=0.2, max_delay_s=1.0))
    assert asyncio.run(llm.complete(ASK, max_output_tokens=8)).text == "hi there"
    assert len(calls) == 3 and len(slept) == 2
    assert 0 <= slept[0] <= 0.2 and 0 <= slept[1] <= 0.4


def test_timeouts_exhaust_the_retries_then_raise() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    llm, _ = model(handler, retry=RetryPolicy(attempts=2))
    with pytest.raises(ModelTimeoutError):
        asyncio.run(llm.complete(ASK, max_output_tokens=8))


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"choices": []}),
        reply("   "),
        httpx.Response(400),
    ],
)
def test_malformed_or_empty_replies_are_not_retried(response: httpx.Response) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return response

    llm, _ = model(handler)
    with pytest.raises(MalformedOutputError):
        asyncio.run(llm.complete(ASK, max_output_tokens=8))
    assert len(calls) == 1


def test_the_breaker_opens_after_consecutive_failures_and_closes_after_its_pause() -> None:
    now = [0.0]
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(500)

    breaker = CircuitBreaker(failure_threshold=2, open_seconds=10, clock=lambda: now[0])
    llm, _ = model(handler, retry=RetryPolicy(attempts=1), breaker=breaker)
    for _ in range(2):
        with pytest.raises(ModelUnavailableError):
            asyncio.run(llm.complete(ASK, max_output_tokens=8))
    with pytest.raises(ModelUnavailableError, match="circuit open"):
        asyncio.run(llm.complete(ASK, max_output_tokens=8))
    assert len(calls) == 2  # the open breaker did not call the server
    now[0] = 11
    with pytest.raises(ModelUnavailableError, match="answered 500"):
        asyncio.run(llm.complete(ASK, max_output_tokens=8))
