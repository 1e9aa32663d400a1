"""Declarative mapping of vendor records onto a pydantic model (the canonical contract, or any other).

Why declarative: every CPAS vendor names things differently and changes its codes over time.  A
mapping file says *where* each target field comes from and *how* a vendor code translates; a new
code or a renamed column is a change of a YAML file, reviewed and versioned, never of Python code.

Why strict: a mapping that guesses is worse than none.  At load time an unknown target field, a
duplicated code, an unknown converter or a bad date format is an error naming the file and the
place.  At apply time an unknown code, an impossible date, a malformed amount or a missing
mandatory field is a :class:`MappingProblem` naming the vendor record id and the vendor field path;
the record is not produced, and nothing is guessed.

File format (documented with examples in docs/casesystem.md)::

    mapping_version: 1                 # integer, bumped on every change of the file
    vendor_schema: neptunusweb-gpmi/2  # which vendor export/API version the file reads
    target: PIISContract               # name of the model the caller validates against
    record_id: contractnummer          # vendor path of the record id used in problems
    code_lists:                        # vendor code -> target value (null: known, no equivalent)
      domein: {WERK: WORK, WONEN: HOUSING}
    fields:                            # target path -> rule
      contract_id: {from: contractnummer, required: true}
      beneficiary.birth_date: {from: client.geboortedatum, convert: date, format: dd-mm-yyyy}
      action_domains: {from: "domeinen[*]", codes: domein}
      objectives:                      # a block: a list (or object) built from a vendor list
        source: doelen
        fields:
          objective_id: {from: doel_id, required: true}

Rule keys: ``from`` (path, or list of paths joined with ``join``), ``split`` (cut one cell such as
``"WERK,WONEN"`` into a list), ``const``, ``convert``
(see :data:`CONVERTERS`), ``format`` (date format), ``codes`` (code list), ``required``,
``default``, ``template`` (``"{} uur per week"``), ``as_list``.  ``x[*]`` walks a list, and a
single value found where a list may stand (XML with one child) counts as a list of one.  Block keys: ``source`` (path of
the vendor object/list; ``.`` = the current object; ``$.x`` = from the record root), ``fields``,
``when`` ({path: value}), ``when_present`` (path), ``required``, ``many`` (produce a list; derived
from the model when one is given).  A list target may take a list of
blocks whose results are concatenated.  Paths are dotted; ``x[*]`` walks a list.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Callable, Iterable
from collections.abc import Mapping as _Record
from dataclasses import dataclass, field
from datetime import date
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from piis_bridge.crypto import code_fingerprint
from piis_bridge.identifiers import IdentifierError, mask_niss, shape_hint, validate_niss

__all__ = [
    "CONVERTERS",
    "ConversionError",
    "Mapping",
    "MappingFileError",
    "MappingProblem",
    "MappingResult",
    "load_mapping",
    "parse_mapping",
]


class MappingFileError(ValueError):
    """A mapping file is invalid.  Raised at load time, never while records flow."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source, self.errors = source, errors
        super().__init__(f"invalid mapping file {source}:\n  " + "\n  ".join(errors))


class ConversionError(ValueError):
    """A converter refused a value.  The message names the rule broken and a shape hint
    (identifiers.shape_hint), never the raw value: vendors put NISS and names in wrong columns."""


@dataclass(frozen=True)
class MappingProblem:
    """One reason a record could not be mapped: record id + vendor field path + reason (no NISS)."""

    record_id: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.record_id}: {self.field}: {self.reason}"


_M = TypeVar("_M", bound=BaseModel)


@dataclass
class MappingResult:
    """The model instance (or None) and the problems.  ``data`` is the dict handed to the model."""

    record_id: str
    value: BaseModel | None
    problems: list[MappingProblem]
    data: dict[str, Any] | None = None

    def value_as(self, model: type[_M]) -> _M | None:
        """The mapped instance typed as *model* (the class the mapping was loaded with), or None."""
        return self.value if isinstance(self.value, model) else None

    @property
    def ok(self) -> bool:
        return self.value is not None and not self.problems


# -- converters -------------------------------------------------------------------------------

_DATE_TOKENS = {"dd": "%d", "mm": "%m", "yyyy": "%Y", "yy": "%y"}
_DATE_FORMAT = re.compile(r"^(dd|mm|yyyy|yy)([-/. ]?)(dd|mm|yyyy|yy)\2(dd|mm|yyyy|yy)$")
# An amount as vendors write it (1.234,56 or 1 234,56 or 1234): public, its tests read its groups.
MONEY_TEXT = re.compile(r"^(?P<int>\d{1,3}(?:[. ]\d{3})+|\d+)(?:,(?P<dec>\d{1,2}))?$")
_TRUE = {"J", "JA", "Y", "YES", "O", "OUI", "1", "TRUE", "WAAR"}
_FALSE = {"N", "NEE", "NO", "NON", "0", "FALSE", "ONWAAR"}


