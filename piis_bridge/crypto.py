"""Field encryption for personal data at rest: AES-256-GCM with a key ring.

Why: the database holds vendor records, federal forms and received hand-over drafts, all full of
personal data (NISS, names, addresses, social situation).  A database dump, a backup or a
read-only support account must not expose them.  Columns holding such payloads use
:class:`EncryptedText` (a SQLAlchemy TypeDecorator): values are encrypted on the way in and
decrypted on the way out, so the code above the ORM is unchanged.

Keys (never in the configuration file):

* ``PIIS_DATA_KEYS`` = ``"k2:<base64 32 bytes>,k1:<base64 32 bytes>"``, or
* ``PIIS_DATA_KEYS_FILE`` = a file (mode 0600) with one ``<key id>:<base64 32 bytes>`` per line.

The **first** key encrypts; every key decrypts (a key ring): to rotate, put a new key first, keep
the old ones, run ``piis-bridge db rotate-key`` (re-encrypts every value under the new key), then
remove the old keys.  Generate a key with ``piis-bridge db new-key``.

Stored form: ``enc:v1:<key id>:<base64(nonce 12 bytes | ciphertext+tag)>``; the column name is the
associated data, so a value copied into another column does not decrypt.  A value without the
prefix is legacy plaintext, read as is (and encrypted by ``rotate-key``).  Without any key
configured, values are stored as given: :func:`encryption_status` says so, and ``piis-bridge db
rotate-key`` refuses to run.

Look-up hashes (:func:`keyed_hash`, the NISS columns of the federal ledger) use a **separate, stable
hash key**: ``PIIS_HASH_KEY`` = ``"<key id>:<base64 32 bytes>"`` or ``PIIS_HASH_KEY_FILE`` (same file
rules).  Why separate: a rotation of the data key re-encrypts values but must not change the
hashes the exactly-once look-ups are made on.  Rotating the hash key itself means recomputing every
hash (``piis_bridge.ledger.rehash_niss``), a planned operation.  With data keys but no hash key the
hash refuses (a configuration error naming both settings); with neither (a development machine) a
fixed development key is used, which protects nothing, as the unencrypted payloads beside it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String, Text
from sqlalchemy.types import TypeDecorator

__all__ = [
    "DEV_HASH_KEY",
    "HASH_KEY_ENV",
    "HASH_KEY_FILE_ENV",
    "KEYS_ENV",
    "KEYS_FILE_ENV",
    "CryptoError",
    "EncryptedString",
    "EncryptedText",
    "KeyRing",
    "code_fingerprint",
    "encrypted_columns",
    "encryption_status",
    "hash_key",
    "key_ring",
    "keyed_hash",
    "new_key",
    "reset_key_ring",
    "rotate",
]

KEYS_ENV = "PIIS_DATA_KEYS"
KEYS_FILE_ENV = "PIIS_DATA_KEYS_FILE"
HASH_KEY_ENV = "PIIS_HASH_KEY"
HASH_KEY_FILE_ENV = "PIIS_HASH_KEY_FILE"
# Used only when no key at all is configured (development): public, so it protects nothing.
DEV_HASH_KEY = hashlib.sha256(b"piis-bridge development hash key: protects nothing").digest()
_PREFIX = "enc:v1:"


class CryptoError(ValueError):
    """A key is missing, malformed, or a value does not decrypt; the message never holds data."""


@dataclass(frozen=True)
class KeyRing:
    """Key id -> 32-byte key; ``current`` encrypts, all decrypt."""

    keys: dict[str, bytes]
    current: str | None

    @classmethod
    def parse(cls, text: str, where: str) -> KeyRing:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for n, part in enumerate(p.strip() for p in text.replace("\n", ",").split(",")):
            if not part or part.startswith("#"):
                continue
            kid, sep, b64 = part.partition(":")
            kid = kid.strip()
            if (
                not sep
                or not kid
                or not kid.replace("-", "").replace("_", "").isalnum()
                or len(kid) > 32
            ):
                raise CryptoError(
                    f"{where}: entry {n + 1} must be '<key id>:<base64 key>' (id: letters, digits, -_)"
                )
            try:
                key = base64.b64decode(b64.strip(), validate=True)
            except ValueError:
                raise CryptoError(f"{where}: key {kid!r} is not valid base64") from None
            if len(key) != 32:
                raise CryptoError(
                    f"{where}: key {kid!r} must be 32 bytes (AES-256), has {len(key)}; "
                    "make one with `piis-bridge db new-key`"
                )
            if kid in keys:
                raise CryptoError(f"{where}: key id {kid!r} appears twice")
            keys[kid] = key
            order.append(kid)
        return cls(keys, order[0] if order else None)

    @classmethod
    def from_environment(cls, env: str = KEYS_ENV, file_env: str = KEYS_FILE_ENV) -> KeyRing:
        text = os.environ.get(env)
        path = os.environ.get(file_env)
        if text and path:
            raise CryptoError(f"both {env} and {file_env} are set; keep one")
        if path:
            try:
                mode = os.stat(path).st_mode
                if stat.S_IMODE(mode) & 0o077:
                    raise CryptoError(
                        f"{file_env}={path}: readable by others (mode "
                        f"{stat.S_IMODE(mode):o}); chmod 600 it"
                    )
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise CryptoError(
                    f"{file_env}={path}: cannot read the key file: {exc.strerror}"
                ) from None
            return cls.parse(text, file_env)
        return cls.parse(text or "", env)

    @property
    def enabled(self) -> bool:
        return self.current is not None

    def encrypt(self, plaintext: str, aad: str) -> str:
        if self.current is None:
            return plaintext
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.keys[self.current]).encrypt(
            nonce, plaintext.encode("utf-8"), aad.encode()
        )
        return f"{_PREFIX}{self.current}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, stored: str, aad: str) -> str:
        if not stored.startswith(_PREFIX):
            return stored  # legacy plaintext (before encryption was configured)
        kid, _, b64 = stored[len(_PREFIX) :].partition(":")
        key = self.keys.get(kid)
        if key is None:
            raise CryptoError(
                f"a value of {aad} is encrypted with key {kid!r}, which is not in the key ring "
                f"({KEYS_ENV} / {KEYS_FILE_ENV}); keep old keys until `piis-bridge db rotate-key` ran"
            )
        raw = base64.b64decode(b64)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode()).decode("utf-8")
        except InvalidTag:
            raise CryptoError(
                f"a value of {aad} does not decrypt with key {kid!r} (tampered or moved)"
            ) from None

    @staticmethod
    def key_id_of(stored: str | None) -> str | None:
        if stored is None or not stored.startswith(_PREFIX):
            return None
        return stored[len(_PREFIX) :].partition(":")[0]


_ring: KeyRing | None = None
_hash_key: bytes | None = None
_derived: dict[str, bytes] = {}
_ring_lock = threading.Lock()


def key_ring() -> KeyRing:
    """The process's key ring, read from the environment once."""
    global _ring
    with _ring_lock:
        if _ring is None:
            _ring = KeyRing.from_environment()
        return _ring


