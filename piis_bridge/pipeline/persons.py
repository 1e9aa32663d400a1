"""The person hash: how the pipeline finds a person's contracts without an index of NISS numbers.

Why: a National Register notice names a person (a NISS), not a vendor dossier, so the pipeline must
find the contracts of that person at a CPAS.  An index on the NISS itself would put national
register numbers in index pages, query plans and (on PostgreSQL) in slow-query logs with their
bound values.  Instead every processed item carries ``person_key`` = HMAC-SHA256 of the
beneficiary's NISS under a key of this database, and a notice is matched by the same hash.

The key is random, generated once per database (``sync_secret``), so every worker of a scale-out
deployment computes the same hash.  It is not a protection against someone who holds the whole
database (the stored source records hold the NISS too); it keeps the NISS out of indexes and logs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from piis_bridge.pipeline.models import Secret, utcnow

__all__ = ["PERSON_KEY", "person_hasher"]

PERSON_KEY = "person_key"


def _database_key(session: Session) -> bytes:
    """This database's person hash key, created by the first caller (concurrent callers agree)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Secret)
        .values(name=PERSON_KEY, value=secrets.token_hex(32), created_at=utcnow())
        .on_conflict_do_nothing()
    )
    session.commit()
    value = session.scalar(select(Secret.value).where(Secret.name == PERSON_KEY))
    assert value is not None
    return bytes.fromhex(value)


def person_hasher(session: Session) -> Callable[[str], str]:
    """``niss -> hex HMAC`` under this database's key."""
    key = _database_key(session)

    def person_key(niss: str) -> str:
        return hmac.new(key, niss.encode("ascii"), hashlib.sha256).hexdigest()

    return person_key
