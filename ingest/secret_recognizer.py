"""The presidio face of ``ingest.secrets``: one recognizer reporting every secret entity.

One recognizer rather than one per pattern: the detectors share their scans (one pass of the token
alternation, one of the assignment expression), which presidio's per-recognizer loop would repeat.
"""

from __future__ import annotations

from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

from ingest.secrets import SECRET_ENTITIES, find_secrets

NAME = "secrets"


class SecretRecognizer(EntityRecognizer):  # type: ignore[misc]  # presidio ships no type hints
    def __init__(self) -> None:
        super().__init__(supported_entities=list(SECRET_ENTITIES), name=NAME, supported_language="en")

    def load(self) -> None:
        """Nothing to load: the expressions compile on first use."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        wanted = set(entities)
        return [
            RecognizerResult(
                entity_type=span.entity,
                start=span.start,
                end=span.end,
                score=span.score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: f"{NAME}: {span.rule}",
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for span in find_secrets(text)
            if span.entity in wanted
        ]
