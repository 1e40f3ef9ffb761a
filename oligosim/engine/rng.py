"""Counter-based random numbers (Philox4x64-10) organised as named streams.

DESIGN.md §2.13: every draw is a pure function of (root seed, stream purpose, patient,
substream, block counter), so the same patient gets the same draws in every strategy, on
every thread and in either engine.  The block function is bit-for-bit numpy's
``np.random.Philox`` (Random123 constants, 10 rounds); ``tests/unit/test_rng.py`` checks it.

A *stream table* is a ``uint64[n_streams, 8]`` array, one row per stream::

    [purpose, substream, next_block, buf_pos, w0, w1, w2, w3]

The Philox key is ``(seed, purpose)`` and the counter ``(next_block, patient, substream, 0)``;
the four words of a block are handed out in order and ``buf_pos == 4`` means "empty".
Every function here is ``@numba.njit`` so kernels can call it; nothing keeps global state.
A table is mutable: give each thread (each patient in a ``prange``) its own copy, and keep
stream rows in range, since numba does not bounds-check the row index ``s``.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from oligosim.engine._jit import JIT

_M0 = np.uint64(0xD2E7470EE14C6C93)
_M1 = np.uint64(0xCA5A826395121157)
_W0 = np.uint64(0x9E3779B97F4A7C15)
_W1 = np.uint64(0xBB67AE8584CAA73B)
_S32 = np.uint64(32)
_S12 = np.uint64(12)
_U0 = np.uint64(0)
_U1 = np.uint64(1)
_EMPTY = np.uint64(4)
_TWO_M52 = 2.0**-52
_TWO_PI = 2.0 * math.pi
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_POISSON_INVERSION_MAX = 10.0  # below: inversion; at and above: PTRS (numpy uses the same cut)
_POISSON_MAX = 2.0**52  # float spacing reaches 1 here; PTRS is no longer exact


@intrinsic
def _mulhilo(typingctx, a, b):
    """(high, low) 64-bit words of the 128-bit product of uint64 ``a`` and ``b``.

    Emitted as one 128-bit LLVM multiply (a single ``mul`` on x86-64, ``umulh`` + ``mul`` on
    arm64) instead of four 32-bit partial products: the same words, about a quarter fewer
    cycles per Philox block. Callable from jitted code only.
    """
    if a != types.uint64 or b != types.uint64:
        return None
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        i128 = ir.IntType(128)
        prod = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        hi = builder.trunc(builder.lshr(prod, ir.Constant(i128, 64)), i64)
        lo = builder.trunc(prod, i64)
        return context.make_tuple(builder, signature.return_type, (hi, lo))

    return sig, codegen


@numba.njit(**JIT)
def philox4x64_10(c0, c1, c2, c3, k0, k1):
    """Philox4x64 block function, 10 rounds (Random123 / numpy constants).

    Parameters
    ----------
    c0, c1, c2, c3 : uint64 (int64 accepted, reinterpreted)
        The 256-bit counter, least significant word first.
    k0, k1 : uint64 (int64 accepted)
        The 128-bit key.

    Returns
    -------
    tuple of 4 uint64
        The output block.  numpy's ``Philox(key=k, counter=c).random_raw(4)`` returns the
        block of counter ``c + 1`` (numpy increments before generating).
    """
    x0 = np.uint64(c0)
    x1 = np.uint64(c1)
    x2 = np.uint64(c2)
    x3 = np.uint64(c3)
    key0 = np.uint64(k0)
    key1 = np.uint64(k1)
    for r in range(10):
        if r > 0:
            key0 += _W0
            key1 += _W1
        hi0, lo0 = _mulhilo(_M0, x0)
        hi1, lo1 = _mulhilo(_M1, x2)
        x0, x1, x2, x3 = hi1 ^ x1 ^ key0, lo1, hi0 ^ x3 ^ key1, lo0
    return x0, x1, x2, x3


@numba.njit(**JIT)
def new_stream_table(purposes, substreams):
    """Allocate an empty stream table.

    Parameters
    ----------
    purposes : int64[n]
        Stream purpose codes (``_jit.PURPOSE_*``); part of the Philox key.
    substreams : int64[n]
        Substream index of each stream (lesion slot, course, ...); part of the counter.

    Returns
    -------
    uint64[n, 8]
        Rows ``[purpose, substream, next_block=0, buf_pos=4, 0, 0, 0, 0]``.
    """
    n = purposes.shape[0]
    if substreams.shape[0] != n:
        raise ValueError("purposes and substreams must have the same length.")
    table = np.zeros((n, 8), dtype=np.uint64)
    for s in range(n):
        table[s, 0] = np.uint64(purposes[s])
        table[s, 1] = np.uint64(substreams[s])
        table[s, 3] = _EMPTY
    return table


@numba.njit(**JIT)
def reset_streams(table):
    """Rewind every stream of ``table`` (uint64[n, 8]) to block 0 with an empty buffer."""
    for s in range(table.shape[0]):
        table[s, 2] = _U0
        table[s, 3] = _EMPTY


@numba.njit(**JIT)
def _refill(table, s, seed, patient):
    """Generate stream ``s``'s next block into its buffer and rewind the buffer.

    Kept out of :func:`next_u64` so that the common path (a word left in the buffer) is small
    enough for LLVM to inline at every draw site; the Philox rounds stay one call away.
    """
    block = table[s, 2]
    w0, w1, w2, w3 = philox4x64_10(block, np.uint64(patient), table[s, 1], _U0,
                                   np.uint64(seed), table[s, 0])
    table[s, 4] = w0
    table[s, 5] = w1
    table[s, 6] = w2
    table[s, 7] = w3
    table[s, 2] = block + _U1


# next_u64, uniform, exponential, normal and geometric are inlined by numba into every caller
# (inline="always"): LLVM on its own kept them as calls, each passing the table as a dozen
# scalar arguments, once per draw. _refill is left to LLVM, which keeps the Philox rounds out
# of line at most sites.
@numba.njit(inline="always", **JIT)
def next_u64(table, s, seed, patient):
    """Next raw 64-bit word of stream ``s`` for ``patient`` under root ``seed``.

    Parameters
    ----------
    table : uint64[n, 8]
        Stream table; row ``s`` is advanced in place.
    s : int64
        Row of the stream.
    seed, patient : uint64 (int64 accepted)
        Root seed (Philox key word 0) and patient id (counter word 1).

    Returns
    -------
    uint64
    """
    pos = np.int64(table[s, 3])
    if pos >= 4:
        _refill(table, s, seed, patient)
        pos = 0
    table[s, 3] = np.uint64(pos + 1)
    return table[s, 4 + pos]


@numba.njit(inline="always", **JIT)
def uniform(table, s, seed, patient):
    """Uniform float64 strictly inside (0, 1): ``((x >> 12) + 0.5) * 2**-52``.

    52 bits, not 53: the midpoints of a 53-bit grid are not representable just below 1
    (``(2**53 - 1) + 0.5`` rounds to ``2**53``), so a 53-bit version can return exactly 1.0.
    Range is ``[2**-53, 1 - 2**-53]``, symmetric about 1/2, one word per call.
    """
    x = next_u64(table, s, seed, patient)
    # via int64: x >> 12 < 2**52 is exact either way and signed conversion is one instruction
    return (np.float64(np.int64(x >> _S12)) + 0.5) * _TWO_M52


@numba.njit(inline="always", **JIT)
def exponential(table, s, seed, patient):
    """Unit-rate exponential, ``-log(U)``; float64 in (0, 36.8]."""
    return -math.log(uniform(table, s, seed, patient))


@numba.njit(inline="always", **JIT)
def normal(table, s, seed, patient):
    """Standard normal by Box-Muller from two uniforms; the cosine branch only.

    No second value is cached: a cached value would make a draw depend on how many draws an
    earlier (strategy-specific) step took from the same stream.
    """
    u1 = uniform(table, s, seed, patient)
    u2 = uniform(table, s, seed, patient)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


@numba.njit(**JIT)
def _stirlerr(n):
    """``log(n!) - log(sqrt(2 pi n) (n/e)^n)`` for integer-valued float64 ``n >= 1`` (Loader)."""
    if n > 15.0:
        nn = n * n
        return (1.0 / 12 - (1.0 / 360 - (1.0 / 1260 - (1.0 / 1680 - (1.0 / 1188) / nn) / nn)
                            / nn) / nn) / n
    return math.lgamma(n + 1.0) - (n + 0.5) * math.log(n) + n - _HALF_LOG_2PI


@numba.njit(**JIT)
def _bd0(x, m):
    """Deviance term ``x log(x/m) + m - x`` without cancellation (Loader 2000)."""
    if abs(x - m) < 0.1 * (x + m):
        v = (x - m) / (x + m)
        total = (x - m) * v
        ej = 2.0 * x * v
        v2 = v * v
        for j in range(1, 1000):
            ej *= v2
            nxt = total + ej / (2 * j + 1)
            if nxt == total:
                return nxt
            total = nxt
        return total
    return x * math.log(x / m) + m - x


@numba.njit(**JIT)
def _poisson_logpmf(k, lam):
    """log P(K = k) for K ~ Poisson(lam), float64, accurate for lam up to ~1e15.

    The textbook ``-lam + k log(lam) - lgamma(k+1)`` loses O(lam * 1e-16) absolute accuracy
    to cancellation (several units at 1e15), which would bias the PTRS acceptance test.
    """
    if k < 1.0:
        return -lam
    return -_bd0(k, lam) - _HALF_LOG_2PI - 0.5 * math.log(k) - _stirlerr(k)


@numba.njit(**JIT)
def poisson(table, s, seed, patient, lam):
    """Exact Poisson(``lam``) variate as float64 (``lam <= 0`` gives 0.0).

    Inversion for ``lam < 10`` (exactly one uniform, also for ``lam <= 0``, so small rates
    couple monotonically across strategies); Hörmann's PTRS transformed rejection (1993),
    about 2.3 uniforms per draw, for ``lam >= 10``.  PTRS stays exact while the float spacing
    at ``lam`` is below 1 (``lam < 2**52``) because the acceptance integral depends only on
    the unit width of each ``k`` interval, not on where rounding puts it.  NaN or
    ``lam >= 2**52`` raises ``ValueError``.
    """
    if not lam < _POISSON_MAX:  # also NaN: PTRS would loop forever
        raise ValueError("poisson rate must be finite and below 2**52.")
    if lam < _POISSON_INVERSION_MAX:
        u = uniform(table, s, seed, patient)  # drawn even for lam <= 0: see docstring
        if not lam > 0.0:
            return 0.0
        p = math.exp(-lam)
        cdf = p
        k = 0.0
        while u > cdf:
            k += 1.0
            p *= lam / k
            nxt = cdf + p
            if nxt == cdf:  # cdf stalled just below u in float arithmetic: deep tail
                break
            cdf = nxt
        return k
    slam = math.sqrt(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    log_invalpha = math.log(1.1239 + 1.1328 / (b - 3.4))
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = uniform(table, s, seed, patient) - 0.5
        v = uniform(table, s, seed, patient)
        us = 0.5 - abs(u)
        # np.floor, not math.floor: numba's math.floor returns int64, which overflows as us -> 0
        k = np.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + log_invalpha - math.log(a / (us * us) + b)
                <= _poisson_logpmf(k, lam)):
            return k


@numba.njit(**JIT)
def categorical(table, s, seed, patient, cumprobs):
    """Index ``i`` of the first ``u < cumprobs[i]`` (float64[m], ending in 1.0); int64.

    The last index is returned if rounding leaves ``cumprobs[-1]`` slightly below ``u``.
    """
    u = uniform(table, s, seed, patient)
    last = cumprobs.shape[0] - 1
    for i in range(last):
        if u < cumprobs[i]:
            return i
    return last


@numba.njit(inline="always", **JIT)
def geometric(table, s, seed, patient, p):
    """Trials to the first success, support {1, 2, ...}, success probability ``p`` in (0, 1].

    Inversion ``ceil(log(U) / log1p(-p))``: exact in distribution, ``log1p`` keeps tiny ``p``
    accurate.  ``p == 1`` gives 1.0, ``p == 0`` gives ``inf``, anything outside [0, 1] or NaN
    raises ``ValueError``.  Always consumes exactly one uniform, whatever ``p``, so later
    draws on the stream do not depend on it.  float64.
    """
    u = uniform(table, s, seed, patient)
    if not 0.0 <= p <= 1.0:
        raise ValueError("geometric success probability must be in (0, 1].")
    if p == 1.0:
        return 1.0
    if p == 0.0:
        return math.inf
    return np.ceil(math.log(u) / math.log1p(-p))  # float: exceeds int64 for tiny p


@numba.njit(**JIT)
def normal_at(seed, patient, purpose, substream, index):
    """Stateless standard normal at a fixed counter: draw ``index`` of ``substream``.

    Key (seed, purpose), counter (index, patient, substream, 1); word 3 = 1 keeps these
    draws apart from the sequential streams (word 3 = 0). A draw addressed by, e.g.,
    (lesion slot, scan number) is the same in every strategy whatever else happened, and a
    caller may skip draws it does not need without shifting later ones (DESIGN.md §2.13).
    Box–Muller from the block's first two words, mapped like :func:`uniform`.
    """
    w0, w1, _w2, _w3 = philox4x64_10(np.uint64(index), np.uint64(patient),
                                       np.uint64(substream), _U1, np.uint64(seed),
                                       np.uint64(purpose))
    u1 = (np.float64(np.int64(w0 >> _S12)) + 0.5) * _TWO_M52
    u2 = (np.float64(np.int64(w1 >> _S12)) + 0.5) * _TWO_M52
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)
