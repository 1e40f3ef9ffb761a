"""The bundled scenario files: valid, runnable, faithful to TARGETS.md §1, documented.

- ``oligosim check`` passes on every ``scenarios/**/*.toml``;
- every trial scenario compiles and runs for 30 patients;
- the trial facts encoded in each file match TARGETS.md §1 (eligibility, arms, LAT, TKI);
- ``scenarios/README.md`` lists every bundled file and its generated tables match the schema.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import oligosim
from oligosim.cli import main
from oligosim.scenario import compile_scenario, load_scenario, parse_scenario
from oligosim.scenario.schema import parameters_markdown, schema_markdown

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
ALL_FILES = sorted(SCENARIOS.rglob("*.toml"))
TRIAL_FILES = sorted((SCENARIOS / "trials").glob("*.toml"))
README = SCENARIOS / "README.md"
FIRST_GEN = {"gefitinib", "erlotinib", "icotinib", "tki_1g"}


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


def test_expected_trial_files_exist() -> None:
    names = {p.stem for p in TRIAL_FILES}
    assert {"flaura", "sindas", "nrog_cn_002", "atom", "curb_oligo_pd"} <= names


def test_check_passes_on_every_bundled_file(capsys) -> None:
    """`oligosim check scenarios/**/*.toml` exits 0 and says ok for each file."""
    code = main(["check", *map(str, ALL_FILES)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    for p in ALL_FILES:
        assert f"{p}: ok" in out


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.stem)
def test_round_trip_through_model_dump(path: Path) -> None:
    """A loaded scenario dumped to a dict validates again to the same scenario."""
    sc = load_scenario(path)
    assert parse_scenario(sc.model_dump(), source="dump") == sc
    assert parse_scenario(json.loads(sc.model_dump_json()), source="json") == sc


@pytest.mark.parametrize("path", TRIAL_FILES, ids=lambda p: p.stem)
def test_trial_scenario_compiles_and_runs(path: Path) -> None:
    """Each trial scenario compiles and simulates 30 patients per strategy without error."""
    sc = load_scenario(path)
    cs = compile_scenario(sc)
    assert cs.policies.shape[0] == len(sc.strategy)
    assert np.isfinite(cs.policies).all()
    res = oligosim.run_scenario(sc, n_patients=30, jobs=1)
    p = res.patients
    assert len(p) == 30 * len(sc.strategy)
    assert set(p["strategy"]) == {s.name for s in sc.strategy}
    for col in ("pfs_months", "os_months"):
        assert np.isfinite(p[col]).all()
        assert (p[col] >= 0).all()
        assert (p[col] <= sc.run.horizon_months + 1e-9).all()


@pytest.mark.parametrize("path", TRIAL_FILES, ids=lambda p: p.stem)
def test_trial_file_cites_targets_and_names_assumptions(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "TARGETS.md" in text
    assert "ASSUMPTION" in text


def _strategies(name: str) -> tuple[oligosim.Scenario, dict[str, Any]]:
    sc = load_scenario(SCENARIOS / "trials" / f"{name}.toml")
    return sc, {s.name: s for s in sc.strategy}


def test_sindas_matches_targets() -> None:
    """≤5 mets, ≤2 per organ, no brain; 1G TKI; upfront RT 25–40 Gy/5 to all + primary."""
    sc, st = _strategies("sindas")
    pop = sc.population
    assert (pop.max_mets, pop.max_per_organ, pop.allow_brain) == (5, 2, False)
    assert pop.met_count_pmf[0] == 0.0  # synchronous oligometastatic: at least one metastasis
    assert set(st) == {"tki_alone", "upfront_lat_all"}
    assert all(s.tki in FIRST_GEN for s in st.values())
    up = st["upfront_lat_all"].upfront_lat
    assert up.mode == "all_visible_and_primary"
    assert up.fractions == 5
    assert 25.0 <= up.dose_gy <= 40.0
    assert up.max_mets >= 5
    assert st["tki_alone"].upfront_lat is None
    assert sc.published == {"tki_alone": {"pfs": 12.5, "os": 17.4},
                            "upfront_lat_all": {"pfs": 20.2, "os": 25.5}}


def test_nrog_cn_002_matches_targets() -> None:
    """Icotinib; ≤3 metastatic organs, brain allowed; thoracic RT 60 Gy/30."""
    sc, st = _strategies("nrog_cn_002")
    pop = sc.population
    assert pop.max_organs == 3
    assert pop.allow_brain
    assert set(st) == {"tki_alone", "thoracic_rt"}
    assert all(s.tki == "icotinib" for s in st.values())
    up = st["thoracic_rt"].upfront_lat
    assert (up.mode, up.dose_gy, up.fractions) == ("thoracic", 60.0, 30)
    assert sc.published == {"tki_alone": {"pfs": 10.6, "os": 26.2},
                            "thoracic_rt": {"pfs": 17.1, "os": 34.4}}


def test_atom_matches_targets() -> None:
    """1G TKI; consolidative SABR at 3 months to ≤4 residual lesions; model-only comparator."""
    sc, st = _strategies("atom")
    assert set(st) == {"consolidative_sabr", "tki_alone"}
    arm = st["consolidative_sabr"]
    assert arm.tki in FIRST_GEN
    assert arm.consolidative_lat.time_months == 3.0
    assert arm.consolidative_lat.max_lesions == 4
    assert arm.oligo_pd_lat is not None  # repeat LAT for oligo-progression [A]
    assert arm.oligo_pd_lat.continue_tki
    comparator = st["tki_alone"]
    assert comparator.tki == arm.tki
    assert comparator.consolidative_lat is None
    assert comparator.oligo_pd_lat is None
    assert "model-only" in comparator.description.lower()
    assert "tki_alone" not in sc.published  # no published figure for a model-only arm
    assert sc.published == {"consolidative_sabr": {"os": 43.3}}  # mPFS 15.2 is [NV]


def test_curb_matches_targets() -> None:
    """Oligo-PD LAT to ≤5 progressing lesions vs standard of care; not an EGFR cohort."""
    sc, st = _strategies("curb_oligo_pd")
    assert set(st) == {"tki_alone", "oligo_pd_lat"}
    opd = st["oligo_pd_lat"].oligo_pd_lat
    assert opd.max_lesions == 5
    assert opd.continue_tki
    assert st["tki_alone"].oligo_pd_lat is None
    assert sc.published == {}  # every CURB figure in TARGETS.md is [S]
    text = (SCENARIOS / "trials" / "curb_oligo_pd.toml").read_text(encoding="utf-8")
    assert "NOT AN EGFR COHORT" in text


def test_flaura_publishes_only_a_tagged_medians() -> None:
    sc, st = _strategies("flaura")
    assert st["osimertinib"].tki == "osimertinib"
    assert st["gefitinib_or_erlotinib"].tki in FIRST_GEN
    assert sc.published == {"osimertinib": {"pfs": 18.9}, "gefitinib_or_erlotinib": {"pfs": 10.2}}
    assert (sc.imaging.early_interval_weeks, sc.imaging.switch_months,
            sc.imaging.late_interval_weeks) == (6, 18, 12)


# --- scenarios/README.md -----------------------------------------------------------------------

def _block(text: str, tag: str) -> str:
    m = re.search(rf"<!-- BEGIN GENERATED {tag} .*?-->\n(.*?)\n<!-- END GENERATED {tag} -->",
                  text, flags=re.S)
    assert m, f"README has no generated {tag} block"
    return m.group(1).strip()


def test_readme_field_table_matches_schema() -> None:
    """The field table is schema_markdown() verbatim (regenerate it when the schema changes)."""
    text = README.read_text(encoding="utf-8")
    assert _block(text, "FIELDS") == schema_markdown().strip()


def test_readme_parameter_tables_match_specs() -> None:
    text = README.read_text(encoding="utf-8")
    assert _block(text, "PARAMETERS") == parameters_markdown().strip()


def test_readme_lists_every_bundled_scenario() -> None:
    text = README.read_text(encoding="utf-8")
    for p in ALL_FILES:
        assert f"`{_rel(p)}`" in text, _rel(p)
