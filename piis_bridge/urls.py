"""Putting identifiers into URLs safely.

Why a module: a vendor record id is data, not a path.  ``../../etc/passwd-500`` must reach the
vendor as one opaque segment (``..%2F..%2Fetc%2Fpasswd-500``), never as a walk up the API tree;
``?`` and ``#`` must not start a query or a fragment; an already encoded ``%2F`` must stay the
characters ``%``, ``2``, ``F``.  Every client that puts an id into a path uses :func:`segment`.
"""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["segment"]


def segment(value: object) -> str:
    """*value* percent-encoded as exactly one path segment (RFC 3986).

    Everything outside the unreserved set is encoded, including ``/``, ``?``, ``#``, ``%`` and
    spaces; the dot segments ``.`` and ``..`` (which HTTP clients and servers remove while
    normalising a path) are encoded as ``%2E``.  An empty value is refused: it would make the
    URL point at the collection instead of the item.
    """
    text = str(value)
    if not text:
        raise ValueError("an empty identifier cannot be a URL path segment")
    encoded = quote(text, safe="")
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    return encoded
