"""The parameter set: every biological, radiobiological, imaging and treatment parameter.

A :class:`ParameterSet` is an immutable mapping from parameter names (units in the names) to
values, validated against the hard bounds in :mod:`oligosim.params.defaults`, with
:meth:`ParameterSet.to_arrays` compiling it to the flat arrays the kernels read
(layout in :mod:`oligosim.engine._jit`).
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from oligosim.engine import _jit as J
from oligosim.errors import ParameterError
from oligosim.params.defaults import (
    CLONE_SCALARS,
    DRUG_SCALARS,
    ORGAN_DEFAULTS,
    SCALARS,
    SENSITIVITY,
    Spec,
)

#: Files of the shipped calibration in ``oligosim/data/calibration/``.
CALIBRATED_FILE = "calibrated.json"
POSTERIOR_FILE = "posterior_draws.csv"

_ORGAN_NUMERIC_FIELDS = tuple(f for f in J.ORGAN_FIELDS if f != "modality")


def _organ_specs() -> dict[str, Spec]:
    """Expand the organ table into named scalar specs ``{organ}_{field}``."""
    out: dict[str, Spec] = {}
    for organ, row in ORGAN_DEFAULTS.items():
        for field, value in zip(J.ORGAN_FIELDS, row, strict=True):
            if field == "modality":
                continue
            hi = float("inf") if field in ("detection_mm", "measurable_mm", "death_weight",
                                           "tropism", "met_weight", "dose_gy",
                                           "fractions") else 1.0
            if field == "alpha_multiplier":
                hi = 5.0
            out[f"{organ}_{field}"] = Spec(float(value), 0.0, hi, "see engine/_jit.ORGAN_FIELDS",
                                           "params/defaults.py ORGAN_DEFAULTS (per-column "
                                           "sources there)")
    return out


SPECS: dict[str, Spec] = {**SCALARS, **CLONE_SCALARS, **DRUG_SCALARS, **_organ_specs()}
MODALITY_DEFAULTS = {organ: row[4] for organ, row in ORGAN_DEFAULTS.items()}


@dataclass(frozen=True)
class KernelParameters:
    """The parameter set compiled to arrays (all float64).

    Attributes
    ----------
    scalars : (N_SCALAR_PARAMS,) indexed by ``engine._jit.P_*``
    organ : (N_ORGANS, N_ORGAN_FIELDS) indexed by ``O_*``
    kill_rate : (N_DRUGS,) net kill of sensitive cells, per month (delta_D)
    sensitivity : (N_DRUGS, N_CLONES) 1 = killed, 0 = resistant
    penetration : (N_ORGANS, N_DRUGS) pi_{organ, D}
    subtype_sigma : (N_SUBTYPES, N_DRUGS) sigma_subtype (1 for non-TKI regimens)
    fitness_cost : (N_CLONES,) c_k
    mutation_rate : (N_CLONES,) u_k, established lineages per cell (0 for the sensitive clone)
    growth_multiplier : (N_CLONES,) untreated growth relative to g0 (transformation faster)
    """

    scalars: np.ndarray
    organ: np.ndarray
    kill_rate: np.ndarray
    sensitivity: np.ndarray
    penetration: np.ndarray
    subtype_sigma: np.ndarray
    fitness_cost: np.ndarray
    mutation_rate: np.ndarray
    growth_multiplier: np.ndarray


class ParameterSet(Mapping[str, float]):
    """Validated, immutable set of named model parameters.

    Parameters
    ----------
    values : mapping, optional
        Overrides of the defaults, by name. Unknown names and out-of-range values raise
        :class:`~oligosim.errors.ParameterError` naming the parameter and its allowed range.
    name : str
        An identifier recorded in ``run.json`` (e.g. ``"literature-defaults"``).
    """

    def __init__(self, values: Mapping[str, float] | None = None, *,
                 name: str = "literature-defaults", source: str | None = None,
                 provenance: Mapping[str, str] | None = None) -> None:
        merged = {k: s.default for k, s in SPECS.items()}
        for key, value in (values or {}).items():
            if key not in SPECS:
                close = [k for k in SPECS if k.split("_")[0] == key.split("_")[0]][:8]
                raise ParameterError(f"unknown parameter '{key}'", field=key, file=source,
                                     allowed=", ".join(close) if close else
                                     "see oligosim.params.SPECS")
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise ParameterError(f"parameter '{key}' must be a number", field=key,
                                     value=value, file=source) from None
            spec = SPECS[key]
            if not (spec.lo <= v <= spec.hi) or np.isnan(v):
                raise ParameterError(f"parameter '{key}' = {v!r} is out of range",
                                     field=key, file=source,
                                     allowed=f"[{spec.lo}, {spec.hi}] {spec.unit}")
            merged[key] = v
        self._values = MappingProxyType(merged)
        self.name = name
        self._provenance = MappingProxyType(dict(provenance or {}))

    def __getitem__(self, key: str) -> float:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def replace(self, name: str | None = None, **values: float) -> ParameterSet:
        """A new set with some values changed (validated)."""
        changed = {k: v for k, v in self._values.items() if v != SPECS[k].default}
        changed.update(values)
        provenance = {k: v for k, v in self._provenance.items() if k not in values}
        return ParameterSet(changed, name=name or self.name, provenance=provenance)

    def sources(self) -> dict[str, str]:
        """Name -> citation or named assumption of every parameter (for a calibrated value:
        the calibration that set it, and the prior's source)."""
        return {k: self._provenance.get(k, SPECS[k].source) for k in self._values}

    def to_arrays(self) -> KernelParameters:
        """Compile to the flat arrays of :class:`KernelParameters`."""
        v = self._values
        scalars = np.array([v[name] for name in J.SCALAR_PARAMS], dtype=np.float64)
        organ = np.zeros((J.N_ORGANS, J.N_ORGAN_FIELDS))
        for i, name in enumerate(J.ORGANS):
            for f, field in enumerate(J.ORGAN_FIELDS):
                if field == "modality":
                    organ[i, f] = J.MODALITIES.index(MODALITY_DEFAULTS[name])
                else:
                    organ[i, f] = v[f"{name}_{field}"]
        kill = np.zeros(J.N_DRUGS)
        for d, drug in enumerate(J.DRUGS):
            if drug != "none":
                kill[d] = v[f"kill_rate_{drug}_per_month"]
        sens = np.array([SENSITIVITY[d] for d in J.DRUGS], dtype=np.float64)
        pen = np.ones((J.N_ORGANS, J.N_DRUGS))
        pen[J.BRAIN, J.DRUG_TKI1G] = v["penetration_brain_tki_1g"]
        pen[J.BRAIN, J.DRUG_TKI2G] = v["penetration_brain_tki_2g"]
        pen[J.BRAIN, J.DRUG_OSI] = v["penetration_brain_osimertinib"]
        for d in (J.DRUG_PLATINUM, J.DRUG_PEM_MAINT, J.DRUG_LATER):
            pen[J.BRAIN, d] = v["penetration_brain_chemo"]
        sigma = np.ones((J.N_SUBTYPES, J.N_DRUGS))
        for d in J.EGFR_TKIS:
            sigma[1, d] = v["sensitivity_l858r"]
            sigma[2, d] = v["sensitivity_uncommon"]
        cost = np.array([0.0] + [v[f"fitness_cost_{c}"] for c in J.CLONES[1:]])
        mut = np.array([0.0] + [v[f"mutation_rate_{c}"] for c in J.CLONES[1:]])
        gmult = np.ones(J.N_CLONES)
        gmult[J.CLONE_TRANSFORMED] = v["growth_transformed_multiplier"]
        return KernelParameters(scalars, organ, kill, sens, pen, sigma, cost, mut, gmult)

    def to_dict(self) -> dict[str, float]:
        """Plain dict of all values."""
        return dict(self._values)


def _calibration_csv(name: str) -> pd.DataFrame:
    """A CSV of the shipped calibration (``oligosim/data/calibration/<name>``)."""
    path = resources.files("oligosim") / "data" / "calibration" / name
    if not path.is_file():
        raise ParameterError("this installation ships no calibration", file=str(path),
                             allowed="run `oligosim calibrate` first")
    with resources.as_file(path) as p:
        return pd.read_csv(p)


def literature_parameters() -> ParameterSet:
    """Every parameter at its literature default or named assumption (params/defaults.py),
    before calibration: the starting point and prior centre of ``oligosim calibrate``."""
    return ParameterSet()


@functools.cache
def _shipped_calibration() -> dict[str, Any] | None:
    path = resources.files("oligosim") / "data" / "calibration" / CALIBRATED_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def shipped_calibration() -> dict[str, Any] | None:
    """The record of the calibration shipped in the package (``calibrated.json``: method,
    settings, free parameters with priors and reasons, ESS, identification, wall time), or
    None if the package ships none."""
    doc = _shipped_calibration()
    return None if doc is None else json.loads(json.dumps(doc))


def shipped_calibration_table(name: str) -> pd.DataFrame:
    """A table of the shipped calibration: ``"report"`` (validation at the point),
    ``"predictive"`` (posterior-predictive interval per target) or ``"cma_log"``.

    Raises
    ------
    ParameterError
        For another name, or if the package ships no calibration.
    """
    allowed = ("report", "predictive", "cma_log")
    if name not in allowed:
        raise ParameterError("unknown calibration table", field="name", value=name,
                             allowed=", ".join(allowed))
    return _calibration_csv(f"{name}.csv")


def default_parameters() -> ParameterSet:
    """The default parameter set: the calibrated point shipped in the package
    (``oligosim/data/calibration/calibrated.json``, written by ``oligosim calibrate``), or the
    literature defaults if no calibration is shipped.

    Each calibrated parameter's :meth:`ParameterSet.sources` entry names the calibration and
    the prior's source; every other parameter keeps its literature source.
    """
    doc = _shipped_calibration()
    if doc is None:
        return literature_parameters()
    return _from_calibration(doc, CALIBRATED_FILE)


def load_parameter_file(path: str | os.PathLike[str]) -> ParameterSet:
    """The parameter set of a calibrated parameter file written by ``oligosim calibrate``.

    Raises
    ------
    ParameterError
        If the file is missing, not JSON, or not a calibration (naming the file).
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        missing = [k for k in ("free_parameters", "created", "method") if k not in doc]
        if missing:
            raise KeyError(", ".join(missing))
    except FileNotFoundError:
        raise ParameterError("parameter file not found", file=str(p)) from None
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise ParameterError(f"not a calibrated parameter file ({exc})", file=str(p),
                             allowed="the JSON written by `oligosim calibrate`") from None
    _check_free_parameters(doc["free_parameters"], str(p))
    return _from_calibration(doc, str(p))


def _check_free_parameters(free: Any, file: str) -> None:
    """Raise :class:`ParameterError` naming the entry unless ``free`` maps known parameter
    names to ``{"value": finite number, ...}``."""
    if not isinstance(free, Mapping):
        raise ParameterError("free_parameters is not a table", file=file,
                             field="free_parameters", value=type(free).__name__,
                             allowed='{name: {"value": number, ...}}')
    for name, entry in free.items():
        if name not in SPECS:
            raise ParameterError("unknown parameter", file=file,
                                 field=f"free_parameters.{name}", value=name,
                                 allowed="a parameter of oligosim.params.SPECS")
        value = entry.get("value") if isinstance(entry, Mapping) else None
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value)):
            raise ParameterError("free parameter has no finite value", file=file,
                                 field=f"free_parameters.{name}.value", value=value,
                                 allowed='{"value": a finite number}')


def _from_calibration(doc: Mapping[str, Any], source: str) -> ParameterSet:
    values = {k: v["value"] for k, v in doc["free_parameters"].items()}
    stamp = f"calibrated by oligosim calibrate ({doc['created']}, {doc['method']})"
    provenance = {k: f"{stamp}; prior {v.get('prior_scale', 'not recorded')} "
                     f"{v.get('prior', '')}, free because: {v.get('reason', 'not recorded')}; "
                     f"literature default: {SPECS[k].source}"
                  for k, v in doc["free_parameters"].items()}
    return ParameterSet(values, name=f"calibrated-{doc['created'][:10]}",
                        source=source, provenance=provenance)


def posterior_draws() -> pd.DataFrame:
    """The calibration's posterior draws shipped in the package: one row per draw, columns
    ``draw, log_likelihood`` and one per free parameter (the others stay at
    :func:`default_parameters`). PSA samples biology from these.

    Raises
    ------
    ParameterError
        If the package ships no posterior (run ``oligosim calibrate`` and install it).
    """
    return _calibration_csv(POSTERIOR_FILE)


def draw_parameters(row: Mapping[str, float], base: ParameterSet | None = None,
                    name: str = "posterior-draw") -> ParameterSet:
    """The parameter set of one posterior draw (a row of :func:`posterior_draws`)."""
    base = base if base is not None else default_parameters()
    values = {k: float(v) for k, v in row.items() if k in SPECS}
    return base.replace(name=name, **values)