def _date_pattern(fmt: str) -> str:
    match = _DATE_FORMAT.match(fmt)
    if not match or len({match.group(1), match.group(3), match.group(4)} & {"dd", "mm"}) != 2:
        raise ValueError(
            f"unknown date format {fmt!r} (use e.g. dd-mm-yyyy, dd/mm/yyyy, yyyy-mm-dd)"
        )
    sep = match.group(2)
    return sep.join(_DATE_TOKENS[match.group(i)] for i in (1, 3, 4))


#: (regex, group index of year/month/day, two-digit year?, ISO layout or None) for a format.
_DateParser = tuple[
    re.Pattern[str], tuple[int, int, int], bool, tuple[int, int, int, int, int] | None
]
_DATE_PARSERS: dict[str, _DateParser] = {}


def _date_parser(fmt: str) -> _DateParser:
    """The parser of a format, compiled once.  The ISO layout, for a format of ``dd``, ``mm``, ``yyyy``
    and a separator (10 characters), is (first separator, second separator, year, month, day offsets)."""
    parser = _DATE_PARSERS.get(fmt)
    if parser is None:
        _date_pattern(fmt)  # validates
        match = _DATE_FORMAT.match(fmt)
        assert match is not None
        tokens = [match.group(1), match.group(3), match.group(4)]
        widths = {"dd": r"(\d{1,2})", "mm": r"(\d{1,2})", "yyyy": r"(\d{4})", "yy": r"(\d{2})"}
        regex = re.compile("^" + re.escape(match.group(2)).join(widths[t] for t in tokens) + "$")
        year = "yyyy" if "yyyy" in tokens else "yy"
        layout = None
        if year == "yyyy" and match.group(2):
            starts, at = {}, 0
            for token in tokens:
                starts[token] = at
                at += len(token) + 1
            first_sep = len(tokens[0])
            layout = (
                first_sep,
                first_sep + 1 + len(tokens[1]),
                starts["yyyy"],
                starts["mm"],
                starts["dd"],
            )
        parser = (
            regex,
            (tokens.index(year) + 1, tokens.index("mm") + 1, tokens.index("dd") + 1),
            year == "yy",
            layout,
        )
        _DATE_PARSERS[fmt] = parser
    return parser


def _to_date(value: Any, fmt: str | None) -> date:
    if isinstance(value, date):
        return value
    fmt = fmt or "yyyy-mm-dd"
    text = str(value).strip()
    regex, (yi, mi, di), short, layout = _date_parser(fmt)
    if layout is not None and len(text) == 10:
        # Fast path, ~20 dates a NeptunusWeb record: the fields rearranged as YYYY-MM-DD for
        # date.fromisoformat (0.8 instead of 2.2 us a date, timeit).  It accepts only ASCII digits in
        # these places, so whatever it accepts the regex below reads as the same date; anything else
        # (other digits, an impossible date, another shape) goes the general way and words the problem.
        s1, s2, y, m, d = layout
        sep = text[s1]
        if sep == text[s2] == fmt[s1]:
            try:
                return date.fromisoformat(f"{text[y : y + 4]}-{text[m : m + 2]}-{text[d : d + 2]}")
            except ValueError:
                pass
    match = regex.match(text)
    try:
        if match is None:
            raise ValueError
        year = int(match.group(yi))
        return date(
            year + (2000 if year < 70 else 1900) if short else year,
            int(match.group(mi)),
            int(match.group(di)),
        )
    except ValueError:
        raise ConversionError(
            f"not a valid date in format {fmt} (got {shape_hint(text)})"
        ) from None


def _to_cents(value: Any, _fmt: str | None) -> int:
    """Decimal-comma money ('1.234,56', '125,5', '€ 12') to integer cents."""
    if isinstance(value, bool):
        raise ConversionError("expected an amount, got a boolean")
    if isinstance(value, int):
        return value * 100
    text = str(value).strip().removeprefix("€").removeprefix("EUR").strip()
    negative = text.startswith("-")
    match = MONEY_TEXT.match(text.lstrip("-"))
    if not match:
        raise ConversionError(
            f"not an amount with a decimal comma, e.g. 1.234,56 (got {shape_hint(value)})"
        )
    # Whole cents in integers: at most two decimals, so int * 100 + the decimals padded to two is
    # exactly what Decimal(int.dec) * 100 gave (1.6 -> 0.6 us an amount, timeit); int() reads the
    # same digits the regex's \d and Decimal accept (any script's decimal digits).
    cents = int(match.group("int").replace(".", "").replace(" ", "")) * 100 + int(
        (match.group("dec") or "0").ljust(2, "0")
    )
    return -cents if negative else cents


