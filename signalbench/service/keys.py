"""API keys with scopes (read, write, admin), stored hashed; there is no default account or password.

A key reads ``sbk_<id>_<secret>``: the database holds the id, the scopes and the SHA-256 of the secret (a random
256-bit secret needs no slow hash), so a copy of the database cannot be used to call the API. ``admin`` implies
``write``, which implies ``read``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from signalbench.service import db

SCOPES = ("read", "write", "admin")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes: list[str]) -> list[str]:
    """The scopes, checked (ValueError naming an unknown one)."""
    for s in scopes:
        if s not in SCOPES:
            raise ValueError(f"--scope: expected one of {', '.join(SCOPES)}, got {s!r}")
    return sorted(set(scopes), key=SCOPES.index)


def create_key(engine: Engine, name: str, scopes: list[str]) -> str:
    """Store a new key and return it (the only time its secret is shown)."""
    scopes = check_scopes(scopes)
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    row = {"id": key_id, "name": name, "hash": _digest(secret), "scopes": ",".join(scopes)}
    with engine.begin() as conn:
        conn.execute(insert(db.api_keys).values(**row, created_at=time.time(), revoked=0))
    return f"sbk_{key_id}_{secret}"


def granted(scopes: str) -> set[str]:
    """Every scope a key's stored scopes allow (admin > write > read)."""
    have = set(scopes.split(",")) if scopes else set()
    top = max((SCOPES.index(s) for s in have if s in SCOPES), default=-1)
    return set(SCOPES[: top + 1])


def identify(engine: Engine, token: str) -> tuple[str, set[str]] | None:
    """The name and scopes of the key ``token``, or None when it is not a valid, unrevoked key."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "sbk" or not parts[1] or not parts[2]:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(db.api_keys).where(db.api_keys.c.id == parts[1])).first()
    if row is None or row.revoked or not hmac.compare_digest(row.hash, _digest(parts[2])):
        return None
    return row.name, granted(row.scopes)
