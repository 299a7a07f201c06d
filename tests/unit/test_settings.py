"""Settings are checked as a whole when they are read: a bad combination is one line, before any work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from api.cli import app
from core.errors import ConfigurationError
from core.settings import ChunkingSettings, Settings, get_settings, load_settings
from retrieval.encoder_card import read_encoder_card


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("TESSERA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_overlap_must_be_smaller_than_the_chunk() -> None:
    with pytest.raises(ValidationError, match="overlap_tokens"):
        ChunkingSettings(max_tokens=100, overlap_tokens=100)
    assert ChunkingSettings(max_tokens=100, overlap_tokens=99).overlap_tokens == 99


def test_a_bad_environment_is_one_line_naming_the_variables(env: pytest.MonkeyPatch) -> None:
    env.setenv("TESSERA_CHUNKING__MAX_TOKENS", "64")
    env.setenv("TESSERA_CHUNKING__OVERLAP_TOKENS", "80")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "\n" not in caught.value.detail
    assert "TESSERA_CHUNKING__OVERLAP_TOKENS (80)" in caught.value.detail
    assert "TESSERA_CHUNKING__MAX_TOKENS (64)" in caught.value.detail


def test_a_value_of_the_wrong_type_names_its_variable(env: pytest.MonkeyPatch) -> None:
    env.setenv("TESSERA_INGEST__MAX_FILE_BYTES", "lots")
    with pytest.raises(ConfigurationError, match="TESSERA_INGEST__MAX_FILE_BYTES"):
        load_settings()


def test_chunks_longer_than_the_encoder_reads_are_refused() -> None:
    settings = Settings(chunking=ChunkingSettings(max_tokens=300, overlap_tokens=20))
    with pytest.raises(ConfigurationError, match=r"TESSERA_CHUNKING__MAX_TOKENS \(300\).*256"):
        settings.check_encoder_window(256)
    settings.check_encoder_window(300)


def test_the_shipped_encoder_is_read_without_loading_it() -> None:
    card = read_encoder_card(None)
    assert (card.dimension, card.window) == (384, 256)


def _write_model(root: Path, modules: list[dict[str, str]], files: dict[str, object]) -> Path:
    root.mkdir()
    (root / "modules.json").write_text(json.dumps(modules))
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(json.dumps(content))
    return root


def test_the_dimension_follows_the_models_last_layers(tmp_path: Path) -> None:
    modules = [
        {"path": "", "type": "sentence_transformers.models.Transformer"},
        {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"path": "2_Dense", "type": "sentence_transformers.models.Dense"},
    ]
    model = _write_model(
        tmp_path / "m",
        modules,
        {
            "sentence_bert_config.json": {"max_seq_length": 128},
            "config.json": {"hidden_size": 768, "max_position_embeddings": 512},
            "1_Pooling/config.json": {"word_embedding_dimension": 768, "pooling_mode_mean_tokens": True},
            "2_Dense/config.json": {"in_features": 768, "out_features": 256},
        },
    )
    card = read_encoder_card(str(model))
    assert (card.dimension, card.window) == (256, 128)
    (model / "2_Dense/config.json").unlink()
    with pytest.raises(ConfigurationError, match="2_Dense"):
        read_encoder_card(str(model))


def test_pooling_several_ways_multiplies_the_dimension(tmp_path: Path) -> None:
    modules = [{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    pooling = {
        "word_embedding_dimension": 384,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": True,
    }
    model = _write_model(
        tmp_path / "m",
        modules,
        {"1_Pooling/config.json": pooling, "config.json": {"max_position_embeddings": 64}},
    )
    assert read_encoder_card(str(model)).dimension == 768
    assert read_encoder_card(str(model)).window == 64


@pytest.mark.parametrize("command", [["search", "x", "--tenant", "t"], ["serve"]])
def test_the_cli_and_the_server_refuse_to_start_with_one_line(
    env: pytest.MonkeyPatch, command: list[str]
) -> None:
    env.setenv("TESSERA_CHUNKING__MAX_TOKENS", "400")  # within the field's range, beyond MiniLM's 256

    def serve_anyway(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server started with settings it cannot honour")

    env.setattr("uvicorn.run", serve_anyway)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "TESSERA_CHUNKING__MAX_TOKENS (400)" in line


def test_the_default_k_must_be_one_the_maximum_allows(env: pytest.MonkeyPatch) -> None:
    env.setenv("TESSERA_SEARCH__DEFAULT_K", "50")
    env.setenv("TESSERA_SEARCH__MAX_K", "20")
    with pytest.raises(ConfigurationError, match=r"TESSERA_SEARCH__DEFAULT_K \(50\) must not exceed"):
        load_settings()


def test_the_embedded_engine_memory_setting_names_its_variable(env: pytest.MonkeyPatch) -> None:
    assert load_settings().qdrant.memory == "cold"  # bounded memory unless asked otherwise
    env.setenv("TESSERA_QDRANT__MEMORY", "cached")
    assert load_settings().qdrant.memory == "cached"
    env.setenv("TESSERA_QDRANT__MEMORY", "hot")
    with pytest.raises(ConfigurationError, match="TESSERA_QDRANT__MEMORY"):
        load_settings()
    env.setenv("TESSERA_QDRANT__MEMORY", "cold")
    env.setenv("TESSERA_QDRANT__MAX_SEGMENT_MB", "1")
    with pytest.raises(ConfigurationError, match="TESSERA_QDRANT__MAX_SEGMENT_MB"):
        load_settings()
