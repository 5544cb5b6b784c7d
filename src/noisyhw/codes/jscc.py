"""Joint source-channel (JSCC) polar decoding of English text with a dictionary trie.

A :class:`~noisyhw.codes.text.Trie` becomes a finite-state source (:class:`SourceModel`) that
every path of the polar list decoder carries (the decoder's source hook): the state is a trie
node, and a path that spells a prefix no dictionary word starts with is pruned (``"prune"``) or
pays a finite penalty and continues as an out-of-vocabulary word (``"penalty"``).

Source model (alphabet ``a27``: 5-bit codes, space = 0, ``a``..``z`` = 1..26)
---------------------------------------------------------------------------
States ``0 .. n_nodes - 1`` are trie nodes (0 = root, "between words"); one extra state
``OOV = n_nodes`` is "inside a word the dictionary does not know".

* letter ``c`` in node ``s``: to ``children[s, c]`` (if it exists);
* space in node ``s``: back to the root if ``s`` ends a word, **or if ``s`` is the root** (runs of
  spaces are allowed, so text that keeps punctuation as spaces stays valid);
* in ``OOV``: letters stay in ``OOV``, space returns to the root (cost 0): a resynchronisation
  state used as the initial state after a block whose source constraint was dropped;
* codes 27..31 are never valid.

``"prune"``: every other symbol is invalid (``inf`` cost: the path dies as soon as its partial
symbol can no longer complete a valid one). ``"penalty"``: an invalid letter goes to ``OOV`` and
an invalid space to the root, each costing ``penalty`` nats on the path metric. ``prior=True``
adds the word-frequency prior ``-log P(symbol | node)`` (from the trie's word counts) on valid
symbols, scaled by ``prior_weight``.

Decoders
--------
:class:`JointSCLDecoder` runs the list decoder with the source model and picks the best valid
path (the best CRC-passing valid path when the code has a CRC); :class:`AdaptiveJointDecoder`
runs it with L = 1, 2, 4, ... up to ``list_size`` per frame and stops at the first list holding a
valid (and CRC-passing) path. Both decode **streams**: :meth:`JointSCLDecoder.decode_stream`
takes LLRs ``(S, B, n)`` of S independent text streams of B consecutive blocks, decodes block
``b`` of every stream as one batch and carries each stream's trie state into block ``b + 1``, so a
word cut by a block boundary is still checked against the dictionary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, check_choice, check_int
from .polar.code import PolarCode
from .polar.decoders import ListOutput, SCLDecoder, SourceModel
from .text import ALPHABETS, Alphabet, Trie, character_error_rate, word_error_rate

__all__ = [
    "MODES",
    "AdaptiveJointDecoder",
    "JointDecodeResult",
    "JointSCLDecoder",
    "StreamOutput",
    "text_metrics",
    "trie_source",
]

MODES = ("prune", "penalty")


def _subtree_counts(children: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Total word count below (and at) every node; children always have larger indices."""
    total = count.astype(np.float64).copy()
    parent = np.full(children.shape[0], -1, dtype=np.int64)
    rows, _ = np.nonzero(children >= 0)
    parent[children[children >= 0]] = rows
    for node in range(children.shape[0] - 1, 0, -1):
        total[parent[node]] += total[node]
    return total


def _min_tree(leaf: np.ndarray) -> np.ndarray:
    """Partial-symbol cost tree (S, 2A) from leaf costs (S, A): a prefix costs its cheapest
    completion, so each decided bit adds exactly the cost it commits to."""
    S, A = leaf.shape
    tree = np.empty((S, 2 * A))
    tree[:, 0] = np.inf
    tree[:, A:] = leaf
    for p in range(A - 1, 0, -1):
        tree[:, p] = np.minimum(tree[:, 2 * p], tree[:, 2 * p + 1])
    return tree


