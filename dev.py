#!/usr/bin/env python3
"""The two commands of the README, with nothing but Python 3.11 on the machine.

    python3 dev.py demo   # the main job end to end on embedded defaults
    python3 dev.py test   # the whole test suite
    python3 dev.py bench NAME [ARGS]   # one benchmark, e.g. "bench rules -n 3000" (benchmarks/bench_NAME.py)

Both create ./.venv on first use and (re)install the project into it when pyproject.toml or
setup.py changed, so a fresh clone needs no other step.  Only the standard library is used here
because this script runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("PIIS_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".piis-bridge-install"


def _install_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "setup.py"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_venv() -> None:
    """Create the virtualenv and install the project with its test extras when out of date."""
    if not PY.exists():
        print(f"creating virtualenv in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    fingerprint = _install_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    print("installing piis-bridge and its dependencies (first run takes a minute)", flush=True)
    subprocess.run([PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    # setuptools' editable install of a renamed layout (plugins/ -> piis_plugins) warns that folders of the
    # working directory named like a package may shadow it; here the only such folder is piis_bridge/, the
    # package itself, so the notice says nothing true and is filtered by its text (nothing else is).
    env = {
        **os.environ,
        "PYTHONWARNINGS": ",".join(
            [w for w in os.environ.get("PYTHONWARNINGS", "").split(",") if w]
            + ["ignore:Editable installation"]
        ),
    }
    subprocess.run(
        [PY, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test,prod,xmlsec]"],
        check=True,
        env=env,
    )
    STAMP.write_text(fingerprint)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "bench"}:
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "demo":
        return subprocess.call([BIN / "piis-bridge", "demo", *rest], cwd=ROOT)
    if command == "bench":
        names = sorted(
            p.stem.removeprefix("bench_") for p in (ROOT / "benchmarks").glob("bench_*.py")
        )
        if not rest or rest[0] not in names:
            print(f"usage: python3 dev.py bench NAME [ARGS]; NAME is one of: {', '.join(names)}")
            return 2
        return subprocess.call(
            [PY, ROOT / "benchmarks" / f"bench_{rest[0]}.py", *rest[1:]], cwd=ROOT
        )
    # pytest exits 5 when it collected no test: that is a failure here, never a pass.
    code = subprocess.call([PY, "-m", "pytest", *rest], cwd=ROOT)
    if code == 5:
        print("pytest collected no test: failing", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
