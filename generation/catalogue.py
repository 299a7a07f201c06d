"""The model catalogue: every model a route may name, pinned to an exact version, with its prices.

A route names a catalogue entry, never a bare model name, so what served an answer is always known
exactly: a provider's dated version (``gpt-4o-mini-2024-07-18``) or, for a local GGUF file, its sha256.
"latest", "default" or an alias such as ``gpt-4o`` is not a pin and is refused at load time. Prices
are per 1,000 tokens, so a request's worst-case cost can be reserved before the call.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import ConfigurationError
from core.hashing import sha256_hex

_SHA256_PIN = re.compile(r"^sha256:[0-9a-f]{64}$")
# A dated release (2024-07-18, 20240718) or a numbered one (1.2, v0.3.1); "gpt-4o" is an alias.
_RELEASE = re.compile(r"(?<!\d)(?:\d{4}-?\d{2}-?\d{2}|\d+\.\d+)(?!\d)")
_FLOATING = {"latest", "default", "stable", "current", "newest"}


class ModelEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,62}$")]
    provider: Literal["openai-compatible"] = "openai-compatible"
    base_url: Annotated[str, Field(pattern=r"^https?://")]
    model: Annotated[str, Field(min_length=1, max_length=200)]  # the name the server knows it by
    version: str
    gguf_path: Path | None = None  # a local model file whose sha256 the version pins
    price_in_per_1k: Annotated[float, Field(ge=0)]
    price_out_per_1k: Annotated[float, Field(ge=0)]
    context_window: Annotated[int, Field(ge=256)]
    max_output_tokens: Annotated[int, Field(ge=1)]
    api_key_env: str | None = None  # the environment variable holding the key, never the key

    @field_validator("version")
    @classmethod
    def _pinned(cls, value: str) -> str:
        words = set(re.split(r"[^a-z]+", value.lower()))
        if value.startswith("sha256:"):
            if _SHA256_PIN.fullmatch(value):
                return value
        elif _RELEASE.search(value) and not words & _FLOATING:
            return value
        raise ValueError(f"must pin an exact version (a dated release or sha256:<hex>), got {value!r}")

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.price_in_per_1k + output_tokens * self.price_out_per_1k) / 1000

    def check_file(self) -> None:
        """For a local GGUF, the file on disk must be the pinned one."""
        if self.gguf_path is None:
            return
        if not _SHA256_PIN.fullmatch(self.version):
            raise ConfigurationError(f"model {self.id}: a gguf_path needs version sha256:<hex>")
        try:
            actual = "sha256:" + sha256_hex(self.gguf_path.read_bytes())
        except OSError as error:
            raise ConfigurationError(f"model {self.id}: cannot read {self.gguf_path}: {error}") from None
        if actual != self.version:
            raise ConfigurationError(
                f"model {self.id}: {self.gguf_path} is {actual}, not the pinned {self.version}"
            )


def load_catalogue(path: Path) -> dict[str, ModelEntry]:
    """``models: [...]`` from a YAML file; one error naming the entry and field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigurationError(f"{path}: cannot read the model catalogue ({error})") from None
    entries = raw.get("models") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ConfigurationError(f"{path}: the catalogue is a mapping with a 'models' list")
    catalogue: dict[str, ModelEntry] = {}
    for number, item in enumerate(entries):
        try:
            entry = ModelEntry.model_validate(item)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "entry"
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigurationError(f"{path}: models[{number}].{where}: {message}") from None
        if entry.id in catalogue:
            raise ConfigurationError(f"{path}: models[{number}].id: {entry.id!r} is listed twice")
        catalogue[entry.id] = entry
    return catalogue
