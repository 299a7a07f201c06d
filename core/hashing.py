"""Content hashes and identifiers derived from them."""

from __future__ import annotations

import hashlib
import uuid

_POINT_NAMESPACE = uuid.UUID("6f1b0f64-3c1e-4d8a-9a53-5e0f7c2d9b11")


def sha256_hex(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def point_uuid(tenant: str, chunk_id: str, write_id: str) -> str:
    """Vector engines want UUID ids. Each write gets its own points, so two writers of one document
    never overwrite each other's points and a failed writer can remove exactly what it wrote."""
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{tenant}\x1f{chunk_id}\x1f{write_id}"))
