"""Credentials recognisable by their own shape: provider tokens with a fixed prefix, webhook URLs whose
path is the secret, private key blocks and JWTs.

The formats are the published ones of each provider (the same facts public scanners encode); the
expressions are ours. All token formats run as one alternation, so the text is scanned once however
long the list grows; the format of a hit is looked up afterwards, on the hit alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from ingest.secret_values import is_placeholder


@dataclass(frozen=True)
class TokenFormat:
    entity: str
    name: str
    regex: str
    prefix: str = ""  # the fixed start, left out when judging whether the rest is a run of x's


@dataclass(frozen=True)
class Found:
    entity: str
    name: str
    start: int
    end: int
    score: float


def _t(entity: str, name: str, regex: str, prefix: str = "") -> TokenFormat:
    return TokenFormat(entity, name, regex, prefix)


TOKEN_FORMATS: tuple[TokenFormat, ...] = (
    _t(
        "AWS_ACCESS_KEY",
        "aws access key id",
        r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}",
        "AKIA",
    ),
    _t(
        "API_TOKEN",
        "amazon bedrock api key",
        r"ABSK[A-Za-z0-9+/]{100,}={0,2}|bedrock-api-key-[A-Za-z0-9+/=]{20,}",
    ),
    _t(
        "GITHUB_TOKEN", "github token", r"gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}", "gh"
    ),
    _t(
        "GITLAB_TOKEN",
        "gitlab token",
        r"gl(?:pat|dt|rt|rtr|cbt|ffct|ft|imt|agent|oas|ptt|soat|wt|cf|ddt)-[0-9A-Za-z_.-]{20,300}"
        r"|GR1348941[0-9A-Za-z_-]{20,}|_gitlab_session=[0-9a-z]{32}",
        "gl",
    ),
    _t(
        "SLACK_TOKEN",
        "slack token",
        r"(?:xoxe\.)?xox[abeoprs]-[A-Za-z0-9-]{8,400}|xapp-\d-[A-Za-z0-9-]{10,200}",
        "xox",
    ),
    _t(
        "STRIPE_KEY", "stripe key", r"(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,255}|whsec_[A-Za-z0-9]{32,}"
    ),
    _t("API_TOKEN", "twilio api key", r"SK[0-9a-fA-F]{32}"),
    _t("API_TOKEN", "sendgrid api key", r"SG\.[A-Za-z0-9=_.-]{40,}"),
    _t("ANTHROPIC_KEY", "anthropic key", r"sk-ant-[A-Za-z0-9_-]{20,300}"),
    _t("OPENAI_KEY", "openai style key", r"sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,300}", "sk-"),
    _t("GOOGLE_API_KEY", "google api key", r"AIza[0-9A-Za-z_-]{35}"),
    _t("API_TOKEN", "google oauth secret or token", r"GOCSPX-[A-Za-z0-9_-]{28}|ya29\.[A-Za-z0-9_-]{30,}"),
    _t("API_TOKEN", "huggingface token", r"hf_[A-Za-z0-9]{30,}|api_org_[A-Za-z0-9]{30,}"),
    _t("API_TOKEN", "npm token", r"npm_[A-Za-z0-9]{36}"),
    _t("API_TOKEN", "pypi token", r"pypi-AgE[A-Za-z0-9_-]{50,}"),
    _t("API_TOKEN", "telegram bot token", r"\d{8,10}:AA[A-Za-z0-9_-]{32,34}"),
    _t(
        "API_TOKEN", "discord bot token", r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}"
    ),
    _t("API_TOKEN", "mailchimp key", r"[0-9a-f]{32}-us\d{1,2}"),
    _t("API_TOKEN", "mailgun key", r"key-[0-9a-z]{32}|[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}"),
    _t("API_TOKEN", "shopify token", r"shp(?:at|ca|pa|ss)_[0-9a-fA-F]{32}"),
    _t("API_TOKEN", "databricks token", r"dapi[0-9a-f]{32}(?:-\d)?"),
    _t("API_TOKEN", "vault token", r"hv[sbr]\.[A-Za-z0-9_-]{24,}|s\.(?=[A-Za-z]*\d)[A-Za-z0-9]{24}"),
    _t("API_TOKEN", "terraform cloud token", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}"),
    _t("API_TOKEN", "heroku key", r"HRKU-[A-Za-z0-9_-]{40,}"),
    _t("API_TOKEN", "digitalocean token", r"do[opr]_v1_[a-f0-9]{64}"),
    _t("API_TOKEN", "doppler token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}"),
    _t("API_TOKEN", "grafana token", r"glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
    _t("API_TOKEN", "sentry token", r"sntry[su]_[A-Za-z0-9+/=_]{40,}"),
    _t("API_TOKEN", "notion token", r"ntn_[A-Za-z0-9]{40,}|secret_[A-Za-z0-9]{43}"),
    _t("API_TOKEN", "linear key", r"lin_(?:api|oauth)_[A-Za-z0-9]{40}"),
    _t("API_TOKEN", "planetscale token", r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.=-]{20,64}"),
    _t("API_TOKEN", "postman key", r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}"),
    _t("API_TOKEN", "pulumi token", r"pul-[a-f0-9]{40}"),
    _t("API_TOKEN", "readme key", r"rdme_[a-z0-9]{70}"),
    _t("API_TOKEN", "sourcegraph token", r"sgp_[A-Za-z0-9_]{40,}"),
    _t("API_TOKEN", "square token", r"sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}|EAAA[A-Za-z0-9_-]{60}"),
    _t("API_TOKEN", "facebook token", r"EAA[A-Za-z0-9]{100,}|\d{15,16}(?:\||%7[Cc])[A-Za-z0-9_-]{27}"),
    _t("API_TOKEN", "new relic key", r"NR(?:AK|II|JS|AA)-[A-Za-z0-9_-]{19,32}"),
    _t("API_TOKEN", "octopus deploy key", r"API-[A-Z0-9]{26}"),
    _t("API_TOKEN", "easypost key", r"EZ[AT]K[A-Za-z0-9]{54}"),
    _t(
        "API_TOKEN",
        "1password token",
        r"ops_eyJ[A-Za-z0-9+/]{100,}={0,3}"
        r"|A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
    ),
    _t("API_TOKEN", "alibaba access key id", r"LTAI[A-Za-z0-9]{20}"),
    _t("API_TOKEN", "artifactory key", r"AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59}"),
    _t("API_TOKEN", "atlassian token", r"ATATT3[A-Za-z0-9_=-]{100,}"),
    _t("API_TOKEN", "cloudflare origin ca key", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}"),
    _t("API_TOKEN", "fly.io token", r"fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3}"),
    _t("API_TOKEN", "frame.io token", r"fio-u-[A-Za-z0-9_=-]{64}"),
    _t("API_TOKEN", "infracost key", r"ico-[A-Za-z0-9]{32}"),
    _t("API_TOKEN", "42 intra secret", r"s-s4t2(?:ud|af)-[a-f0-9]{64}"),
    _t("API_TOKEN", "prefect key", r"pnu_[A-Za-z0-9]{36}", "pnu_"),
    _t("API_TOKEN", "perplexity key", r"pplx-[A-Za-z0-9]{48}", "pplx-"),
    _t("API_TOKEN", "adobe secret", r"p8e-[A-Za-z0-9]{32}"),
    _t("API_TOKEN", "age secret key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
    _t("API_TOKEN", "typeform token", r"tfp_[A-Za-z0-9_.=-]{40,}"),
    _t("API_TOKEN", "settlemint token", r"sm_(?:pat|aat|sat)_[A-Za-z0-9]{16}"),
    _t("API_TOKEN", "scalingo token", r"tk-us-[A-Za-z0-9_-]{48}"),
    _t("API_TOKEN", "openshift token", r"sha256~[A-Za-z0-9_-]{43}", "sha256~"),
    _t("API_TOKEN", "clojars token", r"CLOJARS_[a-z0-9]{60}"),
    _t("API_TOKEN", "dynatrace token", r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}"),
    _t("API_TOKEN", "shippo token", r"shippo_(?:live|test)_[a-f0-9]{40}"),
    _t(
        "API_TOKEN",
        "yandex key",
        r"YC[A-Za-z0-9_-]{38}|AQVN[A-Za-z0-9_-]{35,38}|t1\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]{86}",
    ),
    _t("API_TOKEN", "duffel token", r"duffel_(?:test|live)_[A-Za-z0-9_=-]{43}"),
    _t("API_TOKEN", "docker hub token", r"dckr_pat_[A-Za-z0-9_-]{27}"),
    _t("API_TOKEN", "rubygems key", r"rubygems_[a-f0-9]{48}"),
    _t("API_TOKEN", "groq key", r"gsk_[A-Za-z0-9]{52}"),
    _t("API_TOKEN", "xai key", r"xai-[A-Za-z0-9]{80}"),
    _t("API_TOKEN", "replicate token", r"r8_[A-Za-z0-9]{37}"),
    _t("API_TOKEN", "supabase token", r"sbp_[a-f0-9]{40}"),
    _t("API_TOKEN", "mapbox secret token", r"sk\.eyJ[A-Za-z0-9_.-]{50,}"),
    _t("API_TOKEN", "contentful token", r"CFPAT-[A-Za-z0-9_-]{43}"),
    _t("API_TOKEN", "airtable token", r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}"),
    _t("API_TOKEN", "hubspot private app token", r"pat-(?:na|eu)1-[a-f0-9-]{36}"),
    _t("API_TOKEN", "brevo key", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}"),
    _t("API_TOKEN", "firebase cloud messaging key", r"AAAA[A-Za-z0-9_-]{7}:[A-Za-z0-9_-]{140}"),
    _t(
        "AZURE_CLIENT_SECRET",
        "azure ad client secret",
        r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}",
    ),
    _t(
        "JWT",
        "json web token",
        r"(?<![A-Za-z0-9])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}(?:\.[A-Za-z0-9_-]+)?",
    ),
)

# The secret part of a webhook URL starts after the group; the host stays readable.
_WEBHOOKS = re.compile(
    r"(?i)(https?://hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9+/_-]{16,}"
    r"|(https?://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/)[A-Za-z0-9_-]{20,}"
    r"|(https?://[A-Za-z0-9.-]+\.webhook\.office\.com/webhookb2/)[^\s\"'<>]{20,}"
    r"|(https?://outlook\.office(?:365)?\.com/webhook/)[^\s\"'<>]{20,}"
    r"|(https?://hooks\.zapier\.com/hooks/catch/)[0-9]+/[A-Za-z0-9]+/?"
)
# The body between the armour lines is the key; the BEGIN/END lines stay to say what was there.
_PRIVATE_KEY = re.compile(
    r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)"
    r"((?:(?!-----END)[\s\S]){8,}?)(?=-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[\"']|$(?![\s\S]))"
)


@cache
def _alternation() -> re.Pattern[str]:
    body = "|".join(f"(?:{f.regex})" for f in TOKEN_FORMATS)
    return re.compile(f"(?<![A-Za-z0-9])(?:{body})(?![A-Za-z0-9])")


@cache
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def _format_of(hit: str) -> TokenFormat:
    for token in TOKEN_FORMATS:
        if _compiled(token.regex).fullmatch(hit):
            return token
    raise LookupError(hit)  # unreachable: every hit of the alternation is one of its branches


# Tokens start at the start of a run of non-space characters or at a separator inside it, and hold a
# digit, a separator or a capital past their first character (prose words mostly hold none): trying
# the alternation only there, not at every character, makes seventy formats cost about one.
_RUN = re.compile(r"[^\s\"'`<>()\[\]{},;]{10,}")
_MARK = re.compile(r"[\d_.:~|%A-Z-]")
_SEPARATOR = re.compile(r"[^A-Za-z0-9]+")


def _starts(run: re.Match[str]) -> list[int]:
    starts = [run.start()]
    for separator in _SEPARATOR.finditer(run.group()):
        starts += [run.start() + separator.start(), run.start() + separator.end()]
    return starts


def find_tokens(text: str) -> Iterator[Found]:
    alternation = _alternation()
    for run in _RUN.finditer(text):
        if not _MARK.search(run.group(), 1):
            continue
        covered = -1
        for start in _starts(run):
            match = alternation.match(text, start, run.end()) if start >= covered else None
            if match is None:
                continue
            covered = match.end()
            token = _format_of(match.group())
            if not is_placeholder(match.group(), prefix=token.prefix):
                yield Found(token.entity, token.name, match.start(), match.end(), 0.95)
    if "hook" in text:
        for match in _WEBHOOKS.finditer(text):
            keep = next(g for g in match.groups() if g is not None)
            yield Found("WEBHOOK_URL", "webhook url", match.start() + len(keep), match.end(), 0.95)
    if "PRIVATE KEY" in text:
        for match in _PRIVATE_KEY.finditer(text):
            yield Found("PRIVATE_KEY", "pem private key", match.start(2), match.end(2), 0.95)