def trie_source(
    trie: Trie,
    mode: str = "prune",
    *,
    penalty: float = 8.0,
    prior: bool = False,
    prior_weight: float = 1.0,
    root_space: float = 0.02,
) -> SourceModel:
    """The dictionary ``trie`` as a :class:`SourceModel` over its alphabet's symbol codes.

    Returns a model with ``S = n_nodes + 1`` states (the last is ``OOV``, see the module
    docstring). ``penalty`` (nats, > 0) is the cost of an invalid symbol in ``"penalty"`` mode.
    ``prior``: add ``prior_weight * -log P(c | node)`` with ``P`` proportional to the word counts
    below each child (a space in a word node: that word's count; a space at the root: a fraction
    ``root_space`` of the root's mass).
    """
    if not isinstance(trie, Trie):
        raise ParameterError("trie", "must be a noisyhw.codes.text.Trie", type(trie).__name__)
    mode = check_choice("mode", mode, MODES)
    if trie.num_words == 0:
        raise ParameterError("trie", "the dictionary is empty (no word could be spelt)")
    if not penalty > 0:
        raise ParameterError("penalty", "> 0", penalty)
    alpha = trie.alphabet
    children, is_word = trie.arrays()
    n_nodes = children.shape[0]
    oov = n_nodes
    S, A = n_nodes + 1, 1 << alpha.bits
    sep = alpha.separator
    letters = np.array([c for c in range(alpha.size) if c != sep])

    trans = np.full((S, A), -1, dtype=np.int32)
    trans[:n_nodes, : alpha.size] = children
    trans[:n_nodes, sep] = np.where(is_word | (np.arange(n_nodes) == 0), 0, -1)
    trans[oov, letters] = oov
    trans[oov, sep] = 0
    valid = trans >= 0
    leaf = np.where(valid, 0.0, np.inf)

    if prior:
        count = trie.count[:n_nodes]
        total = _subtree_counts(children, count)
        mass = np.zeros((S, A))
        mass[:n_nodes, : alpha.size] = np.where(children >= 0, total[np.maximum(children, 0)], 0)
        mass[:n_nodes, sep] = np.where(is_word, count, 0.0)
        mass[0, sep] = root_space * total[0] / max(1.0 - root_space, 1e-12)
        mass[oov, letters] = 1.0
        mass[oov, sep] = 1.0
        mass = np.where(valid, mass, 0.0)
        # words with zero count still count once, so no valid symbol gets an infinite cost
        mass = np.where(valid & (mass <= 0), 1.0, mass)
        p = mass / mass.sum(1, keepdims=True)
        with np.errstate(divide="ignore"):
            leaf = np.where(valid, -prior_weight * np.log(p), np.inf)

    if mode == "penalty":
        letter_bad = np.zeros((S, A), dtype=bool)
        letter_bad[:n_nodes, letters] = ~valid[:n_nodes, letters]
        space_bad = np.zeros((S, A), dtype=bool)
        space_bad[:n_nodes, sep] = ~valid[:n_nodes, sep]
        trans[letter_bad] = oov
        trans[space_bad] = 0
        leaf = np.where(letter_bad | space_bad, float(penalty), leaf)
    return SourceModel(trans=np.ascontiguousarray(trans), tree=_min_tree(leaf), bits=alpha.bits)


@dataclass
class StreamOutput:
    """Decoded streams: ``bits (S, B, k)`` message bits, ``payload (S, B, K)`` message + CRC,
    ``valid (S, B)`` (a dictionary-valid
    path was chosen), ``crc_ok (S, B)`` (True without a CRC), ``list_size (S, B)`` list size
    used, ``seconds`` decoder wall time."""

    bits: np.ndarray
    payload: np.ndarray
    valid: np.ndarray
    crc_ok: np.ndarray
    list_size: np.ndarray
    seconds: float


@dataclass
class JointDecodeResult:
    """Block-major results of :meth:`JointSCLDecoder.decode`: ``payload`` (T, S, K),
    ``list_sizes`` (T, S), ``valid`` (T, S), ``state`` (S,) final trie states."""

    payload: np.ndarray
    list_sizes: np.ndarray
    valid: np.ndarray
    state: np.ndarray


