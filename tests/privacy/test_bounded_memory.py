"""Bounded memory on hostile input: 200 MB files and bodies are refused with peak memory under
+64 MB.  Each case runs in a fresh interpreter (ru_maxrss is a high-water mark: measured in a
process whose only large work is the hostile input); the data is generated on the fly in a temp dir
or streamed to the socket, never held in memory by the test."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MB = 1024 * 1024
LIMIT = 64 * MB

PRELUDE = """
import json, os, resource, socket, sys, threading, time
from pathlib import Path
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
def write(path, head, unit, tail, total):
    with open(path, 'wb') as fh:
        fh.write(head)
        n = len(head)
        block = unit * max(1, 65536 // len(unit))
        while n < total:
            fh.write(block); n += len(block)
        fh.write(tail)
"""


def _run(tmp_path: Path, body: str) -> dict:
    code = PRELUDE + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


XML_CASES = {
    # 200 MB of elements that are not records: streamed and dropped as they end.
    "unrelated": ("b'<export>'", "b'<autre><x>bla</x><y>bla</y></autre>'", "b'</export>'"),
    # One record with millions of children: refused at the record element limit.
    "huge-record": (
        "b'<export><contrat>'",
        "b'<domaine>EMPLOI</domaine>'",
        "b'</contrat></export>'",
    ),
    # Deep nesting: refused at the depth limit.
    "deep": ("b'<export>'", "b'<a>'", "b''"),
    # A DTD with entities ahead of 200 MB of content: refused before parsing.
    "dtd": (
        'b\'<?xml version="1.0"?><!DOCTYPE export [<!ENTITY a "aaaaaaaaaa">]><export>\'',
        "b'<contrat><numero>&a;</numero></contrat>'",
        "b'</export>'",
    ),
}


@pytest.mark.parametrize("case", sorted(XML_CASES))
def test_hostile_200mb_xml_is_refused_with_bounded_memory(tmp_path: Path, case: str) -> None:
    head, unit, tail = XML_CASES[case]
    result = _run(
        tmp_path,
        f"""
        from piis_connectors.filedrop.readers import FileRejected, Limits, read_xml
        path = Path('hostile.xml')
        write(path, {head}, {unit}, {tail}, 200 * 1024 * 1024)
        before = rss()
        try:
            rows = read_xml(path, 'contrat', Limits(max_bytes=1 << 40))  # size limit off: the streaming is tested
            outcome = 'records: %d' % len(rows.rows)
        except FileRejected as exc:
            outcome = 'refused: ' + str(exc)
        print(json.dumps({{'grew': rss() - before, 'outcome': outcome, 'size': path.stat().st_size}}))
    """,
    )
    assert result["size"] >= 200 * MB
    assert result["grew"] < LIMIT, result
    if case == "unrelated":
        assert result["outcome"] == "records: 0"
    else:
        assert result["outcome"].startswith("refused"), result


def test_filedrop_refuses_a_file_over_max_file_bytes_before_reading_it(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        """
        from piis_connectors.filedrop.readers import FileRejected, Limits, read_csv, read_xml
        path = Path('big.csv')
        write(path, b'CONTRACTNR;NAAM\\r\\n', b'1;x\\r\\n', b'', 200 * 1024 * 1024)
        before = rss()
        out = []
        for reader in (lambda: read_csv(path), lambda: read_xml(path, 'contrat')):
            try:
                reader(); out.append('read')
            except FileRejected as exc:
                out.append(str(exc))
        print(json.dumps({'grew': rss() - before, 'outcome': out}))
    """,
    )
    assert result["grew"] < LIMIT
    assert all("exceeds the limit" in o and "max_file_bytes" in o for o in result["outcome"]), (
        result
    )


def test_max_file_bytes_setting_is_applied_by_the_plugin(tmp_path: Path) -> None:
    from piis_connectors.filedrop.readers import FileRejected, Limits, read_csv

    path = tmp_path / "small.csv"
    path.write_bytes(b"CONTRACTNR;NAAM\r\n" + b"1;x\r\n" * 100)
    assert len(read_csv(path, limits=Limits(max_bytes=10_000)).rows) == 100
    with pytest.raises(FileRejected, match="exceeds the limit of 100 bytes"):
        read_csv(path, limits=Limits(max_bytes=100))
    from piis_plugins.filedrop.settings import FiledropSettings

    assert FiledropSettings(directory=tmp_path, max_file_bytes=100).max_file_bytes == 100


@pytest.mark.parametrize("content_length", ["209715200", "-1", None, "abc"])
def test_federal_simulator_refuses_huge_or_missing_or_negative_length_while_reading(
    tmp_path: Path, content_length: str | None
) -> None:
    result = _run(
        tmp_path,
        f"""
        from piis_connectors.federal.simulator.server import SimulatorServer
        from piis_connectors.federal.simulator.app import PORT_PATH
        server = SimulatorServer(Path('sim.sqlite3')).start()
        before = rss()
        sock = socket.create_connection(('127.0.0.1', server.port))
        head = 'POST ' + PORT_PATH + ' HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: text/xml\\r\\n'
        if {content_length!r} is not None:
            head += 'Content-Length: ' + {content_length!r} + '\\r\\n'
        sock.sendall(head.encode() + b'\\r\\n' + b'<a>' * 1000)
        sock.settimeout(10)
        reply = b''
        while b'\\r\\n' not in reply:  # refused on the headers, before the body is read
            chunk = sock.recv(65536)
            if not chunk: break
            reply += chunk
        sent, block = 0, b'<a>' * 21845
        try:  # the rest of the 200 MB: the server must not take it in
            while sent < 200 * 1024 * 1024:
                sock.sendall(block); sent += len(block)
        except OSError:
            pass
        sock.close()
        # the simulator still answers afterwards
        import httpx
        wsdl = httpx.get(server.wsdl_url, timeout=10).status_code
        grew = rss() - before
        server.stop()
        print(json.dumps({{'grew': grew, 'status': reply.split(b'\\r\\n', 1)[0].decode(errors='replace'),
                           'sent': sent, 'wsdl': wsdl}}))
    """,
    )
    assert result["grew"] < LIMIT, result
    assert result["wsdl"] == 200
    expected = {"209715200": "413", "-1": "400", None: "411", "abc": "400"}[content_length]
    assert expected in result["status"], result
    assert result["sent"] < 200 * MB  # the connection was closed, not drained
