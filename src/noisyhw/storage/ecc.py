"""Polar-coded storage: an error-correcting protection for the memory image of a tensor.

The stored words of a tensor (``width`` bits each, after any nulling parity) are grouped
``words_per_block = k // width`` to a block; a block's ``words_per_block * width`` bits fill ``k``
message bits of a ``(n, k)`` polar code (5G NR construction, :class:`noisyhw.codes.polar.
PolarCode`; the ``k - words_per_block * width`` spare message bits are zeros) and the ``n``-bit
codewords are what is stored, packed 8 to a byte. Every codeword bit then flips like any
stored bit; decoding takes the channel LLRs of each read bit and runs the project's batched
decoders over all blocks at once: fast inter-frame SC (``sc``, the default) or SCL with list
size ``L`` (``scl<L>``, approximate metric).

Layout of a block: the words are concatenated (LSB first) in information-position order and
the spare message bits come last. (Putting the most significant bits on the most reliable
information positions gave no lower MSB error rate under SC, whose errors propagate to later
bits: measured at n = 256 and 1024, p = 0.03 and 0.05; so the plain layout.)

Cost in stored bits: a tensor of ``m`` values takes ``ceil(m / words_per_block)`` codewords of
``n`` bits, i.e. ``n / words_per_block`` bits per value plus the last block's padding (about
``width / rate``); per-tensor side information (scale / range) is held in protected memory, as
for the other protections.

**The decoder knows the channel.** LLRs are those of a binary channel with known flip
probabilities: a read 0 has LLR ``log((1 - p01) / p10)``, a read 1 ``log(p01 / (1 - p10))``,
i.e. ``+-log((1 - p) / p)`` on the BSC (``p = 0``: certain bits). Min-sum SC and
approximate-metric SCL are invariant to a common LLR scale, and on the BSC every LLR has the
same magnitude: their decisions do not depend on ``p`` at all (tested), so the assumption only
matters for an asymmetric channel.

>>> ecc = PolarECC.parse("polar:0.5:scl8")
>>> ecc.k, ecc.words_per_block(8), ecc.bits_per_value(8)
(512, 64, 16.0)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..codes.polar import PolarCode, SCDecoder, SCLDecoder
from ..codes.polar.decoders import Decoder
from ..errors import ParameterError, check_choice, check_float, check_int
from .formats import StoredTensor, container_for

__all__ = ["ECC_SPEC", "CodedTensor", "PolarECC", "channel_llr"]

#: the protection syntax of a polar code (see :meth:`PolarECC.parse`)
ECC_SPEC = "polar:<rate>[:sc|:scl<L>][:n<N>]"
#: the default code length: the longest of the 5G NR construction (the strongest code)
DEFAULT_N = 1024
#: the longest code (the 5G NR reliability sequence is defined up to 1024)
MAX_N = 1024
#: the LLR magnitude of a certain bit (the decoders' own clip: float32-safe sums)
LLR_CERTAIN = 1e12
#: blocks decoded per call (bounds the LLR array: 4096 x 1024 float32 = 16 MiB)
_BLOCKS_PER_CALL = 4096


@dataclass
class CodedTensor(StoredTensor):
    """Memory image of a polar-coded tensor: ``words`` (blocks, n // 8) uint8 packed codeword
    bits (``width`` = 8 exposed bits per byte), ``shape`` of the values, ``inner_width`` bits
    per value word inside the code and ``meta`` of the inner image."""

    shape: tuple[int, ...] = ()
    inner_width: int = 0

    @property
    def num_values(self) -> int:
        return math.prod(self.shape)

    def copy(self) -> CodedTensor:
        return CodedTensor(
            self.words.copy(), self.width, dict(self.meta), self.shape, self.inner_width
        )


@lru_cache(maxsize=16)
def _code(n: int, k: int) -> PolarCode:
    return PolarCode(n, k, "5g")


@lru_cache(maxsize=16)
def _decoder(n: int, k: int, decoder: str, list_size: int) -> Decoder:
    code = _code(n, k)
    return SCDecoder(code) if decoder == "sc" else SCLDecoder(code, list_size)


def channel_llr(bits: np.ndarray, p01: float, p10: float) -> np.ndarray:
    """float32 LLRs (same shape) of read bits ``bits`` (0/1) through a binary channel that
    turns a stored 0 into 1 with probability ``p01`` and a 1 into 0 with ``p10``; positive
    favours 0, ``+-LLR_CERTAIN`` for a certain bit (finite: no clipping copy in the decoder)."""
    p01 = check_float("p01", p01, 0.0, 1.0)
    p10 = check_float("p10", p10, 0.0, 1.0)
    q01, q10 = np.float64(p01), np.float64(p10)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = np.array([np.log1p(-q01) - np.log(q10), np.log(q01) - np.log1p(-q10)])
    table = np.where(np.isnan(table), 0.0, table)  # read 0, read 1
    table = np.clip(table, -LLR_CERTAIN, LLR_CERTAIN).astype(np.float32)
    return table[np.asarray(bits, dtype=np.intp)]


@dataclass(frozen=True)
class PolarECC:
    """A ``(n, k = round(rate * n))`` polar code protecting stored words (see the module);
    ``rate`` becomes ``k / n``.

    ``decoder``: ``"sc"`` (fast inter-frame SC; ``list_size`` becomes 1) or ``"scl"`` (list
    size ``list_size``).
    """

    rate: float = 0.5
    n: int = DEFAULT_N
    decoder: str = "sc"
    list_size: int = 8
    k: int = field(init=False)

    def __post_init__(self) -> None:
        check_float("rate", self.rate, 0.0, 1.0, lo_open=True)
        check_int("n", self.n, 8, MAX_N)
        if self.n & (self.n - 1):
            raise ParameterError("n", f"must be a power of two in [8, {MAX_N}]", self.n)
        check_choice("decoder", self.decoder, ("sc", "scl"))
        check_int("list_size", self.list_size, 1, 64)
        if self.decoder == "sc":  # no list: one identity per code and decoder
            object.__setattr__(self, "list_size", 1)
        k = max(1, round(self.rate * self.n))
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "rate", k / self.n)  # the code's true rate: one name per code

    @classmethod
    def parse(cls, spec: str) -> PolarECC:
        """``polar:<rate>[:sc|:scl<L>][:n<N>]``, e.g. ``polar:0.5``, ``polar:0.5:scl8``,
        ``polar:0.75:sc:n256``; the rate is a decimal or a fraction
        (``polar:2/3``)."""
        parts = str(spec).strip().lower().split(":")
        if parts[0] != "polar" or len(parts) < 2:
            raise ParameterError("protection", f"a polar code is {ECC_SPEC}", spec)
        kw: dict[str, object] = {"rate": _rate(parts[1], spec)}
        for tok in parts[2:]:
            m = re.fullmatch(r"(sc)|scl(\d+)|n(\d+)", tok)
            key = None if m is None else ("decoder", "list", "n")[m.lastindex - 1]
            if key is None or (key in kw) or (key == "list" and "decoder" in kw):
                raise ParameterError("protection", f"a polar code is {ECC_SPEC}", spec)
            if key == "list":
                kw["decoder"], kw["list_size"] = "scl", int(m.group(2))
            elif key == "n":
                kw["n"] = int(m.group(3))
            else:
                kw[key] = m.group(m.lastindex)
        kw.pop("list", None)
        try:
            return cls(**kw)  # type: ignore[arg-type]
        except ParameterError as exc:
            raise ParameterError("protection", f"{exc.name} {exc.allowed}", spec) from None

    @property
    def name(self) -> str:
        """The canonical spec: ``polar:<rate>`` (``k/n`` where a short decimal is not exact)
        and the non-default options."""
        short = f"{self.rate:g}"
        out = f"polar:{short if float(short) == self.rate else f'{self.k}/{self.n}'}"
        out += f":scl{self.list_size}" if self.decoder == "scl" else ""
        return out + (f":n{self.n}" if self.n != DEFAULT_N else "")

    @property
    def code(self) -> PolarCode:
        return _code(self.n, self.k)

    def make_decoder(self) -> Decoder:
        """The (cached) batched decoder of this code."""
        return _decoder(self.n, self.k, self.decoder, self.list_size)

    # ------------------------------------------------------------------ sizes
    def words_per_block(self, width: int) -> int:
        """Whole ``width``-bit words per codeword (at least 1)."""
        wpb = self.k // width
        if wpb < 1:
            raise ParameterError(
                "protection", f"k = {self.k} message bits must hold one {width}-bit word", self.name
            )
        return wpb

    def blocks(self, num_values: int, width: int) -> int:
        """Codewords for ``num_values`` words of ``width`` bits."""
        return -(-num_values // self.words_per_block(width))

    def bits_per_value(self, width: int) -> float:
        """Stored bits per value without the last block's padding: ``n / words_per_block``."""
        return self.n / self.words_per_block(width)

    # ------------------------------------------------------------------ coding
    def encode_words(self, words: np.ndarray, width: int) -> np.ndarray:
        """Packed codewords (blocks, n // 8) uint8 of ``words`` (any shape, unsigned, low
        ``width`` bits used), in C order, the last block padded with zero words."""
        w = np.asarray(words).reshape(-1)
        wpb = self.words_per_block(width)
        blocks = self.blocks(w.size, width)
        full = np.zeros(blocks * wpb, dtype=container_for(width))
        full[: w.size] = w
        msg = np.zeros((blocks, self.k), dtype=np.uint8)
        msg[:, : wpb * width] = _word_bits(full, width).reshape(blocks, wpb * width)
        x = self.code.encode(msg) if blocks else np.zeros((0, self.n), dtype=np.uint8)
        return np.packbits(x, axis=1, bitorder="little")

    def decode_words(
        self, packed: np.ndarray, count: int, width: int, p01: float = 0.0, p10: float = 0.0
    ) -> np.ndarray:
        """Decoded words (count,) uint64 of packed (possibly corrupted) codewords ``packed``
        (blocks, n // 8), read through a channel with flip probabilities ``p01`` / ``p10``
        (see :func:`channel_llr`). All blocks go through the batched decoder, a few thousand
        per call."""
        packed = np.asarray(packed, dtype=np.uint8)
        if packed.ndim != 2 or packed.shape[1] * 8 != self.n:
            raise ParameterError("words", f"must have shape (blocks, {self.n // 8})", packed.shape)
        wpb = self.words_per_block(width)
        dec = self.make_decoder()
        B = packed.shape[0]
        out = np.empty((B, wpb * width), dtype=np.uint8)
        for s in range(0, B, _BLOCKS_PER_CALL):
            bits = np.unpackbits(packed[s : s + _BLOCKS_PER_CALL], axis=1, bitorder="little")
            msg = dec(channel_llr(bits, p01, p10))
            out[s : s + _BLOCKS_PER_CALL] = msg[:, : wpb * width]
        return _bits_words(out.reshape(B * wpb, width)[:count]).astype(np.uint64)

    def encode(self, stored: StoredTensor) -> CodedTensor:
        """The coded image of an uncoded one (its meta kept; shape and width recorded)."""
        packed = self.encode_words(stored.words, stored.width)
        return CodedTensor(packed, 8, dict(stored.meta), tuple(stored.words.shape), stored.width)

    def decode(self, coded: CodedTensor, p01: float = 0.0, p10: float = 0.0) -> StoredTensor:
        """The uncoded image (words in their container dtype) decoded from ``coded``."""
        if not isinstance(coded, CodedTensor):
            raise ParameterError("stored", "a polar protection needs a coded image", type(coded))
        words = self.decode_words(coded.words, coded.num_values, coded.inner_width, p01, p10)
        words = words.astype(container_for(coded.inner_width), copy=False).reshape(coded.shape)
        return StoredTensor(words, coded.inner_width, dict(coded.meta))


def _word_bits(words: np.ndarray, width: int) -> np.ndarray:
    """(M, width) uint8 bits (LSB first) of unsigned words (M,) (the container's bytes,
    little-endian, unpacked: no per-bit arithmetic)."""
    le = np.ascontiguousarray(words, dtype=words.dtype.newbyteorder("<"))
    return np.unpackbits(le.view(np.uint8).reshape(le.size, -1), axis=1, bitorder="little")[
        :, :width
    ]


def _bits_words(bits: np.ndarray) -> np.ndarray:
    """Words (M,) in the smallest container of (M, width) bits (LSB first): the inverse of
    :func:`_word_bits`."""
    m, width = bits.shape
    dt = np.dtype(container_for(width)).newbyteorder("<")
    padded = np.zeros((m, 8 * dt.itemsize), dtype=np.uint8)
    padded[:, :width] = bits
    packed = np.ascontiguousarray(np.packbits(padded, axis=1, bitorder="little"))
    return packed.view(dt).reshape(m).astype(dt.newbyteorder("="))


def _rate(text: str, spec: str) -> float:
    num, _, den = text.partition("/")
    try:
        rate = float(num) / float(den) if den else float(num)
    except (ValueError, ZeroDivisionError):
        raise ParameterError("protection", f"a polar code is {ECC_SPEC}", spec) from None
    if not 0 < rate <= 1:
        raise ParameterError("protection", "the polar code rate must be in (0, 1]", spec)
    return rate
