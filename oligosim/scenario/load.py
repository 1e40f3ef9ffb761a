"""Load and validate scenario files (TOML), with errors that name file, field, value, range.

Every problem of a file is reported, one line each, as

    <file>: field '<path>' [(strategy '<name>')]: <sentence with the value and what is allowed>

(DESIGN.md §5.1, §8). TOML syntax errors give the line and column and show the line; files
that are missing, unreadable, empty or not UTF-8 say so. The loader never lets a pydantic or
tomllib traceback reach the user: everything is a :class:`~oligosim.errors.ScenarioError`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import math
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from oligosim.errors import ScenarioError
from oligosim.params import SPECS
from oligosim.scenario import schema
from oligosim.scenario.schema import Scenario

_UNITS = (("_gy", "Gy"), ("_months", "months"), ("_weeks", "weeks"), ("_mm", "mm"))
_RANGE_KINDS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_TYPE_KINDS = {"int_type", "int_parsing", "int_from_float", "float_type", "float_parsing",
               "bool_type", "bool_parsing", "string_type", "list_type", "dict_type",
               "model_type", "model_attributes_type", "finite_number"}
_LENGTH_KINDS = {"string_pattern_mismatch", "string_too_short", "string_too_long",
                 "too_short", "too_long"}


# ---------------------------------------------------------------------------------------------
# rendering values and paths
# ---------------------------------------------------------------------------------------------

def _toml(v: Any, limit: int = 60) -> str:
    """A value as it would be written in TOML (shortened)."""
    if isinstance(v, bool):
        s = "true" if v else "false"
    elif isinstance(v, str):
        s = '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(v, float):
        s = "nan" if math.isnan(v) else ("inf" if v == math.inf else
                                          "-inf" if v == -math.inf else repr(v))
    elif isinstance(v, list):
        s = "[" + ", ".join(_toml(x, limit) for x in v) + "]"
    elif isinstance(v, dict):
        s = "{ " + ", ".join(f"{k} = {_toml(x, limit)}" for k, x in v.items()) + " }"
    else:
        s = str(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _kind_of(v: Any) -> str:
    """'the string "abc"', 'the float 5.0', 'a table { ... }', ..."""
    if isinstance(v, bool):
        return f"the boolean {_toml(v)}"
    if isinstance(v, int):
        return f"the integer {v}"
    if isinstance(v, float):
        return f"the float {_toml(v)}"
    if isinstance(v, str):
        return f"the string {_toml(v)}"
    if isinstance(v, list):
        return f"an array {_toml(v)}" if v else "an empty array []"
    if isinstance(v, dict):
        return f"a table {_toml(v)}" if v else "an empty table"
    if isinstance(v, dt.date | dt.time):
        return f"the date/time {v}"
    return repr(v)


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        else:
            out += ("." if out else "") + str(item)
    return out


def _strategy_name(loc: tuple[Any, ...], data: Any) -> str | None:
    if len(loc) >= 2 and loc[0] == "strategy" and isinstance(loc[1], int) and \
            isinstance(data, dict) and isinstance(data.get("strategy"), list):
        items = data["strategy"]
        if 0 <= loc[1] < len(items) and isinstance(items[loc[1]], dict):
            name = items[loc[1]].get("name")
            return name if isinstance(name, str) else None
    return None


def _unit(loc: tuple[Any, ...]) -> str:
    if loc and loc[0] == "published":
        return " (months)"
    last = next((x for x in reversed(loc) if isinstance(x, str) and x != "[key]"), "")
    for suffix, unit in _UNITS:
        if last.endswith(suffix):
            return f" ({unit})"
    return ""


def _suggest(word: str, allowed: list[str], cutoff: float = 0.75) -> str:
    close = [a for a in allowed if a.startswith(f"{word}_")]  # unit suffix left out
    close = list(dict.fromkeys(close + difflib.get_close_matches(word, allowed, n=2,
                                                                 cutoff=cutoff)))[:2]
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def _elsewhere(key: str, loc: tuple[Any, ...]) -> str:
    """A hint when an unknown key is a field of another table (README notation)."""
    here = "".join(("[]" if isinstance(x, int) else f".{x}") for x in loc).lstrip(".")
    own = f"{here}.{key}" if here else key
    paths = [p for p, *_ in schema.schema_rows()
             if (p == key or p.endswith(f".{key}")) and p != own]
    if not paths:
        return ""
    return f" '{key}' is a key of {' and of '.join(p.rsplit('.', 1)[0] for p in paths)}."


def _allowed(loc: tuple[Any, ...]) -> str:
    """What the schema allows at ``loc``, in words (with the unit)."""
    found = schema.field_at(loc)
    if found is None:
        return "see scenarios/README.md"
    ann, meta, info = found
    if info is not None:
        text = schema.allowed_text(info).replace(" (or omitted)", "")
    else:
        text = schema.describe_allowed(ann, meta)
    return text + _unit(loc)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    found = schema.field_at(loc)
    if found is None:
        return []
    ann = found[0]
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return list(ann.model_fields)
    return []


def _where(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "at the top level"
    if loc[0] == "strategy" and len(loc) == 2:
        return "in a [[strategy]] table"
    if loc[0] == "strategy":
        return f"in the {_path(loc[2:])} table of a strategy"
    return f"in [{_path(loc)}]"


# ---------------------------------------------------------------------------------------------
# one pydantic error -> (field path, sentence)
# ---------------------------------------------------------------------------------------------

def _sentence(err: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
    loc = tuple(x for x in err["loc"]
                if not (isinstance(x, str) and x.startswith("function-")))
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        return loc, (f"unknown key '{key}' (value {_toml(value)}). Allowed keys "
                     f"{_where(loc[:-1])}: {', '.join(allowed)}.{_suggest(key, allowed)}"
                     f"{_elsewhere(key, loc[:-1])}")
    if loc and loc[-1] == "[key]":
        found = schema.field_at(loc)
        allowed = [str(a) for a in _literal_args(found[0])] if found else []
        return loc[:-1], (
            f"unknown key '{value}' {_where(loc[:-2])}; allowed keys: "
            f"{', '.join(allowed)}.{_suggest(str(value), allowed)}")
    if kind == "missing":
        key = str(loc[-1])
        if loc == ("strategy",):
            return loc, ("no strategy is defined; a scenario needs 1 to 20 [[strategy]] "
                         "tables, each with at least name = \"...\".")
        return loc, f"the required key '{key}' is missing; it must be {_allowed(loc)}."
    if kind == "literal_error":
        found = schema.field_at(loc)
        allowed = [str(a) for a in _literal_args(found[0])] if found else []
        hint = _suggest(str(value), allowed) if isinstance(value, str) else ""
        return loc, (f"got {_kind_of(value)}, which is not allowed; it must be "
                     f"{_allowed(loc)}.{hint}")
    if kind in _RANGE_KINDS:
        return loc, f"{_toml(value)} is out of range; it must be {_allowed(loc)}."
    if kind in _TYPE_KINDS:
        extra = ""
        if loc == ("strategy",) and isinstance(value, dict):
            extra = " Write [[strategy]] (double brackets) for each strategy, not [strategy]."
        elif kind in ("model_type", "dict_type") and isinstance(value, list):
            extra = f" Use [{_path(loc)}] (single brackets), not [[{_path(loc)}]]."
        return loc, f"got {_kind_of(value)}, but it must be {_allowed(loc)}.{extra}"
    if kind in _LENGTH_KINDS:
        if loc == ("strategy",) and value == []:
            return loc, ("the strategy list is empty; a scenario needs 1 to 20 [[strategy]] "
                         "tables.")
        return loc, f"got {_kind_of(value)}, but it must be {_allowed(loc)}."
    if kind == "value_error":
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, schema.CrossFieldError):
            loc = (*loc, *cause.loc)
        msg = str(cause) if cause is not None else err["msg"].removeprefix("Value error, ")
        return loc, msg + ("" if msg.endswith((".", "?")) else ".")
    return loc, f"{err['msg']} (got {_kind_of(value)}); allowed: {_allowed(loc)}."


def _literal_args(ann: Any) -> tuple[Any, ...]:
    return typing.get_args(ann) if typing.get_origin(ann) is typing.Literal else ()


def _line(source: str, loc: tuple[Any, ...], sentence: str, data: Any) -> str:
    where = f"field '{_path(loc)}'" if loc else "top level"
    name = _strategy_name(loc, data)
    if name and len(loc) > 2:
        where += f" (strategy '{name}')"
    return f"{source}: {where}: {sentence}"


# ---------------------------------------------------------------------------------------------
# parameter overrides (names and ranges from oligosim.params.SPECS)
# ---------------------------------------------------------------------------------------------

def _spec_allowed(name: str) -> str:
    spec = SPECS[name]
    rng = (f"a number of at least {spec.lo:g}" if spec.hi == math.inf
           else f"a number from {spec.lo:g} to {spec.hi:g}")
    unit = "" if spec.unit in ("-",) or spec.unit.startswith("see ") else f" ({spec.unit})"
    return rng + unit


def _parameter_problems(params: Any) -> tuple[list[tuple[tuple[Any, ...], str]], set[str]]:
    """Unknown names and out-of-range values of ``[parameters]`` (every one of them)."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    unknown: set[str] = set()
    if not isinstance(params, dict):
        return problems, unknown
    names = list(SPECS)
    for key, value in params.items():
        loc = ("parameters", key)
        if key not in SPECS:
            unknown.add(key)
            close = difflib.get_close_matches(key, names, n=4, cutoff=0.6)
            prefix = [n for n in names if n.startswith(key) or
                      n.split("_")[0] == key.split("_")[0]]
            hint = list(dict.fromkeys(close + prefix))[:5]
            problems.append((loc, (
                f"unknown parameter '{key}'; allowed: one of the {len(names)} names of "
                "oligosim.params.SPECS (listed in scenarios/README.md)"
                + (f". Did you mean {' or '.join(repr(h) for h in hint)}?" if hint else "."))))
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue  # pydantic reports the type, with _allowed -> _spec_allowed
        spec = SPECS[key]
        if math.isnan(value) or not spec.lo <= value <= spec.hi:
            problems.append((loc, f"{_toml(value)} is out of range for parameter '{key}'; it "
                                  f"must be {_spec_allowed(key)}."))
    return problems, unknown


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------