def _to_bool(value: Any, _fmt: str | None) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().upper()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConversionError(
        f"not a yes/no value: J/N, ja/nee, oui/non, 1/0 (got {shape_hint(value)})"
    )


def _to_int(value: Any, _fmt: str | None) -> int:
    if isinstance(value, bool):
        raise ConversionError("expected a whole number, got a boolean")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConversionError(f"not a whole number (got {shape_hint(value)})") from None


def _to_str(value: Any, _fmt: str | None) -> str:
    return str(value).strip()


def _to_niss(value: Any, _fmt: str | None) -> str:
    try:
        return validate_niss(str(value) if isinstance(value, int) else value)
    except IdentifierError as exc:
        raise ConversionError(
            f"invalid NISS {exc.masked or mask_niss(value)}: {exc.reason}"
        ) from None


Converter = Callable[[Any, "str | None"], Any]

#: name -> function(value, format) -> converted value; raises ConversionError.  Plugins may add to
#: this registry *before* loading their mapping files (names are checked at load time).
CONVERTERS: dict[str, Converter] = {
    "str": _to_str,
    "int": _to_int,
    "bool": _to_bool,
    "date": _to_date,
    "money_cents": _to_cents,
    "niss": _to_niss,
}


# -- the parsed mapping ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _FieldRule:
    target: str
    sources: tuple[str, ...] = ()
    const: Any = None
    has_const: bool = False
    convert: str | None = None
    fmt: str | None = None
    codes: str | None = None
    required: bool = False
    default: Any = None
    has_default: bool = False
    join: str = " "
    split: str | None = None
    template: str | None = None
    as_list: bool = False
    many: bool = False  # derived: as_list or a [*] source
    simple_key: str | None = (
        None  # derived: the one plain key read from the current object (fast path)
    )
    table: dict[str, Any] | None = field(
        default=None, compare=False, repr=False
    )  # the code list, resolved
    plain: bool = False  # derived: no code list, converter or template (the value is used as is)


@dataclass(frozen=True)
class _BlockRule:
    target: str
    source: str
    fields: tuple[_FieldRule, ...]
    blocks: tuple[_BlockRule, ...]
    many: bool
    when: tuple[tuple[str, Any], ...] = ()
    when_present: str | None = None
    required: bool = False


@dataclass
class Mapping:
    """A loaded, validated mapping file.  Apply it to many records; it holds no per-record state."""

    source: str
    mapping_version: int
    vendor_schema: str
    target: str
    record_id_path: str | None
    code_lists: dict[str, dict[str, Any]]
    root: _BlockRule
    model: type[BaseModel] | None = None
    description: str = ""
    _unused: list[str] = field(default_factory=list)
    _plan: _BlockFn | None = field(default=None, init=False, repr=False, compare=False)

    # -- applying -------------------------------------------------------------------------------

    def record_id(self, record: _Record[str, Any], fallback: str = "?") -> str:
        if self.record_id_path:
            values = _get(record, self.record_id_path)
            if values and values[0][1] not in (None, ""):
                return str(values[0][1])
        return fallback

    def apply(self, record: _Record[str, Any], record_id: str | None = None) -> MappingResult:
        """Map one vendor record; validate against the model when one was given at load time."""
        rid = record_id or self.record_id(record)
        plan = self._plan
        if plan is None:
            plan = self._plan = _compile_block(self.root)
        ctx = _Ctx(self, rid, record, track=False)
        data = plan(ctx, record, "", "")
        if ctx.problems:
            return MappingResult(rid, None, ctx.problems, data)
        if self.model is None:
            return MappingResult(rid, None, [], data)
        try:
            value = self.model.model_validate(data)
        except ValidationError as exc:
            # Second pass, only for failing records: learn which vendor field fed each target field.
            ctx = _Ctx(self, rid, record, track=True)
            plan(ctx, record, "", "")
            return MappingResult(rid, None, _validation_problems(exc, rid, ctx.origin), data)
        return MappingResult(rid, value, [], data)


