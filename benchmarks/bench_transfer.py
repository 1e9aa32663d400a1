"""Transfer benchmark (run on demand: ``.venv/bin/python benchmarks/bench_transfer.py``).

Measures, for the sanction-history example moved from Charleroi to Liège: package build, JWS
signing and verification (ES256), the receiver's verify + idempotent import into SQLite, and the
full delivery over mutual TLS on loopback (client -> endpoint -> import -> signed ack -> checked).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rate(label: str, n: int, fn) -> None:
    t0 = time.perf_counter()
    for i in range(n):
        fn(i)
    elapsed = time.perf_counter() - t0
    print(f"{label:<48} {n / elapsed:10.1f} /s   {elapsed / n * 1000:8.2f} ms each")


def main() -> None:
    from piis_connectors.transfer import (
        HandlerResult,
        TransferClient,
        TransferEndpoint,
        client_tls_context,
        server_tls_context,
    )

    from piis_bridge.db import Base, make_engine, make_sessionmaker
    from piis_bridge.transfer import (
        TransferService,
        TrustList,
        build_package,
        open_package,
        sign_package,
    )
    from piis_bridge.transfer.package import package_bytes
    from tests.transfer._pki import TestCA
    from tests.transfer._support import (
        CHARLEROI,
        LIEGE,
        MOVE_DATE,
        consent,
        example,
        moved,
        new_key,
    )

    contract = moved(example("sanction-history"), LIEGE, MOVE_DATE)
    keys = {p.bce: new_key(p.bce) for p in (CHARLEROI, LIEGE)}
    trust_b = TrustList({CHARLEROI.bce: keys[CHARLEROI.bce].public_pem()})

    def build(i: int):
        return build_package(
            contract,
            transfer_id=f"t{i}",
            sender=CHARLEROI,
            receiver=LIEGE,
            residence_change_date=MOVE_DATE,
            legal_end_date=MOVE_DATE,
            consent=consent(),
        )

    package = build(0)
    envelope = sign_package(package, keys[CHARLEROI.bce])
    print(
        f"package JSON {len(package_bytes(package))} bytes, signed envelope {len(envelope)} bytes"
    )
    _rate("build package (rules + minimise + validate)", 200, build)
    _rate("sign (ES256 JWS)", 500, lambda i: sign_package(package, keys[CHARLEROI.bce]))
    _rate("verify + parse", 500, lambda i: open_package(envelope, trust_b, own_bce=LIEGE.bce))

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/b.sqlite3")
        Base.metadata.create_all(engine)
        liege = TransferService(
            make_sessionmaker(engine),
            cpas_id="liege",
            party=LIEGE,
            signing_key=keys[LIEGE.bce],
            trust=trust_b,
        )
        envelopes = [sign_package(build(i), keys[CHARLEROI.bce]) for i in range(300)]
        _rate(
            "receive: verify + import draft + signed ack",
            300,
            lambda i: liege.receive(envelopes[i]),
        )
        _rate(
            "receive the same package again (duplicate)", 300, lambda i: liege.receive(envelopes[i])
        )

        ca = TestCA(Path(tmp) / "pki")
        server = ca.issue("server", "b", server=True, client=True)
        client_cert = ca.issue("client", "a", server=True, client=True)
        engine2 = make_engine(f"sqlite:///{tmp}/b2.sqlite3")
        Base.metadata.create_all(engine2)
        liege2 = TransferService(
            make_sessionmaker(engine2),
            cpas_id="liege",
            party=LIEGE,
            signing_key=keys[LIEGE.bce],
            trust=trust_b,
        )

        def handle(body: bytes, peer: dict) -> HandlerResult:
            out = liege2.receive(body)
            return HandlerResult(out.status, out.ack_envelope)

        tls = server_tls_context(server.cert, server.key, ca.pem.cert)
        with TransferEndpoint(handle, tls=tls) as endpoint:
            ctx = client_tls_context(ca.pem.cert, client_cert.cert, client_cert.key)
            with TransferClient(endpoint.url, tls=ctx) as client:
                _rate(
                    "deliver over mutual TLS (keep-alive), import, ack",
                    200,
                    lambda i: client.send(envelopes[i]),
                )
            fresh = [sign_package(build(1000 + i), keys[CHARLEROI.bce]) for i in range(50)]

            def new_connection(i: int) -> None:
                with TransferClient(endpoint.url, tls=ctx) as c:
                    c.send(fresh[i])

            _rate("deliver over a new mutual-TLS connection each", 50, new_connection)


if __name__ == "__main__":
    main()
