"""RECIST 1.1 rules of oligosim.engine.recist on hand-built lesion tables (DESIGN.md §2.6)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oligosim.engine import recist
from oligosim.engine._jit import (
    ADRENAL,
    BONE_OTHER,
    BRAIN,
    DISTANT_NODE,
    LIVER,
    LUNG_MET,
    LUNG_PRIMARY,
    MAX_LESIONS,
    O_MEASURABLE,
    PLEURA,
    RESP_CR,
    RESP_PD,
    RESP_PR,
    RESP_SD,
    THORACIC_NODE,
)
from oligosim.engine.layout import (
    LF_ALIVE,
    LF_NADIR,
    LF_NONTARGET,
    LF_ORGAN,
    LF_REF_VIS,
    LF_TARGET,
    N_LF,
)
from oligosim.params import default_parameters

ORG = default_parameters().to_arrays().organ
NT_FACTOR = 2.0 ** (1.0 / 3.0)


def _lesions(organs, *, ref=True, nadirs=None, targets=(), nontargets=()):
    """Lesion table shaped like the kernel's: alive lesions in ``organs``, others empty."""
    lesion = np.zeros((MAX_LESIONS, N_LF))
    lesion[:, LF_NADIR] = math.inf
    for l, o in enumerate(organs):
        lesion[l, LF_ORGAN] = o
        lesion[l, LF_ALIVE] = 1.0
        lesion[l, LF_REF_VIS] = 1.0 if ref else 0.0
        if nadirs is not None:
            lesion[l, LF_NADIR] = nadirs[l]
    for l in targets:
        lesion[l, LF_TARGET] = 1.0
    for l in nontargets:
        lesion[l, LF_NONTARGET] = 1.0
    return lesion


def _meas(values):
    """Measured diameters (mm) padded to MAX_LESIONS (0 = not seen)."""
    meas = np.zeros(MAX_LESIONS)
    meas[: len(values)] = values
    return meas


def _nles(lesion):
    """Number of used lesion slots (any field but the nadir set)."""
    used = np.any(np.delete(lesion, LF_NADIR, axis=1) != 0.0, axis=1)
    return int(np.nonzero(used)[0].max()) + 1


def _evaluate(lesion, meas, sod_nadir, base_sod):
    """Run recist.evaluate over the used slots; return (sod, resp, new, n_prog, prog)."""
    nles = _nles(lesion)
    prog = np.full(MAX_LESIONS, -1.0)
    sod, resp, new, n_prog = recist.evaluate(lesion, nles, meas, ORG, sod_nadir, base_sod, prog)
    return sod, resp, new, n_prog, prog[:nles]


def _targets(lesion, n):
    return [l for l in range(n) if lesion[l, LF_TARGET] > 0.5]


def _nontargets(lesion, n):
    return [l for l in range(n) if lesion[l, LF_NONTARGET] > 0.5]


# ---------------------------------------------------------------------------------------
# organ table assumptions the RECIST rules rely on
# ---------------------------------------------------------------------------------------
def test_organ_table_measurability_thresholds():
    """Measurable: 10 mm, nodes 15 mm, pleura never (DESIGN §2.2, §2.6)."""
    for o in (LUNG_PRIMARY, LUNG_MET, BRAIN, LIVER, ADRENAL, BONE_OTHER):
        assert ORG[o, O_MEASURABLE] == 10.0
    assert ORG[THORACIC_NODE, O_MEASURABLE] == 15.0
    assert ORG[DISTANT_NODE, O_MEASURABLE] == 15.0
    assert math.isinf(ORG[PLEURA, O_MEASURABLE])


def test_recist_organ_groups_lung_and_nodes():
    """RECIST organ: lung primary/metastases are one organ, thoracic/distant nodes another."""
    assert recist.recist_organ(LUNG_MET) == recist.recist_organ(LUNG_PRIMARY)
    assert recist.recist_organ(DISTANT_NODE) == recist.recist_organ(THORACIC_NODE)
    others = [LUNG_PRIMARY, THORACIC_NODE, BRAIN, BONE_OTHER, LIVER, ADRENAL, PLEURA]
    assert len({recist.recist_organ(o) for o in others}) == len(others)