class _Ctx:
    def __init__(
        self, mapping: Mapping, record_id: str, root: _Record[str, Any], track: bool
    ) -> None:
        self.mapping, self.record_id, self.root, self.track = mapping, record_id, root, track
        self.problems: list[MappingProblem] = []
        self.origin: dict[str, str] = {}  # target path -> vendor path (to report model errors)

    def problem(self, path: str, reason: str) -> None:
        self.problems.append(MappingProblem(self.record_id, path or "(record)", reason))


_PATHS: dict[str, tuple[tuple[str, bool], ...]] = {}


def _parts(path: str) -> tuple[tuple[str, bool], ...]:
    parts = _PATHS.get(path)
    if parts is None:
        parts = tuple((p[:-3], True) if p.endswith("[*]") else (p, False) for p in path.split("."))
        _PATHS[path] = parts
    return parts


def _get(obj: Any, path: str, base: str = "") -> list[tuple[str, Any]]:
    """Resolve a dotted path with ``[*]`` into (vendor path, value) pairs; missing -> []."""
    if path in (".", ""):
        return [(base, obj)]
    parts = _parts(path)
    if len(parts) == 1 and not parts[0][1]:  # the common case: one plain key
        key = parts[0][0]
        if isinstance(obj, dict) and key in obj:
            return [(f"{base}.{key}" if base else key, obj[key])]
        return []
    results: list[tuple[str, Any]] = [(base, obj)]
    for key, star in parts:
        nxt: list[tuple[str, Any]] = []
        for where, value in results:
            if not (value.__class__ is dict or isinstance(value, _Record)) or key not in value:
                continue
            child = value[key]
            child_path = f"{where}.{key}" if where else key
            if star:
                if isinstance(child, list):
                    nxt.extend((f"{child_path}[{i}]", item) for i, item in enumerate(child))
                elif (
                    child is not None
                ):  # a single value where a list may stand (XML with one child)
                    nxt.append((f"{child_path}[0]", child))
            else:
                nxt.append((child_path, child))
        results = nxt
    return results


def _resolve(ctx: _Ctx, obj: Any, path: str, base: str) -> list[tuple[str, Any]]:
    if path.startswith("$."):
        return _get(ctx.root, path[2:], "")
    return _get(obj, path, base)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _set(data: dict[str, Any], target: str, value: Any) -> None:
    if "." not in target:
        data[target] = value
        return
    parts = target.split(".")
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value


def _convert(ctx: _Ctx, rule: _FieldRule, where: str, value: Any) -> tuple[bool, Any]:
    if rule.codes:
        table = rule.table if rule.table is not None else ctx.mapping.code_lists[rule.codes]
        key = value.strip() if value.__class__ is str else str(value).strip()
        if key not in table:
            ctx.problem(
                where,
                f"unknown code {shape_hint(key)} in code list {rule.codes!r} "
                f"(mapping {ctx.mapping.vendor_schema} v{ctx.mapping.mapping_version})"
                + (f" {fp}" if (fp := code_fingerprint(key)) else ""),
            )
            return False, None
        value = table[key]
        if value is None:
            return False, None
    if rule.convert:
        try:
            value = CONVERTERS[rule.convert](value, rule.fmt)
        except ConversionError as exc:
            ctx.problem(where, str(exc))
            return False, None
    if rule.template is not None:
        value = rule.template.replace("{}", str(value))
    return True, value


def _apply_field(
    ctx: _Ctx, rule: _FieldRule, obj: Any, base: str, out: dict[str, Any], prefix: str
) -> None:
    """The general field rule: several sources, ``[*]``, ``$.``, ``split``; and every rule while the
    origins of a failing record are tracked (the compiled plain-key rule hands those over here)."""
    if rule.has_const:
        _set(out, rule.target, rule.const)
        return
    pairs: list[tuple[str, Any]] = []
    for src in rule.sources:
        for where, value in _resolve(ctx, obj, src, base):
            if _empty(value):
                continue
            if rule.split is not None and isinstance(value, str):
                pairs.extend(
                    (f"{where}[{i}]", part.strip())
                    for i, part in enumerate(value.split(rule.split))
                    if part.strip()
                )
            else:
                pairs.append((where, value))
    if not pairs:
        if rule.has_default:
            _set(out, rule.target, rule.default)
        elif rule.required:
            ctx.problem(_join(base, rule.sources[0]), "missing mandatory field")
        return
    first_where = pairs[0][0]
    if len(rule.sources) > 1 and not rule.many:
        ok, value = _convert(
            ctx, rule, first_where, rule.join.join(str(v).strip() for _, v in pairs)
        )
    else:
        converted = []
        for where, raw in pairs:
            ok, value = _convert(ctx, rule, where, raw)
            if ok:
                converted.append(value)
        if rule.many:
            ok, value = True, (list(dict.fromkeys(converted)) if rule.codes else converted)
        else:
            ok, value = bool(converted), (converted[0] if converted else None)
    if ok:
        _set(out, rule.target, value)
        if ctx.track:
            ctx.origin[f"{prefix}.{rule.target}" if prefix else rule.target] = first_where


