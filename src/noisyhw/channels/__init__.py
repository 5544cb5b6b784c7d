"""Every imperfection as a channel: AWGN, binary symmetric (bit flips in memory), binary erasure.

Conventions, stated once for the whole package
-----------------------------------------------
* **SNR** (analog compute): ``snr_db = 10 log10(P_signal / P_noise)``; a noise standard deviation
  for a measured signal power ``P`` is ``sqrt(P / 10**(snr_db / 10))``. ``snr_db = inf`` means no
  noise. Which signal power is used (per layer, per sample, full scale ...) is decided by the caller
  (see :mod:`noisyhw.analog`), not here.
* **BPSK over AWGN** (channel coding): bit 0 -> +1, bit 1 -> -1, unit symbol energy
  ``Es = 1``. ``Eb/N0`` counts *information* bits only: with code rate ``R = k / n``
  (information bits per transmitted bit; CRC bits are *not* information), ``Es/N0 = R * Eb/N0`` and
  the real noise per dimension has variance ``sigma^2 = N0 / 2 = 1 / (2 R Eb/N0)``.
  LLRs are ``log P(bit=0 | y) / P(bit=1 | y) = 2 y / sigma^2``: positive means 0.
* **BSC on memory** (stored data): :func:`bsc` flips bits of the *memory image* of a numpy array.
  Bit ``k`` of an element is the bit of weight ``2**k`` of its unsigned-integer view (k = 0 is the
  least significant bit; for IEEE floats k = width-1 is the sign). Cost is O(number of flips).
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np
import torch

from ..errors import ParameterError, check_float, check_probability
from ..seeding import RngLike, as_rng

__all__ = [
    "awgn",
    "awgn_",
    "bec",
    "bit_positions",
    "bpsk",
    "bpsk_awgn",
    "bsc",
    "bsc_bits",
    "bsc_inplace",
    "db_to_linear",
    "ebn0_to_sigma",
    "linear_to_db",
    "llr_awgn",
    "llr_bsc",
    "measured_snr_db",
    "noise_std",
]

_UINT_BY_SIZE = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


# --------------------------------------------------------------------------- SNR conventions
def db_to_linear(db: float) -> float:
    """``10 ** (db / 10)`` (a power ratio)."""
    return 10.0 ** (db / 10.0)


def linear_to_db(ratio: float) -> float:
    """``10 log10(ratio)``; 0 -> -inf."""
    return -math.inf if ratio <= 0 else 10.0 * math.log10(ratio)


@overload
def noise_std(signal_power: float, snr_db: float) -> float: ...
@overload
def noise_std(signal_power: torch.Tensor, snr_db: float) -> torch.Tensor: ...
def noise_std(signal_power, snr_db):
    """Noise standard deviation giving ``snr_db`` for a signal of mean power ``signal_power``.

    Works elementwise on a float, numpy array or tensor of powers. ``snr_db = inf`` gives 0.
    """
    snr_db = check_float("snr_db", snr_db, allow_inf=True)
    if snr_db == math.inf:
        return signal_power * 0.0
    scale = 10.0 ** (-snr_db / 10.0)
    if isinstance(signal_power, torch.Tensor):
        return torch.sqrt(signal_power * scale)
    return (
        np.sqrt(np.asarray(signal_power) * scale)
        if np.ndim(signal_power)
        else math.sqrt(float(signal_power) * scale)
    )


def measured_snr_db(signal: torch.Tensor | np.ndarray, noise: torch.Tensor | np.ndarray) -> float:
    """``10 log10(mean(signal^2) / mean(noise^2))`` over all elements."""
    s = (
        float((signal.astype(np.float64) ** 2).mean())
        if isinstance(signal, np.ndarray)
        else float(signal.double().pow(2).mean())
    )
    n = (
        float((noise.astype(np.float64) ** 2).mean())
        if isinstance(noise, np.ndarray)
        else float(noise.double().pow(2).mean())
    )
    return math.inf if n == 0 else linear_to_db(s / n)


# --------------------------------------------------------------------------- AWGN
@overload
def awgn(
    x: torch.Tensor, std: float | torch.Tensor, rng: torch.Generator | None = None
) -> torch.Tensor: ...
@overload
def awgn(x: np.ndarray, std: float | np.ndarray, rng: RngLike = None) -> np.ndarray: ...
def awgn(x, std, rng=None):
    """Return ``x + std * N(0, 1)``; ``std`` broadcasts against ``x`` (per layer/sample/output).

    Tensors take a ``torch.Generator`` (on ``x``'s device) or None; arrays take a seed or numpy
    Generator. The result has ``x``'s dtype and device; ``x`` itself is not modified. Gradients
    flow through ``x`` (and a tensor ``std``). On the CPU the normals come from the same compiled
    sampler as :func:`awgn_` (one key drawn from ``rng``), so ``awgn(x, s, g)`` and
    ``awgn_(x.clone(), s, g)`` add the same noise for the same generator state; on other devices
    from torch's ``normal_``. :func:`awgn_` is the fast in-place variant.
    """
    if isinstance(x, torch.Tensor):
        noise = _torch_normal(x, rng)
        if isinstance(std, torch.Tensor):
            return torch.addcmul(x, noise, std.to(x.dtype))
        return torch.add(x, noise, alpha=float(std))
    x = np.asarray(x)
    g = as_rng(rng)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    return (x + std * g.standard_normal(x.shape)).astype(dtype, copy=False)


def _torch_normal(x: torch.Tensor, rng: torch.Generator | None) -> torch.Tensor:
    """Standard normals shaped like ``x``: the compiled sampler for CPU float tensors of at least
    ``_COMPILED_MIN`` elements, torch's ``normal_`` otherwise."""
    if _compiled_ok(x):
        noise = torch.zeros(x.shape, dtype=x.dtype)
        if noise.numel():
            _add_normal(
                noise.numpy().reshape(-1),
                _key(rng),
                np.ones(1, noise.numpy().dtype),
                noise.numel(),
                noise.numel(),
                1,
            )
        return noise
    return torch.empty(x.shape, device=x.device, dtype=x.dtype).normal_(generator=rng)


def _key(rng: torch.Generator | None) -> int:
    """One 64-bit key of the compiled sampler, drawn from a torch generator (None: global)."""
    return int(torch.randint(-(2**63), 2**63 - 1, (), dtype=torch.int64, generator=rng)) & (
        2**64 - 1
    )


#: smaller tensors draw with torch's ``normal_`` (the compiled call's fixed cost is larger)
_COMPILED_MIN = 1 << 12
#: below this many elements awgn_ uses one thread even when torch has more (2 threads, noisy
#: ResNet-20 / clean: 1.35x with 2^20, 1.28x with 2^16 in a session-4 probe: its 64-channel
#: stage has 2^19 outputs per layer)
_PARALLEL_MIN = 1 << 16


def _compiled_ok(x: torch.Tensor) -> bool:
    return (
        x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.float64)
        and x.numel() >= _COMPILED_MIN
    )


