"""A small remote system for the pipeline tests: a change feed, a federal desk and a push endpoint.

Also one record by id (``piis_case_fetch_record``), a National Register notice feed
(``piis_federal_fetch_notices``) and the monthly statement (``piis_federal_fetch_statement``).

Real HTTP on 127.0.0.1 (port 0), one thread per connection.  It behaves like the two remotes the
pipeline talks to, on the points the pipeline must get right: keyset paging with an opaque cursor,
idempotency on the form ``client_reference`` (the federal GEN004 rule: same reference -> original
answer, no second effect) and on the push key, forms of one dossier accepted only in order, and
fault injection (federal down, 429/503 from the case system).  Its state is what the tests check.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


def person_niss(n: int) -> str:
    """A valid NISS for the example beneficiary's birth date (2005-09-30), one per dossier number
    (997 different people, then they repeat: a person may have several dossiers)."""
    serial = f"{n % 997 + 1:03d}"
    return f"050930{serial}{97 - int('2050930' + serial) % 97:02d}"


class RemoteState:
    def __init__(self, records: int, *, bad_every: int = 0, two_forms_every: int = 0) -> None:
        self.lock = threading.Lock()
        self.records = [
            {
                "record_id": f"D{n:06d}",
                "bad": bool(bad_every and n % bad_every == 0),
                "forms": 2 if two_forms_every and n % two_forms_every == 0 else 1,
                "version": "1",
                "niss": person_niss(n),
            }
            for n in range(1, records + 1)
        ]
        self.effects: dict[str, dict[str, Any]] = {}  # client_reference -> form (applied once)
        self.order: dict[tuple[str, str], list[int]] = defaultdict(
            list
        )  # (cpas, record) -> seq applied
        self.submit_calls = Counter()  # client_reference -> times received
        self.pushes: dict[str, dict[str, Any]] = {}
        self.push_calls = Counter()
        self.federal_down = False
        self.down_calls = 0  # federal calls refused while down
        self.submit_delay = 0.0  # seconds per federal call (a slow remote spreads a run over time)
        self.case_faults: list[int] = []  # status codes to answer to the next case-system requests
        self.fetches = 0
        self.out_of_order = 0
        self.notices: list[
            dict[str, Any]
        ] = []  # the National Register feed (RegisterNotice fields)
        self.notice_requests: list[str] = []  # the cursor of every notice page asked for
        self.notice_faults: list[int] = []  # status codes to answer to the next notice requests
        self.statements: dict[str, dict[str, Any]] = {}  # 'YYYY-MM' -> MonthlyStatement fields
        self.statement_requests: list[str] = []

    def effects_of(self, record_id: str) -> list[str]:
        """The versions of the dossier whose forms reached the federal desk, in order."""
        with self.lock:
            return sorted(
                {f["version"] for f in self.effects.values() if f["record_id"] == record_id}
            )

    def touch(self, ids: list[str]) -> None:
        """Records changed again: a new version of each is appended to the change feed."""
        with self.lock:
            latest = {r["record_id"]: r for r in self.records if r["record_id"] in ids}
            for r in latest.values():
                self.records.append({**r, "version": str(int(r["version"]) + 1)})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: RemoteState

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _reply(self, status: int, body: Any) -> None:
        data = orjson.dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return orjson.loads(self.rfile.read(length)) if length else {}

    def _case_fault(self) -> bool:
        st = self.state
        with st.lock:
            code = st.case_faults.pop(0) if st.case_faults else None
        if code:
            self._reply(code, {"error": "injected"})
            return True
        return False

    def do_GET(self) -> None:  # noqa: N802
        st = self.state
        if self.path.startswith("/changes"):
            if self._case_fault():
                return
            from urllib.parse import parse_qs, urlsplit

            q = parse_qs(urlsplit(self.path).query)
            start = int(q.get("cursor", ["0"])[0] or 0)
            limit = int(q["limit"][0])
            with st.lock:
                st.fetches += 1
                page = [dict(r) for r in st.records[start : start + limit]]
                end = start + len(page)
                more = end < len(st.records)
            self._reply(200, {"records": page, "cursor": str(end), "has_more": more})
        elif self.path.startswith("/record/"):
            if self._case_fault():
                return
            record_id = self.path.rsplit("/", 1)[1]
            with st.lock:
                found = [dict(r) for r in st.records if r["record_id"] == record_id]
            self._reply(200, found[-1]) if found else self._reply(404, {"error": "no such record"})
        elif self.path.startswith("/notices"):
            from urllib.parse import parse_qs, urlsplit

            q = parse_qs(urlsplit(self.path).query)
            cursor = q.get("cursor", [""])[0]
            with st.lock:
                st.notice_requests.append(cursor)
                code = st.notice_faults.pop(0) if st.notice_faults else None
                start = int(cursor or 0)
                page = [dict(n) for n in st.notices[start : start + int(q["limit"][0])]]
                end = start + len(page)
                more = end < len(st.notices)
            if code:
                self._reply(code, {"error": "injected"})
                return
            self._reply(200, {"notices": page, "cursor": str(end), "has_more": more})
        elif self.path.startswith("/statement/"):
            month = self.path.rsplit("/", 1)[1]
            with st.lock:
                st.statement_requests.append(month)
                found = st.statements.get(month)
            self._reply(200, found) if found is not None else self._reply(
                404, {"error": "not available yet"}
            )
        elif self.path == "/state":
            with st.lock:
                self._reply(200, {"effects": len(st.effects), "pushes": len(st.pushes)})
        else:
            self._reply(404, {})

    def do_POST(self) -> None:  # noqa: N802
        st = self.state
        body = self._body()
        if self.path == "/submit":
            if st.submit_delay:
                import time

                time.sleep(st.submit_delay)
            if st.federal_down:
                with st.lock:
                    st.down_calls += 1
                self._reply(503, {"fault": "MSG00003 service unavailable"})
                return
            answers = []
            with st.lock:
                for form in body["forms"]:
                    ref = form["client_reference"]
                    st.submit_calls[ref] += 1
                    if ref not in st.effects:
                        seen = st.order[(form["cpas"], form["record_id"])]
                        if seen and seen[-1] >= form["seq"]:
                            st.out_of_order += 1
                        seen.append(form["seq"])
                        st.effects[ref] = form
                    answers.append({"client_reference": ref, "evaluation": "ACCEPTED"})
            self._reply(200, {"answers": answers})
        elif self.path == "/push":
            if self._case_fault():
                return
            results = []
            with st.lock:
                for item in body["items"]:
                    st.push_calls[item["key"]] += 1
                    status = "duplicate" if item["key"] in st.pushes else "created"
                    st.pushes.setdefault(item["key"], item)
                    results.append({"key": item["key"], "status": status})
            self._reply(200, {"results": results})
        else:
            self._reply(404, {})


class Remote:
    def __init__(self, state: RemoteState) -> None:
        self.state = state
        handler = type("Handler", (_Handler,), {"state": state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Remote:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
