"""Polar decoders: SC, SCL, CRC-aided SCL and adaptive SCL, all batched over frames.

Every decoder is a callable ``decoder(llr) -> messages``: channel LLRs ``(F, n)`` (or ``(n,)``;
positive favours bit 0) in, decided message bits ``(F, k)`` uint8 out (CRC bits removed). The hot
loops are compiled with numba (:mod:`._kernels`).

The list decoder exposes a **source hook** (:class:`SourceModel`): a per-path finite-state
source over the first information bits, which a joint source-channel decoder uses to prune paths
(e.g. words not in a dictionary) or to add a source prior to the path metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import ParameterError, check_choice, check_float, check_int
from . import _kernels
from ._sc_interframe import sc_interframe
from .code import PolarCode, polar_transform

__all__ = [
    "DECODERS",
    "DTYPES",
    "METRICS",
    "SC_DECODERS",
    "AdaptiveSCLDecoder",
    "CASCLDecoder",
    "Decoder",
    "ListOutput",
    "SCDecoder",
    "SCLDecoder",
    "SourceModel",
    "make_decoder",
]

#: SC in float32 and in saturating fixed point (``sc-int16``, ``sc-int8``), then the list decoders
SC_DECODERS = ("sc", "sc-int16", "sc-int8")
DECODERS = (*SC_DECODERS, "scl", "cascl", "ascl")
METRICS = ("approx", "exact")
#: arithmetic of :class:`SCDecoder`
DTYPES = ("float32", "int16", "int8")


# ------------------------------------------------------------------------------- source hook
@dataclass(frozen=True)
class SourceModel:
    """A finite-state source over symbols of ``bits`` bits, carried by every list path.

    Attributes
    ----------
    trans : (S, 2**bits) int32. ``trans[s, c]`` is the state after symbol ``c`` in state ``s``
        (-1: symbol ``c`` is not allowed in ``s``).
    tree : (S, 2**(bits+1)) float32 (built in float64, stored compactly), the path-metric cost
        of every partial symbol: entry ``p`` is the binary-tree code of a prefix (1 = empty,
        children ``2p``/``2p+1``; the leaves ``2**bits + c`` are full symbols). Deciding a bit
        costs ``tree[s, child] - tree[s, p]``; ``inf`` prunes. Build it with :meth:`from_symbols`.
    bits : bits per symbol (MSB first).

    The decoder applies the model to the first ``n_bits`` information bits of each codeword
    (symbols back to back) and leaves the remaining ones (e.g. the CRC) alone.
    """

    trans: np.ndarray
    tree: np.ndarray
    bits: int

    def __post_init__(self) -> None:
        # the decoder reads only these two tables: keep them compact and contiguous
        object.__setattr__(self, "trans", np.ascontiguousarray(self.trans, dtype=np.int32))
        object.__setattr__(self, "tree", np.ascontiguousarray(self.tree, dtype=np.float32))

    @classmethod
    def from_symbols(
        cls, trans: np.ndarray, bits: int, neg_log_prob: np.ndarray | None = None
    ) -> SourceModel:
        """Build from a symbol transition table (S, 2**bits) (-1 = invalid symbol).

        Without ``neg_log_prob`` the model only prunes (cost 0 for any prefix that can still
        complete a valid symbol, ``inf`` otherwise). With ``neg_log_prob`` (S, 2**bits) =
        ``-log P(c | s)`` it adds the exact bitwise source prior ``-log P(bit | prefix, s)``.
        """
        bits = check_int("bits", bits, 1, 16)
        t = np.ascontiguousarray(trans, dtype=np.int32)
        A = 1 << bits
        if t.ndim != 2 or t.shape[1] != A:
            raise ParameterError("trans", f"must have shape (S, {A})", t.shape)
        if t.size and (t.max() >= t.shape[0] or t.min() < -1):
            raise ParameterError("trans", "entries must be -1 or a state index < S")
        if neg_log_prob is None:
            leaf = np.where(t >= 0, 0.0, np.inf)
        else:
            nlp = np.asarray(neg_log_prob, dtype=np.float64)
            if nlp.shape != t.shape:
                raise ParameterError("neg_log_prob", f"must have shape {t.shape}", nlp.shape)
            leaf = np.where(t >= 0, nlp, np.inf)
        S = t.shape[0]
        tree = np.empty((S, 2 * A))
        tree[:, 0] = np.inf  # unused
        tree[:, A:] = leaf
        for p in range(A - 1, 0, -1):
            a, b = tree[:, 2 * p], tree[:, 2 * p + 1]
            if neg_log_prob is None:
                tree[:, p] = np.minimum(a, b)
            else:  # -log(exp(-a) + exp(-b))
                lo = np.minimum(a, b)
                with np.errstate(invalid="ignore"):
                    tree[:, p] = np.where(np.isinf(lo), lo, lo - np.log1p(np.exp(-np.abs(a - b))))
        return cls(trans=t, tree=np.ascontiguousarray(tree), bits=bits)


def _f32(a: np.ndarray) -> np.ndarray:
    """The decoders' working precision: float32 LLRs (half the memory traffic of float64)."""
    return np.ascontiguousarray(a, dtype=np.float32)