# ---------------------------------------------------------------------------------------
# baseline target selection
# ---------------------------------------------------------------------------------------
def test_select_targets_at_most_five_largest_first_two_per_organ():
    """Five targets, largest measurable first, at most two per organ; the rest non-target."""
    organs = [LIVER, LIVER, LIVER, ADRENAL, ADRENAL, ADRENAL, BONE_OTHER, BRAIN, BRAIN]
    sizes = [50.0, 45.0, 44.0, 40.0, 35.0, 30.0, 20.0, 19.0, 18.0]
    lesion = _lesions(organs)
    base = recist.select_targets(lesion, len(organs), _meas(sizes), ORG)
    # liver 50, 45 (third liver 44 capped), adrenal 40, 35 (30 capped), bone 20; brain left out
    assert _targets(lesion, len(organs)) == [0, 1, 3, 4, 6]
    assert base == pytest.approx(50 + 45 + 40 + 35 + 20, abs=1e-12)
    assert _nontargets(lesion, len(organs)) == [2, 5, 7, 8]


def test_select_targets_order_of_slots_does_not_matter():
    """Selection is by size, not by slot order."""
    organs = [BONE_OTHER, BRAIN, ADRENAL, LIVER, LIVER, LIVER]
    sizes = [11.0, 12.0, 13.0, 14.0, 30.0, 20.0]
    lesion = _lesions(organs)
    base = recist.select_targets(lesion, len(organs), _meas(sizes), ORG)
    assert _targets(lesion, len(organs)) == [0, 1, 2, 4, 5]
    assert base == pytest.approx(11 + 12 + 13 + 30 + 20, abs=1e-12)


def test_select_targets_fewer_than_five_when_few_measurable():
    """Lesions below 10 mm are visible non-targets, never targets."""
    organs = [LUNG_PRIMARY, LIVER, BONE_OTHER]
    lesion = _lesions(organs)
    base = recist.select_targets(lesion, 3, _meas([25.0, 9.99, 6.0]), ORG)
    assert _targets(lesion, 3) == [0]
    assert _nontargets(lesion, 3) == [1, 2]
    assert base == 25.0


def test_select_targets_exactly_10_mm_is_measurable():
    """A 10.0 mm lesion is measurable (≥ 10 mm)."""
    lesion = _lesions([LIVER])
    assert recist.select_targets(lesion, 1, _meas([10.0]), ORG) == 10.0
    assert _targets(lesion, 1) == [0]


@pytest.mark.parametrize("node", [THORACIC_NODE, DISTANT_NODE])
def test_select_targets_nodes_need_15_mm(node):
    """A node of 14.9 mm is a non-target, one of 15 mm a target."""
    lesion = _lesions([node, node])
    base = recist.select_targets(lesion, 2, _meas([14.9, 15.0]), ORG)
    assert _targets(lesion, 2) == [1]
    assert _nontargets(lesion, 2) == [0]
    assert base == 15.0


def test_select_targets_pleura_never_target():
    """Pleural disease is never a target, however large; it is a non-target."""
    lesion = _lesions([PLEURA, LUNG_PRIMARY])
    base = recist.select_targets(lesion, 2, _meas([80.0, 12.0]), ORG)
    assert _targets(lesion, 2) == [1]
    assert _nontargets(lesion, 2) == [0]
    assert base == 12.0


def test_select_targets_ignores_invisible_and_dead_lesions():
    """Unseen (meas 0) or dead lesions are neither targets nor non-targets."""
    lesion = _lesions([LIVER, LIVER, LIVER])
    lesion[2, LF_ALIVE] = 0.0
    base = recist.select_targets(lesion, 3, _meas([0.0, 20.0, 40.0]), ORG)
    assert _targets(lesion, 3) == [1]
    assert _nontargets(lesion, 3) == []
    assert base == 20.0


def test_select_targets_lung_and_nodes_are_single_organs():
    """Primary and lung metastases share the lung's two-target cap; all nodes share one cap.

    RECIST 1.1 clarification (EORTC RECIST FAQ, "paired organs", "two target lesions"):
    lung is one organ and all lymph nodes are one organ.
    """
    organs = [LUNG_MET, LUNG_PRIMARY, LUNG_MET, THORACIC_NODE, DISTANT_NODE, DISTANT_NODE,
              LIVER]
    sizes = [60.0, 59.0, 58.0, 57.0, 56.0, 55.0, 11.0]
    lesion = _lesions(organs)
    base = recist.select_targets(lesion, len(organs), _meas(sizes), ORG)
    assert _targets(lesion, len(organs)) == [0, 1, 3, 4, 6]
    assert base == pytest.approx(60 + 59 + 57 + 56 + 11, abs=1e-12)
    assert _nontargets(lesion, len(organs)) == [2, 5]


