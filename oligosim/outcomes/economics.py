"""Price the engines' resource-use accumulators into costs, QALYs and life-years (§2.12).

The engines accumulate, per patient, time in each state and counts of events, undiscounted
and continuously discounted at the cost and effect rates (``engine.layout.ACC_COLUMNS``).
Costs and QALYs are linear in those quantities, so pricing is a matrix product and a PSA
over costs and utilities needs no re-simulation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oligosim.engine import layout as L
from oligosim.scenario.economics import Economics

MONTHS_PER_YEAR = 12.0
_DRUG_KEYS = ("best_supportive_care", "tki_1g", "tki_2g", "osimertinib",
              "platinum_pemetrexed", "pemetrexed_maintenance", "later_line_chemo")
_LAT_KEYS = ("sbrt", "srs", "conventional_rt", "surgery")


def cost_weights(econ: Economics) -> np.ndarray:
    """Cost per unit of each accumulator quantity (N_ACC_Q,), in the scenario currency."""
    c = econ.costs
    w = np.zeros(L.N_ACC_Q)
    drugs = c.drug_prices()  # tki_1g from the gefitinib/erlotinib mix when one is given
    for j, key in enumerate(_DRUG_KEYS):
        w[L.AQ_DRUG0 + j] = drugs[key]
    w[L.AQ_SCAN] = c.scan
    for j, key in enumerate(_LAT_KEYS):
        w[L.AQ_LAT0 + j] = getattr(c.lat_course, key)
    w[L.AQ_TOX] = c.grade3_event
    w[L.AQ_DEATH] = c.end_of_life
    return w


def qaly_weights(econ: Economics) -> np.ndarray:
    """QALYs per unit of each accumulator quantity (N_ACC_Q,)."""
    u = econ.utilities
    w = np.zeros(L.N_ACC_Q)
    w[L.AQ_PF] = u.progression_free / MONTHS_PER_YEAR
    w[L.AQ_PP] = u.post_progression / MONTHS_PER_YEAR
    w[L.AQ_TOX] = -u.grade3_qaly_loss
    return w


def ly_weights() -> np.ndarray:
    """Life-years per unit of each accumulator quantity (N_ACC_Q,)."""
    w = np.zeros(L.N_ACC_Q)
    w[L.AQ_PF] = w[L.AQ_PP] = 1.0 / MONTHS_PER_YEAR
    return w


def price(acc: np.ndarray, econ: Economics) -> pd.DataFrame:
    """Per-patient economics from accumulators ``acc`` (n, N_ACC).

    Returns columns ``cost_usd, qaly, ly`` (discounted: costs at the cost rate, QALYs and
    LYs at the effect rate) and ``cost_usd_undiscounted, qaly_undiscounted,
    ly_undiscounted``.
    """
    q = L.N_ACC_Q
    undisc, disc_c, disc_e = acc[:, :q], acc[:, q:2 * q], acc[:, 2 * q:]
    wc, wq, wl = cost_weights(econ), qaly_weights(econ), ly_weights()
    return pd.DataFrame({
        "cost_usd": disc_c @ wc,
        "qaly": disc_e @ wq,
        "ly": disc_e @ wl,
        "cost_usd_undiscounted": undisc @ wc,
        "qaly_undiscounted": undisc @ wq,
        "ly_undiscounted": undisc @ wl,
    })
