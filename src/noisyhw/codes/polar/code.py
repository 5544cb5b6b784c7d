"""A polar code: length, information set (fixed at construction), optional CRC, encoders."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

import numpy as np

from ...errors import ParameterError, check_choice, check_float, check_int
from ...seeding import RngLike, as_rng
from ..crc import CRC, get_crc
from .construction import bhattacharyya, gaussian_approximation, nr5g

__all__ = ["CONSTRUCTIONS", "PolarCode", "polar_transform"]

CONSTRUCTIONS = ("5g", "ga", "bhattacharyya")
_LLR_CLIP = 1e12  #: LLR magnitudes are clipped here (a certain bit; float32-safe sums)
_COMPILED_MIN = 1 << 16  #: bits per call from which the compiled transform is used


def polar_transform(u: np.ndarray) -> np.ndarray:
    """``x = u F^{(x)m}`` over GF(2) for ``u`` (F, n) or (n,) of 0/1 (natural order, uint8).

    The transform is its own inverse. Cost ``n log2 n / 2`` XORs per frame: compiled, frame by
    frame, for batches of at least ``_COMPILED_MIN`` bits (numpy below, no compile wait).
    """
    x = np.array(u, dtype=np.uint8, copy=True)
    squeeze = x.ndim == 1
    x = x.reshape(1, -1) if squeeze else x
    frames, n = x.shape
    if n & (n - 1) or n == 0:
        raise ParameterError("u", "length must be a power of two", n)
    if frames * n >= _COMPILED_MIN and n % 8 == 0 and sys.byteorder == "little":
        from ._transform import transform_words_

        transform_words_(x.view(np.uint64))
        return x[0] if squeeze else x
    h = 1
    while h < n:
        v = x.reshape(frames, n // (2 * h), 2, h)
        v[:, :, 0, :] ^= v[:, :, 1, :]
        h *= 2
    return x[0] if squeeze else x


@dataclass
class PolarCode:
    """A polar code of length ``n`` carrying ``k`` information bits (+ an optional CRC).

    ``k`` counts **information bits only**: the CRC's ``r`` bits are added on top, so the
    information set has ``K = k + r`` positions and the rate is ``k / n`` (the rate used for
    Eb/N0). The information set is chosen once, here, for ``design_snr_db`` (Eb/N0 in dB for
    ``ga`` / ``bhattacharyya``; the 5G sequence needs none) and never changes afterwards.

    Payload order: the ``k`` message bits followed by the ``r`` CRC bits occupy the information
    positions in increasing index order (the CRC is decoded last, as in 5G uplink).

    Parameters
    ----------
    n : code length, a power of two >= 2 (<= 1024 for ``"5g"``).
    k : information bits, ``1 <= k`` and ``k + r <= n``.
    construction : ``"5g"``, ``"ga"`` (Gaussian approximation) or ``"bhattacharyya"``.
    design_snr_db : design Eb/N0 (dB) for ``ga`` / ``bhattacharyya``.
    crc : None, a name in :data:`noisyhw.codes.CRCS` (``"crc8"``, ``"crc11"``, ``"crc24c"``,
        ...) or a :class:`~noisyhw.codes.CRC`.
    systematic : encode systematically (the payload appears at the information positions of
        the codeword); decoders then re-encode their decision to read the payload.
    """

    n: int
    k: int
    construction: str = "5g"
    design_snr_db: float = 2.0
    crc: CRC | str | None = None
    systematic: bool = False
    frozen: np.ndarray = field(init=False, repr=False)
    info_positions: np.ndarray = field(init=False, repr=False)
    reliability: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.n = check_int("n", self.n, 2)
        if self.n & (self.n - 1):
            raise ParameterError("n", "must be a power of two >= 2", self.n)
        self.k = check_int("k", self.k, 1)
        self.construction = check_choice("construction", self.construction, CONSTRUCTIONS)
        self.design_snr_db = check_float("design_snr_db", self.design_snr_db)
        self.crc = get_crc(self.crc)
        if self.k > self.n:
            raise ParameterError("k", f"must be <= n = {self.n}", self.k)
        if self.k + self.crc_bits > self.n:
            raise ParameterError(
                "k", f"k + CRC bits ({self.crc_bits}) must be <= n = {self.n}", self.k
            )
        if self.construction == "5g":
            order = nr5g(self.n)
        elif self.construction == "ga":
            order = gaussian_approximation(self.n, self.design_snr_db, self.rate)
        else:
            order = bhattacharyya(self.n, self.design_snr_db, self.rate)
        self.reliability = order
        self.info_positions = np.sort(order[self.n - self.K :])
        self.frozen = np.ones(self.n, dtype=bool)
        self.frozen[self.info_positions] = False
        self._sys_ok: bool | None = None

    # ------------------------------------------------------------------ sizes
    @property
    def crc_bits(self) -> int:
        """r, the number of CRC bits (0 without a CRC)."""
        return 0 if self.crc is None else self.crc.width

    @property
    def K(self) -> int:  # noqa: N802 - standard notation
        """Information-set size: ``k`` message bits + ``r`` CRC bits."""
        return self.k + self.crc_bits

    @property
    def m(self) -> int:
        return int(math.log2(self.n))

    @property
    def rate(self) -> float:
        """``k / n``: information bits per channel bit (CRC bits excluded)."""
        return self.k / self.n

    def describe(self) -> str:
        crc = self.crc.name if self.crc else "none"
        return (
            f"polar({self.n},{self.k}) crc={crc} (K={self.K} incl. CRC) rate k/n="
            f"{self.rate:.4g} construction={self.construction}"
            + (f"@{self.design_snr_db:g}dB" if self.construction != "5g" else "")
            + (" systematic" if self.systematic else "")
        )

    # ------------------------------------------------------------------ encoding
    def random_messages(self, frames: int, rng: RngLike = None) -> np.ndarray:
        """Uniform random messages (frames, k) uint8."""
        return as_rng(rng).integers(0, 2, size=(frames, self.k), dtype=np.uint8)

    def payload(self, messages: np.ndarray) -> np.ndarray:
        """Messages (F, k) -> payload (F, K) = message + CRC."""
        msg = self._check_bits(messages, self.k, "messages")
        return msg if self.crc is None else self.crc.attach(msg)

    def encode(self, messages: np.ndarray) -> np.ndarray:
        """Codewords (F, n) uint8 of messages (F, k) (or (k,) -> (n,))."""
        msg = np.asarray(messages)
        squeeze = msg.ndim == 1
        pay = self.payload(msg.reshape(1, -1) if squeeze else msg)
        x = self._encode_payload(pay)
        return x[0] if squeeze else x

    def _encode_payload(self, pay: np.ndarray) -> np.ndarray:
        F = pay.shape[0]
        w = np.zeros((F, self.n), dtype=np.uint8)
        w[:, self.info_positions] = pay
        if not self.systematic:
            return polar_transform(w)
        self._check_systematic()
        u = polar_transform(w)
        u[:, self.frozen] = 0
        return polar_transform(u)

    def _check_systematic(self) -> None:
        """The two-transform systematic encoder needs a domination-contiguous information set;
        verify it once on the unit payloads (exact for a linear map)."""
        if self._sys_ok is None:
            eye = np.eye(self.K, dtype=np.uint8)
            w = np.zeros((self.K, self.n), dtype=np.uint8)
            w[:, self.info_positions] = eye
            u = polar_transform(w)
            u[:, self.frozen] = 0
            x = polar_transform(u)
            self._sys_ok = bool(np.array_equal(x[:, self.info_positions], eye))
        if not self._sys_ok:
            raise ParameterError(
                "systematic",
                "this information set is not domination contiguous; use systematic=False",
                True,
            )

    def payload_from_u(self, u: np.ndarray) -> np.ndarray:
        """Decoded ``u`` (..., n) -> payload (..., K) (re-encoding first when systematic)."""
        if self.systematic:
            shp = u.shape
            x = polar_transform(u.reshape(-1, self.n)).reshape(shp)
            return x[..., self.info_positions]
        return u[..., self.info_positions]

    def _check_bits(self, bits: np.ndarray, width: int, name: str) -> np.ndarray:
        b = np.asarray(bits)
        if b.ndim != 2 or b.shape[1] != width:
            raise ParameterError(name, f"must have shape (F, {width})", b.shape)
        if b.dtype != bool and ((b != 0) & (b != 1)).any():  # 2 or 0.7 were cast silently
            raise ParameterError(name, "bits must be 0 or 1", str(np.unique(b)[:5]))
        return np.ascontiguousarray(b, dtype=np.uint8)

    def check_llr(self, llr: np.ndarray) -> tuple[np.ndarray, bool]:
        """Validate channel LLRs: (F, n) or (n,) floats (+-inf allowed) -> (F, n) float64, or
        float32 for float32 input (the decoders' working precision: no conversion copies), and
        whether the input was one frame. :meth:`llr_frames` also takes any leading dims."""
        a = np.asarray(llr)
        if a.ndim not in (1, 2) or a.shape[-1] != self.n:
            raise ParameterError("llr", f"must have shape (F, {self.n}) or ({self.n},)", a.shape)
        frames, _ = self.llr_frames(a)
        return frames, a.ndim == 1

    def llr_frames(self, llr: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
        """Validate channel LLRs of shape ``[..., n]`` (any leading dims, as Sionna's decoders
        take them) -> frames (F, n) (float32 stays float32, anything else float64) and the
        leading shape (``()`` for one frame). Values as :meth:`check_llr`."""
        a = np.asarray(llr)
        if a.ndim == 0 or a.shape[-1] != self.n:
            raise ParameterError("llr", f"must have shape [..., {self.n}]", a.shape)
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            raise ParameterError("llr", "must be real numbers (float or int)", str(a.dtype))
        dtype = np.float32 if a.dtype == np.float32 else np.float64
        lead = a.shape[:-1]
        a = np.ascontiguousarray(a.reshape(-1, self.n), dtype=dtype)
        with np.errstate(invalid="ignore"):
            lo, hi = a.min(initial=0.0), a.max(initial=0.0)
        if lo >= -_LLR_CLIP and hi <= _LLR_CLIP:  # fast path (False for NaN): no copy
            return a, lead
        # +-inf (a perfectly known bit) and huge finite LLRs (inf once in float32) are clipped
        # so that g = b - a never forms inf - inf; after clipping, only NaN stays out of range
        a = np.clip(a, -_LLR_CLIP, _LLR_CLIP)
        if np.isnan(a.sum()):
            raise ParameterError("llr", "must not contain NaN")
        return a, lead
