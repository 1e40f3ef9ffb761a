"""Literature defaults of every model parameter, each with its unit, source and prior range.

This module is data. Every entry names its source: a TARGETS.md section (which carries the
primary citation), a DESIGN.md section, or the word ``ASSUMPTION`` followed by the reasoning
when no paper gives the number. Priors are the ranges the calibration (DESIGN.md §4) may
explore; they are wide on purpose where the evidence is weak.

The calibration issue replaces these values with fitted ones; until then they are literature
values and documented assumptions, not fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from oligosim.engine._jit import DAYS_PER_MONTH


@dataclass(frozen=True)
class Spec:
    """One scalar parameter: default, hard bounds, prior range, unit and source."""

    default: float
    lo: float
    hi: float
    unit: str
    source: str
    prior: tuple[float, float] | None = None
    log_prior: bool = False


_BOZIC = "TARGETS.md §3: Bozic et al., eLife 2013"
_NISHINO = "TARGETS.md §3: Nishino et al., Acad Radiol 2016 (regrowth 0.096/month ln-volume)"
_RES_NISHINO = 0.096  # ln-volume per month, post-nadir regrowth of resistant disease on 1G TKI
_G0 = (0.14 - 0.13) * DAYS_PER_MONTH  # Bozic birth 0.14/day - death 0.13/day
_COST_FROM_NISHINO = 1.0 - _RES_NISHINO / _G0

SCALARS: dict[str, Spec] = {
    # --- tumour kinetics (DESIGN.md §2.4-2.5) ------------------------------------------
    "birth_rate_per_month": Spec(0.14 * DAYS_PER_MONTH, 0.1, 50.0, "1/month",
                                 f"{_BOZIC}: birth rate 0.14/day"),
    "growth_untreated_per_month": Spec(_G0, 0.01, 2.0, "1/month",
                                       f"{_BOZIC}: birth 0.14/day minus death 0.13/day",
                                       prior=(0.08, 0.6), log_prior=True),
    "growth_transformed_multiplier": Spec(2.0, 1.0, 6.0, "-",
                                          "ASSUMPTION: small-cell transformation grows about "
                                          "twice as fast as adenocarcinoma (DESIGN.md §2.3 "
                                          "'faster growth'); calibrated", prior=(1.0, 4.0)),
    "growth_patient_sdlog": Spec(0.0, 0.0, 1.5, "-",
                                 "ASSUMPTION: sd of log untreated growth rate between patients "
                                 "(0 = every patient grows at g0, the model as first "
                                 "specified). Doubling times of resected NSCLC span more than "
                                 "an order of magnitude (Mackintosh, Respirology 2014;19:755 "
                                 "[NV, not in TARGETS.md]); calibrated to the OS and PFS tails "
                                 "(NROG-CN-002 60-month, FLAURA 18-month)",
                                 prior=(0.0, 1.0)),
    "tki_sensitivity_patient_sdlog": Spec(0.0, 0.0, 1.5, "-",
                                          "ASSUMPTION: sd of the log of a patient-level "
                                          "multiplier on the effect of every EGFR TKI "
                                          "(σ_subtype·exp(s·Z), median 1; 0 = every patient "
                                          "of a subtype equally sensitive, the model as first "
                                          "specified). Stands in for primary resistance and "
                                          "co-mutations that blunt TKI response across drugs "
                                          "(FLAURA ORR 80%/76% with most patients' tumours "
                                          "shrinking: TARGETS.md §1); calibrated to ORR and "
                                          "duration of response",
                                          prior=(0.0, 1.0)),
    "seeding_rate_per_cell_month": Spec(2e-11, 0.0, 1e-6, "1/(cell·month)",
                                        "ASSUMPTION: chosen so a 1e10-cell tumour seeds about "
                                        "0.2 new lesions per month before establishment; "
                                        "calibrated (DESIGN.md §2.5)",
                                        prior=(1e-13, 1e-9), log_prior=True),
    "occult_mu0": Spec(1.0, 0.0, 50.0, "lesions",
                       "ASSUMPTION: prior centre; calibrated (DESIGN.md §2.1)", prior=(0.0, 5.0)),
    "occult_mu1": Spec(0.5, 0.0, 20.0, "lesions per visible metastasis",
                       "ASSUMPTION: prior centre; calibrated (DESIGN.md §2.1)", prior=(0.0, 3.0)),
    "occult_min_cells": Spec(1e3, 1.0, 1e7, "cells", "DESIGN.md §2.1 (10^3 cells)"),
    "death_kappa_per_month": Spec(1.0, 0.0, 100.0, "1/month per 1e12 weighted cells",
                                  "TARGETS.md §3: lethal burden ~1e12 cells (hazard 1/month "
                                  "at 1e12 cells is the ASSUMPTION); calibrated",
                                  prior=(0.1, 10.0), log_prior=True),
    "death_regressing_factor": Spec(1.0, 0.0, 1.0, "-",
                                    "ASSUMPTION: multiplier on the cancer-death hazard of a "
                                    "population that is shrinking (net rate < 0; 1 = DESIGN.md "
                                    "§2.5 as written). With 1, a patient responding to a TKI "
                                    "keeps the hazard of the baseline burden until it shrinks: "
                                    "13% of FLAURA-like patients died of cancer before the "
                                    "first scan at the 2026-11-26 calibration, in both arms, "
                                    "whereas FLAURA's 18-month OS was 83%/71% (TARGETS.md §1). "
                                    "Clinically, responding disease rarely causes death; "
                                    "calibrated", prior=(0.0, 1.0)),
    # --- imaging (DESIGN.md §2.6) --------------------------------------------------------
    "cells_per_cm3": Spec(1e9, 1e7, 1e10, "cells/cm3", "TARGETS.md §3; DESIGN.md §2.6 (1e9)"),
    "measurement_sd_mm": Spec(1.5, 0.0, 10.0, "mm", "DESIGN.md §2.6 (1.5 mm)"),
    # --- radiobiology (DESIGN.md §2.8, TARGETS.md §4) -------------------------------------
    "clonogen_fraction": Spec(0.01, 1e-6, 1.0, "-",
                              "TARGETS.md §4: 1e7 clonogens/cm3 at 1e9 cells/cm3"),
    "alpha_mean_per_gy": Spec(0.32, 0.01, 2.0, "1/Gy", "TARGETS.md §4 (0.32/Gy)",
                              prior=(0.15, 0.6)),
    "alpha_sd_per_gy": Spec(0.12, 0.0, 1.0, "1/Gy", "TARGETS.md §4 (0.12/Gy)",
                            prior=(0.02, 0.3)),
    "alpha_beta_gy": Spec(10.0, 0.5, 30.0, "Gy", "TARGETS.md §4 (alpha/beta 10 Gy)"),
    "surgery_p_r0": Spec(0.9, 0.0, 1.0, "-",
                         "ASSUMPTION: R0 resection rate of metastasectomy ~90%"),
    "surgery_residual_fraction": Spec(0.01, 0.0, 1.0, "-",
                                      "ASSUMPTION: an R1/R2 resection leaves 1% of the cells"),
    # --- treatment lines (DESIGN.md §2.9) -------------------------------------------------
    "t790m_test_sensitivity": Spec(0.8, 0.0, 1.0, "-",
                                   "ASSUMPTION: combined tissue/plasma T790M testing detects "
                                   "80% of T790M-driven progressions"),
    "p_second_line": Spec(0.85, 0.0, 1.0, "-",
                          "ASSUMPTION: share fit for second-line therapy at first-line "
                          "failure; calibrated against FLAURA OS (DESIGN.md §2.9)",
                          prior=(0.5, 1.0)),
    "p_later_line": Spec(0.5, 0.0, 1.0, "-",
                         "ASSUMPTION: share receiving a third line", prior=(0.2, 0.8)),
    "platinum_induction_months": Spec(4 * 21 / DAYS_PER_MONTH, 0.0, 12.0, "months",
                                      "DESIGN.md §2.9: 4 cycles of 21 days"),
    "lat_delay_months": Spec(0.5, 0.0, 6.0, "months",
                             "ASSUMPTION: two weeks from the decision scan to the ablation"),
    "acquisition_packet_months": Spec(1.0, 0.0, 12.0, "months",
                                      "NUMERICAL (not biology): resolution of acquired-"
                                      "resistance events; 0 = one lineage per event (exact)"),
    # --- population (DESIGN.md §2.1) ------------------------------------------------------
    "primary_diameter_median_mm": Spec(35.0, 5.0, 150.0, "mm",
                                       "ASSUMPTION: median primary size of stage IV "
                                       "adenocarcinoma (T2)"),
    "primary_diameter_sdlog": Spec(0.4, 0.0, 2.0, "-", "ASSUMPTION"),
    "met_diameter_median_mm": Spec(14.0, 3.0, 100.0, "mm",
                                   "ASSUMPTION: median size of visible metastases"),
    "met_diameter_sdlog": Spec(0.5, 0.0, 2.0, "-", "ASSUMPTION"),
    "node_diameter_median_mm": Spec(18.0, 5.0, 100.0, "mm",
                                    "ASSUMPTION: median size of involved thoracic nodes"),
    "p_thoracic_node": Spec(0.7, 0.0, 1.0, "-",
                            "ASSUMPTION: most stage IV patients are node positive"),
    "age_mean_years": Spec(62.0, 18.0, 95.0, "years", "TARGETS.md §1 FLAURA (median age 64)"
                           "; ASSUMPTION: normal with sd 10, truncated to [30, 90]"),
    "age_sd_years": Spec(10.0, 0.0, 30.0, "years", "ASSUMPTION"),
    "p_female": Spec(0.63, 0.0, 1.0, "-", "FLAURA (Soria 2018): 63% female"),
}


def _gompertz_defaults() -> dict[str, Spec]:
    """Background-mortality parameters from the life-table fit (background_mortality.py)."""
    try:
        from oligosim.params.background_mortality import GOMPERTZ_FIT, SOURCE
    except ImportError:  # pragma: no cover - only while the data module is being written
        GOMPERTZ_FIT = {"male": (2.6e-5, 0.0875), "female": (1.1e-5, 0.0935)}
        SOURCE = "US life table (see background_mortality.py)"
    out = {}
    for sex in ("male", "female"):
        a, b = GOMPERTZ_FIT[sex]
        out[f"gompertz_a_{sex}_per_year"] = Spec(a, 0.0, 1.0, "1/year", SOURCE)
        out[f"gompertz_b_{sex}_per_year"] = Spec(b, 0.0, 0.5, "1/year", SOURCE)
    return out


SCALARS.update(_gompertz_defaults())

# --- clones (DESIGN.md §2.3, TARGETS.md §2-3) ---------------------------------------------
# Established-lineage rate per cell of lesion growth (DESIGN.md §2.5: Poisson(u_k N) at
# diagnosis).  Pure mutation models give ~1e-9 per base per division (Bozic), but fits to
# erlotinib trajectories need pre-existing resistant fractions of 1e-4..1e-1 (TARGETS.md §3,
# Cancer Res 2019), which under Luria-Delbrück needs u ~ 1e-6: ASSUMPTION, wide log prior.
CLONE_SCALARS: dict[str, Spec] = {
    "mutation_rate_t790m": Spec(2e-6, 0.0, 1e-2, "lineages per cell",
                                "ASSUMPTION anchored on TARGETS.md §3 (pre-existing fraction "
                                "1e-4..1e-1); calibrated to T790M ~60% after 1G (TARGETS §2)",
                                prior=(1e-8, 1e-4), log_prior=True),
    "mutation_rate_c797s": Spec(2e-7, 0.0, 1e-2, "lineages per cell",
                                "ASSUMPTION; calibrated to C797S 6% after osimertinib "
                                "(TARGETS.md §2)", prior=(1e-9, 1e-5), log_prior=True),
    "mutation_rate_bypass": Spec(5e-7, 0.0, 1e-2, "lineages per cell",
                                 "ASSUMPTION; calibrated to MET 16% after osimertinib, "
                                 "MET+HER2 ~18% after 1G (TARGETS.md §2)",
                                 prior=(1e-9, 1e-5), log_prior=True),
    "mutation_rate_transformed": Spec(1e-8, 0.0, 1e-2, "lineages per cell",
                                      "ASSUMPTION; calibrated to transformation 3% after 1G "
                                      "(TARGETS.md §2)", prior=(1e-10, 1e-5), log_prior=True),
    "fitness_cost_t790m": Spec(_COST_FROM_NISHINO, 0.0, 1.0, "-",
                               f"derived: 1 - 0.096/g0 so resistant regrowth matches {_NISHINO}",
                               prior=(0.3, 0.9)),
    "fitness_cost_c797s": Spec(_COST_FROM_NISHINO, 0.0, 1.0, "-",
                               f"ASSUMPTION: as T790M ({_NISHINO})", prior=(0.3, 0.9)),
    "fitness_cost_bypass": Spec(_COST_FROM_NISHINO, 0.0, 1.0, "-",
                                f"ASSUMPTION: as T790M ({_NISHINO})", prior=(0.3, 0.9)),
    "fitness_cost_transformed": Spec(0.5, 0.0, 1.0, "-",
                                     "ASSUMPTION: transformed cells grow on drug at half their "
                                     "untreated rate", prior=(0.0, 0.9)),
}

# --- drugs (DESIGN.md §2.4, §2.9) ---------------------------------------------------------
DRUG_SCALARS: dict[str, Spec] = {
    "kill_rate_tki_1g_per_month": Spec(0.03 * DAYS_PER_MONTH, -2.0, 10.0, "1/month",
                                       f"{_BOZIC}: net kill 0.03/day (0.01-0.07)",
                                       prior=(0.3, 2.1)),
    "kill_rate_tki_2g_per_month": Spec(0.03 * DAYS_PER_MONTH, -2.0, 10.0, "1/month",
                                       f"{_BOZIC}: as 1G (ASSUMPTION)", prior=(0.3, 2.1)),
    "kill_rate_osimertinib_per_month": Spec(0.03 * DAYS_PER_MONTH, -2.0, 10.0, "1/month",
                                            f"{_BOZIC}: as 1G (ASSUMPTION; osimertinib's edge "
                                            "comes from T790M and CNS penetration)",
                                            prior=(0.3, 2.1)),
    "kill_rate_platinum_pemetrexed_per_month": Spec(0.10, -2.0, 10.0, "1/month",
                                                    "ASSUMPTION: slow net shrinkage during "
                                                    "induction (not calibrated: only the "
                                                    "down-weighted non-EGFR CURB cohort "
                                                    "informs it)", prior=(-0.2, 0.6)),
    "kill_rate_pemetrexed_maintenance_per_month": Spec(-0.15, -2.0, 10.0, "1/month",
                                                       "ASSUMPTION: cytostatic (slows growth "
                                                       "by half)", prior=(-0.3, 0.2)),
    "kill_rate_later_line_chemo_per_month": Spec(-0.20, -2.0, 10.0, "1/month",
                                                 "ASSUMPTION: docetaxel-like, slows growth "
                                                 "by a third", prior=(-0.3, 0.2)),
    "penetration_brain_tki_1g": Spec(0.2, 0.0, 1.0, "-", "DESIGN.md §2.2 (~0.2)",
                                     prior=(0.05, 0.5)),
    "penetration_brain_tki_2g": Spec(0.2, 0.0, 1.0, "-", "DESIGN.md §2.2 (as 1G: ASSUMPTION)"),
    "penetration_brain_osimertinib": Spec(0.8, 0.0, 1.0, "-", "DESIGN.md §2.2 (~0.8)",
                                          prior=(0.5, 1.0)),
    "penetration_brain_chemo": Spec(0.3, 0.0, 1.0, "-",
                                    "ASSUMPTION: limited CNS penetration of chemotherapy"),
    "sensitivity_l858r": Spec(0.85, 0.0, 1.5, "-",
                              "ASSUMPTION: L858R responds less than exon19del (FLAURA "
                              "subgroups); calibrated", prior=(0.6, 1.0)),
    "sensitivity_uncommon": Spec(0.5, 0.0, 1.5, "-",
                                 "ASSUMPTION: uncommon mutations respond less"),
}

# Drug-sensitivity matrix (DESIGN.md §2.3 table): 1 = killed, 0 = resistant. Rows: DRUGS.
# Columns: sensitive, T790M, C797S, bypass, transformed.
SENSITIVITY = {
    "none": (0, 0, 0, 0, 0),
    "tki_1g": (1, 0, 1, 0, 0),
    "tki_2g": (1, 0, 1, 0, 0),
    "osimertinib": (1, 1, 0, 0, 0),
    "platinum_pemetrexed": (1, 1, 1, 1, 1),
    "pemetrexed_maintenance": (1, 1, 1, 1, 1),
    "later_line_chemo": (1, 1, 1, 1, 1),
}

# --- organs (DESIGN.md §2.2, §2.8; TARGETS.md §4) -----------------------------------------
# Columns follow ORGAN_FIELDS in engine/_jit.py.  Sources per column:
#   detection_mm: DESIGN §2.6 (CT 5 mm; brain MRI 3 mm); measurable_mm: RECIST 1.1
#   (Eisenhauer 2009: 10 mm, nodes 15 mm; pleural effusion never measurable);
#   modality/dose/fractions: DESIGN §2.8 defaults; p_tox_g3: TARGETS §4 (lung 2.6-13% -> 5%,
#   liver 3.9%, thoracic conventional RT oesophagitis 6.8% NROG-CN-002; others ASSUMPTION);
#   p_tox_g5: ASSUMPTION, below SABR-COMET's 4.5% per patient upper bound (TARGETS §4);
#   death_weight, tropism, met_weight: ASSUMPTION (relative; calibrated).
#   alpha_multiplier: 1 except spine 1-2 fraction SBRT, which the LQ model under-predicts
#   (TARGETS §4): ASSUMPTION 1.25, refitted to 2-y spine LC 83.9% by the calibration.
#   Brain, liver, non-spine bone and adrenal keep the ASSUMPTION 1 here (literature set);
#   the calibration fits each to its site's local-control series (calibration/free.py).
INF = float("inf")
ORGAN_DEFAULTS = {
    #                detect meas  abl  deathw  modality          dose  fx  amult tox3   tox5   trop  metw
    "lung_primary":  (5.0, 10.0, 1.0, 1.0, "sbrt",            54.0, 3,  1.0,  0.05,  0.004, 0.00, 0.00),
    "thoracic_node": (5.0, 15.0, 1.0, 1.0, "conventional_rt", 60.0, 30, 1.0,  0.068, 0.002, 0.05, 0.00),
    "lung_met":      (5.0, 10.0, 1.0, 1.0, "sbrt",            54.0, 3,  1.0,  0.05,  0.004, 0.22, 0.22),
    "brain":         (3.0, 10.0, 1.0, 3.0, "srs",             24.0, 1,  1.0,  0.05,  0.002, 0.18, 0.18),
    "bone_spine":    (5.0, 10.0, 1.0, 0.5, "sbrt",            24.0, 2,  1.25, 0.05,  0.002, 0.14, 0.14),
    "bone_other":    (5.0, 10.0, 1.0, 0.5, "sbrt",            30.0, 3,  1.0,  0.02,  0.001, 0.14, 0.14),
    "liver":         (5.0, 10.0, 1.0, 2.0, "sbrt",            45.0, 3,  1.0,  0.039, 0.004, 0.10, 0.10),
    "adrenal":       (5.0, 10.0, 1.0, 1.0, "sbrt",            40.0, 5,  1.0,  0.02,  0.002, 0.08, 0.08),
    "distant_node":  (5.0, 15.0, 1.0, 0.5, "sbrt",            40.0, 5,  1.0,  0.02,  0.001, 0.05, 0.05),
    "pleura":        (5.0, INF,  0.0, 1.0, "sbrt",            0.0,  1,  1.0,  0.0,   0.0,   0.04, 0.05),
}
