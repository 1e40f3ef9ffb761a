"""Exact tests of the Philox stream generator (oligosim.engine.rng) against numpy's Philox."""

from __future__ import annotations

import decimal
import math
from decimal import Decimal

import numba
import numpy as np
import pytest
import scipy.stats

from oligosim.engine import rng
from oligosim.engine._jit import PURPOSE_CLOCK, PURPOSE_MEASURE

U64_MAX = np.uint64(2**64 - 1)
SEED = np.uint64(20240611)


def _add256(counter, delta):
    """Words of the 256-bit counter ``counter + delta`` (mod 2**256), least significant first."""
    value = sum(int(w) << (64 * i) for i, w in enumerate(counter)) + delta
    return np.array([(value >> (64 * i)) % 2**64 for i in range(4)], dtype=np.uint64)


def _numpy_block(counter, key):
    """The Philox block of ``counter`` as numpy computes it (numpy pre-increments)."""
    gen = np.random.Philox(key=np.array(key, dtype=np.uint64), counter=_add256(counter, -1))
    return tuple(int(w) for w in gen.random_raw(4))


def _table(purpose=PURPOSE_CLOCK, substream=0):
    return rng.new_stream_table(np.array([purpose], dtype=np.int64),
                                np.array([substream], dtype=np.int64))


def _draws(table, seed, patient, n, s=0):
    return [int(rng.next_u64(table, s, seed, patient)) for _ in range(n)]


def test_block_matches_numpy_for_random_keys_and_counters():
    """philox4x64_10 equals numpy's Philox block for 300 random keys and counters."""
    gen = np.random.default_rng(12345)
    words = gen.integers(0, 2**64, size=(300, 6), dtype=np.uint64, endpoint=False)
    for c0, c1, c2, c3, k0, k1 in words:
        got = tuple(int(w) for w in rng.philox4x64_10(c0, c1, c2, c3, k0, k1))
        assert got == _numpy_block([c0, c1, c2, c3], [k0, k1])


@pytest.mark.parametrize("counter", [
    [U64_MAX, 7, 3, 1],
    [U64_MAX, U64_MAX, 5, 0],
    [U64_MAX, U64_MAX, U64_MAX, U64_MAX],
    [0, 0, 0, 0],
])
def test_numpy_pre_increment_with_carry(counter):
    """numpy's pre-increment carries out of word 0; our block of counter + 1 agrees."""
    key = np.array([0x0123456789ABCDEF, U64_MAX], dtype=np.uint64)
    raw = np.random.Philox(key=key, counter=np.array(counter, dtype=np.uint64)).random_raw(4)
    nxt = _add256(counter, 1)
    got = rng.philox4x64_10(nxt[0], nxt[1], nxt[2], nxt[3], key[0], key[1])
    assert [int(w) for w in got] == [int(w) for w in raw]


def test_next_u64_reproduces_random_raw_over_three_blocks():
    """A stream at block 5 gives numpy's random_raw(12) for counter (4, patient, sub, 0)."""
    table = _table(PURPOSE_MEASURE, substream=11)
    table[0, 2] = np.uint64(5)
    patient = np.uint64(987654321)
    gen = np.random.Philox(key=np.array([SEED, PURPOSE_MEASURE], dtype=np.uint64),
                           counter=np.array([4, patient, 11, 0], dtype=np.uint64))
    assert _draws(table, SEED, patient, 12) == [int(w) for w in gen.random_raw(12)]
    assert int(table[0, 2]) == 8


def test_fresh_stream_starts_at_block_zero():
    """A fresh stream equals numpy started one below block 0, borrowing from the patient word."""
    table = _table(PURPOSE_CLOCK, substream=3)
    patient = np.uint64(42)
    gen = np.random.Philox(key=np.array([SEED, PURPOSE_CLOCK], dtype=np.uint64),
                           counter=np.array([U64_MAX, patient - 1, 3, 0], dtype=np.uint64))
    assert _draws(table, SEED, patient, 12) == [int(w) for w in gen.random_raw(12)]


def test_int64_and_uint64_arguments_agree():
    """Passing seed and patient as int64 gives the same words as uint64."""
    a, b = _table(), _table()
    assert _draws(a, np.int64(99), np.int64(7), 6) == _draws(b, np.uint64(99), np.uint64(7), 6)


def test_uniform_strictly_inside_unit_interval():
    """200k uniforms lie in (0, 1) and the extreme words map to 2**-53 and 1 - 2**-53."""
    table = _table()
    u = np.array([rng.uniform(table, 0, SEED, 1) for _ in range(200_000)])
    assert u.min() > 0.0
    assert u.max() < 1.0
    table[0, 3] = np.uint64(2)  # inject the two extreme words into the buffer
    table[0, 6] = np.uint64(0)
    table[0, 7] = U64_MAX
    assert rng.uniform(table, 0, SEED, 1) == 2.0**-53
    assert rng.uniform(table, 0, SEED, 1) == 1.0 - 2.0**-53