class JointSCLDecoder:
    """Joint source-channel SCL decoding: list paths carry a trie state.

    Parameters
    ----------
    code : the polar code; ``code.k`` text bits per block (a multiple of the alphabet's bits,
        so blocks hold whole characters); with ``code.crc`` the CRC selects among valid paths.
    source : a :class:`SourceModel` from :func:`trie_source` (``None``: plain SCL / CA-SCL, the
        baseline with the identical selection rule).
    list_size : L >= 1.
    mode, penalty, adaptive : only used when ``source`` is a :class:`Trie` (then the model is
        ``trie_source(trie, mode, penalty=penalty)``; ``adaptive=True`` behaves like
        :class:`AdaptiveJointDecoder` and needs a CRC).
    source_nodes : decode Rate-1 / SPC nodes inside the text bits as whole nodes (``True``:
        candidates chosen by the channel metric, then the dictionary costs of their bits added;
        ``"wide"``: the dictionary chooses L among the last fork's 2L; fast) instead of bit by
        bit (``False``, default: exact joint SCL, slower).
        See :class:`~noisyhw.codes.polar.SCLDecoder` and docs/jscc.md for the difference.
    """

    name = "joint"

    def __init__(
        self,
        code: PolarCode,
        source: SourceModel | Trie | None,
        list_size: int = 8,
        metric: str = "approx",
        *,
        mode: str = "prune",
        penalty: float = 20.0,
        adaptive: bool = False,
        source_nodes: bool | str = False,
    ) -> None:
        if not isinstance(code, PolarCode):
            raise ParameterError("code", "must be a PolarCode", type(code).__name__)
        if isinstance(source, Trie):
            if code.k % source.alphabet.bits:
                raise ParameterError(
                    "k", f"a multiple of {source.alphabet.bits} (whole symbols)", code.k
                )
            source = trie_source(source, mode, penalty=penalty)
        self.adaptive = bool(adaptive) or type(self).name == "adaptive"
        if self.adaptive and code.crc is None:
            raise ParameterError(
                "adaptive",
                "the adaptive joint decoder needs a CRC to know "
                "when to stop (a pruned list is nearly always valid)",
                None,
            )
        if source is not None:
            if not isinstance(source, SourceModel):
                raise ParameterError("source", "must be a SourceModel", type(source).__name__)
            if code.k % source.bits:
                raise ParameterError("k", f"a multiple of {source.bits} (whole symbols)", code.k)
        self.code = code
        self.source = source
        self.list_size = check_int("list_size", list_size, 1, 1024)
        self.source_nodes = source_nodes
        self._scl = SCLDecoder(
            code, self.list_size, metric, source=source, source_nodes=self.source_nodes
        )
        #: the OOV state: "inside an unknown word", resynchronises at the next space
        self.resync_state = -1 if source is None else source.trans.shape[0] - 1

    # ---------------------------------------------------------------- one block per frame
    def select(self, out: ListOutput) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per frame the best path that is valid (finite metric, source constraint kept) and
        passes the CRC; else the best valid path; else path 0.

        Returns ``(payload (F, K), state (F,), valid (F,), crc_ok (F,))``.
        """
        F, L, K = out.payload.shape
        valid = np.isfinite(out.pm)
        if self.source is not None:
            valid &= out.state >= 0
        if self.code.crc is not None:
            crc = self.code.crc.check(out.payload.reshape(F * L, K)).reshape(F, L)
        else:
            crc = np.ones((F, L), dtype=bool)
        good = valid & crc
        pick = np.where(good.any(1), good.argmax(1), np.where(valid.any(1), valid.argmax(1), 0))
        r = np.arange(F)
        return out.payload[r, pick], out.state[r, pick], valid[r, pick], crc[r, pick]

    def decode_block(
        self, llr: np.ndarray, state0: np.ndarray | None = None, list_size: int | None = None
    ):
        """One block per frame: LLRs (F, n), start states (F,) -> ``select``'s tuple."""
        if self.adaptive:
            return AdaptiveJointDecoder.decode_block(self, llr, state0, list_size)
        out = self._scl.decode_list(llr, list_size=list_size, state0=state0)
        self.last_list_sizes = np.full(out.pm.shape[0], out.pm.shape[1])
        return self.select(out)

    def _decode_block_stream(self, llr: np.ndarray, state0: np.ndarray):
        pay, st, ok, crc = self.decode_block(llr, state0)
        return pay, st, ok, crc, self.last_list_sizes.copy()

    def __call__(self, llr: np.ndarray) -> np.ndarray:
        """Independent blocks, each starting at a word boundary: (F, n) -> messages (F, k)."""
        a, squeeze = self.code.check_llr(llr)
        msg = self.decode_block(a)[0][:, : self.code.k]
        return msg[0] if squeeze else msg

    # ---------------------------------------------------------------- streams
    def decode_stream(
        self, llr: np.ndarray, state0: np.ndarray | int | None = None
    ) -> StreamOutput:
        """Decode S streams of B consecutive blocks: LLRs (S, B, n) -> :class:`StreamOutput`.

        Block ``b`` of all streams is one batch; each stream's next block starts in the trie
        state its chosen path ended in (the OOV resynchronisation state if that path had lost
        the source constraint). ``state0``: start state of each stream (default: the OOV
        resynchronisation state, since a stream may start inside a word; pass 0 (the root)
        when streams start at a word boundary).
        """
        a = np.asarray(llr)
        if a.ndim != 3 or a.shape[2] != self.code.n:
            raise ParameterError("llr", f"shape (streams, blocks, {self.code.n})", a.shape)
        S, B, _ = a.shape
        k = self.code.k
        st = np.broadcast_to(
            np.asarray(self.resync_state if state0 is None else state0, dtype=np.int32), (S,)
        ).copy()
        payload = np.empty((S, B, self.code.K), dtype=np.uint8)
        valid = np.empty((S, B), dtype=bool)
        crc_ok = np.empty((S, B), dtype=bool)
        lsz = np.empty((S, B), dtype=np.int64)
        t0 = time.perf_counter()
        for b in range(B):
            pay, s_end, ok, crc, used = self._decode_block_stream(np.ascontiguousarray(a[:, b]), st)
            payload[:, b], valid[:, b], crc_ok[:, b], lsz[:, b] = pay, ok, crc, used
            if self.source is not None:
                st = np.where(s_end >= 0, s_end, self.resync_state).astype(np.int32)
        self._last_state = st
        return StreamOutput(payload[..., :k], payload, valid, crc_ok, lsz, time.perf_counter() - t0)

    def decode(self, llr: np.ndarray, state0: np.ndarray | None = None) -> JointDecodeResult:
        """Block-major form: LLRs (T blocks, S streams, n) -> :class:`JointDecodeResult`; streams
        start at a word boundary (the root) unless ``state0`` says otherwise."""
        a = np.asarray(llr)
        if a.ndim != 3 or a.shape[2] != self.code.n:
            raise ParameterError("llr", f"must have shape (T, S, {self.code.n})", a.shape)
        st0 = np.zeros(a.shape[1], np.int32) if state0 is None else state0
        out = self.decode_stream(a.transpose(1, 0, 2), st0)
        return JointDecodeResult(
            out.payload.transpose(1, 0, 2), out.list_size.T, out.valid.T, self._last_state
        )


