from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigurationError
from core.hashing import sha256_hex
from generation.catalogue import load_catalogue

ENTRY = (
    "  - id: small\n    base_url: http://127.0.0.1:8080/v1\n    model: smollm2\n    version: {version}\n"
    "    price_in_per_1k: 0.0001\n    price_out_per_1k: 0.0002\n    context_window: 8192\n"
    "    max_output_tokens: 512\n"
)


def catalogue(tmp_path: Path, version: str, extra: str = "") -> Path:
    path = tmp_path / "models.yaml"
    path.write_text("models:\n" + ENTRY.format(version=version) + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize("version", ["gpt-4o-mini-2024-07-18", "sha256:" + "a" * 64, "v1.2.3"])
def test_pinned_versions_load_and_price_tokens(tmp_path: Path, version: str) -> None:
    entry = load_catalogue(catalogue(tmp_path, version))["small"]
    assert entry.version == version
    assert entry.cost_usd(1000, 500) == pytest.approx(0.0001 + 0.0001)


@pytest.mark.parametrize("version", ["latest", "gpt-4o", "v2-latest", "sha256:abc"])
def test_an_unpinned_model_is_refused(tmp_path: Path, version: str) -> None:
    with pytest.raises(ConfigurationError, match=r"models\[0\]\.version: must pin an exact version"):
        load_catalogue(catalogue(tmp_path, version))


def test_a_local_file_must_be_the_pinned_one(tmp_path: Path) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"weights")
    good = load_catalogue(catalogue(tmp_path, "sha256:" + sha256_hex(b"weights"), f"    gguf_path: {gguf}\n"))
    good["small"].check_file()
    bad = load_catalogue(catalogue(tmp_path, "sha256:" + "0" * 64, f"    gguf_path: {gguf}\n"))
    with pytest.raises(ConfigurationError, match="not the pinned"):
        bad["small"].check_file()


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(
        "models:\n" + ENTRY.format(version="v1.0") + ENTRY.format(version="v2.0"), encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match="listed twice"):
        load_catalogue(path)
