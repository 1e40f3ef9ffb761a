"""Layer 0: numba options, dtypes and the fixed enumerations shared by every layer.

Everything the kernels and the Python layers must agree on numerically lives here: the
organ, clone, drug, line and event codes, the random-stream purposes, and the JIT flags.
Nothing here imports from the rest of the package (DESIGN.md §6).
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------
# JIT settings (one place, STYLE.md §2).  ``cache=True`` keeps the warm start under the
# DESIGN.md §7 P7 budget; ``fastmath`` stays off because the engines must agree to 1e-9
# months and reordered floating-point sums would break bit-for-bit reproducibility.
# ---------------------------------------------------------------------------------------
# Threading layer: numba's own "workqueue" rather than OpenMP. With libgomp an interpreter
# that also ran pyarrow's thread pools aborted at exit now and then ("terminate called
# without an active exception"); the kernel runs one coarse chunk per task, so workqueue
# costs nothing here, and results never depend on the layer (DESIGN.md §2.13).
import numba
import numpy as np

numba.config.THREADING_LAYER = "workqueue"


def _invalidate_stale_kernel_cache() -> None:
    """Drop numba's on-disk cache of the engine when any engine source file changed.

    numba keys a cached function on its own file only, but callees from other modules are
    compiled into it: after an edit to, say, ``rng.py`` a cached kernel would silently keep
    the old generator. A digest of every engine source guards against that.
    """
    import hashlib
    from pathlib import Path

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(here.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    stamp = digest.hexdigest()
    cache_root = Path(numba.config.CACHE_DIR) if numba.config.CACHE_DIR else here / "__pycache__"
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        marker = cache_root / "oligosim-engine.sha256"
        if marker.exists() and marker.read_text() == stamp:
            return
        for pattern in ("*.nbi", "*.nbc"):
            for f in cache_root.rglob(pattern):
                if "engine" in f.parts or f.parent == cache_root:
                    f.unlink(missing_ok=True)
        marker.write_text(stamp)
    except OSError:  # read-only install: numba then compiles in memory anyway
        pass


_invalidate_stale_kernel_cache()

JIT = {"cache": True, "fastmath": False, "nogil": True}
JIT_PARALLEL = {**JIT, "parallel": True}

FLOAT = np.float64
INT = np.int64
UINT = np.uint64

# ---------------------------------------------------------------------------------------
# Units (DESIGN.md §2): time in months, 1 month = 30.4375 days.
# ---------------------------------------------------------------------------------------
DAYS_PER_MONTH = 30.4375
MONTHS_PER_YEAR = 12.0

# ---------------------------------------------------------------------------------------
# Organs (DESIGN.md §2.2).  The order is part of the contract: arrays indexed by organ.
# ---------------------------------------------------------------------------------------
ORGANS = (
    "lung_primary",
    "thoracic_node",
    "lung_met",
    "brain",
    "bone_spine",
    "bone_other",
    "liver",
    "adrenal",
    "distant_node",
    "pleura",
)
N_ORGANS = len(ORGANS)
ORGAN_INDEX = {name: i for i, name in enumerate(ORGANS)}
LUNG_PRIMARY, THORACIC_NODE, LUNG_MET, BRAIN, BONE_SPINE, BONE_OTHER, LIVER, ADRENAL, \
    DISTANT_NODE, PLEURA = range(N_ORGANS)

# ---------------------------------------------------------------------------------------
# Clone types (DESIGN.md §2.3).
# ---------------------------------------------------------------------------------------
CLONES = ("sensitive", "t790m", "c797s", "bypass", "transformed")
N_CLONES = len(CLONES)
CLONE_S, CLONE_T790M, CLONE_C797S, CLONE_BYPASS, CLONE_TRANSFORMED = range(N_CLONES)

# ---------------------------------------------------------------------------------------
# Drugs / regimens (DESIGN.md §2.9).  DRUG_NONE is "off treatment" (best supportive care,
# drug holidays): every clone grows at its untreated rate.
# ---------------------------------------------------------------------------------------
DRUGS = (
    "none",
    "tki_1g",            # gefitinib / erlotinib / icotinib
    "tki_2g",            # afatinib
    "osimertinib",
    "platinum_pemetrexed",
    "pemetrexed_maintenance",
    "later_line_chemo",  # docetaxel-like third line
)
N_DRUGS = len(DRUGS)
DRUG_NONE, DRUG_TKI1G, DRUG_TKI2G, DRUG_OSI, DRUG_PLATINUM, DRUG_PEM_MAINT, DRUG_LATER = \
    range(N_DRUGS)
EGFR_TKIS = (DRUG_TKI1G, DRUG_TKI2G, DRUG_OSI)
"""The EGFR tyrosine-kinase inhibitors: the drugs the EGFR subtype and the patient's
EGFR-TKI sensitivity multiplier act on (DESIGN.md §2.4 σ_subtype)."""
FIRST_LINE_TKIS = {"gefitinib": DRUG_TKI1G, "erlotinib": DRUG_TKI1G, "icotinib": DRUG_TKI1G,
                   "tki_1g": DRUG_TKI1G, "afatinib": DRUG_TKI2G, "tki_2g": DRUG_TKI2G,
                   "osimertinib": DRUG_OSI}

# EGFR subtypes (DESIGN.md §2.1)
SUBTYPES = ("exon19del", "l858r", "uncommon")
N_SUBTYPES = len(SUBTYPES)

# Treatment lines recorded in traces (DESIGN.md §2.9)
LINES = ("first_line_tki", "second_line", "later_line", "best_supportive_care")
LINE_FIRST, LINE_SECOND, LINE_LATER, LINE_BSC = range(len(LINES))

# LAT modalities (DESIGN.md §2.8)
MODALITIES = ("sbrt", "srs", "conventional_rt", "surgery")
MOD_SBRT, MOD_SRS, MOD_CONV, MOD_SURGERY = range(len(MODALITIES))

# Death causes and RECIST responses (DESIGN.md §2.11)
DEATH_CAUSES = ("alive", "cancer", "background", "treatment")
CAUSE_ALIVE, CAUSE_CANCER, CAUSE_BACKGROUND, CAUSE_TREATMENT = range(4)
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
RESP_CR, RESP_PR, RESP_SD, RESP_PD, RESP_NE = range(5)
PD_PATTERNS = ("none", "existing_only", "new_only", "both")
PAT_NONE, PAT_EXISTING, PAT_NEW, PAT_BOTH = range(4)

# ---------------------------------------------------------------------------------------
# Random-stream purposes (DESIGN.md §2.13).  Each purpose is its own Philox key; a
# substream index (lesion slot, clock, course) goes in the counter.  Never reuse a code.
# ---------------------------------------------------------------------------------------
STREAM_PURPOSES = (
    "baseline",         # age, sex, subtype, metastasis count/organs, lesion sizes
    "occult",           # occult micrometastases: count, organs, sizes
    "preexisting",      # Luria-Delbrück pre-existing resistance, substream = lesion slot
    "clock",            # unit exponentials and marks of lesion-clone event clocks
    "background_death", # Gompertz background death
    "radiosensitivity", # per-lesion alpha, substream = lesion slot
    "lat_kill",         # surviving clonogens after a course, substream = lesion slot
    "toxicity",         # grade >=3 and grade 5 toxicity, substream = course number
    "measurement",      # RECIST measurement error, substream = lesion slot
    "testing",          # T790M tissue/plasma test
)
(PURPOSE_BASELINE, PURPOSE_OCCULT, PURPOSE_PREEXISTING, PURPOSE_CLOCK, PURPOSE_DEATH,
 PURPOSE_RADIO, PURPOSE_LATKILL, PURPOSE_TOX, PURPOSE_MEASURE, PURPOSE_TEST) = \
    range(len(STREAM_PURPOSES))
N_PURPOSES = len(STREAM_PURPOSES)

# ---------------------------------------------------------------------------------------
# Layout of the flat arrays the kernels read.  The parameter layer fills them by name;
# the kernels index them with the integer constants below.  Names carry units.
# ---------------------------------------------------------------------------------------
SCALAR_PARAMS = (
    "birth_rate_per_month",
    "growth_untreated_per_month",
    "growth_transformed_multiplier",
    "growth_patient_sdlog",
    "seeding_rate_per_cell_month",
    "occult_mu0",
    "occult_mu1",
    "occult_min_cells",
    "death_kappa_per_month",
    "death_regressing_factor",
    "cells_per_cm3",
    "measurement_sd_mm",
    "clonogen_fraction",
    "alpha_mean_per_gy",
    "alpha_sd_per_gy",
    "alpha_beta_gy",
    "surgery_p_r0",
    "surgery_residual_fraction",
    "t790m_test_sensitivity",
    "p_second_line",
    "p_later_line",
    "platinum_induction_months",
    "lat_delay_months",
    "acquisition_packet_months",
    "primary_diameter_median_mm",
    "primary_diameter_sdlog",
    "met_diameter_median_mm",
    "met_diameter_sdlog",
    "node_diameter_median_mm",
    "p_thoracic_node",
    "age_mean_years",
    "age_sd_years",
    "p_female",
    "gompertz_a_male_per_year",
    "gompertz_b_male_per_year",
    "gompertz_a_female_per_year",
    "gompertz_b_female_per_year",
    "tki_sensitivity_patient_sdlog",
)
P = {name: i for i, name in enumerate(SCALAR_PARAMS)}
N_SCALAR_PARAMS = len(SCALAR_PARAMS)
(P_BIRTH, P_G0, P_G_TRANSFORMED, P_G_SDLOG, P_NU, P_MU0, P_MU1, P_OCC_MIN, P_KAPPA,
 P_KAPPA_REGRESSING, P_RHO, P_MEAS_SD, P_CLONOGEN, P_ALPHA_MEAN, P_ALPHA_SD, P_AB, P_SURG_R0,
 P_SURG_RESID, P_T790M_SENS, P_SECOND_LINE, P_LATER_LINE, P_PLATINUM_MONTHS, P_LAT_DELAY,
 P_PACKET, P_PRIM_MED, P_PRIM_SD, P_MET_MED, P_MET_SD, P_NODE_MED, P_NODE_P, P_AGE_MEAN,
 P_AGE_SD, P_FEMALE, P_GOMP_A_M, P_GOMP_B_M, P_GOMP_A_F, P_GOMP_B_F, P_TKI_SDLOG) = \
    range(N_SCALAR_PARAMS)

# Per-organ properties: organ_table[organ, field]
ORGAN_FIELDS = (
    "detection_mm",        # imaging detection threshold
    "measurable_mm",       # RECIST measurability (10 mm; nodes 15 mm; inf = never)
    "ablatable",           # 1/0
    "death_weight",        # weight of this organ's cells in the cancer death hazard
    "modality",            # default LAT modality code (MODALITIES)
    "dose_gy",             # default total dose
    "fractions",           # default number of fractions
    "alpha_multiplier",    # site adjustment of alpha (1-2 fraction spine: DESIGN §2.8)
    "p_tox_g3",            # P(grade >=3 toxicity) per lesion course
    "p_tox_g5",            # P(grade 5 toxicity) per lesion course
    "tropism",             # relative weight for new metastases and occult lesions
    "met_weight",          # relative weight of this organ for baseline metastases
)
(O_DETECT, O_MEASURABLE, O_ABLATABLE, O_DEATH_W, O_MODALITY, O_DOSE, O_FRACTIONS, O_ALPHA_MULT,
 O_TOX3, O_TOX5, O_TROPISM, O_MET_WEIGHT) = range(len(ORGAN_FIELDS))
N_ORGAN_FIELDS = len(ORGAN_FIELDS)

# Strategy policy record (DESIGN.md §2.10): policy[field]
POLICY_FIELDS = (
    "tki",                          # first-line drug code (DRUGS)
    "upfront_mode",                 # UPFRONT_* below
    "upfront_max_mets",             # eligibility for upfront LAT
    "upfront_max_organs",
    "upfront_dose_gy",              # 0 = organ default
    "upfront_fractions",
    "consolidation",                # 1/0
    "consolidation_time_months",
    "consolidation_max_lesions",    # visible lesions incl. primary
    "oligo_pd",                     # 1/0
    "oligo_pd_max_lesions",
    "oligo_pd_max_courses",
    "oligo_pd_continue_tki",        # 1/0
    "t790m_osimertinib",            # 1/0 second-line osimertinib for T790M after 1G/2G
    "scan_interval_early_months",
    "scan_switch_months",
    "scan_interval_late_months",
    "horizon_months",
)
(POL_TKI, POL_UPFRONT, POL_UP_MAX_METS, POL_UP_MAX_ORGANS, POL_UP_DOSE, POL_UP_FX, POL_CONS,
 POL_CONS_TIME, POL_CONS_MAX, POL_OPD, POL_OPD_MAX, POL_OPD_COURSES, POL_OPD_CONT,
 POL_T790M_OSI, POL_SCAN1, POL_SCAN_SWITCH, POL_SCAN2, POL_HORIZON) = range(len(POLICY_FIELDS))
N_POLICY_FIELDS = len(POLICY_FIELDS)
UPFRONT_MODES = ("none", "all_visible", "thoracic", "all_visible_and_primary")
UPFRONT_NONE, UPFRONT_ALL, UPFRONT_THORACIC, UPFRONT_ALL_AND_PRIMARY = range(4)

# Population record: eligibility and metastasis-count distribution (DESIGN.md §2.1)
MAX_METS_SUPPORTED = 15
POPULATION_FIELDS = (
    "max_mets", "max_per_organ", "max_organs", "allow_brain",
    "p_exon19del", "p_l858r", "p_uncommon",
)
(POP_MAX_METS, POP_MAX_PER_ORGAN, POP_MAX_ORGANS, POP_ALLOW_BRAIN, POP_P_EX19, POP_P_L858R,
 POP_P_UNCOMMON) = range(len(POPULATION_FIELDS))
N_POPULATION_FIELDS = len(POPULATION_FIELDS)

# Fixed capacities (DESIGN.md §3): overflow is an error naming the capacity, never truncation.
MAX_LESIONS = 256
TRACE_MAX_EVENTS = 400
TRACE_MAX_SCANS = 120