def _join(base: str, path: str) -> str:
    if path.startswith("$."):
        return path[2:]
    if path in (".", ""):
        return base
    return f"{base}.{path.replace('[*]', '')}" if base else path.replace("[*]", "")


def _block_applies(ctx: _Ctx, block: _BlockRule, obj: Any, base: str) -> bool:
    for path, expected in block.when:
        values = [v for _, v in _resolve(ctx, obj, path, base)]
        if not values or values[0] != expected:
            return False
    if block.when_present is not None:
        values = [v for _, v in _resolve(ctx, obj, block.when_present, base) if not _empty(v)]
        if not values:
            return False
    return True


# -- compiled plan ----------------------------------------------------------------------------------
# A mapping is compiled once (on its first record) into nested closures: each rule's settings become
# local variables of its own function, the plain-key rule (most fields) is one dict look-up, and a block
# calls its fields' functions directly.  Why: interpreting the rule objects field by field was the
# mapping's whole cost (issue #20: ~100 fields a record, 4x pydantic's validation of the result).  The
# behaviour, problems and messages are the interpreter's: the general cases still run _apply_field.

_FieldFn = Callable[[_Ctx, Any, str, dict[str, Any], str], None]
_BlockFn = Callable[[_Ctx, Any, str, str], dict[str, Any]]


def _compile_field(rule: _FieldRule) -> _FieldFn:
    target = rule.target
    dotted = "." in target
    if rule.has_const:
        const = rule.const

        def constant(ctx: _Ctx, obj: Any, base: str, out: dict[str, Any], prefix: str) -> None:
            if dotted:
                _set(out, target, const)
            else:
                out[target] = const

        return constant
    path = _plain_path(rule)
    if path is None:
        return functools.partial(_general_field, rule)
    steps = tuple(path.split("."))
    first, rest = steps[0], steps[1:]
    has_default, default, required = rule.has_default, rule.default, rule.required
    convert = None if rule.plain else _compile_convert(rule, path)
    as_list = rule.as_list

    def plain_key(ctx: _Ctx, obj: Any, base: str, out: dict[str, Any], prefix: str) -> None:
        if ctx.track or obj.__class__ is not dict:
            _apply_field(ctx, rule, obj, base, out, prefix)
            return
        value = obj.get(first)
        for step in rest:  # a dotted path: each step must be an object holding the next key
            if (value.__class__ is dict or isinstance(value, _Record)) and step in value:
                value = value[step]
            else:
                value = None
                break
        if value.__class__ is str:  # most values: one test instead of three (_empty's)
            empty = not value.strip()
        else:
            empty = value is None or (isinstance(value, str) and not value.strip()) or value == []
        if empty:
            if has_default:
                if dotted:
                    _set(out, target, default)
                else:
                    out[target] = default
            elif required:
                ctx.problem(f"{base}.{path}" if base else path, "missing mandatory field")
            return
        if convert is not None:
            ok, value = convert(ctx, base, value)
            if not ok:
                return
        if as_list:
            value = [value]
        if dotted:
            _set(out, target, value)
        else:
            out[target] = value

    return plain_key


def _plain_path(rule: _FieldRule) -> str | None:
    """The one dotted path of plain keys a rule reads (no ``[*]``, ``$.``, ``split``, several sources),
    or None.  Such a rule finds one value or none: its general form (_apply_field) reduces to a look-up."""
    if len(rule.sources) != 1 or rule.split is not None:
        return None
    path = rule.sources[0]
    if any(ch in path for ch in "[$") or path in (".", "") or "" in path.split("."):
        return None
    return path