#: Rate-1 / SPC nodes fork on at most 63 positions (a 64-bit mask per candidate)
_MAX_NODE_LIST = 63

_NO_TRANS = np.zeros((1, 2), dtype=np.int32)
_NO_TREE = np.zeros((1, 4), dtype=np.float32)
_NO_CRC = np.zeros(4, dtype=np.int64)


@dataclass
class ListOutput:
    """All surviving paths of a list decoder, best metric first.

    ``info`` (F, L, K) uint8 decided ``u`` at the information positions; ``payload`` (F, L, K)
    message + CRC (equal to ``info`` unless the code is systematic); ``pm`` (F, L) path metrics
    (``inf`` for empty slots); ``state`` (F, L) final source states; ``crc_ok`` (F,) bool only
    from ``decode_list(..., crc_select=True)`` (then L = 1: CA-SCL's choice).
    """

    info: np.ndarray
    payload: np.ndarray
    pm: np.ndarray
    state: np.ndarray
    crc_ok: np.ndarray | None = None


# ------------------------------------------------------------------------------- decoders
class Decoder:
    """Base class: ``decoder(llr) -> messages``, LLRs ``[..., n]`` -> messages ``[..., k]``."""

    name = "decoder"

    def __init__(self, code: PolarCode) -> None:
        if not isinstance(code, PolarCode):
            raise ParameterError("code", "must be a PolarCode", type(code).__name__)
        self.code = code
        self._frozen = code.frozen.astype(np.uint8)

    def decode_payload(self, llr: np.ndarray) -> np.ndarray:
        """Decided payload (message + CRC) (F, K) for LLRs (F, n)."""
        return self._payload(self.code.check_llr(llr)[0])

    def _payload(self, frames: np.ndarray) -> np.ndarray:
        """:meth:`decode_payload` on validated frames (F, n)."""
        raise NotImplementedError

    def __call__(self, llr: np.ndarray) -> np.ndarray:
        """Decided messages ``[..., k]`` uint8 for channel LLRs ``[..., n]`` (any leading
        dims; ``(n,)`` gives ``(k,)``)."""
        a, lead = self.code.llr_frames(llr)
        msg = self._payload(a)[:, : self.code.k]
        return msg.reshape(*lead, self.code.k)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.describe()})"


#: fixed-point defaults: channel-LLR bits and scale (LLR units -> steps; a power of two is a
#: binary point). 6-bit channel LLRs with 2 fractional bits in 8-bit arithmetic, as in the
#: fixed-point SC literature (Leroux et al., Sarkis et al.: 5-6 bit channel LLRs); int16
#: keeps 10 bits with 3 fractional bits (channel LLRs clipped at +-63.9, sums saturate only
#: near the root). Measured loss vs float32 in docs/polar.md
QUANT_DEFAULTS = {"int16": (10, 8.0), "int8": (6, 4.0)}
#: frames per block of the inter-frame kernel (a few vector registers per bit), lowered for long
#: codes so that the LLR tree (2 n B values) stays within ``_BLOCK_BYTES``
BLOCK_DEFAULTS = {"float32": 32, "int16": 32, "int8": 64}
_BLOCK_BYTES = 1 << 19


