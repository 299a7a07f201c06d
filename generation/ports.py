"""The role a language model plays, and the values that cross it.

Adapters: ``OpenAICompatibleModel`` (any server speaking OpenAI's chat completions: OpenAI, vLLM,
Ollama, llama.cpp's server, LiteLLM). Model calls are ``async`` so they never hold a thread that
serves search. Faults surface as ``ModelError`` subclasses, which the router turns into a fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    model: str  # as the server named it
    finish_reason: str  # stop | length | ...


class ModelError(Exception):
    """A model call that produced nothing usable; the caller falls back, never answers 500."""


class ModelTimeoutError(ModelError):
    pass


class ModelUnavailableError(ModelError):
    """5xx, connection refused, or the circuit breaker is open."""


class MalformedOutputError(ModelError):
    pass


class ChatModel(Protocol):
    @property
    def name(self) -> str: ...

    async def complete(
        self, messages: Sequence[Message], *, max_output_tokens: int, temperature: float = 0.0
    ) -> Completion: ...
