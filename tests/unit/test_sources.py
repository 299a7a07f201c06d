from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_a_jsonl_line_nested_100k_deep_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    deep = '{"id": "deep", "text": "x", "metadata": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    good = json.dumps({"id": "good", "text": "fine"})
    path.write_text(f"{good}\n{deep}\n{'[' * 100_000}\n{good.replace('good', 'also')}\n")
    items = list(discover([path]))
    assert [type(i).__name__ for i in items] == ["Source", "BadSource", "BadSource", "Source"]
    assert all(i.error == "record is nested too deeply" for i in items if isinstance(i, BadSource))
    assert list(read_jsonl(path.read_bytes(), "r.jsonl"))[1] == BadSource(
        "r.jsonl#2", "record is nested too deeply"
    )


def test_a_huge_integer_in_a_record_fails_alone() -> None:
    [item] = read_jsonl(b'{"id": "n", "text": "x", "metadata": {"n": ' + b"9" * 5000 + b"}}", "r.jsonl")
    assert isinstance(item, BadSource) and item.error.startswith("invalid JSON")


def test_a_file_name_that_is_not_utf8_fails_alone(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"caf\xe9.txt")).write_text("latin-1 name")
    (tmp_path / "fine.txt").write_text("fine")
    bad, fine = discover([tmp_path])
    assert isinstance(bad, BadSource) and bad.error == "file name is not valid UTF-8; rename the file"
    bad.name.encode("utf-8")  # printable in the job record
    assert isinstance(fine, Source) and fine.doc_id == "fine.txt"


def test_files_over_the_size_limit_fail_before_they_are_read(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(b"x" * 101)
    (tmp_path / "small.txt").write_bytes(b"x" * 100)
    big, small = discover([tmp_path], max_file_bytes=100)
    assert big == BadSource(
        str(tmp_path / "big.txt"), "file is larger than the limit of 100 bytes (101 bytes)"
    )
    assert isinstance(small, Source) and small.read() == b"x" * 100


def test_records_over_the_size_limit_fail_alone(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(
        json.dumps({"id": "big", "text": "x" * 200}) + "\n" + json.dumps({"id": "ok", "text": "y"})
    )
    big, ok = discover([path], max_file_bytes=100)
    assert isinstance(big, BadSource) and "record is larger than the limit of 100 bytes" in big.error
    assert isinstance(ok, Source) and ok.text == "y"


def test_a_folder_is_listed_without_holding_its_bytes(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"{i}.txt").write_text(f"text {i}")
    found = discover([tmp_path])
    (tmp_path / "3.txt").write_text("changed after listing")
    assert len(found) == 5
    sources = [s for s in found if isinstance(s, Source)]
    assert all(s.data is None for s in sources)  # read when prepared, one window at a time
    assert sources[3].read() == b"changed after listing"
    assert found[3] == sources[3]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(
                lambda i, t: json.dumps({"id": str(i), "text": t}), st.integers(0, 99), st.text(max_size=40)
            ),
            st.sampled_from(["", "   ", "{broken", "[1, 2]", "\r"]),
        ),
        max_size=12,
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from([7, 1 << 20]),
)
def test_a_jsonl_file_reads_the_same_line_by_line_as_whole(
    lines: list[str], newline: str, piece: int
) -> None:
    import ingest.sources as sources

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.jsonl"
        path.write_bytes(newline.join(lines).encode())
        with patch.object(sources, "_LINE_PIECE", piece):
            assert list(discover([path])) == list(read_jsonl(path.read_bytes(), str(path)))


def test_job_metadata_reaches_listed_items_too(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    [item] = discover([tmp_path]).with_metadata({"team": "sre"})
    assert isinstance(item, Source) and item.metadata == {"team": "sre"}


def test_a_jsonl_file_gone_after_listing_fails_its_records_alone(tmp_path: Path) -> None:
    records = tmp_path / "r.jsonl"
    records.write_text(json.dumps({"id": "a", "text": "x"}) + "\n")
    (tmp_path / "b.txt").write_text("b")
    listed = discover([tmp_path])
    records.unlink()
    kept, gone = listed
    assert isinstance(gone, BadSource) and gone.error == "cannot read file (No such file or directory)"
    assert isinstance(kept, Source)