def awgn_(x, std, rng=None):
    """Add ``std * N(0, 1)`` to ``x`` **in place** and return ``x`` (a tensor or numpy array).

    ``std`` is a float or a tensor / array broadcastable to ``x`` (one sigma per layer, per
    sample, per output channel ...). ``rng``: a ``torch.Generator`` (tensors; None = torch's
    global generator) or a seed / numpy Generator (arrays).

    CPU float32/float64 (from 4096 elements): a compiled ziggurat sampler
    (:mod:`noisyhw.channels._gauss_kernels`: exact on a grid at most 2.04e-6 apart; in place, ~3x faster
    than torch's CPU ``normal_`` + add). One 64-bit key is drawn from
    ``rng`` per call; the noise is a function of that key and each element's index only, so it is
    the same for any number of threads. Contiguous tensors that need no gradient, whose ``std``
    varies over the leading dims and/or over one run of consecutive dims (per layer, per sample,
    per channel, per replica and channel), get it added in one pass without a temporary; other
    layouts draw the same normals into a temporary first. Other devices and dtypes, and smaller
    tensors, use torch's ``normal_``. ``x`` must not be a leaf that requires grad (as for any in-place op).
    """
    if isinstance(x, torch.Tensor):
        layout = _fast_layout(x, std)
        if layout is None:
            noise = _torch_normal(x, rng)  # same normals as the fused path, via a temporary
            if isinstance(std, torch.Tensor):
                return x.addcmul_(noise, std.to(x.dtype))
            return x.add_(noise, alpha=float(std))
        _add_normal(x.detach().numpy().reshape(-1), _key(rng), *layout)
        return x
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
        raise ParameterError("x", "awgn_ needs a tensor or a float32/float64 numpy array")
    if not (x.flags.c_contiguous and x.flags.writeable):
        raise ParameterError("x", "must be a C-contiguous writable array for awgn_")
    layout = _fast_layout(x, std)
    if layout is None:
        x += np.asarray(std) * as_rng(rng).standard_normal(x.shape)
        return x
    key = int(as_rng(rng).integers(0, 2**64, dtype=np.uint64))
    _add_normal(x.reshape(-1), key, *layout)
    return x


