"""The reference engine (DESIGN.md §3): the model of §2 written a second time as readable
SimPy processes, drawing from the same random streams as the fast engine so that every
patient comes out identical. It is the oracle for the fast engine's tests, the baseline of
the speed benchmarks (§7 P1), and the engine for capacity-limited care pathways.

Modules, one concept each: :mod:`.patient` (the patient's SimPy process and clinical
decisions), :mod:`.tumour` (lesions, clones, growth and event clocks), :mod:`.imaging`
(scans and RECIST 1.1), :mod:`.radiotherapy` (LAT), :mod:`.lines` (treatment lines),
:mod:`.population` (who is diagnosed), :mod:`.luria` (pre-existing resistance),
:mod:`.distributions`, :mod:`.streams` (random streams), :mod:`.inputs` (named parameters),
:mod:`.record` (chart, trace, batch), :mod:`.resources` (resource-use ledger),
:mod:`.pathway` (capacity-limited cohorts: SBRT slots, tumour board, referrals),
:mod:`.simulate` (entry points).

Only the random-number infrastructure (:mod:`oligosim.engine.rng`), the layer-0 constants
(:mod:`oligosim.engine._jit`) and the output layouts (:mod:`oligosim.engine.layout`) are
shared with the fast engine; tests/reference checks this and the agreement.
"""

from oligosim.reference.pathway import PATHWAY_COLUMNS, simulate_cohort_reference
from oligosim.reference.record import Chart, Trace
from oligosim.reference.simulate import (
    ReferenceBatch,
    run_batch_reference,
    simulate_batch_reference,
    simulate_patient_reference,
    trace_patient_reference,
)

__all__ = ["PATHWAY_COLUMNS", "Chart", "ReferenceBatch", "Trace", "run_batch_reference",
           "simulate_batch_reference", "simulate_cohort_reference",
           "simulate_patient_reference", "trace_patient_reference"]