class SCDecoder(Decoder):
    """Successive cancellation (Arikan), min-sum check nodes. O(n log n) per frame.

    ``shortcuts=True`` (default) decodes Rate-0, Rate-1 and repetition nodes in closed form
    (Fast-SSC style) with an inter-frame layout: blocks of ``frames_per_block`` frames
    advance together, the frame index innermost, so every step is one vectorised loop over
    frames (:mod:`._sc_interframe`). These give SC's decisions exactly (up to LLRs that are
    exactly 0, as on a BEC, where ties may break differently). ``shortcuts=False`` runs the
    textbook leaf-by-leaf schedule, frame by frame (float32 only; the reference).

    ``dtype``: ``"float32"``, or saturating fixed point ``"int16"`` / ``"int8"``: channel LLRs
    are quantised to ``llr_bits``-bit integers ``clip(rint(llr_scale * llr), +-(2**(llr_bits
    - 1) - 1))`` (defaults :data:`QUANT_DEFAULTS`) and every ``g`` saturates at the dtype's
    symmetric range (``+-127`` / ``+-32767``). Min-sum SC is invariant to a common LLR scale,
    so ``llr_scale`` only trades resolution against clipping. The FER loss is measured in
    docs/polar.md.
    """

    name = "sc"

    def __init__(
        self,
        code: PolarCode,
        shortcuts: bool = True,
        dtype: str = "float32",
        llr_bits: int | None = None,
        llr_scale: float | None = None,
        frames_per_block: int | None = None,
    ) -> None:
        super().__init__(code)
        self.shortcuts = bool(shortcuts)
        self.dtype = check_choice("dtype", dtype, DTYPES)
        if not self.shortcuts and self.dtype != "float32":
            raise ParameterError("dtype", "the leaf-by-leaf schedule is float32 only", dtype)
        self.llr_bits, self.llr_scale = 0, 1.0
        if self.dtype != "float32":
            bits0, scale0 = QUANT_DEFAULTS[self.dtype]
            top = np.iinfo(self.dtype).bits
            self.llr_bits = check_int("llr_bits", bits0 if llr_bits is None else llr_bits, 2, top)
            self.llr_scale = check_float(
                "llr_scale", scale0 if llr_scale is None else llr_scale, 0.0, 1e6, lo_open=True
            )
        elif llr_bits is not None or llr_scale is not None:
            name, got = ("llr_bits", llr_bits) if llr_bits is not None else ("llr_scale", llr_scale)
            raise ParameterError(name, "only for dtype int16 / int8", got)
        fit = _BLOCK_BYTES // (2 * code.n * np.dtype(self.dtype).itemsize)
        B = min(BLOCK_DEFAULTS[self.dtype], max(8, fit))
        B = B if frames_per_block is None else frames_per_block
        self.frames_per_block = check_int("frames_per_block", B, 1, 4096)
        self._ops = _kernels.build_schedule(code.frozen, rate0=True, rate1=True, rep=True)
        self._info = code.info_positions.astype(np.int64)

    def _run(self, a: np.ndarray, systematic: bool) -> np.ndarray:
        """The inter-frame kernel on validated frames (F, n): payload (F, K) uint8."""
        a = _f32(a)
        out = np.empty((a.shape[0], self.code.K), dtype=np.uint8)
        B = self.frames_per_block
        alpha = np.empty(2 * self.code.n * B, dtype=self.dtype)
        qmax = (1 << (self.llr_bits - 1)) - 1 if self.llr_bits else 0
        sc_interframe(a, self._ops, self._info, systematic, out, alpha, B, self.llr_scale, qmax)
        return out

    def decode_u(self, llr: np.ndarray) -> np.ndarray:
        """Decided bit-channel inputs ``u`` (F, n) uint8."""
        a = _f32(self.code.check_llr(llr)[0])
        if not self.shortcuts:
            u = np.empty(a.shape, dtype=np.uint8)
            _kernels.sc_decode(a, self._frozen, u)
            return u
        u = np.zeros(a.shape, dtype=np.uint8)
        u[:, self.code.info_positions] = self._run(a, False)
        return u

    def _payload(self, frames: np.ndarray) -> np.ndarray:
        if self.shortcuts:
            return self._run(frames, self.code.systematic)
        return self.code.payload_from_u(self.decode_u(frames))


