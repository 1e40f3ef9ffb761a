"""Background (non-cancer) mortality: a Gompertz hazard fitted to the US 2019 life table.

DESIGN requires h_bg to be Gompertz with parameters fitted to a national life table. The
hazard at exact age x (years) is

    h(x) = a * exp(b * x)        [per year]

and the engine uses ``h(x) / 12`` per month (:func:`gompertz_hazard_per_month`).

Data
----
``oligosim/data/us_life_table_2019.csv`` holds the published single-year probabilities of
dying q(x), ages 40-95, of Arias E, Xu J, *United States Life Tables, 2019*, National Vital
Statistics Reports 70(19), NCHS 2022, Tables 1-3 (total, male, female). Its comment block
says where each column was read and how it was checked (see :data:`SOURCE`).

Fit
---
For each age x the table's interval hazard is mu(x) = -ln(1 - q(x)) per year: the mean of h
over [x, x+1), i.e. the cumulative hazard of that year. Under Gompertz that mean is exactly
a * exp(b x) * (e^b - 1) / b, so ln mu(x) = alpha + b x with a = e^alpha * b / (e^b - 1): a
straight line in x, fitted by weighted linear least squares (``scipy.linalg.lstsq``) over
ages 40-95, then mapped back to ``a``. No mid-interval approximation is made.

Weights are the life-table deaths d(x) = l(x) q(x) of a cohort entering at age 40
(l(40) = 1, l(x+1) = l(x)(1 - q(x))). With Poisson deaths the variance of ln mu(x) is
1/deaths, so these are the inverse-variance weights of a stationary population; in practice
they make the fit most accurate at the ages where background deaths actually happen, which
is what a competing risk needs. (Unweighted fitting lowers the worst relative error below
age 50 but worsens survival: e.g. females 80 -> 95 off by 0.048 instead of 0.017.)

Accuracy (measured against the table, ages 40-95; ``relative error`` is
Gompertz interval hazard / mu(x) - 1):

==========  ===========================  ===========================  ================
sex         max |rel. error| 40-95        max |rel. error| 45-90        e(65) fit / table
==========  ===========================  ===========================  ================
total       0.359 (age 40, fit too low)   0.241 (age 45)                19.08 / 19.6 y
male        0.325 (age 40, fit too low)   0.193 (age 45)                17.69 / 18.2 y
female      0.413 (age 40, fit too low)   0.317 (age 45)                20.32 / 20.8 y
==========  ===========================  ===========================  ================

The misfit is the shape of US mortality, not noise: ln mu(x) is not a straight line but
curves upward (flatter in midlife, where deaths from external causes and other causes that
rise slowly with age weigh more; steeper past 85). So the line lies below the table at 40-60
(-0.41 to -0.09), above it at 65-85 (up to +0.19) and below again from 90 (-0.08 to -0.17
at 90-95). Relative errors are largest where hazards are smallest (table mu of 0.0014-0.0032
per year at ages 40-44). The overshoot at 65-85, where most background deaths fall, is
why the fitted e(65) is about 0.5 year short of the table's. In survival terms the fit is
within 0.04 of the table's 5-, 10- and 15-year survival from ages 50, 60, 70 and 80 for
either sex.

Valid range: ages 40-95 (the fitted range). Outside it the formula still evaluates, but it
is an extrapolation: below 40 it ignores the young-adult accident hump, and above 95 (where
it already runs 13-17% below the table) nothing checks it.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io

import numpy as np

from oligosim.errors import ParameterError

__all__ = [
    "FIT_AGE_MAX_YEARS",
    "FIT_AGE_MIN_YEARS",
    "GOMPERTZ_FIT",
    "SEXES",
    "SOURCE",
    "fit_gompertz",
    "gompertz_hazard_per_month",
    "gompertz_hazard_per_year",
    "gompertz_interval_hazard_per_year",
    "gompertz_life_expectancy_years",
    "life_table_qx",
    "table_hazard_per_year",
    "table_life_expectancy_65_years",
]

SOURCE = (
    "Arias E, Xu J. United States Life Tables, 2019. National Vital Statistics Reports; "
    "vol 70 no 19. Hyattsville, MD: National Center for Health Statistics; 2022. "
    "doi:10.15620/cdc:113096. Tables 1-3 (total, male, female), column q(x), ages 40-95."
)

SEXES: tuple[str, ...] = ("total", "male", "female")
FIT_AGE_MIN_YEARS = 40
FIT_AGE_MAX_YEARS = 95
MONTHS_PER_YEAR = 12.0

_DATA_FILE = "us_life_table_2019.csv"
_E65_PREFIX = "# e65_years:"

# (a_per_year, b_per_year) written out from fit_gompertz(); a test checks they equal a refit
# from the CSV to 1e-6 relative. Regenerate with:
#   python -c "from oligosim.params.background_mortality import fit_gompertz as f; \
#              print({s: f(s) for s in ('total', 'male', 'female')})"
GOMPERTZ_FIT: dict[str, tuple[float, float]] = {
    "total": (2.902659749130087e-05, 0.0934074760104447),
    "male": (4.548723961266038e-05, 0.089905775350175),
    "female": (1.4205994782550981e-05, 0.10042970133183593),
}


def _check_sex(sex: str) -> str:
    if sex not in SEXES:
        raise ParameterError("unknown sex for background mortality", field="sex", value=sex,
                             allowed=", ".join(SEXES))
    return sex


@functools.cache
def _read_table() -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Parse the packaged CSV once: columns by name, and the e(65) values of its comment."""
    text = (importlib.resources.files("oligosim") / "data" / _DATA_FILE).read_text("utf-8")
    data_lines: list[str] = []
    e65: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(_E65_PREFIX):
            for item in line[len(_E65_PREFIX):].split():
                key, value = item.split("=")
                e65[key] = float(value)
        elif line.strip() and not line.startswith("#"):
            data_lines.append(line)
    rows = list(csv.DictReader(io.StringIO("\n".join(data_lines))))
    columns = {name: np.array([float(r[name]) for r in rows]) for name in rows[0]}
    return columns, e65


