from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import InvalidInputError
from ingest.document import Source
from ingest.sources import BadSource, check_doc_id, discover, read_jsonl, with_metadata


def test_folder_ids_are_paths_relative_to_the_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.md").write_text("# one")
    (tmp_path / "two.txt").write_text("two")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("hidden")
    found = list(discover([tmp_path]))
    assert sorted(s.doc_id for s in found if isinstance(s, Source)) == ["a/one.md", "two.txt"]


def test_a_single_file_may_be_given_an_id(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_text("text")
    [source] = list(discover([path], doc_id="reports/2026"))
    assert isinstance(source, Source)
    assert source.doc_id == "reports/2026"
    assert source.source_uri.startswith("file://")
    assert source.source_updated_at is not None


def test_doc_id_for_many_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    with pytest.raises(InvalidInputError, match="2 files"):
        list(discover([tmp_path], doc_id="x"))


def test_missing_path_fails_its_own_item(tmp_path: Path) -> None:
    [item] = list(discover([tmp_path / "nope.txt"]))
    assert isinstance(item, BadSource)
    assert item.error == "no such file"


def test_jsonl_bad_lines_fail_alone() -> None:
    lines = [
        json.dumps(
            {"id": "1", "title": "t", "text": "good", "metadata": {"updated_at": "2026-01-02T03:04:05"}}
        ),
        "{not json",
        json.dumps({"title": "no id", "text": "x"}),
        json.dumps({"id": "4", "text": 5}),
        json.dumps({"_id": "5", "text": "beir style"}),
    ]
    items = list(read_jsonl("\n".join(lines).encode(), "r.jsonl"))
    assert [type(i).__name__ for i in items] == ["Source", "BadSource", "BadSource", "BadSource", "Source"]
    good = items[0]
    assert isinstance(good, Source) and good.source_updated_at is not None
    assert good.source_updated_at.tzinfo is not None
    errors = [i.error for i in items if isinstance(i, BadSource)]
    assert errors == ["invalid JSON at column 2", "record has no id", "record text must be a string"]


@pytest.mark.parametrize("bad", ["", " padded", "tab\there", "x" * 513])
def test_doc_ids_are_printable_and_bounded(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="doc_id"):
        check_doc_id(bad)


def test_record_metadata_is_kept_checked_and_clearly_refused() -> None:
    lines = [
        {"id": "a", "text": "x", "metadata": {"team": "eng", "n": 3, "tags": ["x", 2], "gone": None}},
        {"id": "b", "text": "x", "metadata": {"nested": {"a": 1}}},
        {"id": "c", "text": "x", "metadata": {"bad key": 1}},
        {"id": "d", "text": "x", "metadata": {"n": float("nan")}},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    good, nested, bad_key, nan = read_jsonl(data, "m.jsonl")
    assert isinstance(good, Source) and good.metadata == {"team": "eng", "n": 3, "tags": ["x", 2]}
    assert isinstance(nested, BadSource) and "metadata.nested must be a string, number" in nested.error
    assert isinstance(bad_key, BadSource) and "metadata key 'bad key'" in bad_key.error
    assert isinstance(nan, BadSource) and "finite" in nan.error


def test_job_metadata_reaches_every_source_and_a_records_own_values_win() -> None:
    own = Source(name="r", doc_id="r", text="x", metadata={"team": "eng"})
    crowded = Source(name="c", doc_id="c", text="x", metadata={f"k{i}": i for i in range(64)})
    bad = BadSource("b", "broken")
    tagged = with_metadata([own, crowded, bad], {"team": "sre", "site": "lab"})
    assert isinstance(tagged[0], Source) and tagged[0].metadata == {"team": "eng", "site": "lab"}
    assert isinstance(tagged[1], BadSource) and "at most 64" in tagged[1].error
    assert tagged[2] is bad
