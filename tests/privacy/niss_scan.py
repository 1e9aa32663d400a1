"""An independent NISS scanner for proofs: finds every valid NISS in any text, in any writing.

Deliberately written without piis_bridge code: NFKC on the whole text, every decimal digit of
any script turned into ASCII, every run of separators (whitespace, . - / and Unicode dashes)
collapsed; then every sequence of consecutive digit groups that adds up to 11 digits, and every
11-digit window of a group, is checked with python-stdnum alone.  Stricter than the redactor
(windows inside longer numbers count too), so "0 found" is a strong statement.
"""

from __future__ import annotations

import re
import unicodedata

from stdnum.be import bis, nn

_SEP = re.compile(r"[\s./\-\u2010-\u2015\u2212]+")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    out = []
    for ch in text:
        dec = unicodedata.decimal(ch, None)
        out.append(str(dec) if dec is not None else ch)
    return _SEP.sub(" ", "".join(out))


def _valid(digits: str) -> bool:
    return nn.is_valid(digits) or bis.is_valid(digits)


def find_niss(text: str, windows: bool = False) -> list[str]:
    """Every valid NISS in *text* (as 11 ASCII digits).

    ``windows=True`` also checks every 11-digit window inside longer digit runs; that catches a
    NISS glued to other digits but also finds accidental hits in long numbers (timestamps).
    """
    found: list[str] = []
    for run in re.finditer(r"[0-9][0-9 ]*", _normalise(text)):
        groups = re.findall(r"[0-9]+", run.group(0))
        for i in range(len(groups)):
            acc = ""
            for g in groups[i:]:
                acc += g
                if len(acc) >= 11:
                    break
            if len(acc) == 11 and _valid(acc):
                found.append(acc)
        if windows:
            for g in groups:
                for k in range(len(g) - 10):
                    if len(g) > 11 and _valid(g[k : k + 11]):
                        found.append(g[k : k + 11])
    return found