# ---------------------------------------------------------------------------------------
# sum-of-diameters progression, partial and complete response
# ---------------------------------------------------------------------------------------
def _one_target(nadir):
    return _lesions([LIVER], nadirs=[nadir], targets=[0])


@pytest.mark.parametrize(("nadir", "now", "pd"), [
    (10.0, 12.5, False),   # +25 % but only +2.5 mm
    (10.0, 14.9, False),   # +49 %, +4.9 mm
    (10.0, 15.0, True),    # +50 %, +5 mm
    (50.0, 59.0, False),   # +9 mm but only +18 %
    (50.0, 59.9, False),
    (50.0, 60.0, True),    # exactly +20 % and +10 mm
    (50.0, 55.0, False),   # +5 mm, +10 %
    (100.0, 120.0, True),
    (100.0, 119.9, False),
])
def test_sod_pd_needs_20_percent_and_5_mm(nadir, now, pd):
    """SoD PD needs both ≥ 20 % over the nadir and ≥ 5 mm absolute increase."""
    lesion = _one_target(nadir)
    sod, resp, new, _, _ = _evaluate(lesion, _meas([now]), nadir, nadir)
    assert sod == now
    assert not new
    assert (resp == RESP_PD) == pd, f"nadir {nadir} -> {now}: resp {resp}"
    if not pd:
        assert resp == RESP_SD


def test_sod_pd_is_relative_to_nadir_not_baseline():
    """After shrinking to a 60 mm nadir, 72 mm is PD although below the 100 mm baseline."""
    lesion = _lesions([LIVER, LUNG_MET], nadirs=[30.0, 30.0], targets=[0, 1])
    _, resp, _, _, _ = _evaluate(lesion, _meas([36.0, 36.0]), 60.0, 100.0)
    assert resp == RESP_PD
    _, resp, _, _, _ = _evaluate(lesion, _meas([35.9, 36.0]), 60.0, 100.0)
    assert resp == RESP_SD


def test_sod_counts_only_alive_targets():
    """The SoD sums alive target lesions only (non-targets and dead lesions excluded)."""
    lesion = _lesions([LIVER, LIVER, LUNG_MET], nadirs=[20.0, 20.0, 20.0], targets=[0, 2],
                      nontargets=[1])
    lesion[2, LF_ALIVE] = 0.0
    assert recist.sum_of_diameters(lesion, 3, _meas([21.0, 50.0, 30.0])) == 21.0


@pytest.mark.parametrize(("now", "resp_expected"), [
    (70.0, RESP_PR),      # exactly −30 %
    (69.0, RESP_PR),
    (70.1, RESP_SD),
    (100.0, RESP_SD),
])
def test_pr_at_minus_30_percent_from_baseline(now, resp_expected):
    """PR when the SoD is ≤ 70 % of the baseline SoD."""
    lesion = _lesions([LIVER, LUNG_MET], nadirs=[50.0, 50.0], targets=[0, 1])
    _, resp, _, _, _ = _evaluate(lesion, _meas([now / 2, now / 2]), 100.0, 100.0)
    assert resp == resp_expected


def test_pr_when_targets_gone_but_nontarget_remains():
    """Targets vanished with a non-target still visible is PR, not CR."""
    lesion = _lesions([LIVER, BONE_OTHER], nadirs=[30.0, 8.0], targets=[0], nontargets=[1])
    _, resp, _, _, _ = _evaluate(lesion, _meas([0.0, 8.0]), 30.0, 30.0)
    assert resp == RESP_PR


def test_cr_when_every_lesion_gone():
    """CR when no alive lesion is visible."""
    lesion = _lesions([LIVER, LUNG_MET, BONE_OTHER], nadirs=[30.0, 20.0, 8.0],
                      targets=[0, 1], nontargets=[2])
    sod, resp, new, n_prog, _ = _evaluate(lesion, _meas([0.0, 0.0, 0.0]), 50.0, 50.0)
    assert (sod, resp, new, n_prog) == (0.0, RESP_CR, False, 0)


