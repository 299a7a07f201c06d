"""Credentials recognisable by where they stand: the value assigned to a name that says it is secret
(``.env``, YAML, JSON, INI, code, CLI flags, XML elements, comparisons), an ``Authorization`` header, a
password inside a URL, ``curl --user``, and any long random value assigned to a name that is not a
label.

Only the value is replaced, so ``DB_PASSWORD=<PASSWORD>`` keeps the line readable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ingest.secret_names import NameKind, kind_of, names_a_label
from ingest.secret_tokens import Found
from ingest.secret_values import (
    is_code_reference,
    is_identifier_like,
    is_placeholder,
    is_reserved_word,
    is_uuid,
    looks_generated,
    looks_random,
)

_KEYWORD = r"(?i:pass|pwd|secret|token|key|auth|cred|sig|session|cookie|jwt|sas|pat|contrase)"
_NAME = rf"(?<![\w.$-])(?P<name>[-$@.]{{0,2}}[\w.$-]*?{_KEYWORD}[\w.$-]*)"
_VALUE = (
    r"(?P<value>@?\"[^\"\n]{1,500}\"|'[^'\n]{1,500}'|`[^`\n]{1,500}`"
    r"|(?:[^\s\"'`,;\\&]|&(?![\w.-]+=)){1,500})"
)
_ASSIGNMENT = re.compile(
    _NAME
    + r"(?P<closed>[\"'`]?)(?:\[\d*\])?[ \t]*"
    + r"(?P<op>:::=|::=|:=|\?=|\+=|\.=|=>|===|!==|==|!=|<-|=|:|,|[ \t])[ \t]*"
    + _VALUE
)
_COMPARED = re.compile(
    r"(?P<value>\"[^\"\n]{1,500}\"|'[^'\n]{1,500}')[ \t]*(?:===|!==|==|!=)[ \t]*"
    + rf"(?P<name>[\w.$-]*{_KEYWORD}[\w.$-]*)"
)
_ELEMENT = re.compile(
    rf"<(?P<name>[\w.:-]*{_KEYWORD}[\w.:-]*)(?:\s[^<>]*)?>\s*(?P<value>[^<>\s][^<>\n]{{0,500}}?)\s*</(?P=name)>"
)
_AUTHORIZATION = re.compile(
    r"(?i)\b(?:proxy-)?authorization\b[\"']?[ \t]*[:=][ \t]*[\"']?"
    r"(?:(?P<scheme>basic|bearer|token|bot|digest|ssws|apikey|api-key|key|otp|negotiate|ntlm|hmac|jwt|"
    r"sharedkey|sso-key|aws4-hmac-sha256)[ \t]+)?(?P<value>[^\s\"',;]+)"
)
_BEARER = re.compile(r"(?i)\bbearer[ \t]+(?P<value>[A-Za-z0-9._~+/-]{16,}=*)")
_URL_PASSWORD = re.compile(r"://[^\s:/@\"'<>]*:(?P<value>[^\s/\"'<>]+)@[A-Za-z0-9\[]")
_CURL_USER = re.compile(
    r"(?:^|[ \t])(?P<flag>--user|-u)(?:[ \t]+|=)(?P<q>[\"']?)(?P<user>[^\s\"':]+):"
    r"(?P<pq>[\"']?)(?P<password>[^\s\"']*)(?P=pq)(?P=q)(?=\s|$)",
    re.MULTILINE,
)
_LONG_VALUE = re.compile(r"(?<![A-Za-z0-9+=_-])[A-Za-z0-9+_-]{20,}={0,2}(?![A-Za-z0-9+=_-])")
_DIGEST_PREFIX = re.compile(r"(?i)(?:sha\d*|md5|blake2b?|crc32)[-:=~]$")
_NAME_BEFORE = re.compile(
    r"(?P<name>[\w.$-]+)[\"'`]?(?:\[\d*\])?[ \t]*(?::::=|::=|:=|\?=|\+=|\.=|=>|=|:|,)[ \t]*@?[\"'`]?$"
)
_PROSE_AFTER = re.compile(r"[ \t]+[A-Za-z]{2,}")
# "the new password is Tr0ub4dor&3", "token was ghu_…": a value handed over in a sentence.
_TOLD = re.compile(
    r"(?i)\b(?P<name>password|passwd|passphrase|passcode|pwd|pw|pin|secret|token|api[ _-]?key|access[ _-]key)"
    r"[ \t]+(?:is|was|will be|=|:)[ \t]+(?:now[ \t]+|still[ \t]+)?(?P<value>[\"'`]?[^\s\"'`]{4,200}[\"'`]?)"
)
# Command lines that take a password in a flag of their own.
_CLI_PASSWORD = re.compile(
    r"\b(?:(?:docker|podman|helm(?:[ \t]+registry)?|oras|skopeo)[ \t]+login\b[^\n]*?[ \t](?:-p|--password)(?:[ \t]+|=)"
    r"|mysql(?:dump|admin)?\b[^\n]*?[ \t]-p(?=[^\s-])"
    r"|sshpass[ \t]+-p[ \t]*"
    r"|redis-cli\b[^\n]*?[ \t]-a[ \t]+)"
    r"(?P<q>[\"']?)(?P<value>[^\s\"']+)(?P=q)"
)

PASSWORD_MIN = 4


def _unquote(text: str, start: int, raw: str) -> tuple[int, int, bool]:
    """The span of the value inside its quotes (``@"…"`` included), and whether it was quoted."""
    lead = 1 if raw.startswith("@") else 0
    if raw[lead:lead + 1] in {'"', "'", "`"} and len(raw) - lead >= 2:
        return start + lead + 1, start + len(raw) - 1, True
    stripped = raw.rstrip(".)]}>:")
    return start, start + len(stripped), False


def _accepts(kind: NameKind, value: str, *, quoted: bool, prose_follows: bool) -> bool:
    if not value.strip() or is_placeholder(value) or is_reserved_word(value):
        return False
    if not quoted and is_code_reference(value):
        return False
    if value.startswith(("http://", "https://", "/", "~/", "./", "../", "file:")):
        return False  # a URL or a path: a password inside a URL has its own rule
    if kind is NameKind.PASSWORD:
        if len(value) < PASSWORD_MIN:
            return False
        return quoted or not (value.isalpha() and prose_follows)
    return is_uuid(value) or (looks_random(value) and not (prose_follows and value.isalpha()))


def _assignments(text: str) -> Iterator[Found]:
    for match in _ASSIGNMENT.finditer(text):
        name, op = match.group("name"), match.group("op")
        kind = kind_of(name)
        if kind is NameKind.OTHER:
            continue
        start, end, quoted = _unquote(text, match.start("value"), match.group("value"))
        if op in {" ", "\t"} and not quoted:
            if not name.startswith("--") or text[start:end].isalpha():
                continue  # `password is required`, `the --password flag`: prose, not an assignment
        if op == "," and not (quoted and match.group("closed")):
            continue  # only `("NAME", "value")`, never a list in a sentence
        prose = bool(_PROSE_AFTER.match(text, end))
        if _accepts(kind, text[start:end], quoted=quoted, prose_follows=prose):
            yield Found(kind.name, f"{kind.value} assignment", start, end, 0.85)


def _told_and_typed(text: str) -> Iterator[Found]:
    for match in _TOLD.finditer(text):
        words = match.group("name").lower()
        kind = NameKind.PASSWORD if words.startswith(("pass", "pw", "pin")) else NameKind.SECRET
        start, end, _ = _unquote(text, match.start("value"), match.group("value"))
        value = text[start:end].rstrip(".,;:!?")
        # In a sentence a password must look like one: "the password is incorrect" names none.
        if value and not value.isalpha() and _accepts(kind, value, quoted=True, prose_follows=False):
            yield Found(kind.name, f"{kind.value} in a sentence", start, start + len(value), 0.8)
    for match in _CLI_PASSWORD.finditer(text):
        value = match.group("value")
        if not is_placeholder(value):
            yield Found("PASSWORD", "cli password flag", match.start("value"), match.end("value"), 0.9)


def _comparisons_and_elements(text: str) -> Iterator[Found]:
    for match in _COMPARED.finditer(text):
        kind = kind_of(match.group("name"))
        start, end, _ = _unquote(text, match.start("value"), match.group("value"))
        if kind is not NameKind.OTHER and _accepts(kind, text[start:end], quoted=True, prose_follows=False):
            yield Found(kind.name, f"{kind.value} comparison", start, end, 0.85)
    for match in _ELEMENT.finditer(text):
        kind = kind_of(match.group("name").rsplit(":", 1)[-1])
        value = match.group("value")
        if kind is not NameKind.OTHER and _accepts(kind, value, quoted=True, prose_follows=False):
            yield Found(kind.name, f"{kind.value} element", match.start("value"), match.end("value"), 0.85)


def _headers_and_urls(text: str) -> Iterator[Found]:
    for match in _AUTHORIZATION.finditer(text):
        value, scheme = match.group("value"), (match.group("scheme") or "").lower()
        if len(value) >= 8 and not is_placeholder(value) and not value.isalpha():
            entity = {"basic": "BASIC_AUTH", "bearer": "BEARER_TOKEN"}.get(scheme, "AUTH_HEADER")
            yield Found(entity, "authorization header", match.start("value"), match.end("value"), 0.9)
    for match in _BEARER.finditer(text):
        value = match.group("value")
        if not is_placeholder(value) and not value.isalpha():
            yield Found("BEARER_TOKEN", "bearer token", match.start("value"), match.end("value"), 0.9)
    for match in _URL_PASSWORD.finditer(text):
        if not is_placeholder(match.group("value")):
            yield Found("URL_PASSWORD", "password inside a url", match.start("value"), match.end("value"), 0.95)
    for match in _CURL_USER.finditer(text):
        yield from _curl_credentials(match)


def _curl_credentials(match: re.Match[str]) -> Iterator[Found]:
    user, password = match.group("user"), match.group("password")
    if is_placeholder(f"{user}:{password}") or is_placeholder(password or user):
        return
    if match.group("flag") == "-u" and user.isdigit() and password.isdigit():
        return  # `docker run -u 1000:1000`: a uid and gid
    if password:
        yield Found("PASSWORD", "cli credentials", match.start("password"), match.end("password"), 0.9)
    else:  # `-u "apikey:"`: the user part is the key
        yield Found("PASSWORD", "cli credentials", match.start("user"), match.end("user"), 0.9)


def _random_values(text: str) -> Iterator[Found]:
    """Long generated-looking values: assigned to any name that is not a label, or standing alone."""
    for match in _LONG_VALUE.finditer(text):
        value, start = match.group(), match.start()
        before = text[max(0, start - 120) : start]
        if _DIGEST_PREFIX.search(before) or before.endswith(("/", ".", "@", "#", "?")):
            continue  # a digest, or a piece of a URL, path, address or anchor
        if text[match.end() : match.end() + 1] in {"/", ".", "@"} and not value.endswith("="):
            continue
        named = _NAME_BEFORE.search(before)
        if named:
            if names_a_label(named.group("name")) or is_identifier_like(value):
                continue
            if looks_generated(value):
                yield Found("SECRET", "random value in an assignment", start, match.end(), 0.6)
        elif _stands_alone_as_key(value):
            yield Found("SECRET", "random token", start, match.end(), 0.5)


def _stands_alone_as_key(value: str) -> bool:
    has_all = (
        any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value)
    )
    return has_all and looks_generated(value, min_length=32, min_entropy=4.2)


def find_assigned(text: str) -> Iterator[Found]:
    yield from _assignments(text)
    yield from _comparisons_and_elements(text)
    yield from _told_and_typed(text)
    yield from _headers_and_urls(text)
    yield from _random_values(text)