def _plain(data: Any) -> Any:
    """Python-API input as TOML would give it: numpy scalars -> Python, tuples -> lists."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    if isinstance(data, np.generic):
        return data.item()
    return data


def scenario_problems(data: Any, source: str = "<scenario>") -> list[str]:
    """Every problem of a scenario given as a dict, one line each (empty if valid).

    Types are strict as in TOML, except that numpy scalars and tuples from Python callers
    are taken as the equivalent Python numbers and lists.
    """
    data = _plain(data)
    if not isinstance(data, dict):
        return [f"{source}: top level: got {_kind_of(data)}, but a scenario must be a table."]
    if not data:
        return [f"{source}: top level: the file has no keys (it is empty or holds only "
                "comments); a scenario needs at least name = \"...\" and one [[strategy]] "
                "table."]
    param_problems, unknown = _parameter_problems(data.get("parameters"))
    found: list[tuple[tuple[Any, ...], str]] = []
    try:
        Scenario.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc, sentence = _sentence(err)
            if len(loc) == 2 and loc[0] == "parameters":
                if loc[1] in unknown:
                    continue
                if loc[1] in SPECS and err["type"] in _TYPE_KINDS:
                    sentence = (f"got {_kind_of(err.get('input'))}, but parameter "
                                f"'{loc[1]}' must be {_spec_allowed(str(loc[1]))}.")
            found.append((loc, sentence))
    found += param_problems
    return [_line(source, loc, sentence, data) for loc, sentence in found]


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a dict; raise ScenarioError listing every problem."""
    problems = scenario_problems(data, source)
    if problems:
        exc = ScenarioError("\n".join(problems))
        exc.problems = problems  # type: ignore[attr-defined]
        raise exc
    return Scenario.model_validate(_plain(data))


