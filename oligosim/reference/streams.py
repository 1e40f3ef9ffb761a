"""A patient's named random streams (DESIGN.md §2.13), as the fast engine draws them.

Every random decision about a patient comes from its own stream, keyed by (root seed,
purpose) with the patient id and a substream (lesion slot, clone) in the Philox counter.
Because the key does not depend on the strategy, the same patient draws the same age, the
same lesions and the same radiosensitivity under every strategy (common random numbers), and
the reference engine gets bit-for-bit the fast engine's numbers by asking the same stream for
the same number of draws in the same order.

This module only *addresses* streams; the generator itself (Philox4x64-10 and the samplers
built on it: uniform, exponential, Poisson, ...) is the shared random-number infrastructure
:mod:`oligosim.engine.rng`. Streams are created lazily, one single-row stream table each, so
a patient carries only the streams it uses.
"""

from __future__ import annotations

import numpy as np

from oligosim.engine import rng
from oligosim.engine._jit import (
    N_CLONES,
    PURPOSE_BASELINE,
    PURPOSE_CLOCK,
    PURPOSE_DEATH,
    PURPOSE_LATKILL,
    PURPOSE_MEASURE,
    PURPOSE_OCCULT,
    PURPOSE_PREEXISTING,
    PURPOSE_RADIO,
    PURPOSE_TEST,
    PURPOSE_TOX,
)


class Stream:
    """One sequential random stream: (seed, purpose) key, (patient, substream) counter.

    Draws advance the stream; two streams never share draws. Methods return Python floats
    (``categorical`` an int).
    """

    __slots__ = ("_patient", "_seed", "_table")

    def __init__(self, seed: int, patient_id: int, purpose: int, substream: int = 0) -> None:
        self._table = rng.new_stream_table(np.array([purpose], dtype=np.int64),
                                           np.array([substream], dtype=np.int64))
        self._seed = seed
        self._patient = patient_id

    def uniform(self) -> float:
        """Uniform on (0, 1)."""
        return rng.uniform(self._table, 0, self._seed, self._patient)

    def exponential(self) -> float:
        """Unit-rate exponential."""
        return rng.exponential(self._table, 0, self._seed, self._patient)

    def normal(self) -> float:
        """Standard normal (Box–Muller, one value per two uniforms)."""
        return rng.normal(self._table, 0, self._seed, self._patient)

    def poisson(self, mean: float) -> float:
        """Poisson count with the given mean, as a float."""
        return rng.poisson(self._table, 0, self._seed, self._patient, mean)

    def categorical(self, cumulative: np.ndarray) -> int:
        """Index drawn from a cumulative distribution (float64 array ending in 1)."""
        return int(rng.categorical(self._table, 0, self._seed, self._patient, cumulative))

    def geometric(self, p: float) -> float:
        """Trials to the first success with success probability ``p``, as a float."""
        return rng.geometric(self._table, 0, self._seed, self._patient, p)


class PatientStreams:
    """All random streams of one patient.

    Fixed streams: ``baseline`` (age, sex, subtype, nodes, metastases, lesion sizes),
    ``occult`` (occult micrometastases), ``background_death``, ``testing`` (second-line access
    and the T790M test) and ``toxicity``. Per lesion slot: ``preexisting`` resistance,
    ``radiosensitivity``, ``lat_kill`` (surviving clonogens) and one event ``clock`` per
    clone. Measurement errors are addressed by (lesion slot, scan number) without state.
    """

    def __init__(self, seed: int, patient_id: int) -> None:
        self.seed = int(seed)
        self.patient_id = int(patient_id)
        self.baseline = self._new(PURPOSE_BASELINE)
        self.occult = self._new(PURPOSE_OCCULT)
        self.background_death = self._new(PURPOSE_DEATH)
        self.testing = self._new(PURPOSE_TEST)
        self.toxicity = self._new(PURPOSE_TOX)
        self._per_lesion: dict[tuple[int, int], Stream] = {}

    def _new(self, purpose: int, substream: int = 0) -> Stream:
        return Stream(self.seed, self.patient_id, purpose, substream)

    def _lesion_stream(self, purpose: int, substream: int) -> Stream:
        key = (purpose, substream)
        stream = self._per_lesion.get(key)
        if stream is None:
            stream = self._per_lesion[key] = self._new(purpose, substream)
        return stream

    def preexisting(self, slot: int) -> Stream:
        """Pre-existing resistance of the lesion in ``slot``."""
        return self._lesion_stream(PURPOSE_PREEXISTING, slot)

    def radiosensitivity(self, slot: int) -> Stream:
        """Radiosensitivity α of the lesion in ``slot``."""
        return self._lesion_stream(PURPOSE_RADIO, slot)

    def lat_kill(self, slot: int) -> Stream:
        """Cell kill of LAT courses given to the lesion in ``slot``."""
        return self._lesion_stream(PURPOSE_LATKILL, slot)

    def clock(self, slot: int, clone: int) -> Stream:
        """Event clock (death, seeding, acquired resistance) of one clone of one lesion."""
        return self._lesion_stream(PURPOSE_CLOCK, slot * N_CLONES + clone)

    def measurement_error(self, slot: int, scan_number: int) -> float:
        """Standard-normal measurement error of the lesion in ``slot`` at a given scan."""
        return rng.normal_at(self.seed, self.patient_id, PURPOSE_MEASURE, slot, scan_number)