@pytest.mark.parametrize("node", [THORACIC_NODE, DISTANT_NODE])
def test_cr_allows_nodes_below_10_mm(node):
    """Nodes < 10 mm count as gone for CR; a node of 10 mm prevents CR."""
    lesion = _lesions([LIVER, node], nadirs=[30.0, 20.0], targets=[0, 1])
    _, resp, _, _, _ = _evaluate(lesion, _meas([0.0, 9.9]), 50.0, 50.0)
    assert resp == RESP_CR
    _, resp, _, _, _ = _evaluate(lesion, _meas([0.0, 10.0]), 50.0, 50.0)
    assert resp == RESP_PR


def test_cr_ignores_dead_lesions():
    """A controlled (dead) lesion does not prevent CR whatever its stale measurement."""
    lesion = _lesions([LIVER, LUNG_MET], nadirs=[30.0, 20.0], targets=[0, 1])
    lesion[1, LF_ALIVE] = 0.0
    _, resp, _, _, _ = _evaluate(lesion, _meas([0.0, 25.0]), 50.0, 50.0)
    assert resp == RESP_CR


def test_non_node_below_10_mm_prevents_cr():
    """A visible 6 mm non-nodal lesion is not CR."""
    lesion = _lesions([LIVER, BONE_OTHER], nadirs=[30.0, 6.0], targets=[0], nontargets=[1])
    _, resp, _, _, _ = _evaluate(lesion, _meas([0.0, 6.0]), 30.0, 30.0)
    assert resp != RESP_CR


def test_no_targets_and_no_change_is_sd():
    """Only non-target disease (baseline SoD 0), unchanged: SD (non-CR/non-PD)."""
    lesion = _lesions([PLEURA], nadirs=[40.0], nontargets=[0])
    _, resp, _, _, _ = _evaluate(lesion, _meas([40.0]), 0.0, 0.0)
    assert resp == RESP_SD


# ---------------------------------------------------------------------------------------
# new lesions and non-target progression
# ---------------------------------------------------------------------------------------
def test_new_visible_lesion_is_pd():
    """A visible lesion outside the reference is a new lesion: PD even with shrinking targets."""
    lesion = _lesions([LIVER, BRAIN], nadirs=[40.0, math.inf], targets=[0])
    lesion[1, LF_REF_VIS] = 0.0
    sod, resp, new, n_prog, prog = _evaluate(lesion, _meas([10.0, 3.0]), 40.0, 40.0)
    assert sod == 10.0
    assert resp == RESP_PD
    assert new
    assert n_prog == 1
    assert list(prog) == [0.0, 1.0]


def test_unseen_new_lesion_is_not_pd():
    """A new lesion below the detection threshold (meas 0) is not PD."""
    lesion = _lesions([LIVER, BRAIN], nadirs=[40.0, math.inf], targets=[0])
    lesion[1, LF_REF_VIS] = 0.0
    _, resp, new, n_prog, _ = _evaluate(lesion, _meas([40.0, 0.0]), 40.0, 40.0)
    assert (resp, new, n_prog) == (RESP_SD, False, 0)


def test_nontarget_pd_at_volume_doubling_from_own_nadir():
    """A non-target reaching 2^(1/3) × its nadir diameter (volume ×2) is PD; just below is not."""
    nadir = 20.0
    lesion = _lesions([LIVER, BONE_OTHER], nadirs=[40.0, nadir], targets=[0], nontargets=[1])
    _, resp, new, _, _ = _evaluate(lesion, _meas([40.0, NT_FACTOR * nadir]), 40.0, 40.0)
    assert resp == RESP_PD
    assert not new
    below = NT_FACTOR * nadir * (1.0 - 1e-9)
    _, resp, _, n_prog, prog = _evaluate(lesion, _meas([40.0, below]), 40.0, 40.0)
    assert resp == RESP_SD
    # 25.2 mm ≥ 1.2 × 20 and ≥ 20 + 5: progressing by the per-lesion rule nonetheless
    assert n_prog == 1
    assert prog[1] == 1.0


