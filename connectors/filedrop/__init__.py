"""filedrop connector: a drop directory for nightly export files, CSV/XML readers, a task outbox.

Modules: :mod:`.directory` (claim/finish/fail, content-hash de-duplication), :mod:`.readers`
(semicolon CSV in Windows-1252 or UTF-8 with BOM, XML; rows carry their line number),
:mod:`.outbox` (push-back as one JSON file per task, idempotent on the key).
"""

__all__: list[str] = []
