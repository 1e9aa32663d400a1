"""Drives the running Lino demo the way a social worker would, through Lino's own web API."""

from __future__ import annotations

from datetime import date, timedelta

from piis_connectors.lino.client import LinoClient, grid_filter
from piis_plugins.lino.plugin import push_tag

#: Client 17 of the demo (valid national id) has an integration-income granting (#35, aid type 1,
#: decided 21.05.2014) from 22.05.2014 with an income confirmation: a contract from then on maps.
CLIENT = 17


class LinoHarness:
    """The conformance kit's CaseSystemHarness for a running Lino Welfare."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.client = LinoClient(url, user, password)
        self._edits = 0

    def create_record(self, index: int) -> str:
        start = date(2014, 6, 1) + timedelta(days=index % 200)
        row = self.client.create_row(
            "isip",
            "Contracts",
            {
                "clientHidden": CLIENT,
                "typeHidden": 2,
                "exam_policyHidden": 1,
                "userHidden": 5,
                "applies_from": start.strftime("%d.%m.%Y"),
                "applies_until": (start + timedelta(days=180)).strftime("%d.%m.%Y"),
                "goals": f"<p>Find a job (conformance {index})</p>",
                "duties_person": "<p>Apply for two jobs a week.</p>",
            },
        )
        return f"isip-{row['id']}"

    def modify_record(self, record_id: str) -> None:
        self._edits += 1
        pk = int(record_id.removeprefix("isip-"))
        self.client.update_row(
            "isip", "Contracts", pk, {"goals": f"<p>Find a job (edit {self._edits})</p>"}
        )

    def create_invalid_record(self) -> str:
        """A contract with no end date (applies_until): the canonical contract needs one."""
        row = self.client.create_row(
            "isip",
            "Contracts",
            {
                "clientHidden": CLIENT,
                "typeHidden": 2,
                "exam_policyHidden": 1,
                "applies_from": "02.06.2014",
            },
        )
        return f"isip-{row['id']}"

    def task_count(self, key: str) -> int:
        tag = push_tag(key)
        total = 0
        for app, table, field in (("cal", "Tasks", "summary"), ("notes", "Notes", "subject")):
            _, rows = self.client.list_rows(
                app, table, filters=[grid_filter(field, tag, kind="string")], limit=50
            )
            total += sum(1 for r in rows if tag in str(r.get(field) or ""))
        return total