@pytest.mark.parametrize(("other_purpose", "other_sub", "other_patient", "other_seed"), [
    (PURPOSE_MEASURE, 0, 5, SEED),
    (PURPOSE_CLOCK, 1, 5, SEED),
    (PURPOSE_CLOCK, 0, 6, SEED),
    (PURPOSE_CLOCK, 0, 5, SEED + np.uint64(1)),
])
def test_streams_differ_by_purpose_substream_patient_and_seed(
        other_purpose, other_sub, other_patient, other_seed):
    """Changing any of purpose, substream, patient or seed changes the words."""
    base = _draws(_table(PURPOSE_CLOCK, 0), SEED, np.uint64(5), 8)
    other = _draws(_table(other_purpose, other_sub), other_seed, np.uint64(other_patient), 8)
    assert set(base).isdisjoint(other)


def test_rows_of_one_table_are_independent():
    """Drawing from one row does not move another row."""
    table = rng.new_stream_table(np.array([PURPOSE_CLOCK, PURPOSE_CLOCK], dtype=np.int64),
                                 np.array([0, 1], dtype=np.int64))
    alone = _draws(_table(PURPOSE_CLOCK, 1), SEED, 3, 5)
    _draws(table, SEED, 3, 7, s=0)
    assert _draws(table, SEED, 3, 5, s=1) == alone


def test_reset_streams_reproduces_sequence():
    """reset_streams rewinds every row so the same draws come out again."""
    table = rng.new_stream_table(np.array([0, 3, 8], dtype=np.int64),
                                 np.array([0, 2, 1], dtype=np.int64))
    first = [_draws(table, SEED, 17, 9, s=s) for s in range(3)]
    rng.reset_streams(table)
    assert [_draws(table, SEED, 17, 9, s=s) for s in range(3)] == first
    assert np.all(table[:, 2] == 3)


def test_new_stream_table_layout():
    """A new table holds purpose, substream, block 0 and an empty buffer."""
    table = rng.new_stream_table(np.array([4, 9], dtype=np.int64), np.array([0, 6], dtype=np.int64))
    assert table.dtype == np.uint64
    assert table.shape == (2, 8)
    assert table[:, :4].tolist() == [[4, 0, 0, 4], [9, 6, 0, 4]]


def test_new_stream_table_rejects_length_mismatch():
    """Purposes and substreams of different lengths are an error."""
    with pytest.raises(ValueError, match="same length"):
        rng.new_stream_table(np.array([1, 2], dtype=np.int64), np.array([0], dtype=np.int64))


def test_geometric_with_certain_success_is_one():
    """geometric(p=1) is 1 and still consumes exactly one word."""
    table = _table()
    assert rng.geometric(table, 0, SEED, 1, 1.0) == 1.0
    assert int(table[0, 3]) == 1


def test_geometric_extreme_probabilities():
    """geometric(1e-300) is finite and huge; geometric(0) is inf."""
    table = _table()
    k = rng.geometric(table, 0, SEED, 1, 1e-300)
    assert math.isfinite(k)
    assert k > 1e290
    assert rng.geometric(table, 0, SEED, 1, 0.0) == math.inf


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan])
def test_geometric_rejects_invalid_probability(p):
    """A success probability outside [0, 1] is an error."""
    with pytest.raises(ValueError, match=r"must be in \(0, 1\]"):
        rng.geometric(_table(), 0, SEED, 1, p)


@pytest.mark.parametrize("lam", [math.nan, math.inf, 2.0**52])
def test_poisson_rejects_invalid_rate(lam):
    """A NaN, infinite or too large rate is an error, not an endless rejection loop."""
    with pytest.raises(ValueError, match="finite and below 2"):
        rng.poisson(_table(), 0, SEED, 1, lam)


def test_poisson_inversion_consumes_one_word():
    """For lam < 10, including lam <= 0, poisson uses exactly one uniform."""
    table = _table()
    for lam in (0.0, -2.0, 0.3, 9.99):
        before = int(table[0, 3])
        rng.poisson(table, 0, SEED, 1, lam)
        assert int(table[0, 3]) == before % 4 + 1


def test_poisson_of_zero_rate_is_zero():
    """poisson(0) and poisson(-1) are 0.0."""
    table = _table()
    assert rng.poisson(table, 0, SEED, 1, 0.0) == 0.0
    assert rng.poisson(table, 0, SEED, 1, -1.0) == 0.0


