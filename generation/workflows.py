"""Workflow contracts: what a workflow accepts, may talk about, may spend, and how it answers.

A workflow is one YAML file (examples under ``workflows/``). It is validated when loaded, strictly
(unknown fields are errors, so a typo never silently drops a limit), and a bad file is one error that
names the file and the field: ``workflows/support.yaml: budgets.max_usd: Input should be greater than 0``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import ConfigurationError

_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"
_PROMPT_VERSION = re.compile(r"^[a-z0-9][a-z0-9.-]*@\d+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(StrEnum):
    API = "api"
    CLI = "cli"


class InputContract(_Strict):
    channels: tuple[Channel, ...] = (Channel.API, Channel.CLI)
    languages: tuple[str, ...] = ("en",)
    max_chars: Annotated[int, Field(ge=1, le=20_000)] = 2_000


class OutputKind(StrEnum):
    TEXT = "text"
    JSON = "json"


class OutputContract(_Strict):
    kind: OutputKind = OutputKind.TEXT
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")

    @model_validator(mode="after")
    def _schema_for_json(self) -> OutputContract:
        if (self.kind == OutputKind.JSON) != (self.json_schema is not None):
            raise ValueError("a json output needs a schema, and only a json output takes one")
        return self


class DisallowedDomain(_Strict):
    name: Annotated[str, Field(pattern=_NAME)]
    examples: Annotated[tuple[str, ...], Field(min_length=3)]  # phrasings the risk classifier learns from
    refusal: Annotated[str, Field(min_length=1, max_length=2_000)]


class Budgets(_Strict):
    max_input_tokens: Annotated[int, Field(ge=1, le=1_000_000)] = 6_000
    max_output_tokens: Annotated[int, Field(ge=1, le=100_000)] = 512
    max_calls: Annotated[int, Field(ge=1, le=20)] = 3
    max_usd: Annotated[float, Field(gt=0, le=100)] = 0.05


class Routes(_Strict):
    small: str | None = None  # catalogue ids; None: that route is not offered
    escalation: str | None = None


class RetrievalParams(_Strict):
    k: Annotated[int, Field(ge=1, le=50)] = 8
    min_score: Annotated[float, Field(ge=0)] = 0.0


class Prompt(_Strict):
    version: str  # name@number, recorded with every answer
    system: Annotated[str, Field(min_length=1, max_length=20_000)]

    @field_validator("version")
    @classmethod
    def _versioned(cls, value: str) -> str:
        if not _PROMPT_VERSION.fullmatch(value):
            raise ValueError(f"must look like 'name@number', got {value!r}")
        return value


class HumanReview(StrEnum):
    LOW_CONFIDENCE = "low_confidence"
    TOOL_CALL = "tool_call"
    REFUSAL = "refusal"


class Workflow(_Strict):
    name: Annotated[str, Field(pattern=_NAME)]
    description: str = ""
    input: InputContract = InputContract()
    output: OutputContract = OutputContract()
    disallowed: tuple[DisallowedDomain, ...] = ()
    human_review: tuple[HumanReview, ...] = ()
    budgets: Budgets = Budgets()
    routes: Routes = Routes()
    retrieval: RetrievalParams = RetrievalParams()
    prompt: Prompt
    cache_ttl_s: Annotated[int, Field(ge=0, le=86_400)] = 300


def load_workflow(path: Path) -> Workflow:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigurationError(
            f"{path}: cannot read the workflow ({type(error).__name__}: {error})"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{path}: a workflow is a mapping of fields")
    try:
        workflow = Workflow.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "workflow"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(f"{path}: {where}: {message}") from None
    if workflow.name != path.stem:
        raise ConfigurationError(
            f"{path}: name: must equal the file name {path.stem!r}, got {workflow.name!r}"
        )
    return workflow


def load_workflows(folder: Path) -> dict[str, Workflow]:
    """Every ``*.yaml`` workflow of a folder, by name; the first bad file stops the start-up."""
    return {w.name: w for w in (load_workflow(p) for p in sorted(folder.glob("*.yaml")))}