def life_table_qx(sex: str) -> tuple[np.ndarray, np.ndarray]:
    """Ages (years) and published q(x) for ``sex``, ages 40-95, copies of the table."""
    columns, _ = _read_table()
    return columns["age_years"].copy(), columns[f"q_{_check_sex(sex)}"].copy()


def table_hazard_per_year(sex: str) -> tuple[np.ndarray, np.ndarray]:
    """Ages and the table's interval hazard mu(x) = -ln(1 - q(x)) per year over [x, x+1)."""
    ages, q = life_table_qx(sex)
    return ages, -np.log1p(-q)


def table_life_expectancy_65_years(sex: str) -> float:
    """The published e(65) for ``sex`` (years), read from the CSV's comment block."""
    _, e65 = _read_table()
    return e65[_check_sex(sex)]


def fit_gompertz(sex: str) -> tuple[float, float]:
    """Refit (a_per_year, b_per_year) to the CSV; see the module docstring for the method."""
    ages, mu = table_hazard_per_year(sex)
    _, q = life_table_qx(sex)
    in_range = (ages >= FIT_AGE_MIN_YEARS) & (ages <= FIT_AGE_MAX_YEARS)
    ages, mu, q = ages[in_range], mu[in_range], q[in_range]
    survivors = np.concatenate(([1.0], np.cumprod(1.0 - q)[:-1]))  # l(x), l(40) = 1
    sqrt_w = np.sqrt(survivors * q)                                  # sqrt of deaths d(x)
    design = np.column_stack((np.ones_like(ages), ages)) * sqrt_w[:, None]
    import scipy.linalg  # imported here: scipy costs ~0.3 s of `import oligosim` (P7)

    (alpha, b), *_ = scipy.linalg.lstsq(design, np.log(mu) * sqrt_w)
    a = float(np.exp(alpha) * b / np.expm1(b))
    return a, float(b)


def gompertz_hazard_per_year(age_years: float | np.ndarray, sex: str) -> float | np.ndarray:
    """Instantaneous background hazard a * exp(b * age) per year at exact age (years)."""
    a_per_year, b_per_year = GOMPERTZ_FIT[_check_sex(sex)]
    return a_per_year * np.exp(b_per_year * np.asarray(age_years, dtype=float))


def gompertz_hazard_per_month(age_years: float | np.ndarray, sex: str) -> float | np.ndarray:
    """Instantaneous background hazard per month at exact age ``age_years`` (years)."""
    return gompertz_hazard_per_year(age_years, sex) / MONTHS_PER_YEAR


def gompertz_interval_hazard_per_year(age_years: float | np.ndarray,
                                      sex: str) -> float | np.ndarray:
    """Mean Gompertz hazard over [age, age+1) per year: the model's counterpart of mu(x)."""
    _, b_per_year = GOMPERTZ_FIT[_check_sex(sex)]
    return gompertz_hazard_per_year(age_years, sex) * np.expm1(b_per_year) / b_per_year


def gompertz_life_expectancy_years(age_years: float, sex: str) -> float:
    """Remaining life expectancy at exact age under the fit alone (no cancer), in years.

    Closed form: with c = h(age) / b, e(age) = exp(c) * E1(c) / b, E1 the exponential
    integral; it integrates the Gompertz survival curve to infinity, i.e. extrapolates past 95.
    """
    _, b_per_year = GOMPERTZ_FIT[_check_sex(sex)]
    c = float(gompertz_hazard_per_year(age_years, sex)) / b_per_year
    import scipy.special

    return float(np.exp(c) * scipy.special.exp1(c) / b_per_year)