class AdaptiveJointDecoder(JointSCLDecoder):
    """List-size-adaptive joint decoding: per frame L = 1, 2, 4, ... up to ``list_size``,
    stopping at the first list holding a dictionary-valid path that passes the CRC. Without a
    CRC the only stopping test is validity, which the L = 1 path nearly always meets (pruning
    steers it), so use a CRC code.

    ``last_list_sizes`` / :attr:`StreamOutput.list_size` report the list size each frame used.
    """

    name = "adaptive"

    def decode_block(
        self, llr: np.ndarray, state0: np.ndarray | None = None, list_size: int | None = None
    ):
        a, _ = self.code.check_llr(llr)
        F, K = a.shape[0], self.code.K
        s0 = (
            np.zeros(F, np.int32)
            if state0 is None
            else np.broadcast_to(np.asarray(state0, np.int32), (F,))
        )
        pay = np.empty((F, K), dtype=np.uint8)
        st = np.empty(F, dtype=np.int32)
        ok = np.zeros(F, dtype=bool)
        crc = np.zeros(F, dtype=bool)
        used = np.zeros(F, dtype=np.int64)
        todo = np.arange(F)
        Lmax = self.list_size if list_size is None else list_size
        L = 1
        while todo.size:
            out = self._scl.decode_list(a[todo], list_size=L, state0=s0[todo])
            p, s, v, c = self.select(out)
            done = (v & c) | (Lmax <= L)
            idx = todo[done]
            pay[idx], st[idx], ok[idx], crc[idx], used[idx] = p[done], s[done], v[done], c[done], L
            todo = todo[~done]
            L = min(2 * L, Lmax)
        self.last_list_sizes = used
        return pay, st, ok, crc


