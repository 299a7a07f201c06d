"""E-mail addresses as presidio finds them, minus strings that only look like one.

Go module paths (``golang.org/x/sys@v0.30.0``), npm specs (``pflag@v1.0.6``) and ``name@1.2.3`` version
pins put an ``@`` before a dotted version; presidio's domain check accepts them because every part is a
word. A real top-level domain is letters (or a ``xn--`` IDN label), never a number.
"""

from __future__ import annotations

import re

from presidio_analyzer.predefined_recognizers import EmailRecognizer

_TOP_LEVEL = re.compile(r"^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")


def has_real_top_level_domain(address: str) -> bool:
    domain = address.rpartition("@")[2]
    return "." in domain and bool(_TOP_LEVEL.match(domain.rsplit(".", 1)[1]))


class StrictEmailRecognizer(EmailRecognizer):
    """presidio's recognizer, refusing addresses whose top-level domain is not a domain's."""

    def validate_result(self, pattern_text: str) -> bool | None:
        if not has_real_top_level_domain(pattern_text):
            return False
        return bool(super().validate_result(pattern_text))
