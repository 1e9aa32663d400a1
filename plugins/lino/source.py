"""What the plugin reads from Lino for one ISIP contract, and the change feed over it.

A contract record's payload is Lino's own data, unchanged in meaning: the contract row
(``isip.Contracts``), its client (the ``pcsw.Clients`` detail: national id, birth date, names, language), the
client's aid grantings (``aids.Grantings``) and income confirmations (``aids.IncomeConfirmations``),
and the rows of the codes it points to (contract type, study type, ending, exam policy).  Front-end
state (``disabled_fields``, ``rowselect``...) and volatile columns (ages, "modified") are left out so
that the content hash changes only when the data does.

Feed (cursor = JSON, opaque to the core):

* ``scan``: every contract by ascending id (keyset ``id > scan_after``), handing over those whose
  content hash differs from the one last processed (:class:`~piis_plugins.lino.state.HashStore`).
  The first sync is a scan; later scans start every ``full_scan_hours``.  Before a scan starts, the
  change log's last id is noted (``log``), so nothing changed during the scan is lost.
* ``log``: Lino's change log (``changes.Changes``) after ``log``: a change of a contract names it, a
  change whose master is a client partner names the client's contracts.  Records are ordered by
  their last change id in the window (a modification sequence), and the cursor is the last change
  id of the page's last record, so a record changed again later comes back, and no record comes back
  once its page is processed.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from piis_connectors.lino.client import LinoClient, grid_filter

__all__ = ["RECORD_PREFIX", "Cursor", "LinoReader", "content_hash", "pk_of", "record_id_of"]

RECORD_PREFIX = "isip-"
_BRUSSELS = ZoneInfo("Europe/Brussels")
_DROP = frozenset(
    {
        "disabled_fields",
        "disable_editing",
        "rowselect",
        "row_class",
        "workflow_buttons",
        "age",
        "modified",
        "created",
        "printed_by",
        "printed_byHidden",
        "detail_link",
        "printed",
    }
)
_CLIENT_KEYS = (
    "id",
    "national_id",
    "birth_date",
    "first_name",
    "last_name",
    "languageHidden",
    "gender",
    "genderHidden",
)
_GRANTING_KEYS = (
    "id",
    "aid_type",
    "aid_typeHidden",
    "category",
    "categoryHidden",
    "start_date",
    "end_date",
    "decision_date",
    "request_date",
    "board",
    "boardHidden",
    "state",
    "stateHidden",
)
_CONFIRMATION_KEYS = (
    "id",
    "grantingHidden",
    "category",
    "categoryHidden",
    "amount",
    "start_date",
    "end_date",
    "state",
    "stateHidden",
)
LOG_WINDOW = 500
STATIC_TTL = 600.0


def record_id_of(pk: int) -> str:
    return f"{RECORD_PREFIX}{pk}"


def pk_of(record_id: str) -> int | None:
    if not record_id.startswith(RECORD_PREFIX):
        return None
    tail = record_id[len(RECORD_PREFIX) :]
    return int(tail) if tail.isdigit() and len(tail) < 12 else None


def content_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()[:20]


def _clean(
    row: dict[str, Any] | None, keys: tuple[str, ...] | None = None
) -> dict[str, Any] | None:
    if row is None:
        return None
    if keys is not None:
        return {k: row.get(k) for k in keys}
    return {k: v for k, v in row.items() if k not in _DROP}


@dataclass
class Cursor:
    """The feed position (see the module doc); serialised as compact JSON."""

    mode: str = "scan"
    log: int = 0
    scan_after: int = 0
    scan_started: str | None = None
    last_scan: str | None = None

    def dump(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "mode": self.mode,
                "log": self.log,
                "scan_after": self.scan_after,
                "scan_started": self.scan_started,
                "last_scan": self.last_scan,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, text: str) -> Cursor:
        try:
            data = json.loads(text)
            return cls(
                mode=str(data["mode"]),
                log=int(data["log"]),
                scan_after=int(data["scan_after"]),
                scan_started=data.get("scan_started"),
                last_scan=data.get("last_scan"),
            )
        except (ValueError, KeyError, TypeError):
            raise ValueError(
                "not a cursor of the lino plugin (was the CPAS's case system changed?)"
            ) from None


@dataclass
class LinoReader:
    """Reads contracts and their context from one Lino, caching the code tables for one call."""

    client: LinoClient
    page_size: int = 100
    _codes: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    _types: dict[str, int] = field(default_factory=dict)
    _per_client: dict[int, dict[str, Any]] = field(default_factory=dict)
    _client_changed: dict[int, list[str]] = field(default_factory=dict)

    # -- code tables and content types ---------------------------------------------------------------

    def _static(self, key: str, load: Any) -> Any:
        """Code tables and content types change rarely: kept on the (pooled) client for STATIC_TTL seconds."""
        cache: dict[str, tuple[float, Any]] = self.client.__dict__.setdefault("_piis_static", {})
        hit = cache.get(key)
        if hit is None or time.monotonic() - hit[0] > STATIC_TTL:
            hit = (time.monotonic(), load())
            cache[key] = hit
        return hit[1]

    def codes(self, app: str, table: str) -> dict[int, dict[str, Any]]:
        key = f"{app}.{table}"
        if key not in self._codes:
            self._codes[key] = self._static(
                key,
                lambda: {
                    int(r["id"]): _clean(r)
                    for r in self.client.iter_rows(app, table, page_size=200)
                },
            )
        return self._codes[key]

    def content_type(self, app_label: str, model: str) -> int:
        """Lino's (Django's) content type id of a model: how the change log names what changed."""
        if not self._types:
            self._types = self._static(
                "contenttypes",
                lambda: {
                    f"{row.get('app_label')}.{row.get('model')}": int(row["id"])
                    for row in self.client.iter_rows("gfks", "ContentTypes", page_size=500)
                },
            )
        try:
            return self._types[f"{app_label}.{model}"]
        except KeyError:
            raise LookupError(
                f"Lino has no content type {app_label}.{model}: is this a Lino Welfare?"
            ) from None

    # -- one contract --------------------------------------------------------------------------------

    def contract_row(self, pk: int) -> dict[str, Any] | None:
        return self.client.get_row("isip", "Contracts", pk)

    def payload(self, row: dict[str, Any]) -> dict[str, Any]:
        """Everything the mapping reads for this contract (Lino's data, see the module doc)."""
        contract = _clean(row) or {}
        client_id = row.get("clientHidden")
        context = self._client_context(int(client_id)) if client_id is not None else {}
        client = context.get("client")
        grantings = context.get("grantings") or []
        confirmations = context.get("confirmations") or []

        def code(app: str, table: str, hidden: str) -> dict[str, Any] | None:
            value = row.get(hidden)
            return self.codes(app, table).get(int(value)) if value is not None else None

        return {
            "contract": contract,
            "client": _clean(client, _CLIENT_KEYS),
            "grantings": grantings,
            "confirmations": confirmations,
            "contract_type": code("isip", "ContractTypes", "typeHidden"),
            "study_type": code("cv", "StudyTypes", "study_typeHidden"),
            "ending": code("isip", "ContractEndings", "endingHidden"),
            "exam_policy": code("isip", "ExamPolicies", "exam_policyHidden"),
        }

    def _client_context(self, client_id: int) -> dict[str, Any]:
        """The client's row, grantings and income confirmations, read once per reader (one feed call)."""
        if client_id not in self._per_client:
            by_client = [grid_filter("client", client_id)]
            self._per_client[client_id] = {
                "client": self._client_row(client_id),
                "grantings": [
                    _clean(g, _GRANTING_KEYS)
                    for g in self.client.iter_rows(
                        "aids", "Grantings", filters=by_client, page_size=self.page_size
                    )
                ],
                "confirmations": [
                    _clean(c, _CONFIRMATION_KEYS)
                    for c in self.client.iter_rows(
                        "aids", "IncomeConfirmations", filters=by_client, page_size=self.page_size
                    )
                ],
            }
        return self._per_client[client_id]

    def _client_row(self, client_id: int) -> dict[str, Any] | None:
        """The client's identity columns: from the client list (fast), else from its detail (the lists hide
        clients by state, e.g. former clients); empty values as None so both read alike."""
        row = self.client.get_row("pcsw", "AllClients", client_id) or self.client.get_detail(
            "pcsw", "Clients", client_id
        )
        if row is None:
            return None
        return {k: (row.get(k) if row.get(k) not in ("", None) else None) for k in _CLIENT_KEYS}

    def _last_change(self, ct: int, oid: int) -> list[str]:
        _, rows = self.client.list_rows(
            "changes",
            "Changes",
            filters=[grid_filter("object_type", ct), grid_filter("object_id", oid)],
            sort="id",
            direction="DESC",
            limit=1,
        )
        return [str(r["time"]) for r in rows if r.get("time")]

    def modified_at(self, row: dict[str, Any]) -> datetime:
        """The last change-log time of the contract or its client (Lino keeps no modification time on
        contracts); the contract's start when the log knows nothing (ORM saves are not logged)."""
        times: list[str] = []
        pk, client_id = row.get("id"), row.get("clientHidden")
        if pk is not None:
            times.extend(self._last_change(self.content_type("isip", "contract"), int(pk)))
        if client_id is not None:
            if int(client_id) not in self._client_changed:
                self._client_changed[int(client_id)] = self._last_change(
                    self.content_type("pcsw", "client"), int(client_id)
                )
            times.extend(self._client_changed[int(client_id)])
        if times:
            return datetime.fromisoformat(max(times)).replace(tzinfo=_BRUSSELS).astimezone(UTC)
        start = row.get("applies_from")
        if start:
            day = datetime.strptime(str(start), "%d.%m.%Y")
            return day.replace(tzinfo=_BRUSSELS).astimezone(UTC)
        return datetime(1970, 1, 1, tzinfo=UTC)

    # -- feed helpers --------------------------------------------------------------------------------

    def contracts_after(self, after: int, limit: int) -> list[dict[str, Any]]:
        _, rows = self.client.list_rows(
            "isip", "Contracts", filters=[grid_filter("id", after, "gt")], limit=limit
        )
        return rows

    def contracts_of_client(self, client_id: int) -> list[dict[str, Any]]:
        return list(
            self.client.iter_rows(
                "isip",
                "Contracts",
                filters=[grid_filter("client", client_id)],
                page_size=self.page_size,
            )
        )

    def last_change_id(self) -> int:
        _, rows = self.client.list_rows("changes", "Changes", sort="id", direction="DESC", limit=1)
        return int(rows[0]["id"]) if rows else 0

    def changes_after(self, after: int, limit: int = LOG_WINDOW) -> list[dict[str, Any]]:
        return self.client.changes(after, limit=limit)

    def affected(self, changes: list[dict[str, Any]]) -> dict[int, int]:
        """contract pk -> id of its last change in *changes* (contract changes and client-partner changes)."""
        contract_ct = self.content_type("isip", "contract")
        partner_ct = self.content_type("contacts", "partner")
        last: dict[int, int] = {}
        clients: dict[int, list[int]] = {}
        for change in changes:
            cid = int(change["id"])
            pks: list[int] = []
            if (
                change.get("object_typeHidden") == contract_ct
                and change.get("object_idHidden") is not None
            ):
                pks.append(int(change["object_idHidden"]))
            elif (
                change.get("master_typeHidden") == partner_ct
                and change.get("master_idHidden") is not None
            ):
                client = int(change["master_idHidden"])
                if client not in clients:
                    clients[client] = [int(r["id"]) for r in self.contracts_of_client(client)]
                pks.extend(clients[client])
            for pk in pks:
                last[pk] = max(cid, last.get(pk, 0))
        return last