def test_nontarget_pd_uses_own_nadir_not_baseline():
    """A non-target that shrank to 10 mm progresses at 12.6 mm although below its baseline."""
    lesion = _lesions([LIVER, BONE_OTHER], nadirs=[40.0, 10.0], targets=[0], nontargets=[1])
    _, resp, _, _, _ = _evaluate(lesion, _meas([40.0, 12.6]), 40.0, 40.0)
    assert resp == RESP_PD


def test_vanished_nontarget_reappearing_is_pd():
    """A non-target whose nadir is 0 (vanished) is PD when visible again, whatever its size."""
    lesion = _lesions([LIVER, BONE_OTHER], nadirs=[40.0, 0.0], targets=[0], nontargets=[1])
    _, resp, new, _, _ = _evaluate(lesion, _meas([40.0, 5.0]), 40.0, 40.0)
    assert resp == RESP_PD
    assert not new
    _, resp, _, _, _ = _evaluate(lesion, _meas([40.0, 0.0]), 40.0, 40.0)
    assert resp == RESP_SD


def test_nontarget_with_reset_nadir_is_not_pd():
    """A non-target whose nadir was reset by LAT (inf) cannot progress at this scan."""
    lesion = _lesions([LIVER, BONE_OTHER], nadirs=[40.0, math.inf], targets=[0],
                      nontargets=[1])
    _, resp, _, n_prog, _ = _evaluate(lesion, _meas([40.0, 80.0]), 40.0, 40.0)
    assert (resp, n_prog) == (RESP_SD, 0)


# ---------------------------------------------------------------------------------------
# per-lesion progression and nadirs
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("nadir", "now", "expected"), [
    (10.0, 15.0, True),     # ×1.5 and +5 mm
    (10.0, 14.9, False),    # +4.9 mm
    (10.0, 12.0, False),    # ×1.2 but only +2 mm
    (30.0, 36.0, True),     # ×1.2 and +6 mm
    (30.0, 35.9, False),    # < ×1.2
    (0.0, 5.0, True),       # vanished, back at ≥ 5 mm
    (0.0, 4.9, False),      # vanished, back below 5 mm
    (30.0, 0.0, False),     # not visible
])
def test_lesion_progressing_rule(nadir, now, expected):
    """Per-lesion progression: ≥ 1.2 × own nadir and ≥ nadir + 5 mm, visible."""
    lesion = _lesions([LIVER], nadirs=[nadir])
    assert recist.lesion_progressing(lesion, 0, _meas([now])) is expected


def test_lesion_progressing_new_and_dead():
    """A new visible lesion progresses; a dead one never does."""
    lesion = _lesions([LIVER, LIVER], nadirs=[math.inf, 10.0])
    lesion[0, LF_REF_VIS] = 0.0
    lesion[1, LF_ALIVE] = 0.0
    meas = _meas([4.0, 50.0])
    assert recist.lesion_progressing(lesion, 0, meas)
    assert not recist.lesion_progressing(lesion, 1, meas)


def test_evaluate_marks_progressing_lesions():
    """evaluate sets prog[l] = 1 exactly for the lesions progressing by the per-lesion rule."""
    lesion = _lesions([LIVER, LUNG_MET, BONE_OTHER, ADRENAL],
                      nadirs=[20.0, 20.0, 10.0, math.inf], targets=[0, 1], nontargets=[2])
    lesion[3, LF_REF_VIS] = 0.0
    _, resp, new, n_prog, prog = _evaluate(lesion, _meas([25.0, 24.0, 15.0, 6.0]), 40.0, 40.0)
    assert list(prog) == [1.0, 0.0, 1.0, 1.0]
    assert n_prog == 3
    assert new
    assert resp == RESP_PD


def test_update_nadirs_tracks_minimum_of_reference_lesions():
    """Nadirs fall to the smallest measurement (0 when unseen); non-reference lesions untouched."""
    lesion = _lesions([LIVER, LIVER, LIVER, LIVER], nadirs=[20.0, 20.0, 20.0, math.inf])
    lesion[3, LF_REF_VIS] = 0.0
    recist.update_nadirs(lesion, 4, _meas([25.0, 15.0, 0.0, 30.0]))
    assert list(lesion[:4, LF_NADIR]) == [20.0, 15.0, 0.0, math.inf]


