"""Joint source-channel decoding of text with polar codes (after arXiv 1601.06184).

The list decoder of :mod:`noisyhw.codes.polar` carries a per-path finite-state source
(:class:`~noisyhw.codes.polar.SourceModel`). Here the source is a dictionary :class:`Trie`:

* state = trie node (0 = root, i.e. between words);
* a letter moves to the trie child (no child: the partial word is not a dictionary prefix);
* the separator (space) is allowed at the root (repeated spaces) or at a node that ends a word,
  and returns to the root (a completed word must be a dictionary word);
* alphabet codes without a character are never allowed.

``mode="prune"`` drops a path as soon as one of its characters breaks these rules (checked bit by
bit: a path dies at the first bit no valid character starts with). ``mode="penalty"`` keeps it
with ``penalty`` added to its metric and sends it to a "garbage" state that resynchronises at the
next separator.

Texts are sent as consecutive k-bit blocks (k a multiple of the symbol width, so characters never
straddle blocks); each block is one codeword. Blocks of a stream are decoded in order and the
trie state of the chosen path is carried into the next block, so words may span codewords.
Streams are independent and decoded in lockstep (batched over streams).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, check_choice, check_float, check_int
from .polar import PolarCode, SCLDecoder, SourceModel
from .text import Trie

__all__ = ["JointDecodeResult", "JointSCLDecoder", "trie_source"]


def trie_source(trie: Trie, mode: str = "prune", penalty: float = 20.0) -> SourceModel:
    """The :class:`SourceModel` of a dictionary trie (see the module docstring)."""
    check_choice("mode", mode, ("prune", "penalty"))
    penalty = check_float("penalty", penalty, 0.0, lo_open=True)
    children, is_word = trie.arrays()
    if trie.num_words == 0:
        raise ParameterError("trie", "the dictionary is empty")
    alpha = trie.alphabet
    S, A = children.shape
    width = 1 << alpha.bits
    sep = alpha.separator
    trans = np.full((S, width), -1, dtype=np.int32)
    trans[:, :A] = children
    trans[:, sep] = np.where(is_word | (np.arange(S) == 0), 0, -1)
    if mode == "prune":
        return SourceModel.from_symbols(trans, alpha.bits)
    garbage = S
    full = np.full((S + 1, width), garbage, dtype=np.int32)
    cost = np.full((S + 1, width), penalty)
    valid = trans >= 0
    full[:S][valid] = trans[valid]
    cost[:S][valid] = 0.0
    full[garbage, :] = garbage
    full[garbage, sep] = 0
    cost[garbage, :] = 0.0
    return SourceModel.from_symbols(full, alpha.bits, cost)


@dataclass
class JointDecodeResult:
    """``payload`` (T, S, K) decided blocks (message + CRC) for T blocks of S streams;
    ``list_sizes`` (T, S) list size used per block; ``valid`` (T, S) whether the chosen path
    obeyed the dictionary; ``state`` (S,) final trie states."""

    payload: np.ndarray
    list_sizes: np.ndarray
    valid: np.ndarray
    state: np.ndarray


class JointSCLDecoder:
    """SCL decoding with dictionary pruning, optionally CRC-aided and list-size adaptive.

    Parameters
    ----------
    code : a :class:`PolarCode` whose ``k`` is a multiple of the alphabet's bits per symbol.
    trie : the dictionary.
    list_size : L (the maximum L when ``adaptive``).
    mode : ``"prune"`` or ``"penalty"`` (see :func:`trie_source`).
    adaptive : try L = 1, 2, 4, ... and stop at the first list holding a valid path that passes
        the CRC (needs a code with a CRC).

    The chosen path of a list is the best-metric path that is valid and passes the CRC (when
    there is one); failing that, the best valid path; failing that, the best path.
    """

    def __init__(
        self,
        code: PolarCode,
        trie: Trie,
        list_size: int = 8,
        mode: str = "prune",
        penalty: float = 20.0,
        adaptive: bool = False,
    ) -> None:
        if not isinstance(code, PolarCode):
            raise ParameterError("code", "must be a PolarCode", type(code).__name__)
        bits = trie.alphabet.bits
        if code.k % bits:
            raise ParameterError("k", f"must be a multiple of {bits} bits per character", code.k)
        if adaptive and code.crc is None:
            raise ParameterError(
                "adaptive",
                "the adaptive joint decoder needs a CRC to know "
                "when to stop (a pruned list is always 'valid')",
                adaptive,
            )
        self.code = code
        self.trie = trie
        self.list_size = check_int("list_size", list_size, 1, 1024)
        self.mode = mode
        self.adaptive = bool(adaptive)
        self.source = trie_source(trie, mode, penalty)
        self._garbage = trie.n_nodes if mode == "penalty" else -2
        self._scl = SCLDecoder(code, self.list_size, "approx", source=self.source)

    def _choose(self, out, L: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        F = out.pm.shape[0]
        finite = np.isfinite(out.pm)
        valid = finite & (out.state >= 0) & (out.state != self._garbage)
        ok = valid.copy()
        if self.code.crc is not None:
            K = self.code.K
            ok &= self.code.crc.check(out.payload.reshape(F * L, K)).reshape(F, L)
        pick = np.where(ok.any(1), ok.argmax(1), np.where(valid.any(1), valid.argmax(1), 0))
        rows = np.arange(F)
        return out.payload[rows, pick], out.state[rows, pick], valid[rows, pick], ok.any(1)

    def decode_block(self, llr: np.ndarray, state0: np.ndarray) -> tuple[np.ndarray, ...]:
        """One block of each stream: LLRs (S, n), states (S,) -> (payload (S, K), state (S,),
        valid (S,), list size used (S,))."""
        a, _ = self.code.check_llr(llr)
        S = a.shape[0]
        st0 = np.asarray(state0, dtype=np.int32).copy()
        st0[(st0 < 0) | (st0 == self._garbage)] = 0  # resynchronise lost streams at a word start
        pay = np.empty((S, self.code.K), dtype=np.uint8)
        state = np.empty(S, dtype=np.int32)
        valid = np.zeros(S, dtype=bool)
        used = np.zeros(S, dtype=np.int64)
        todo = np.arange(S)
        L = 1 if self.adaptive else self.list_size
        while todo.size:
            out = self._scl.decode_list(a[todo], list_size=L, state0=st0[todo])
            p, s, v, ok = self._choose(out, L)
            done = ok | (self.list_size <= L)
            idx = todo[done]
            pay[idx], state[idx], valid[idx], used[idx] = p[done], s[done], v[done], L
            todo = todo[~done]
            L = min(2 * L, self.list_size)
        return pay, state, valid, used

    def decode(self, llr: np.ndarray, state0: np.ndarray | None = None) -> JointDecodeResult:
        """Decode T blocks of S streams in order: ``llr`` (T, S, n) -> :class:`JointDecodeResult`."""
        a = np.asarray(llr)
        if a.ndim != 3 or a.shape[2] != self.code.n:
            raise ParameterError("llr", f"must have shape (T, S, {self.code.n})", a.shape)
        T, S, _ = a.shape
        st = np.zeros(S, np.int32) if state0 is None else np.asarray(state0, np.int32).copy()
        pays, used, valid = [], [], []
        for t in range(T):
            p, st, v, u = self.decode_block(a[t], st)
            pays.append(p)
            used.append(u)
            valid.append(v)
        return JointDecodeResult(np.stack(pays), np.stack(used), np.stack(valid), st)
