"""CSV and XML readers: encodings, line numbers, row-level vs file-level errors, safe XML."""

from __future__ import annotations

import pytest
from piis_connectors.filedrop.readers import FileRejected, decode, read_csv, read_xml
from piis_connectors.filedrop.samples import write_csv


def test_windows_1252_with_accents(tmp_path, rows) -> None:
    rows[0]["voornaam"], rows[0]["naam"] = "Hélène", "Lefèvre"
    path = write_csv(tmp_path / "x.csv", rows[:3], encoding="cp1252")
    assert "é".encode("cp1252") in path.read_bytes()
    result = read_csv(path)
    assert result.encoding == "cp1252"
    assert (result.rows[0].data["voornaam"], result.rows[0].data["naam"]) == ("Hélène", "Lefèvre")


def test_utf8_with_bom(tmp_path, rows) -> None:
    rows[0]["voornaam"] = "Zoë"
    path = write_csv(tmp_path / "x.csv", rows[:2], encoding="utf-8-sig")
    result = read_csv(path, required=["contractnr"])
    assert result.encoding == "utf-8-sig" and result.rows[0].data["voornaam"] == "Zoë"
    assert result.columns[0] == "contractnr"  # no BOM glued to the first column name


def test_line_numbers_bad_rows_and_blank_lines(tmp_path) -> None:
    text = 'ID;NAAM;NOTA\r\n1;a;x\r\n\r\n2;b;"twee\r\nregels"\r\n3;c\r\n4;d;y\r\n'
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode("cp1252"))
    result = read_csv(path)
    assert [(r.line, r.data.get("id"), r.error is None) for r in result.rows] == [
        (2, "1", True),
        (4, "2", True),
        (6, None, False),
        (7, "4", True),
    ]
    assert "expected 3 fields" in result.rows[2].error
    assert result.rows[1].data["nota"] == "twee\r\nregels"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"ID;NAAM\r\n1;\x81\x8d\r\n", "neither UTF-8 nor Windows-1252"),
        (b"\xef\xbb\xbfID;NAAM\r\n1;\xe9\r\n", "declares UTF-8"),
        (b"\xff\xfeI\x00D\x00", "UTF-16"),
        (b"NAAM;X\r\n", "missing columns: id"),
        (b"ID;id\r\n", "duplicate columns"),
    ],
)
def test_file_level_rejections(tmp_path, content, message) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(FileRejected, match=message):
        read_csv(path, required=["id"])


def test_decode_prefers_strict_utf8() -> None:
    assert decode("café".encode()) == ("café", "utf-8")
    assert decode("café".encode("cp1252")) == ("café", "cp1252")


def test_xml_rows_with_lines_and_lists(tmp_path) -> None:
    path = tmp_path / "x.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<export>\n  <contrat><numero>1</numero><domaines><domaine>A</domaine>'
        "<domaine>B</domaine></domaines></contrat>\n  <contrat>\n<numero>2</numero><domaines><domaine>C"
        "</domaine></domaines></contrat>\n  <contrat/>\n</export>\n",
        encoding="utf-8",
    )
    rows = read_xml(path, "contrat").rows
    assert [(r.line, r.data) for r in rows[:2]] == [
        (3, {"numero": "1", "domaines": {"domaine": ["A", "B"]}}),
        (4, {"numero": "2", "domaines": {"domaine": "C"}}),
    ]
    assert rows[2].error and rows[2].line == 6


def test_malformed_xml_rejects_the_file_with_its_line(tmp_path) -> None:
    path = tmp_path / "x.xml"
    path.write_text(
        "<export>\n<contrat><numero>1</numero></contrat>\n<contrat><numero>2</contrat>\n</export>"
    )
    with pytest.raises(FileRejected) as err:
        read_xml(path, "contrat")
    assert err.value.line == 3


def test_xml_entities_are_not_expanded(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    path = tmp_path / "x.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE export [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        "<export><contrat><numero>&xxe;</numero></contrat></export>"
    )
    try:
        rows = read_xml(path, "contrat").rows
    except FileRejected:
        return  # refusing the file is fine too
    assert "TOPSECRET" not in str(rows)