def _compile_convert(rule: _FieldRule, path: str) -> Callable[[_Ctx, str, Any], tuple[bool, Any]]:
    """:func:`_convert` for one rule read at the plain *path*, its settings bound once (code list,
    converter name, template): ``convert(ctx, base, value)``.  The vendor path of a problem
    (``base.path``) is formatted only for a problem: formatting it for every converted value was
    ~1.5 % of the process stage (py-spy, issue #20)."""
    codes, table, name, fmt, template = (
        rule.codes,
        rule.table,
        rule.convert,
        rule.fmt,
        rule.template,
    )
    if codes and table is not None and name is None and template is None:

        def code(ctx: _Ctx, base: str, value: Any) -> tuple[bool, Any]:
            key = value.strip() if value.__class__ is str else str(value).strip()
            if key not in table:  # the problem, worded in one place
                return _convert(ctx, rule, f"{base}.{path}" if base else path, value)
            found = table[key]
            return (False, None) if found is None else (True, found)

        return code
    if name and not codes and template is None:

        def converter(ctx: _Ctx, base: str, value: Any) -> tuple[bool, Any]:
            try:
                return True, CONVERTERS[name](value, fmt)
            except ConversionError as exc:
                ctx.problem(f"{base}.{path}" if base else path, str(exc))
                return False, None

        return converter
    return functools.partial(_convert_bound, rule, path)


def _convert_bound(
    rule: _FieldRule, path: str, ctx: _Ctx, base: str, value: Any
) -> tuple[bool, Any]:
    return _convert(ctx, rule, f"{base}.{path}" if base else path, value)


def _general_field(
    rule: _FieldRule, ctx: _Ctx, obj: Any, base: str, out: dict[str, Any], prefix: str
) -> None:
    _apply_field(ctx, rule, obj, base, out, prefix)


def _compile_block(block: _BlockRule) -> _BlockFn:
    fields = tuple(_compile_field(rule) for rule in block.fields)
    subs = tuple(_compile_sub(sub) for sub in block.blocks)

    def apply(ctx: _Ctx, obj: Any, base: str, prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for one in fields:
            one(ctx, obj, base, out, prefix)
        for sub in subs:
            sub(ctx, obj, base, out, prefix)
        return out

    return apply


def _compile_sub(block: _BlockRule) -> _FieldFn:
    inner = _compile_block(block)
    target, source, many, required = block.target, block.source, block.many, block.required
    conditional = bool(block.when) or block.when_present is not None
    listed = source not in (".",)

    def sub(ctx: _Ctx, obj: Any, base: str, out: dict[str, Any], prefix: str) -> None:
        target_path = f"{prefix}.{target}" if prefix else target
        items: list[tuple[str, Any]] = []
        for where, value in _resolve(ctx, obj, source, base):
            if _empty(value):
                continue
            if listed and isinstance(value, list):
                items.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
            else:
                items.append((where, value))
        if conditional:
            items = [(w, v) for w, v in items if _block_applies(ctx, block, v, w)]
        if not items:
            if required:
                ctx.problem(_join(base, source), "missing mandatory field")
            return
        if many:
            existing = out.setdefault(target, [])
            for where, item in items:
                index = len(existing)
                existing.append(inner(ctx, item, where, f"{target_path}[{index}]"))
        else:
            where, item = items[0]
            out[target] = inner(ctx, item, where, target_path)
            if ctx.track:
                ctx.origin.setdefault(target_path, where)

    return sub


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _validation_problems(
    exc: ValidationError, rid: str, origin: dict[str, str]
) -> list[MappingProblem]:
    """Model errors reported at the vendor field they came from when known (else the target path)."""
    problems = []
    for item in exc.errors(include_input=False, include_url=False):
        pairs: list[tuple[str, str]]
        loc = _loc(item["loc"])
        if item["type"] == "field_problems":
            pairs = [(f"{loc}.{f}" if loc else f, r) for f, r in item["ctx"]["problems"]]
        else:
            pairs = [(loc, item["msg"].removeprefix("Value error, "))]
        for target, reason in pairs:
            vendor = origin.get(target)
            if vendor is None:
                # walk up: a block's own error is reported at the vendor object it came from
                parent = target
                while "." in parent and vendor is None:
                    parent = parent.rsplit(".", 1)[0]
                    vendor = origin.get(parent)
                where = f"{vendor} (canonical {target})" if vendor else f"(canonical {target})"
            else:
                where = vendor
            problems.append(MappingProblem(rid, where, reason))
    return problems


# -- loading and validating -------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _mapping_no_duplicates(
    loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_no_duplicates
)
# YAML 1.1 would turn codes such as N, Y, ON, NO into booleans; only true/false are booleans here.
_StrictLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

