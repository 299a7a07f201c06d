"""Credentials recognisable by where they stand rather than by a name: ``Authorization`` headers,
passwords inside URLs, ``curl --user``, command lines that take a password flag, and long random values
(assigned to a name that is not a label, or standing alone).

Each rule runs only when the text holds its cheap marker (``://``, ``authorization``, ``-u`` …), so
prose pays a few substring checks for all of them.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from ingest.secret_names import names_a_label
from ingest.secret_tokens import Found
from ingest.secret_values import is_identifier_like, is_placeholder, looks_generated

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
_CLI_TOOLS = ("login", "mysql", "sshpass", "redis-cli")
_CLI_PASSWORD = re.compile(
    r"\b(?:(?:docker|podman|helm(?:[ \t]+registry)?|oras|skopeo)[ \t]+login\b[^\n]*?[ \t](?:-p|--password)"
    r"(?:[ \t]+|=)|mysql(?:dump|admin)?\b[^\n]*?[ \t]-p(?=[^\s-])|sshpass[ \t]+-p[ \t]*"
    r"|redis-cli\b[^\n]*?[ \t]-a[ \t]+)"
    r"(?P<q>[\"']?)(?P<value>[^\s\"']+)(?P=q)"
)
_LONG_VALUE = re.compile(r"[A-Za-z0-9+_-]{20,}={0,2}")
_RUN_CHARS = re.compile(r"[A-Za-z0-9+=_-]")
_DIGEST_PREFIX = re.compile(r"(?i)(?:sha\d*|md5|blake2b?|crc32)[-:=~]$")
# `name = value`, `name: value`, `"name", "value"` just before a long value, matched on the reversed
# text before it (so only at its end, not tried at every position); prose like "virus, IL-2…" or
# "Results: …" is told apart below by the shape of the name.
_NAME_BEFORE_REVERSED = re.compile(
    r"(?P<vq>[\"'`]?)@?[ \t]*(?P<op>=:::|=::|=:|=\?|=\+|=\.|>=|=|:|,)[ \t]*(?:\]\d*\[)?[\"'`]?"
    r"(?P<name>[\w.$-]+)(?P<nq>[\"'`]?)"
)
# Long random-looking runs that are public by design: certificates and public keys, SSH public keys,
# and data URIs (an embedded image is base64 too).
_PUBLIC_BLOCK = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*(?:PUBLIC KEY|CERTIFICATE|CERTIFICATE REQUEST|SIGNATURE|PUBLIC KEY BLOCK)"
    r"-----"
    r"[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$(?![\s\S]))"
    r"|(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
    r"[ \t]+AAAA[A-Za-z0-9+/]+={0,3}"
    r"|data:[\w.+-]+/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,[A-Za-z0-9+/]+={0,2}"
)
_CODE_NAME = re.compile(r"[_$.\d-]|[a-z][A-Z]|^[A-Z]{2,}$")


def _headers(text: str, lowered: str) -> Iterator[Found]:
    if "authorization" in lowered:
        for match in _AUTHORIZATION.finditer(text):
            value, scheme = match.group("value"), (match.group("scheme") or "").lower()
            credential = scheme == "basic" and _is_basic_credential(value)
            if credential or (len(value) >= 8 and not is_placeholder(value) and not value.isalpha()):
                entity = {"basic": "BASIC_AUTH", "bearer": "BEARER_TOKEN"}.get(scheme, "AUTH_HEADER")
                yield Found(entity, "authorization header", match.start("value"), match.end("value"), 0.9)
    if "bearer" in lowered:
        for match in _BEARER.finditer(text):
            value = match.group("value")
            if not is_placeholder(value) and not value.isalpha():
                yield Found("BEARER_TOKEN", "bearer token", match.start("value"), match.end("value"), 0.9)


def _is_basic_credential(value: str) -> bool:
    """A Basic value is base64 of ``user:password``, which may be letters only (``dXNlcjpwYXNz``): decode
    it rather than judging its look."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, colon, password = decoded.partition(":")
    return bool(colon) and decoded.isprintable() and not is_placeholder(f"{user}:{password}")