_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _syntax_error(p: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    msg = str(exc)
    m = _TOML_POS.search(msg)
    if not m:
        return f"{p}: TOML syntax error: {msg}."
    line, col = int(m.group(1)), int(m.group(2))
    what = _TOML_POS.sub("", msg).rstrip(".")
    lines = text.splitlines()
    shown = lines[line - 1] if 0 < line <= len(lines) else ""
    caret = " " * (max(col, 1) - 1) + "^"
    return (f"{p}:{line}:{col}: TOML syntax error at line {line}, column {col}: {what}.\n"
            f"    {shown}\n    {caret}")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises
    ------
    ScenarioError
        Missing or unreadable file, not UTF-8, TOML syntax error (with line and column),
        empty file, unknown keys (with the allowed ones), wrong types, out-of-range numbers
        (with the allowed range), contradictions. The message lists every problem found.
    """
    p = Path(path)
    if p.is_dir():
        raise ScenarioError(f"{p}: is a directory, not a scenario file; give a .toml file")
    if not p.exists():
        raise ScenarioError(f"{p}: no such scenario file (looked for {p.absolute()})")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read the scenario file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{p}: the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start} (line {line}) is not valid UTF-8 ({exc.reason}); save the file as "
            "UTF-8.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(_syntax_error(p, text, exc)) from None
    return parse_scenario(data, source=str(p))


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the validated scenario's canonical JSON (recorded in run.json)."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()
