"""What the vector store and the chunker must know of a sentence-transformers model, read from its files.

Loading the model takes seconds (torch); its output dimension and input window are written in a few
small JSON files beside the weights, so a start-up check can know them in a millisecond.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigurationError

_POOLING_MODES = (
    "pooling_mode_cls_token",
    "pooling_mode_mean_tokens",
    "pooling_mode_max_tokens",
    "pooling_mode_mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens",
    "pooling_mode_lasttoken",
)


@dataclass(frozen=True)
class EncoderCard:
    dimension: int  # length of every vector it returns
    window: int  # tokens it reads per text; the rest is cut off


def read_encoder_card(model_path: str | None) -> EncoderCard:
    """The card of the model at ``model_path`` (``None``: the shipped all-MiniLM-L6-v2)."""
    if model_path is None:
        from retrieval.embedders import default_model_path

        model_path = default_model_path()
    root = Path(model_path)
    modules = _json(root / "modules.json")
    if not isinstance(modules, list):
        raise ConfigurationError(f"{root / 'modules.json'} must list the model's modules")
    try:
        return EncoderCard(dimension=_dimension(root, modules), window=_window(root))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigurationError(f"the encoder at {root} does not state its size ({exc!r})") from None


def _dimension(root: Path, modules: list[Any]) -> int:
    # The last module that changes the width decides it (Normalize and the like keep it).
    for module in reversed(modules):
        kind = str(module.get("type", "")).rsplit(".", 1)[-1]
        where = root / str(module.get("path", ""))
        if kind == "Dense":
            return int(_json(where / "config.json")["out_features"])
        if kind == "Pooling":
            pooling = _json(where / "config.json")
            modes = sum(1 for mode in _POOLING_MODES if pooling.get(mode))
            return int(pooling["word_embedding_dimension"]) * max(modes, 1)
    return int(_json(root / "config.json")["hidden_size"])


def _window(root: Path) -> int:
    configured = root / "sentence_bert_config.json"
    if configured.exists():
        window = _json(configured).get("max_seq_length")
        if window:
            return int(window)
    return int(_json(root / "config.json")["max_position_embeddings"])


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the encoder's {path} ({type(exc).__name__})") from None
