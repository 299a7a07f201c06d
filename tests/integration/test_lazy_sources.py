"""Files listed by ``discover`` are read when the pipeline reaches them, not before."""

from __future__ import annotations

from pathlib import Path

from acl.filters import WriteGrant
from core.types import TenantId
from ingest.models import ItemStatus
from ingest.sources import discover
from tests.conftest import RuntimeFactory

T = TenantId("acme")


def test_a_file_gone_after_listing_fails_alone(
    make_runtime: RuntimeFactory, database_url: str, tmp_path: Path
) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.txt").write_text(f"notes about the {name} turbine")
    listed = discover([tmp_path])
    (tmp_path / "b.txt").unlink()
    (tmp_path / "c.txt").write_text("rewritten after listing: the c turbine")
    outcomes = {
        o.name.rsplit("/", 1)[-1]: o
        for o in make_runtime(database_url=database_url).pipeline.run(
            T, listed, grant=WriteGrant.everything(T)
        )
    }
    assert outcomes["a.txt"].status == outcomes["c.txt"].status == ItemStatus.INDEXED
    assert (outcomes["b.txt"].status, outcomes["b.txt"].error) == (
        ItemStatus.FAILED,
        "cannot read file (No such file or directory)",
    )