def _fast_layout(x, std) -> tuple[np.ndarray, int, int, int] | None:
    """``(sig, group_size, inner, n_ch)`` of :func:`awgn_`'s compiled kernel, or None.

    ``std`` may vary over a prefix of ``x``'s dims (groups) and over one run of consecutive
    dims after it (channels); sig[g * n_ch + c] is the sigma of group g, channel c.
    """
    if isinstance(x, torch.Tensor):
        if (
            not _compiled_ok(x)
            or not x.is_contiguous()
            or (x.requires_grad and torch.is_grad_enabled())
            or (isinstance(std, torch.Tensor) and std.requires_grad and torch.is_grad_enabled())
        ):
            return None
        dtype = np.float32 if x.dtype == torch.float32 else np.float64
    else:
        dtype = x.dtype.type
    shape = tuple(x.shape)
    n = math.prod(shape)
    if n == 0:
        return None
    if isinstance(std, int | float):
        return np.full(1, std, dtype=dtype), n, n, 1
    if isinstance(std, torch.Tensor):
        if std.device.type != "cpu":
            return None
        s = std.detach().to(torch.float64).numpy()
    else:
        s = np.asarray(std, dtype=np.float64)
    if s.ndim > len(shape):
        return None
    sshape = (1,) * (len(shape) - s.ndim) + s.shape
    if any(a != 1 and a != b for a, b in zip(sshape, shape, strict=True)):
        return None  # not broadcastable: let torch / numpy raise
    dims = [d for d in range(len(shape)) if shape[d] != 1]  # size-1 dims carry no structure
    varying = [sshape[d] != 1 for d in dims]
    p = 0
    while p < len(dims) and varying[p]:
        p += 1
    rest = [i for i in range(p, len(dims)) if varying[i]]
    if rest and rest != list(range(rest[0], rest[-1] + 1)):
        return None
    size = [shape[d] for d in dims]
    groups = int(np.prod(size[:p])) if p else 1
    group_size = n // groups
    if rest:
        n_ch = int(np.prod(size[rest[0] : rest[-1] + 1]))
        inner = int(np.prod(size[rest[-1] + 1 :])) if rest[-1] + 1 < len(size) else 1
    else:
        n_ch, inner = 1, group_size
    sig = np.ascontiguousarray(s.reshape(-1), dtype=dtype)
    if sig.size != groups * n_ch:
        return None
    return sig, group_size, inner, n_ch