def test_nadir_reset_after_lat():
    """LF_NADIR = inf: no progression at the first post-LAT scan, nadir restarts there."""
    lesion = _lesions([LIVER], nadirs=[10.0], targets=[0])
    lesion[0, LF_NADIR] = math.inf  # what kernel._treat does after a course
    meas = _meas([40.0])            # far above the pre-LAT nadir of 10 mm
    assert not recist.lesion_progressing(lesion, 0, meas)
    _, _, _, n_prog, prog = _evaluate(lesion, meas, 40.0, 40.0)
    assert n_prog == 0
    assert prog[0] == 0.0
    recist.update_nadirs(lesion, 1, meas)
    assert lesion[0, LF_NADIR] == 40.0
    assert not recist.lesion_progressing(lesion, 0, _meas([44.9]))
    assert recist.lesion_progressing(lesion, 0, _meas([48.0]))
    recist.update_nadirs(lesion, 1, _meas([30.0]))
    assert lesion[0, LF_NADIR] == 30.0


# ---------------------------------------------------------------------------------------
# rebaseline
# ---------------------------------------------------------------------------------------
def test_rebaseline_makes_visible_lesions_the_reference():
    """After rebaseline visible lesions are reference, nadirs restart, unseen ones go to 0."""
    lesion = _lesions([LIVER, LUNG_MET, BONE_OTHER, ADRENAL],
                      nadirs=[20.0, 10.0, 10.0, math.inf], targets=[0, 1], nontargets=[2])
    lesion[3, LF_REF_VIS] = 0.0  # a new lesion
    meas = _meas([30.0, 0.0, 15.0, 12.0])
    _, resp, new, _, _ = _evaluate(lesion, meas, 30.0, 30.0)
    assert resp == RESP_PD
    assert new
    recist.rebaseline(lesion, 4, meas)
    assert list(lesion[:4, LF_REF_VIS]) == [1.0, 1.0, 1.0, 1.0]
    assert list(lesion[:4, LF_TARGET]) == [1.0, 1.0, 0.0, 0.0]
    assert list(lesion[:4, LF_NONTARGET]) == [0.0, 0.0, 1.0, 1.0]
    assert list(lesion[:4, LF_NADIR]) == [30.0, 0.0, 15.0, 12.0]
    # the same scan against the new reference: nothing new, nothing progressing
    _, resp, new, n_prog, _ = _evaluate(lesion, meas, 30.0, 30.0)
    assert (resp, new, n_prog) == (RESP_SD, False, 0)


def test_rebaseline_restarts_lat_reset_nadir():
    """A reference lesion with an LAT-reset nadir (inf) restarts at the rebaseline measurement."""
    lesion = _lesions([LIVER, LUNG_MET], nadirs=[20.0, math.inf], targets=[0], nontargets=[1])
    recist.rebaseline(lesion, 2, _meas([20.0, 14.0]))
    assert list(lesion[:2, LF_NADIR]) == [20.0, 14.0]


def test_rebaseline_leaves_dead_lesions_alone():
    """A dead lesion is not made a reference by rebaseline."""
    lesion = _lesions([LIVER, LIVER], nadirs=[20.0, math.inf])
    lesion[1, LF_REF_VIS] = 0.0
    lesion[1, LF_ALIVE] = 0.0
    before = lesion[1].copy()
    recist.rebaseline(lesion, 2, _meas([20.0, 30.0]))
    np.testing.assert_array_equal(lesion[1], before)


def test_rebaseline_restarts_nadir_of_new_lesion():
    """A new lesion (kernel-initialised nadir inf) gets its rebaseline measurement as nadir.

    Regression: rebaseline used to keep an inf nadir, so a new lesion could not progress
    at the scan after the rebaseline.
    """
    lesion = _lesions([LIVER, ADRENAL], nadirs=[20.0, math.inf], targets=[0])
    lesion[1, LF_REF_VIS] = 0.0
    recist.rebaseline(lesion, 2, _meas([20.0, 12.0]))
    assert lesion[1, LF_REF_VIS] == 1.0
    assert lesion[1, LF_NONTARGET] == 1.0
    assert lesion[1, LF_NADIR] == 12.0
    # it doubled its volume by the next scan: non-target PD and per-lesion progression
    _, resp, _, n_prog, _ = _evaluate(lesion, _meas([20.0, 20.0]), 20.0, 20.0)
    assert resp == RESP_PD
    assert n_prog == 1