class SCLDecoder(Decoder):
    """Successive-cancellation list decoding (Tal-Vardy lazy copy, LLR path metrics).

    Parameters
    ----------
    list_size : L >= 1 (any integer; L = 1 is SC).
    metric : ``"approx"`` (min-sum check nodes, add |LLR| on disagreement: with a list that
        keeps every path this is exactly ML on BPSK-AWGN) or ``"exact"`` (exact boxplus check
        nodes and ``log(1 + exp(-(1 - 2u) LLR))``, Balatsoukas-Stimming et al. 2015; also ML
        with a full list; bitwise schedule, so slower).
    source : an optional :class:`SourceModel` carried by every path (see :meth:`decode_list`).
    shortcuts : with the approximate metric, decode Rate-0 and repetition nodes in closed form
        and Rate-1 nodes by forking each path on its ``min(L - 1, size)`` least reliable bits
        (Hashemi et al., Fast-SSCL). Both give the same list and metrics as the leaf-by-leaf
        schedule (tested). Ignored for ``"exact"``; ``False`` runs the leaf schedule.
    spc : also decode single-parity-check nodes (first bit frozen, size >= 4) by forking each
        path on its ``min(L, size)`` least reliable bits (the least reliable one keeps the parity
        even; Hashemi et al. 2017 show this many forks suffice). Same list and metrics as the
        leaf schedule in our tests (L = 1..16, several codes), and at L = 1 the same decisions
        as SC (min-sum SC decodes an SPC node like Wagner's ML rule).

    source_nodes : with a source model, also use Rate-1 / SPC nodes inside the constrained
        bits. ``True``: each node's candidates are formed by the channel metric (the fork rule
        above, L kept), then the source cost of each candidate's ``u`` bits is added (paths it
        prunes are dropped). ``"wide"``: the last fork keeps all 2L candidates and the source
        costs choose the L kept (more work, closer to bitwise joint SCL). Either way not bitwise
        joint SCL: the source cannot steer the forks inside a node, and when no candidate of a
        node is allowed the source is dropped for the rest of the block (as when no candidate
        of a single bit is). ``False`` (default) decides constrained bits one by one.

    Lists larger than 63 fall back to the bitwise schedule for Rate-1 / SPC nodes.

    ``decoder(llr)`` returns the best path's message (ignoring any CRC).
    """

    name = "scl"
    #: the compiled list decoder (a benchmark swaps in an older one for same-run ratios)
    _kernel = staticmethod(_kernels.scl_decode)

    def __init__(
        self,
        code: PolarCode,
        list_size: int = 8,
        metric: str = "approx",
        source: SourceModel | None = None,
        shortcuts: bool = True,
        spc: bool = True,
        source_nodes: bool | str = False,
    ) -> None:
        super().__init__(code)
        self.list_size = check_int("list_size", list_size, 1, 1024)
        self.metric = check_choice("metric", metric, METRICS)
        if source is not None and not isinstance(source, SourceModel):
            raise ParameterError("source", "must be a SourceModel or None", type(source).__name__)
        self.source = source
        fast = bool(shortcuts) and self.metric == "approx"
        self.shortcuts = fast
        self.spc = bool(spc) and fast
        build = _kernels.build_schedule
        #: schedule for L <= 63 (all node shortcuts) and for larger lists (no Rate-1 / SPC)
        self._ops = build(code.frozen, rate0=fast, rate1=fast, rep=fast, spc=self.spc)
        self._ops_big = build(code.frozen, rate0=fast, rate1=False, rep=fast)
        if source_nodes not in (True, False, "wide"):
            raise ParameterError("source_nodes", "True, False or 'wide'", source_nodes)
        self.source_nodes = source_nodes
        self._ops_src: dict[int, np.ndarray] = {}  # schedules with bitwise source bits, by nsb

    def decode_list(
        self,
        llr: np.ndarray,
        *,
        list_size: int | None = None,
        source_bits: int | None = None,
        state0: np.ndarray | int | None = None,
        paths: int | None = None,
        crc_select: bool = False,
    ) -> ListOutput:
        """Run the list decoder and return every surviving path (or the ``paths`` best).

        ``source_bits``: how many leading information bits the source model constrains (default:
        all message bits ``k`` rounded down to whole symbols; 0 without a source model).
        ``state0``: initial source state per frame ((F,) ints or one int; default 0).
        ``paths``: return only the best ``paths <= L`` paths (the decoder still keeps L; fewer
        are traced back, e.g. 1 for plain SCL).
        ``crc_select`` (non-systematic codes with a CRC): one path per frame, CA-SCL's choice
        (the first path in metric order whose CRC checks, else the best), chosen inside the
        kernel; ``ListOutput.crc_ok`` says whether its CRC checks.
        """
        a, _ = self.code.check_llr(llr)
        F, n = a.shape
        L = self.list_size if list_size is None else check_int("list_size", list_size, 1, 1024)
        src = self.source
        if src is None:
            trans, tree, bits, nsb = _NO_TRANS, _NO_TREE, 1, 0
            s0 = np.zeros(F, dtype=np.int32)
        else:
            trans, tree, bits = src.trans, src.tree, src.bits
            if source_bits is None:
                nsb = (self.code.k // bits) * bits
            else:
                nsb = check_int("source_bits", source_bits, 0, self.code.K)
            s0 = np.broadcast_to(
                np.asarray(0 if state0 is None else state0, dtype=np.int32), (F,)
            ).copy()
            if (s0 >= trans.shape[0]).any() or (s0 < -1).any():
                raise ParameterError("state0", f"states must be in [-1, {trans.shape[0] - 1}]")
        K = self.code.K
        R = L if paths is None else check_int("paths", paths, 1, L)
        crc = _NO_CRC
        if crc_select:
            c = self.code.crc
            if c is None or self.code.systematic:
                raise ParameterError("crc_select", "needs a non-systematic code with a CRC", c)
            crc, R = np.array([c.width, c.poly, c.init, c.xorout], dtype=np.int64), 1
        ok = np.zeros(F, dtype=np.bool_)
        info = np.empty((F, R, K), dtype=np.uint8)
        pm = np.empty((F, R))
        st = np.empty((F, R), dtype=np.int32)
        ops = self._schedule(L, nsb)
        self._kernel(
            _f32(a),
            ops,
            K,
            L,
            self.metric == "exact",
            trans,
            tree,
            bits,
            nsb,
            s0,
            self.source_nodes == "wide",
            info,
            pm,
            st,
            crc,
            ok,
        )
        payload = info
        if self.code.systematic:
            u = np.zeros((F * R, n), dtype=np.uint8)
            u[:, self.code.info_positions] = info.reshape(F * R, K)
            payload = polar_transform(u)[:, self.code.info_positions].reshape(F, R, K)
        return ListOutput(info, payload, pm, st, ok if crc_select else None)

    def _payload(self, frames: np.ndarray) -> np.ndarray:
        return self.decode_list(frames, paths=1).payload[:, 0]

    def _schedule(self, L: int, nsb: int) -> np.ndarray:
        """The schedule for list size ``L`` with ``nsb`` source-constrained bits."""
        if L > _MAX_NODE_LIST:
            return self._ops_big
        if nsb == 0 or self.source_nodes or not self.shortcuts:
            return self._ops
        if nsb not in self._ops_src:
            bitwise = np.zeros(self.code.n, dtype=bool)
            bitwise[self.code.info_positions[:nsb]] = True
            self._ops_src[nsb] = _kernels.build_schedule(
                self.code.frozen, rate0=True, rate1=True, rep=True, spc=self.spc, bitwise=bitwise
            )
        return self._ops_src[nsb]


class CASCLDecoder(SCLDecoder):
    """CRC-aided SCL: the best-metric path whose CRC checks (the best path if none does)."""

    name = "cascl"

    def __init__(
        self,
        code: PolarCode,
        list_size: int = 8,
        metric: str = "approx",
        source: SourceModel | None = None,
        shortcuts: bool = True,
        spc: bool = True,
        source_nodes: bool | str = False,
    ) -> None:
        if isinstance(code, PolarCode) and code.crc is None:
            raise ParameterError("crc", "CA-SCL needs a code with a CRC", None)
        super().__init__(code, list_size, metric, source, shortcuts, spc, source_nodes)

    #: choose the CRC-passing path inside the kernel (non-systematic codes; a benchmark turns
    #: it off to time an older kernel)
    _crc_in_kernel = True

    def select(self, out: ListOutput) -> tuple[np.ndarray, np.ndarray]:
        """Pick per frame the first CRC-passing path; returns (payload (F, K), crc_ok (F,)).

        Paths are checked best first, and a frame's later paths only while none has passed
        (at useful SNRs the best path passes on most frames: about one CRC per frame)."""
        F, L, _ = out.payload.shape
        first = np.zeros(F, dtype=np.int64)
        found = np.zeros(F, dtype=bool)
        todo = np.arange(F)
        for r in range(L):
            todo = todo[np.isfinite(out.pm[todo, r])]  # empty slots: fewer paths survived
            if todo.size == 0:
                break
            ok = self.code.crc.check(out.payload[todo, r])
            first[todo[ok]] = r
            found[todo[ok]] = True
            todo = todo[~ok]
        return out.payload[np.arange(F), first], found

    def decode_select(
        self, llr: np.ndarray, list_size: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """CA-SCL on LLRs (F, n): (payload (F, K), crc_ok (F,)), as :meth:`select` of the full
        list. Non-systematic codes choose inside the kernel, tracing back paths only until one
        passes its CRC (same choice, tested)."""
        if self._crc_in_kernel and not self.code.systematic:
            out = self.decode_list(llr, list_size=list_size, crc_select=True)
            return out.payload[:, 0], out.crc_ok
        return self.select(self.decode_list(llr, list_size=list_size))

    def _payload(self, frames: np.ndarray) -> np.ndarray:
        return self.decode_select(frames)[0]


class AdaptiveSCLDecoder(CASCLDecoder):
    """Adaptive CA-SCL: L = 1, 2, 4, ... up to ``list_size``; a frame stops at the first list
    size whose list holds a CRC-passing path. Same FER as CA-SCL-``list_size`` up to the rare
    frames a smaller list decodes to a wrong CRC-passing word; far faster at high SNR."""

    name = "ascl"

    def _payload(self, frames: np.ndarray) -> np.ndarray:
        a = frames
        F = a.shape[0]
        out = np.empty((F, self.code.K), dtype=np.uint8)
        todo = np.arange(F)
        L = 1
        self.last_list_sizes = np.zeros(F, dtype=np.int64)
        while True:
            pay, ok = self.decode_select(a[todo], list_size=L)
            last = self.list_size <= L
            done = ok | last
            out[todo[done]] = pay[done]
            self.last_list_sizes[todo[done]] = L
            todo = todo[~done]
            if todo.size == 0:
                return out
            L = min(2 * L, self.list_size)


def make_decoder(
    code: PolarCode, name: str = "sc", list_size: int = 8, metric: str = "approx"
) -> Decoder:
    """A decoder by name: ``sc`` (float32), ``sc-int16`` / ``sc-int8`` (fixed point, default
    quantiser), ``scl``, ``cascl`` (needs a CRC) or ``ascl`` (needs a CRC)."""
    check_choice("decoder", name, DECODERS)
    if name in SC_DECODERS:
        return SCDecoder(code, dtype="float32" if name == "sc" else name[3:])
    cls = {"scl": SCLDecoder, "cascl": CASCLDecoder, "ascl": AdaptiveSCLDecoder}[name]
    return cls(code, list_size, metric)
