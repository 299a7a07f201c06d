"""Values given to a name that says it is secret: ``.env``, YAML, JSON, INI, code, CLI flags, XML
elements, comparisons and sentences ("the password is …").

Only the value is replaced, so ``DB_PASSWORD=<PASSWORD>`` keeps the line readable. The scan is anchored
on the few keywords a secret name contains; each hit is widened to its whole name, and the name's last
word (``ingest.secret_names``) decides before anything else is matched, which keeps the cost on prose
(where "significant" and "pathway" hit the keywords) to a dictionary look-up per word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ingest.secret_names import NameKind, kind_of, words_of
from ingest.secret_tokens import Found
from ingest.secret_values import (
    is_code_reference,
    is_placeholder,
    is_reserved_word,
    is_uuid,
    looks_generated,
    looks_random,
)

# Matched against the lower-cased text: an IGNORECASE alternation is ten times slower in `re`.
_KEYWORD = re.compile(
    r"p(?:ass|wd|at|in\b|w\b)|s(?:ecret|ig|ession|as)|token|key|auth|c(?:red|ookie|ontrase)|jwt"
)
_NAME_CHAR = re.compile(r"[\w.$-]")
_QUOTED = r"@?\"[^\"\n]{1,500}\"|'[^'\n]{1,500}'|`[^`\n]{1,500}`"
# Unquoted values stop at `&` only where the next query parameter starts (`Tr0ub4dor&3x` stays whole).
_BARE = r"(?:[^\s\"'`,;\\&]|&(?![\w.-]+=)){1,500}"
_AFTER_NAME = re.compile(
    r"(?P<closed>[\"'`]?)(?:\[\d*\])?[ \t]*"
    r"(?P<op>:::=|::=|:=|\?=|\+=|\.=|=>|===|!==|==|!=|<-|=|:|,|[ \t])[ \t]*"
    rf"(?P<value>{_QUOTED}|{_BARE})"
)
_TOLD = re.compile(
    r"[ \t]+(?:is|was|will be)[ \t]+(?:now[ \t]+|still[ \t]+)?(?P<value>[\"'`]?[^\s\"'`]{4,200}[\"'`]?)"
)
_COMPARED_VALUE = re.compile(r"(?:\"[^\"\n]{1,500}\"|'[^'\n]{1,500}')[ \t]*(?:===|!==|==|!=)[ \t]*$")
_ELEMENT = re.compile(r"\s*(?:\s[^<>]*)?>\s*(?P<value>[^<>\s][^<>\n]{0,500}?)\s*</(?P<name>[\w.:-]+)>")
_PROSE_AFTER = re.compile(r"[ \t]+[A-Za-z]{2,}")

PASSWORD_MIN = 4


def _unquote(start: int, raw: str) -> tuple[int, int, bool]:
    """The span of the value inside its quotes (``@"…"`` included), and whether it was quoted."""
    lead = 1 if raw.startswith("@") else 0
    if raw[lead : lead + 1] in {'"', "'", "`"} and len(raw) - lead >= 2:
        return start + lead + 1, start + len(raw) - 1, True
    return start, start + len(raw.rstrip(".)]}>:")), False


def accepts(kind: NameKind, value: str, *, quoted: bool, prose_follows: bool) -> bool:
    """Whether ``value``, given to a name of this kind, is a credential rather than a reference to one."""
    if not value.strip() or is_placeholder(value) or is_reserved_word(value):
        return False
    if not quoted and is_code_reference(value):
        return False
    if value.startswith(("http://", "https://", "/", "~/", "./", "../", "file:")):
        return False  # a URL or a path: a password inside a URL has its own rule
    if kind is NameKind.PASSWORD:
        return len(value) >= PASSWORD_MIN and (quoted or not (value.isalpha() and prose_follows))
    return is_uuid(value) or (looks_random(value) and not (prose_follows and value.isalpha()))


def _names(text: str) -> Iterator[tuple[int, int, NameKind]]:
    """(start, end, kind) of every whole name around a keyword hit whose last word names a secret."""
    done = -1
    for hit in _KEYWORD.finditer(text.lower()):
        if hit.start() < done:
            continue
        start, end = hit.start(), hit.end()
        while start > 0 and _NAME_CHAR.match(text, start - 1):
            start -= 1
        while end < len(text) and _NAME_CHAR.match(text, end):
            end += 1
        done = end
        kind = kind_of(text[start:end])
        if kind is not NameKind.OTHER:
            yield start, end, kind


def _entity(name: str, kind: NameKind) -> str:
    words = set(words_of(name))
    return "AWS_SECRET_KEY" if kind is NameKind.SECRET and {"aws", "secret"} <= words else kind.name


def _assigned(text: str, start: int, end: int, kind: NameKind) -> Found | None:
    match = _AFTER_NAME.match(text, end)
    if not match:
        return None
    op, name = match.group("op"), text[start:end]
    v_start, v_end, quoted = _unquote(match.start("value"), match.group("value"))
    value = text[v_start:v_end]
    if op in {" ", "\t"} and not quoted and not _spaced_value(name, value):
        return None  # `password is required`, `the --password flag`: prose, not an assignment
    if op == "," and not (quoted and match.group("closed")):
        return None  # only `("NAME", "value")`, never a list in a sentence
    prose = bool(_PROSE_AFTER.match(text, v_end))
    if accepts(kind, value, quoted=quoted, prose_follows=prose):
        return Found(_entity(name, kind), f"{kind.value} assignment", v_start, v_end, 0.85)
    return None


def _spaced_value(name: str, value: str) -> bool:
    """A value after a space counts for a CLI flag (``--api-token v``) or when it is plainly generated
    (``.netrc``'s ``password 9fK2mQ8vL3``); "password reset" and "the --password flag" stay prose."""
    if name.startswith("--"):
        return not value.isalpha()
    return value[:1].isalnum() and looks_generated(value, min_length=8, min_entropy=3.0)


def _told(text: str, end: int, kind: NameKind) -> Found | None:
    """ "the new password is Tr0ub4dor&3": in a sentence a value must look like a credential."""
    match = _TOLD.match(text, end)
    if not match:
        return None
    v_start, v_end, _ = _unquote(match.start("value"), match.group("value"))
    value = text[v_start:v_end].rstrip(".,;:!?")
    if value and not value.isalpha() and accepts(kind, value, quoted=True, prose_follows=False):
        return Found(kind.name, f"{kind.value} in a sentence", v_start, v_start + len(value), 0.8)
    return None


def _compared(text: str, start: int, kind: NameKind) -> Found | None:
    """``if ("s3cr3t" != password)``: the value stands before the name."""
    if "=" not in text[max(0, start - 6) : start]:
        return None
    match = _COMPARED_VALUE.search(text, max(0, start - 510), start)
    if not match:
        return None
    raw = match.group().rstrip("=! \t")
    v_start, v_end, _ = _unquote(match.start(), raw)
    if accepts(kind, text[v_start:v_end], quoted=True, prose_follows=False):
        return Found(kind.name, f"{kind.value} comparison", v_start, v_end, 0.85)
    return None


def _element(text: str, start: int, end: int, kind: NameKind) -> Found | None:
    """``<password>s3cr3t</password>``: the name opens an element whose text is the value."""
    if start == 0 or text[start - 1] != "<":
        return None
    match = _ELEMENT.match(text, end)
    if not match or match.group("name") != text[start:end]:
        return None
    if accepts(kind, match.group("value"), quoted=True, prose_follows=False):
        return Found(kind.name, f"{kind.value} element", match.start("value"), match.end("value"), 0.85)
    return None


def find_named_values(text: str) -> Iterator[Found]:
    for start, end, kind in _names(text):
        for found in (
            _assigned(text, start, end, kind),
            _told(text, end, kind),
            _compared(text, start, kind),
            _element(text, start, end, kind),
        ):
            if found is not None:
                yield found