_FIELD_KEYS = {
    "from",
    "const",
    "convert",
    "format",
    "codes",
    "required",
    "default",
    "join",
    "split",
    "template",
    "as_list",
}
_BLOCK_KEYS = {"source", "fields", "when", "when_present", "required", "many"}
_TOP_KEYS = {
    "mapping_version",
    "vendor_schema",
    "target",
    "record_id",
    "code_lists",
    "fields",
    "description",
}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, is_list) for Optional[X], list[X], Annotated[X, ...]."""
    is_list = False
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation, is_list
        elif origin in (list, tuple, set, frozenset):
            is_list = True
            annotation = get_args(annotation)[0]
        else:
            return annotation, is_list


def _target_type(model: type[BaseModel] | None, target: str) -> tuple[Any, bool, str | None]:
    """Walk *target* through the model; returns (type, is_list, error)."""
    if model is None:
        return None, False, None
    current: Any = model
    is_list = False
    for part in target.split("."):
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None, False, f"{part!r} is below a field that is not an object"
        info = current.model_fields.get(part)
        if info is None:
            return None, False, f"unknown target field {part!r} in {current.__name__}"
        current, is_list = _unwrap(info.annotation)
    return current, is_list, None


class _Parser:
    def __init__(self, source: str, model: type[BaseModel] | None) -> None:
        self.source, self.model = source, model
        self.errors: list[str] = []
        self.code_lists: dict[str, dict[str, Any]] = {}
        self.used_lists: set[str] = set()

    def err(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def block(
        self, where: str, target: str, spec: dict[str, Any], model: Any, many: bool
    ) -> _BlockRule:
        fields: list[_FieldRule] = []
        blocks: list[_BlockRule] = []
        raw_fields = spec.get("fields") or {}
        if not isinstance(raw_fields, dict):
            self.err(where, "'fields' must be a mapping of target field -> rule")
            raw_fields = {}
        for tgt, rule in raw_fields.items():
            here = f"{where}.fields.{tgt}" if where else f"fields.{tgt}"
            ttype, tlist, error = (
                _target_type(model, str(tgt)) if model is not None else (None, False, None)
            )
            if error:
                self.err(here, error)
                continue
            nested = isinstance(ttype, type) and issubclass(ttype, BaseModel)
            specs = rule if isinstance(rule, list) else [rule]
            if isinstance(rule, list) and model is not None and not tlist:
                self.err(here, "a list of blocks needs a list target field")
                continue
            for i, one in enumerate(specs):
                at = here if len(specs) == 1 else f"{here}[{i}]"
                if not isinstance(one, dict):
                    self.err(at, "a rule must be a mapping")
                    continue
                if "source" in one or "fields" in one:
                    unknown = set(one) - _BLOCK_KEYS
                    if unknown:
                        self.err(at, f"unknown block keys {sorted(unknown)}")
                    if self.model is not None and not nested:
                        self.err(at, f"target {tgt!r} is not an object or a list of objects")
                        continue
                    blocks.append(
                        self.block(
                            at,
                            str(tgt),
                            one,
                            ttype if self.model is not None else None,
                            bool(
                                one.get(
                                    "many",
                                    tlist if self.model is not None else isinstance(rule, list),
                                )
                            ),
                        )
                    )
                else:
                    fields.append(self.field(at, str(tgt), one, nested))
        when = spec.get("when") or {}
        if not isinstance(when, dict):
            self.err(where, "'when' must be a mapping path -> value")
            when = {}
        return _BlockRule(
            target=target,
            source=str(spec.get("source", ".")),
            fields=tuple(fields),
            blocks=tuple(blocks),
            many=many,
            when=tuple(when.items()),
            when_present=spec.get("when_present"),
            required=bool(spec.get("required", False)),
        )

    def field(self, where: str, target: str, rule: dict[str, Any], nested: bool) -> _FieldRule:
        unknown = set(rule) - _FIELD_KEYS
        if unknown:
            self.err(where, f"unknown rule keys {sorted(unknown)}")
        if ("from" in rule) == ("const" in rule):
            self.err(where, "exactly one of 'from' or 'const' is required")
        sources = rule.get("from")
        sources_t = tuple(
            str(s) for s in (sources if isinstance(sources, list) else [sources] if sources else [])
        )
        convert = rule.get("convert")
        if convert is not None and convert not in CONVERTERS:
            self.err(
                where, f"unknown converter {convert!r} (known: {', '.join(sorted(CONVERTERS))})"
            )
        fmt = rule.get("format")
        if fmt is not None:
            if convert != "date":
                self.err(where, "'format' is only for convert: date")
            else:
                try:
                    _date_pattern(str(fmt))
                except ValueError as exc:
                    self.err(where, str(exc))
        elif convert == "date":
            self.err(where, "convert: date needs a 'format' (e.g. dd-mm-yyyy)")
        codes = rule.get("codes")
        if codes is not None:
            if codes not in self.code_lists:
                self.err(where, f"unknown code list {codes!r}")
            self.used_lists.add(str(codes))
        return _FieldRule(
            target=target,
            sources=sources_t,
            const=rule.get("const"),
            has_const="const" in rule,
            convert=convert,
            fmt=None if fmt is None else str(fmt),
            codes=codes,
            required=bool(rule.get("required", False)),
            default=rule.get("default"),
            has_default="default" in rule,
            join=str(rule.get("join", " ")),
            split=None if rule.get("split") is None else str(rule.get("split")),
            template=rule.get("template"),
            as_list=bool(rule.get("as_list", False)),
            many=bool(rule.get("as_list", False) or rule.get("split"))
            or any("[*]" in x for x in sources_t),
            simple_key=(
                sources_t[0]
                if len(sources_t) == 1
                and rule.get("split") is None
                and not any(ch in sources_t[0] for ch in ".[$")
                else None
            ),
            table=self.code_lists.get(str(codes)) if codes is not None else None,
            plain=codes is None and convert is None and rule.get("template") is None,
        )


def parse_mapping(
    doc: Any, source: str = "<mapping>", model: type[BaseModel] | None = None
) -> Mapping:
    """Validate a parsed YAML document and build a :class:`Mapping` (raises MappingFileError)."""
    parser = _Parser(source, model)
    if not isinstance(doc, dict):
        raise MappingFileError(source, ["the file must be a YAML mapping"])
    for key in sorted(set(doc) - _TOP_KEYS):
        parser.err(key, "unknown top-level key")
    version: Any = doc.get("mapping_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        parser.err("mapping_version", "required, a positive integer")
    schema = doc.get("vendor_schema")
    if not isinstance(schema, str) or not schema:
        parser.err("vendor_schema", "required, e.g. 'neptunusweb-gpmi/2'")
    target = str(doc.get("target") or (model.__name__ if model else ""))
    if model is not None and target != model.__name__:
        parser.err("target", f"file maps to {target!r} but is loaded for {model.__name__!r}")
    lists = doc.get("code_lists") or {}
    if not isinstance(lists, dict):
        parser.err("code_lists", "must be a mapping of list name -> {vendor code: target value}")
        lists = {}
    for name, table in lists.items():
        if not isinstance(table, dict) or not table:
            parser.err(
                f"code_lists.{name}", "must be a non-empty mapping vendor code -> target value"
            )
            continue
        parser.code_lists[str(name)] = {str(k): v for k, v in table.items()}
    root = parser.block("", "", {"source": ".", "fields": doc.get("fields")}, model, False)
    if model is not None:
        _check_code_values(parser, root, model)
    for name in sorted(set(parser.code_lists) - parser.used_lists):
        parser.err(f"code_lists.{name}", "code list is never used")
    if parser.errors:
        raise MappingFileError(source, parser.errors)
    return Mapping(
        source=source,
        mapping_version=int(version),
        vendor_schema=str(schema),
        target=target,
        record_id_path=doc.get("record_id"),
        code_lists=parser.code_lists,
        root=root,
        model=model,
        description=str(doc.get("description") or ""),
    )


def _check_code_values(
    parser: _Parser, block: _BlockRule, model: Any, where: str = "fields"
) -> None:
    """Target values of a code list must be valid for the enum field they feed."""
    import enum

    for rule in block.fields:
        if not rule.codes or rule.codes not in parser.code_lists:
            continue
        ttype, _, _ = _target_type(model, rule.target)
        if isinstance(ttype, type) and issubclass(ttype, enum.Enum):
            allowed = {m.value for m in ttype}
            for code, value in parser.code_lists[rule.codes].items():
                if value is not None and value not in allowed:
                    parser.err(
                        f"code_lists.{rule.codes}.{code}",
                        f"{value!r} is not a valid {ttype.__name__} (field {rule.target})",
                    )
    for sub in block.blocks:
        sub_type, _, _ = _target_type(model, sub.target)
        _check_code_values(parser, sub, sub_type, f"{where}.{sub.target}")


def load_mapping(source: str | Path | Traversable, model: type[BaseModel] | None = None) -> Mapping:
    """Load and validate a YAML mapping file (a path or an ``importlib.resources`` Traversable)."""
    name = str(source)
    try:
        text = (
            source.read_text(encoding="utf-8")
            if not isinstance(source, str)
            else Path(source).read_text(encoding="utf-8")
        )
    except OSError as exc:
        raise MappingFileError(name, [f"cannot read: {exc}"]) from None
    try:
        doc = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise MappingFileError(name, [f"not valid YAML: {exc}"]) from None
    return parse_mapping(doc, name, model)
