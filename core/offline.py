"""Keep third-party libraries from reaching for the network: models and data ship as packages."""

from __future__ import annotations

import os

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "SCARF_NO_ANALYTICS": "true",
    "DO_NOT_TRACK": "true",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    # Tokenizers forks threads; with our own process pool that deadlocks, so keep it single-threaded.
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce_offline() -> None:
    """Set the libraries' offline switches unless the operator already chose a value."""
    for name, value in _OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