def reset_key_ring(ring: KeyRing | None = None) -> None:
    """Forget (or replace) the cached key ring and hash key: tests, and after a key file changed."""
    global _ring, _hash_key
    with _ring_lock:
        _ring = ring
        _hash_key = None
        _derived.clear()


def hash_key() -> bytes:
    """The stable key of look-up hashes (``PIIS_HASH_KEY`` / ``PIIS_HASH_KEY_FILE``), read once.

    Exactly one key: a hash is a look-up key, so two keys would mean two hashes per value.  Without
    one: refused when data keys are configured (the installation protects its data, and a hash
    under a public key is as good as the NISS itself), :data:`DEV_HASH_KEY` otherwise.
    """
    global _hash_key
    ring = key_ring()
    with _ring_lock:
        if _hash_key is None:
            parsed = KeyRing.from_environment(HASH_KEY_ENV, HASH_KEY_FILE_ENV)
            if len(parsed.keys) > 1:
                raise CryptoError(
                    f"{HASH_KEY_ENV} / {HASH_KEY_FILE_ENV}: exactly one hash key, found "
                    f"{len(parsed.keys)}; to change it, recompute the hashes (docs/privacy.md 3.1)"
                )
            if parsed.current is not None:
                _hash_key = parsed.keys[parsed.current]
            elif ring.enabled:
                raise CryptoError(
                    f"data keys are configured ({KEYS_ENV} / {KEYS_FILE_ENV}) but no hash key: set "
                    f"{HASH_KEY_ENV} or {HASH_KEY_FILE_ENV} (environment or a 0600 file, never the "
                    "configuration file) to a key made with `piis-bridge db new-key hash1`; it must "
                    "stay the same for the life of the database"
                )
            else:
                _hash_key = DEV_HASH_KEY
        return _hash_key


def new_key() -> str:
    """A fresh base64 AES-256 key."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def keyed_hash(value: str, purpose: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 of *value* under a key derived from the hash key (hex, 64 characters).

    For look-ups that must not store the value itself (a NISS).  Under :func:`hash_key`, never the
    data key: rotating the data key must leave every hash as it is.  Derived per *purpose* so hashes
    made for different purposes cannot be joined without the key.  *key*: another hash key (only to
    recompute hashes when the hash key changes).
    """
    derived = _derived.get(purpose) if key is None else None
    if derived is None:
        derived = hmac.new(
            hash_key() if key is None else key,
            b"piis-bridge/keyed-hash/" + purpose.encode(),
            hashlib.sha256,
        ).digest()
        if key is None:
            _derived[purpose] = derived
    return hmac.new(derived, value.encode("utf-8"), hashlib.sha256).hexdigest()


