"""Bad scenario files give one clear message each, exit code 2 and no traceback (DESIGN §5.1, §8).

Every file of ``tests/scenarios_bad/`` is one failure kind. For each, ``oligosim check`` must
exit 2 and print a message that names the file, the field path (or line and column for TOML
syntax errors), the specific problem with the received value, and what is allowed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oligosim.cli import main
from oligosim.errors import ScenarioError
from oligosim.scenario import load_scenario

BAD = Path(__file__).resolve().parents[1] / "scenarios_bad"
GOOD = Path(__file__).resolve().parents[2] / "scenarios" / "main_comparison.toml"

ALL_TNK = ("'gefitinib', 'erlotinib', 'icotinib', 'tki_1g', 'afatinib', 'tki_2g', "
           "'osimertinib'")

#: file -> (field path or location as printed, fragments that must all appear).
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    # --- reading the file ---------------------------------------------------------------
    "toml_syntax_error.toml": (
        "line 3, column 5", ("TOML syntax error", "Expected ']'", "[run")),
    "toml_duplicate_key.toml": (
        "line 5, column 9", ("TOML syntax error", "Cannot overwrite a value", "seed = 2")),
    "toml_unterminated_string.toml": (
        "line 2, column 12", ("TOML syntax error", 'name = "bad')),
    "not_utf8.toml": (
        "line 3", ("not UTF-8", "0xe9", "save the file as UTF-8")),
    "empty.toml": (
        "top level", ("empty", "name =", "[[strategy]]")),
    # --- unknown keys, with the allowed ones ----------------------------------------------
    "unknown_top_level_key.toml": (
        "field 'horizon_months'", ("unknown key 'horizon_months'", "value 60.0",
                                   "Allowed keys at the top level: name, description, run, "
                                   "population, imaging, parameters, strategy, capacity, "
                                   "economics, published",
                                   "'horizon_months' is a key of run")),
    "unknown_key_in_run.toml": (
        "field 'run.patients'", ("unknown key 'patients'",
                                 "Allowed keys in [run]: n_patients, seed, horizon_months",
                                 "Did you mean 'n_patients'?")),
    "unknown_key_in_strategy.toml": (
        "field 'strategy[0].dose_gy' (strategy 'sabr')",
        ("unknown key 'dose_gy'", "Allowed keys in a [[strategy]] table: name, description, "
         "tki, upfront_lat, consolidative_lat, oligo_pd_lat, second_line, imaging",
         "'dose_gy' is a key of strategy[].upfront_lat")),
    "unknown_key_in_inline_table.toml": (
        "field 'strategy[0].upfront_lat.dose'",
        ("unknown key 'dose'", "value 40.0", "Allowed keys in the upfront_lat table of a "
         "strategy: mode, max_mets, max_organs, dose_gy, fractions", "'dose_gy'")),
    "unknown_key_in_subtype.toml": (
        "field 'population.subtype.exon19'",
        ("unknown key 'exon19'", "exon19del, l858r, uncommon", "Did you mean 'exon19del'?")),
    "strategy_imaging_unknown_key.toml": (
        "field 'strategy[0].imaging.late_interval'",
        ("unknown key 'late_interval'", "early_interval_weeks, switch_months, "
         "late_interval_weeks", "Did you mean 'late_interval_weeks'?")),
    "met_organ_weights_unknown_organ.toml": (
        "field 'population.met_organ_weights.kidney'",
        ("unknown key 'kidney'", "lung_met, brain, bone_spine, bone_other, liver, adrenal, "
         "distant_node, pleura")),
    "published_unknown_endpoint.toml": (
        "field 'published.tki_alone.hr'", ("unknown key 'hr'", "allowed keys: pfs, os")),
    "unknown_parameter.toml": (
        "field 'parameters.alpha_mean'",
        ("unknown parameter 'alpha_mean'", "oligosim.params.SPECS", "'alpha_mean_per_gy'")),
    # --- allowed values -------------------------------------------------------------------
    "misspelled_tki.toml": (
        "field 'strategy[0].tki' (strategy 'osi')",
        ('got the string "osimertinb"', f"one of {ALL_TNK}", "Did you mean 'osimertinib'?")),
    "bad_upfront_mode.toml": (
        "field 'strategy[0].upfront_lat.mode'",
        ('got the string "all"', "one of 'all_visible', 'thoracic', "
         "'all_visible_and_primary'")),
    "bad_strategy_name.toml": (
        "field 'strategy[0].name'",
        ('got the string "tki alone!"', "1 to 60 characters", "letters, digits, '_' and '-'")),
    # --- wrong types ----------------------------------------------------------------------
    "string_for_number.toml": (
        "field 'run.n_patients'", ('got the string "1000"', "an integer from 1 to 100000000")),
    "float_for_integer.toml": (
        "field 'population.max_mets'", ("got the float 5.0", "an integer from 0 to 15")),
    "string_for_boolean.toml": (
        "field 'population.allow_brain'", ('got the string "yes"', "true or false")),
    "second_line_not_boolean.toml": (
        "field 'strategy[0].second_line.t790m_osimertinib'",
        ("got the integer 1", "true or false")),
    "horizon_nan.toml": (
        "field 'run.horizon_months'",
        ("got the float nan", "a number greater than 0 and at most 600 (months)")),
    "parameter_not_a_number.toml": (
        "field 'parameters.alpha_mean_per_gy'",
        ('got the string "0.3"', "a number from 0.01 to 2 (1/Gy)")),
    "published_not_a_number.toml": (
        "field 'published.tki_alone.pfs'",
        ('got the string "18.9"', "a number greater than 0 and at most 600 (months)")),
    "run_as_array_of_tables.toml": (
        "field 'run'", ("got an array", "a table with keys n_patients, seed, horizon_months",
                        "Use [run] (single brackets), not [[run]]")),
    "strategy_single_brackets.toml": (
        "field 'strategy'", ("got a table", "an array of 1 to 20 [[strategy]] tables",
                             "double brackets")),
    # --- out-of-range numbers -------------------------------------------------------------
    "negative_n_patients.toml": (
        "field 'run.n_patients'", ("-5 is out of range", "an integer from 1 to 100000000")),
    "seed_too_big.toml": (
        "field 'run.seed'", ("9223372036854775808 is out of range",
                             "an integer from 0 to 9223372036854775807")),
    "seed_negative.toml": (
        "field 'run.seed'", ("-1 is out of range", "from 0 to 9223372036854775807")),
    "horizon_zero.toml": (
        "field 'run.horizon_months'",
        ("0 is out of range", "a number greater than 0 and at most 600 (months)")),
    "subtype_probability_above_one.toml": (
        "field 'population.subtype.l858r'", ("1.2 is out of range", "a number from 0 to 1")),
    "met_count_pmf_negative.toml": (
        "field 'population.met_count_pmf[2]'", ("-0.1 is out of range", "at least 0")),
    "met_count_pmf_too_long.toml": (
        "field 'population.met_count_pmf'", ("got an array", "1 to 16 entries")),
    "max_organs_zero.toml": (
        "field 'population.max_organs'", ("0 is out of range", "an integer from 1 to 8")),
    "max_mets_too_big.toml": (
        "field 'population.max_mets'", ("20 is out of range", "an integer from 0 to 15")),
    "upfront_fractions_zero.toml": (
        "field 'strategy[0].upfront_lat.fractions'",
        ("0 is out of range", "an integer from 1 to 40")),
    "upfront_dose_negative.toml": (
        "field 'strategy[0].upfront_lat.dose_gy'",
        ("-30.0 is out of range", "a number greater than 0 and at most 100 (Gy)")),
    "consolidation_time_zero.toml": (
        "field 'strategy[0].consolidative_lat.time_months'",
        ("0 is out of range", "a number greater than 0 and at most 24 (months)")),
    "oligo_pd_courses_zero.toml": (
        "field 'strategy[0].oligo_pd_lat.max_courses'",
        ("0 is out of range", "an integer from 1 to 10")),
    "imaging_interval_zero.toml": (
        "field 'imaging.early_interval_weeks'",
        ("0 is out of range", "a number greater than 0 and at most 52 (weeks)")),
    "parameter_out_of_range.toml": (
        "field 'parameters.alpha_mean_per_gy'",
        ("5.0 is out of range", "a number from 0.01 to 2 (1/Gy)")),
    # --- missing keys, empty lists --------------------------------------------------------
    "missing_scenario_name.toml": (
        "field 'name'", ("required key 'name' is missing", "a string of 1 to 80 characters")),
    "strategy_missing_name.toml": (
        "field 'strategy[0].name'", ("required key 'name' is missing", "1 to 60 characters")),
    "upfront_missing_mode.toml": (
        "field 'strategy[0].upfront_lat.mode'",
        ("required key 'mode' is missing", "one of 'all_visible', 'thoracic'")),
    "no_strategy.toml": (
        "field 'strategy'", ("no strategy is defined", "1 to 20 [[strategy]] tables")),
    "empty_strategy_list.toml": (
        "field 'strategy'", ("the strategy list is empty", "1 to 20 [[strategy]] tables")),
    # --- cross-field contradictions -------------------------------------------------------
    "subtype_not_summing_to_one.toml": (
        "field 'population.subtype'", ("0.5 + 0.3 + 0 = 0.8", "must sum to 1")),
    "met_count_pmf_all_zeros.toml": (
        "field 'population.met_count_pmf'", ("[0.0, 0.0, 0.0]", "no positive weight")),
    "eligibility_no_weight_within_max_mets.toml": (
        "field 'population.max_mets'", ("eligibility admits no patient", "0..2 metastases")),
    "eligibility_too_few_slots.toml": (
        "field 'population'", ("eligibility admits no patient", "1 × 2 = 2 metastases fit",
                               "only on 4, 5 metastases")),
    "eligibility_brain_only_but_no_brain.toml": (
        "field 'population.allow_brain'",
        ("eligibility admits no patient", "only organ with a positive weight is the brain")),
    "eligibility_almost_nobody.toml": (
        "field 'population'", ("admits almost no patient", "6e-06", "at least 0.001")),
    "upfront_dose_without_fractions.toml": (
        "field 'strategy[0].upfront_lat.fractions'",
        ("dose_gy = 30 is given without fractions", "give both or neither")),
    "upfront_dose_per_fraction_too_high.toml": (
        "field 'strategy[0].upfront_lat.dose_gy'",
        ("60 / 1 = 60 Gy per fraction", "allowed: 1 to 30 Gy per fraction")),
    "upfront_thoracic_with_limits.toml": (
        "field 'strategy[0].upfront_lat.max_mets' (strategy 'trt')",
        ("max_mets would be ignored", "mode 'thoracic'")),
    "consolidation_after_horizon.toml": (
        "field 'strategy[0].consolidative_lat.time_months' (strategy 'cons')",
        ("time_months = 12 is not before run.horizon_months = 6",)),
    "duplicate_strategy_names.toml": (
        "field 'strategy[1].name'", ("'tki_alone' is already used by strategy[0]",
                                     "must be unique")),
    "published_unknown_strategy.toml": (
        "field 'published.osimertinib'", ("names no strategy", "allowed: tki_alone")),
    # --- several problems in one file: all reported ---------------------------------------
    "multiple_errors.toml": (
        "field 'run.n_patients'", ("field 'run.horizon_months'", 'got the string "long"',
                                   "field 'strategy[0].tki'", "Did you mean 'osimertinib'?")),
}


def _check(capsys, *paths: Path | str) -> tuple[int, str, str]:
    code = main(["check", *map(str, paths)])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_bad_file_has_a_case() -> None:
    """The table and the folder agree (a new bad file needs its expected message)."""
    files = {p.name for p in BAD.glob("*.toml")}
    assert files == set(CASES), (files ^ set(CASES))
    assert len(files) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_message(capsys, name: str) -> None:
    """Exit 2; the message names the file, the field (or line/column) and the problem."""
    path = BAD / name
    field, fragments = CASES[name]
    code, out, err = _check(capsys, path)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err + out
    assert str(path) in err, err
    assert field in err, f"expected {field!r} in:\n{err}"
    for fragment in fragments:
        assert fragment in err, f"expected {fragment!r} in:\n{err}"
    assert f"{path}: ok" not in out
    # pydantic's own phrasing never leaks through
    for pydantic_phrase in ("Input should", "Value error", "validation error"):
        assert pydantic_phrase not in err


@pytest.mark.parametrize("name", sorted(CASES))
def test_load_scenario_raises_scenario_error(name: str) -> None:
    """The Python API raises ScenarioError (an input error) for the same files."""
    with pytest.raises(ScenarioError):
        load_scenario(BAD / name)


def test_every_message_line_names_the_file(capsys) -> None:
    """Each reported problem (not only the first line) starts with the file path."""
    path = BAD / "multiple_errors.toml"
    code, _, err = _check(capsys, path)
    assert code == 2
    problems = [line for line in err.splitlines() if line.strip()]
    assert len(problems) == 3, err
    assert all(line.startswith(f"{path}: field '") for line in problems), err


def test_missing_file(capsys, tmp_path: Path) -> None:
    """A missing file: exit 2, a message naming it, no traceback."""
    path = tmp_path / "does_not_exist.toml"
    code, out, err = _check(capsys, path)
    assert code == 2
    assert f"{path}: no such scenario file" in err
    assert "Traceback" not in err + out


def test_directory_instead_of_file(capsys, tmp_path: Path) -> None:
    code, _, err = _check(capsys, tmp_path)
    assert code == 2
    assert f"{tmp_path}: is a directory, not a scenario file" in err


def test_check_reports_every_file(capsys, tmp_path: Path) -> None:
    """`check` over several files prints every error of every file, and ok for good ones."""
    names = ["negative_n_patients.toml", "misspelled_tki.toml", "toml_syntax_error.toml",
             "unknown_parameter.toml"]
    missing = tmp_path / "missing.toml"
    paths = [BAD / n for n in names] + [GOOD, missing]
    code, out, err = _check(capsys, *paths)
    assert code == 2
    for n in names:
        field, fragments = CASES[n]
        assert f"{BAD / n}" in err
        assert field in err
        assert fragments[0] in err
    assert f"{missing}: no such scenario file" in err
    assert f"{GOOD}: ok" in out
    assert "Traceback" not in err


def test_good_file_exits_zero(capsys) -> None:
    code, out, err = _check(capsys, GOOD)
    assert code == 0, err
    assert f"{GOOD}: ok" in out


def test_run_with_bad_scenario_exits_two(capsys) -> None:
    """`run` on a bad file: the same message, exit 2, nothing simulated."""
    path = BAD / "unknown_key_in_run.toml"
    code = main(["run", str(path)])
    _, err = capsys.readouterr()
    assert code == 2
    assert "unknown key 'patients'" in err
    assert "Traceback" not in err


def test_every_parameter_problem_is_reported() -> None:
    """All bad parameter overrides are listed, not only the first."""
    from oligosim.scenario import parse_scenario

    override = {"alpha_mean_per_gy": 5.0, "p_female": 2.0, "nonsense": 1.0}
    with pytest.raises(ScenarioError) as info:
        parse_scenario({"name": "x", "parameters": override, "strategy": [{"name": "a"}]},
                       source="inline")
    text = str(info.value)
    for fragment in ("inline: field 'parameters.alpha_mean_per_gy'",
                     "inline: field 'parameters.p_female'", "unknown parameter 'nonsense'"):
        assert fragment in text, text
    assert len(text.splitlines()) == 3


def test_python_api_accepts_numpy_scalars_but_not_strings() -> None:
    """Strict types as in TOML; numpy scalars and tuples from Python callers are fine."""
    import numpy as np

    from oligosim.scenario import parse_scenario

    sc = parse_scenario({"name": "x", "run": {"n_patients": np.int64(50)},
                         "population": {"met_count_pmf": (0.0, np.float32(1.0))},
                         "strategy": [{"name": "a"}]})
    assert sc.run.n_patients == 50
    assert sc.population.met_count_pmf == [0.0, 1.0]
    with pytest.raises(ScenarioError, match="got the string \"50\""):
        parse_scenario({"name": "x", "run": {"n_patients": "50"}, "strategy": [{"name": "a"}]})
