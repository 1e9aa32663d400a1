"""kombu's filesystem transport with atomic publishing (the embedded broker, ``piisfs://``).

Why: kombu's ``filesystem`` channel creates the message file, then locks and writes it; a consumer
polling the folder can move and read the file in between (the lock is advisory and ``shutil.move``
ignores it), get zero bytes, and the worker dies with "Unrecoverable error: JSONDecodeError"
(seen here once workers started fast enough).  This channel writes the message next to the queue
folder and renames it into place, so a consumer only ever sees complete files.  Everything else,
including the file names (and so the order), is kombu's.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

__all__ = ["SCHEME", "Channel", "Transport"]

SCHEME = "piisfs"


class Channel(filesystem.Channel):
    # kombu's two base classes name the second parameter differently (message, payload): the
    # filesystem channel's own name is kept.
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staging = self.transport_options.get("staging_folder") or os.path.join(
            os.path.dirname(os.path.abspath(self.data_folder_out)), "staging"
        )
        os.makedirs(staging, exist_ok=True)
        temp = os.path.join(staging, name + ".part")
        try:
            with open(temp, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
    driver_type = "filesystem"
    driver_name = "piisfs"


TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