def _add_normal(flat: np.ndarray, key: int, sig, group_size: int, inner: int, n_ch: int) -> None:
    from . import _gauss_kernels as gk

    if flat.size >= _PARALLEL_MIN and torch.get_num_threads() > 1:
        import numba

        numba.set_num_threads(min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
        gk.add_normal_parallel(flat, sig, np.uint64(key), group_size, inner, n_ch)
    else:
        gk.add_normal_serial(flat, sig, np.uint64(key), group_size, inner, n_ch)


def bpsk(bits: np.ndarray) -> np.ndarray:
    """BPSK map: 0 -> +1.0, 1 -> -1.0 (float64, same shape)."""
    return 1.0 - 2.0 * np.asarray(bits, dtype=np.float64)


def ebn0_to_sigma(ebn0_db: float, rate: float) -> float:
    """Noise std per real dimension for unit-energy BPSK at ``ebn0_db`` with code rate ``rate``."""
    check_float("ebn0_db", ebn0_db)
    check_float("rate", rate, 0.0, 1.0, lo_open=True)
    return math.sqrt(1.0 / (2.0 * rate * db_to_linear(ebn0_db)))


def llr_awgn(y: np.ndarray, sigma: float) -> np.ndarray:
    """Channel LLRs ``2 y / sigma^2`` of BPSK observations ``y`` (positive favours bit 0)."""
    return (2.0 / sigma**2) * np.asarray(y, dtype=np.float64)


def bpsk_awgn(bits: np.ndarray, ebn0_db: float, rate: float, rng: RngLike = None) -> np.ndarray:
    """Send ``bits`` (any shape, e.g. (F, n)) as BPSK over AWGN at ``ebn0_db``; return LLRs.

    Equal, bit for bit, to ``llr_awgn(awgn(bpsk(bits), sigma, rng), sigma)`` (float64); integer
    or bool bits of at least ``_COMPILED_MIN`` entries take one compiled pass instead of five.
    """
    sigma = ebn0_to_sigma(ebn0_db, rate)
    b = np.asarray(bits)
    if b.size < _COMPILED_MIN or b.dtype.kind not in "biu":
        return llr_awgn(awgn(bpsk(b), sigma, rng), sigma)
    from ._bpsk_kernel import bpsk_llr_

    z = as_rng(rng).standard_normal(b.shape)  # the same normals as awgn() draws
    flat = np.ascontiguousarray(b).reshape(-1)
    bpsk_llr_(
        z.reshape(-1), flat.view(np.uint8) if flat.dtype == bool else flat, sigma, 2.0 / sigma**2
    )
    return z


# --------------------------------------------------------------------------- BSC / BEC on bits
def bsc_bits(bits: np.ndarray, p: float, rng: RngLike = None) -> np.ndarray:
    """Flip each entry of a 0/1 array independently with probability ``p`` (uint8 result)."""
    p = check_probability("p", p)
    b = np.asarray(bits).astype(np.uint8)
    return b ^ (as_rng(rng).random(b.shape) < p).astype(np.uint8)


def llr_bsc(received_bits: np.ndarray, p: float) -> np.ndarray:
    """Channel LLRs of BSC outputs: ``+-log((1-p)/p)``, positive where the received bit is 0."""
    p = check_float("p", p, 0.0, 0.5, lo_open=True, hi_open=True)
    mag = math.log((1.0 - p) / p)
    return mag * (1.0 - 2.0 * np.asarray(received_bits, dtype=np.float64))


def bec(llr: np.ndarray, p: float, rng: RngLike = None) -> np.ndarray:
    """Erase each LLR independently with probability ``p`` (erased -> 0.0, "no information")."""
    p = check_probability("p", p)
    out = np.array(llr, dtype=np.float64, copy=True)
    out[as_rng(rng).random(out.shape) < p] = 0.0
    return out


# --------------------------------------------------------------------------- BSC on memory
def bsc(
    data: np.ndarray,
    p: float | None = None,
    rng: RngLike = None,
    *,
    p01: float | None = None,
    p10: float | None = None,
    bit_mask: np.ndarray | list[int] | None = None,
) -> np.ndarray:
    """Flip the stored bits of ``data`` independently; return a new array (same dtype and shape).

    Parameters
    ----------
    data:
        Any numeric numpy array whose itemsize is 1, 2, 4 or 8 bytes (floats, ints, uint16-held
        bfloat16 ...). Its memory image is ``data.size * 8 * itemsize`` bits.
    p:
        Symmetric bit error rate in [0, 1]. Give either ``p`` or ``p01``/``p10``.
    p01, p10:
        Asymmetric rates: a stored 0 becomes 1 with probability ``p01``, a 1 becomes 0 with
        ``p10`` (unset one defaults to 0).
    bit_mask:
        Which bit positions of each element may flip: a boolean array of length ``8 * itemsize``
        (True = exposed) or a list of positions (e.g. ``[k]`` hits only bit k). Default: all.
    rng:
        Seed or numpy Generator.

    Every exposed bit flips independently, so the number of flips among the ``N`` exposed bits
    is Binomial(N, p) and, given their number, the flipped positions are a uniform random subset.
    Cost is O(flips), not O(bits): a compiled loop jumps from one flip to the next by geometric
    gaps (``floor(log U / log(1 - p))`` bits, exactly the distance to the next success of a
    Bernoulli(p) sequence) and XORs each bit in place. For ``p > 1/2`` every exposed bit is
    inverted first and the ``1 - p`` survivors are flipped back. Asymmetric rates draw
    candidates at ``max(p01, p10)`` and keep each with the ratio of its own bit's rate (exact
    thinning). See :func:`bsc_inplace` for the in-place variant that returns the flip count.
    """
    out = np.array(_check_data(data), copy=True, order="C")
    bsc_inplace(out, p, rng, p01=p01, p10=p10, bit_mask=bit_mask)
    return out


def bsc_inplace(
    data: np.ndarray,
    p: float | None = None,
    rng: RngLike = None,
    *,
    p01: float | None = None,
    p10: float | None = None,
    bit_mask: np.ndarray | list[int] | None = None,
) -> int:
    """:func:`bsc` in place on a C-contiguous writable array; returns the number of bits flipped."""
    arr = _check_data(data)
    if not (arr.flags.c_contiguous and arr.flags.writeable):
        raise ParameterError("data", "must be a C-contiguous writable array for bsc_inplace")
    if p is None and p01 is None and p10 is None:
        raise ParameterError("p", "give the bit error rate p, or p01/p10")
    if p is not None and (p01 is not None or p10 is not None):
        raise ParameterError("p", "give either p or p01/p10, not both")
    if p is not None:
        p = check_probability("p", p)
        r01 = r10 = p
    else:
        r01 = check_probability("p01", p01 or 0.0)
        r10 = check_probability("p10", p10 or 0.0)
    width = 8 * arr.dtype.itemsize
    positions = bit_positions(bit_mask, width)
    words = arr.reshape(-1).view(_UINT_BY_SIZE[arr.dtype.itemsize])
    rate = max(r01, r10)
    if rate == 0.0 or words.size == 0 or positions.size == 0:
        return 0
    g = as_rng(rng)
    if r01 == r10 and rate > 0.5:  # invert every exposed bit, then restore each w.p. 1 - p
        all_mask = np.bitwise_or.reduce(np.left_shift(np.uint64(1), positions.astype(np.uint64)))
        words ^= words.dtype.type(all_mask)
        n_exposed = words.size * positions.size
        if rate == 1.0:
            return n_exposed
        restored = _flip_geometric(words, positions, 1.0 - rate, 1.0, 1.0, g)
        return n_exposed - restored
    return _flip_geometric(words, positions, rate, r01 / rate, r10 / rate, g)


def _check_data(data: np.ndarray) -> np.ndarray:
    arr = np.asarray(data)
    if arr.dtype.itemsize not in _UINT_BY_SIZE or arr.dtype.kind not in "fiub":
        raise ParameterError(
            "data", "dtype must be numeric with itemsize 1, 2, 4 or 8 bytes", str(arr.dtype)
        )
    return arr


def bit_positions(bit_mask: np.ndarray | list[int] | None, width: int) -> np.ndarray:
    """Sorted, unique int64 bit positions (bit 0 = LSB) selected by ``bit_mask`` in a
    ``width``-bit word: ``None`` selects all, a boolean mask has length ``width``, integers are
    positions in ``[0, width)``; anything else (floats, strings) is a :class:`ParameterError`."""
    if bit_mask is None:
        return np.arange(width, dtype=np.int64)
    m = np.asarray(bit_mask)
    if m.dtype == bool:
        if m.shape != (width,):
            raise ParameterError("bit_mask", f"a boolean mask must have length {width}", m.shape)
        return np.flatnonzero(m).astype(np.int64)
    if m.size and m.dtype.kind not in "iu":
        raise ParameterError("bit_mask", "must be booleans or integer bit positions", m.dtype)
    pos = np.unique(m.astype(np.int64))
    if pos.size and (pos.min() < 0 or pos.max() >= width):
        raise ParameterError("bit_mask", f"bit positions must be in [0, {width - 1}]", m.tolist())
    return pos


def _flip_geometric(
    words: np.ndarray,
    positions: np.ndarray,
    rate: float,
    keep0: float,
    keep1: float,
    g: np.random.Generator,
) -> int:
    """Flip Bernoulli(rate) exposed bits (thinned by keep0/keep1); uniforms drawn in bulk."""
    from ._bsc_kernels import flip_geometric_chunk, xor_exposed_bits

    n = words.size * positions.size
    per = 2 if (keep0 < 1.0 or keep1 < 1.0) else 1
    start, flips = -1, 0
    if per == 1:  # no thinning: the same gaps, computed in bulk, then one compiled XOR pass
        logq = math.log1p(-rate)
        while True:
            expected = (n - 1 - start) * rate
            u = g.random(int(expected + 6.0 * math.sqrt(expected) + 64))
            gaps = np.minimum(np.log(1.0 - u) / logq, float(n)) if logq < 0.0 else np.zeros_like(u)
            flat = start + np.cumsum(gaps.astype(np.int64) + 1)
            inside = flat[flat <= n - 1]
            xor_exposed_bits(words, positions, inside)
            flips += int(inside.size)
            if inside.size < flat.size:
                return flips
            start = int(flat[-1])
    while True:
        expected = (n - 1 - start) * rate
        size = per * int(expected + 6.0 * math.sqrt(expected) + 64)
        start, f, done = flip_geometric_chunk(
            words, positions, rate, keep0, keep1, g.random(size), start
        )
        flips += int(f)
        if done:
            return flips