# ------------------------------------------------------------------------------- metrics
def text_metrics(
    ref_bits: np.ndarray, dec_bits: np.ndarray, alphabet: Alphabet | str = "a27"
) -> dict[str, float]:
    """Error counts of decoded streams against the sent ones, both (S, B, k) bits.

    Returns ``frames``, ``frame_errors``, ``bits``, ``bit_errors``, ``chars``, ``char_errors``
    (substitutions: lengths are equal), ``words`` and ``word_errors`` (word-level edit distance
    per stream, summed), plus ``fer``, ``ber``, ``cer``, ``wer``, and the per-stream counts
    ``stream_frame_errors``, ``stream_chars``, ``stream_char_errors``, ``stream_words``,
    ``stream_word_errors`` (lists of S ints: streams are the independent units for confidence
    intervals).
    """
    alpha = ALPHABETS[alphabet] if isinstance(alphabet, str) else alphabet
    r = np.asarray(ref_bits, dtype=np.uint8)
    d = np.asarray(dec_bits, dtype=np.uint8)
    if r.shape != d.shape or r.ndim != 3:
        raise ParameterError("dec_bits", f"shape (streams, blocks, k) = {r.shape}", d.shape)
    S = r.shape[0]
    bit_err = r != d
    fe = int(bit_err.any(2).sum())
    sc, sce, sw, swe = [0] * S, [0] * S, [0] * S, [0] * S
    for s in range(S):
        ref = alpha.bits_to_text(r[s].reshape(-1))
        sc[s] = len(ref)
        n_words = len(ref.split())
        sw[s] = n_words
        if bit_err[s].any():
            dec = alpha.bits_to_text(d[s].reshape(-1))
            sce[s] = round(character_error_rate(ref, dec) * len(ref))
            swe[s] = round(word_error_rate(ref, dec) * max(n_words, 1))
    chars, words, char_err, word_err = sum(sc), sum(sw), sum(sce), sum(swe)
    frames, bits = int(r.shape[0] * r.shape[1]), int(r.size)
    return {
        "frames": frames,
        "frame_errors": fe,
        "bits": bits,
        "bit_errors": int(bit_err.sum()),
        "chars": chars,
        "char_errors": char_err,
        "words": words,
        "word_errors": word_err,
        "fer": fe / frames,
        "ber": int(bit_err.sum()) / bits,
        "cer": char_err / max(chars, 1),
        "wer": word_err / max(words, 1),
        "stream_frame_errors": [int(v) for v in bit_err.any(2).sum(1)],
        "stream_chars": sc,
        "stream_char_errors": sce,
        "stream_words": sw,
        "stream_word_errors": swe,
    }
