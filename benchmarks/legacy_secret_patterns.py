"""The secret patterns main shipped before the recognizers of ingest.secrets: kept only so the benchmark can
measure before and after in one run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LegacySecretPattern:
    entity: str
    name: str
    regex: str
    score: float = 0.95


LEGACY_SECRET_PATTERNS: tuple[LegacySecretPattern, ...] = (
    LegacySecretPattern(
        "PRIVATE_KEY",
        "pem private key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
    ),
    LegacySecretPattern(
        "AWS_ACCESS_KEY", "aws access key id", r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA)[0-9A-Z]{16}\b"
    ),
    LegacySecretPattern(
        "AWS_SECRET_KEY",
        "aws secret access key",
        r"(?i)(?<=aws_secret_access_key)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+=]{40}\b",
    ),
    LegacySecretPattern(
        "GITHUB_TOKEN",
        "github token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
    ),
    LegacySecretPattern("SLACK_TOKEN", "slack token", r"\bxox[abprs]-[A-Za-z0-9-]{10,250}\b"),
    LegacySecretPattern("STRIPE_KEY", "stripe key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,99}\b"),
    LegacySecretPattern("GOOGLE_API_KEY", "google api key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    LegacySecretPattern("OPENAI_KEY", "openai style key", r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,200}\b"),
    LegacySecretPattern(
        "JWT", "json web token", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"
    ),
    LegacySecretPattern("BEARER_TOKEN", "bearer token", r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/-]{16,}=*"),
    LegacySecretPattern(
        "URL_PASSWORD",
        "password inside a URL or connection string",
        r"(?<=://)[^\s:/@]+:[^\s@/]+(?=@)",
    ),
    LegacySecretPattern(
        "PASSWORD",
        "password assignment",
        r"(?i)(?<=\b(?:password|passwd|pwd|secret|api[_-]?key|token)[\"']?\s{0,3}[:=]\s{0,3})[\"']?[^\s\"',;]{6,}",
        0.85,
    ),
)