def test_poisson_finite_integer_for_huge_rate():
    """poisson(1e15) is a finite integer within 10 standard deviations of the rate."""
    table = _table()
    for _ in range(200):
        k = rng.poisson(table, 0, SEED, 1, 1e15)
        assert math.isfinite(k)
        assert k == math.floor(k)
        assert abs(k - 1e15) < 10 * math.sqrt(1e15)


def _logpmf_50_digits(k, lam):
    """Poisson log pmf in 50-digit decimal arithmetic (Stirling series for log k!, k >= 100)."""
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        k, lam = Decimal(int(k)), Decimal(lam)
        log_fact = ((k + Decimal("0.5")) * k.ln() - k + (2 * Decimal(_PI_50)).ln() / 2
                    + 1 / (12 * k) - 1 / (360 * k**3) + 1 / (1260 * k**5) - 1 / (1680 * k**7))
        return float(-lam + k * lam.ln() - log_fact)


_PI_50 = "3.14159265358979323846264338327950288419716939937511"


@pytest.mark.parametrize("lam", [10.0, 57.3, 1e4, 1e9, 1e15])
def test_poisson_logpmf_is_accurate(lam):
    """The cancellation-free log pmf used by PTRS is within 1e-9 of a 50-digit reference."""
    # Not scipy above k = 100: scipy.stats.poisson.logpmf(1e15 + 6e7, 1e15) is off by ~6.
    ks = np.unique(np.floor(lam + np.sqrt(lam) * np.array([-3, -1, 0, 0.5, 2, 6])).clip(0))
    for k in ks:
        want = (_logpmf_50_digits(k, lam) if k >= 100
                else scipy.stats.poisson.logpmf(k, lam))  # scipy is exact enough at small k
        assert rng._poisson_logpmf(k, lam) == pytest.approx(want, abs=1e-9, rel=1e-12)


def test_categorical_guards_last_index():
    """categorical returns the last index when rounding leaves cumprobs[-1] below u."""
    table = _table()
    table[0, 3] = np.uint64(3)
    table[0, 7] = U64_MAX  # u = 1 - 2**-53
    assert rng.categorical(table, 0, SEED, 1, np.array([0.2, 0.7, 1.0 - 1e-12])) == 2


def test_categorical_picks_first_bin_above_u():
    """categorical returns the first i with u < cumprobs[i]."""
    table = _table()
    table[0, 3] = np.uint64(3)
    table[0, 7] = np.uint64(2**63)  # u = 0.5 + 2**-53
    assert rng.categorical(table, 0, SEED, 1, np.array([0.2, 0.5, 0.9, 1.0])) == 2


def test_callable_from_njit():
    """Every draw function compiles inside another njit function."""
    @numba.njit
    def draw_all(table, seed, patient):
        cum = np.array([0.25, 1.0])
        return (rng.uniform(table, 0, seed, patient) + rng.exponential(table, 0, seed, patient)
                + rng.normal(table, 0, seed, patient) + rng.poisson(table, 0, seed, patient, 3.0)
                + rng.poisson(table, 0, seed, patient, 300.0)
                + rng.categorical(table, 0, seed, patient, cum)
                + rng.geometric(table, 0, seed, patient, 0.3))

    assert math.isfinite(draw_all(_table(), SEED, np.uint64(1)))


def test_normal_at_matches_numpy_philox_block():
    """normal_at reads the block at counter (index, patient, substream, 1), key (seed, purpose)."""
    seed, pid, sub, idx = 123456789, 42, 7, 3
    gen = np.random.Philox(key=np.array([seed, PURPOSE_MEASURE], dtype=np.uint64),
                           counter=np.array([idx - 1, pid, sub, 1], dtype=np.uint64))
    w0, w1 = (int(x) for x in gen.random_raw(2))
    u1 = ((w0 >> 12) + 0.5) * 2.0**-52
    u2 = ((w1 >> 12) + 0.5) * 2.0**-52
    expected = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    assert rng.normal_at(seed, pid, PURPOSE_MEASURE, sub, idx) == expected


def test_normal_at_is_addressed_not_sequential():
    """The same address gives the same draw; neighbouring addresses differ."""
    a = rng.normal_at(1, 2, PURPOSE_MEASURE, 3, 4)
    assert a == rng.normal_at(1, 2, PURPOSE_MEASURE, 3, 4)
    assert a != rng.normal_at(1, 2, PURPOSE_MEASURE, 3, 5)
    assert a != rng.normal_at(1, 2, PURPOSE_MEASURE, 4, 4)