def _command_lines(text: str, lowered: str) -> Iterator[Found]:
    if " -u" in text or "\n-u" in text or "--user" in text:
        for match in _CURL_USER.finditer(text):
            yield from _user_and_password(match)
    if any(tool in lowered for tool in _CLI_TOOLS):
        for match in _CLI_PASSWORD.finditer(text):
            if not is_placeholder(match.group("value")):
                yield Found("PASSWORD", "cli password flag", match.start("value"), match.end("value"), 0.9)


def _user_and_password(match: re.Match[str]) -> Iterator[Found]:
    user, password = match.group("user"), match.group("password")
    if is_placeholder(f"{user}:{password}") or is_placeholder(password or user):
        return
    if match.group("flag") == "-u" and user.isdigit() and password.isdigit():
        return  # `docker run -u 1000:1000`: a uid and gid
    if password:
        yield Found("PASSWORD", "cli credentials", match.start("password"), match.end("password"), 0.9)
    else:  # `-u "apikey:"`: the user part is the key
        yield Found("PASSWORD", "cli credentials", match.start("user"), match.end("user"), 0.9)


def _url_passwords(text: str) -> Iterator[Found]:
    if "://" in text:
        for match in _URL_PASSWORD.finditer(text):
            if not is_placeholder(match.group("value")):
                yield Found(
                    "URL_PASSWORD", "password inside a url", match.start("value"), match.end("value"), 0.95
                )


def _public_ranges(text: str) -> list[tuple[int, int]]:
    if "-----BEGIN" not in text and "AAAA" not in text and "base64," not in text:
        return []
    return [(m.start(), m.end()) for m in _PUBLIC_BLOCK.finditer(text)]


def _random_values(text: str) -> Iterator[Found]:
    """Long generated-looking values: assigned to any name that is not a label, or standing alone."""
    public = _public_ranges(text)
    for match in _LONG_VALUE.finditer(text):
        value, start, end = match.group(), match.start(), match.end()
        if not looks_generated(value) or is_placeholder(value):
            continue  # the cheap test first: every value either rule takes passes it
        if any(low <= start < high for low, high in public):
            continue
        if start > 0 and _RUN_CHARS.match(text, start - 1):
            continue  # the tail of a longer run that holds a character the scan stops at
        before = text[max(0, start - 80) : start]
        if _DIGEST_PREFIX.search(before[-12:]) or before.endswith(("/", ".", "@", "#", "?", "=")):
            continue  # a digest, or a piece of a URL, path, address, anchor or query string
        if text[end : end + 1] in {"/", ".", "@"} and not value.endswith("="):
            continue
        named = _NAME_BEFORE_REVERSED.match(before[::-1])
        if named and _is_assignment(named):
            if not names_a_label(named.group("name")[::-1]) and not is_identifier_like(value):
                yield Found("SECRET", "random value in an assignment", start, end, 0.6)
        elif _stands_alone_as_key(value):
            yield Found("SECRET", "random token", start, end, 0.5)


def _is_assignment(named: re.Match[str]) -> bool:
    """Code and config assign; prose lists ("virus, IL-2…") and heads sentences ("Results: …")."""
    quoted = bool(named.group("nq") or named.group("vq"))
    if named.group("op") == ",":
        return bool(named.group("nq") and named.group("vq"))
    return quoted or named.group("op") != ":" or bool(_CODE_NAME.search(named.group("name")[::-1]))


def _stands_alone_as_key(value: str) -> bool:
    mixed = (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )
    return mixed and looks_generated(value, min_length=32, min_entropy=4.2)


def find_placed_credentials(text: str) -> Iterator[Found]:
    lowered = text.lower()
    yield from _headers(text, lowered)
    yield from _command_lines(text, lowered)
    yield from _url_passwords(text)
    yield from _random_values(text)
