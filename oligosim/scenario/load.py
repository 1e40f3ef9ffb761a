"""Load and validate scenario files (TOML), with errors that name file, field, value, range."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from oligosim.errors import ParameterError, ScenarioError
from oligosim.params import ParameterSet
from oligosim.scenario.schema import Scenario


def _loc(loc: tuple[Any, ...], data: Any) -> str:
    """Render a pydantic location as a field path, naming strategies by their name."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            name = None
            if isinstance(node, list) and 0 <= item < len(node) and isinstance(node[item], dict):
                name = node[item].get("name")
            parts[-1] = f"{parts[-1]}[{item}]" + (f"({name})" if name else "") if parts \
                else f"[{item}]"
        else:
            parts.append(str(item))
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts)


def _format(err: dict[str, Any], data: Any) -> tuple[str, str]:
    loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
    path = _loc(loc, data)
    kind = err["type"]
    msg = err["msg"]
    if kind == "extra_forbidden":
        return path, f"unknown key '{loc[-1]}'; allowed keys: " + _allowed(loc, data)
    if "input" in err and kind != "missing":
        msg = f"{msg} (got {err['input']!r})"
    return path, msg


def _allowed(loc: tuple[Any, ...], data: Any) -> str:
    from oligosim.scenario import schema

    model: Any = Scenario
    for item in loc[:-1]:
        if isinstance(item, int):
            continue
        field = model.model_fields.get(item)
        if field is None:
            return "(see scenarios/README.md)"
        ann = field.annotation
        for cand in (schema.Run, schema.Population, schema.Imaging, schema.Strategy,
                     schema.UpfrontLAT, schema.ConsolidativeLAT, schema.OligoPDLAT,
                     schema.SecondLine, schema.SubtypeMix):
            if cand is ann or cand.__name__ in str(ann):
                model = cand
                break
        else:
            return "(see scenarios/README.md)"
    return ", ".join(model.model_fields)


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a dict; raise ScenarioError listing every problem."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            path, msg = _format(err, data)
            lines.append(f"{source}: field '{path}': {msg}" if path else f"{source}: {msg}")
        raise ScenarioError("\n".join(lines)) from None
    try:
        ParameterSet(scenario.parameters, source=f"{source} [parameters]")
    except ParameterError as exc:
        raise ScenarioError(str(exc)) from None
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises
    ------
    ScenarioError
        Missing file, TOML syntax error (with line and column), unknown keys (with the
        allowed ones), wrong types, out-of-range numbers, contradictions.
    """
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(f"{p}: no such scenario file")
    raw = p.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{p}: TOML syntax error: {exc}") from None
    scenario = parse_scenario(data, source=str(p))
    return scenario


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the validated scenario's canonical JSON (recorded in run.json)."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()