_DIGIT_RUN = re.compile(r"\d{6,}")


def code_fingerprint(value: str) -> str:
    """``#`` and 8 hex digits naming an unknown vendor code without showing it, or ``""``.

    Why: mapping errors show an unknown code only as its shape (``'AAAAAAAA'``), because the column
    may hold a misplaced name or NISS.  The fingerprint lets an operator see that 340 quarantined
    records share one unknown code (one mapping fix, one look in the vendor system) and check the
    fix by its disappearance.  A keyed hash under the stable hash key with its own purpose: it
    cannot be joined with the ledger's NISS hashes, nor reversed without the key.  A value with six
    or more digits in a row (a NISS, a date, an amount: never a code) gets none, so that even under
    the public development key no fingerprint of such a number is ever shown.
    """
    text = value.strip()
    if not text or _DIGIT_RUN.search(text):
        return ""
    try:
        return "#" + keyed_hash(text, "unknown-vendor-code")[:8]
    except CryptoError:  # no hash key: the ledger reports it; an error text must not fail
        return ""


class EncryptedText(TypeDecorator[str]):
    """A Text column whose values are AES-GCM encrypted with the key ring (see the module doc).

    ``EncryptedText("sync_item.payload")``: the name is the associated data.  Equality look-ups on
    such a column are meaningless (each encryption differs); none of the payload columns is queried.
    """

    impl = Text
    cache_ok = True

    def __init__(self, name: str, *impl_args: Any) -> None:
        super().__init__(*impl_args)
        self.name = name

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        text = value if isinstance(value, str) else str(value)
        if text == "" or text.startswith(_PREFIX):
            return text
        return key_ring().encrypt(text, self.name)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return key_ring().decrypt(value, self.name)


class EncryptedString(EncryptedText):
    """EncryptedText on a VARCHAR(n) column (keys and short secrets): ``EncryptedString(name, 200)``."""

    impl = String  # type: ignore[assignment]  # a String is the Text column's VARCHAR(n) form
    cache_ok = True


def encrypted_columns(metadata: Any) -> Iterator[tuple[Any, Any]]:
    """(table, column) for every EncryptedText column of *metadata*."""
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                yield table, column


def encryption_status(engine: Any, metadata: Any) -> dict[str, dict[str, int]]:
    """Per encrypted column: how many values are plaintext and how many per key id."""
    from sqlalchemy import inspect, select

    present = set(inspect(engine).get_table_names())
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for table, column in encrypted_columns(metadata):
            if table.name not in present:
                continue
            raw = table.c[column.name]
            counts: dict[str, int] = {}
            for (value,) in conn.execute(select(_raw(raw)).where(raw.is_not(None))):
                kid = KeyRing.key_id_of(value) or ("(empty)" if value == "" else "(plaintext)")
                counts[kid] = counts.get(kid, 0) + 1
            out[f"{table.name}.{column.name}"] = counts
    return out


def _raw(column: Any) -> Any:
    from sqlalchemy import type_coerce

    return type_coerce(column, Text)


def rotate(engine: Any, metadata: Any, *, batch: int = 500) -> dict[str, int]:
    """Re-encrypt every value of every EncryptedText column under the current key.

    Values already under the current key are left alone, so the command can be interrupted and run
    again.  Returns the number of values re-encrypted per column.
    """
    from sqlalchemy import inspect, select, update

    ring = key_ring()
    if ring.current is None:
        raise CryptoError(
            f"no data key configured ({KEYS_ENV} or {KEYS_FILE_ENV}): nothing to rotate to"
        )
    present = set(inspect(engine).get_table_names())
    done: dict[str, int] = {}
    for table, column in encrypted_columns(metadata):
        if table.name not in present:
            continue
        pk = list(table.primary_key.columns)
        if len(pk) != 1:
            raise CryptoError(f"{table.name}: rotate-key needs a single-column primary key")
        pk_col, col = pk[0], table.c[column.name]
        name = f"{table.name}.{column.name}"
        count, last = 0, None
        while True:
            with engine.begin() as conn:
                query = (
                    select(pk_col, _raw(col)).where(col.is_not(None)).order_by(pk_col).limit(batch)
                )
                if last is not None:
                    query = query.where(pk_col > last)
                rows = list(conn.execute(query))
                if not rows:
                    break
                for key, value in rows:
                    if value == "" or KeyRing.key_id_of(value) == ring.current:
                        continue
                    plain = ring.decrypt(value, column.type.name)
                    conn.execute(
                        update(table)
                        .where(pk_col == key)
                        .values({column.name: _raw_literal(ring.encrypt(plain, column.type.name))})
                    )
                    count += 1
                last = rows[-1][0]
        done[name] = count
    return done


def _raw_literal(value: str) -> Any:
    from sqlalchemy import literal

    return literal(value, Text)
