"""Text as a source for channel codes: alphabets, text <-> bits <-> k-bit blocks, a dictionary
trie in compact arrays, and text error metrics.

Alphabets
---------
* ``"a27"``: 27 symbols, 5 bits each: space = 0, ``a``..``z`` = 1..26 (codes 27..31 unused and
  decoded as ``"?"``). Text is lower-cased; with ``unknown="map"`` every other character becomes a
  space (the documented escape), with ``unknown="error"`` it is a :class:`ParameterError`.
* ``"ascii"``: 128 symbols, 8 bits each (the top bit is always 0); ``unknown`` characters (code
  >= 128) map to ``"?"`` or raise.

Bits are written most significant bit first. A text of ``m`` symbols of ``b`` bits gives ``m*b``
bits, cut into blocks of ``k`` (the last block padded with zeros, i.e. spaces in ``a27``).

The trie
--------
:class:`Trie` stores words over an alphabet's symbols as arrays so compiled decoders can walk it:
``children[node, symbol]`` is the child node or -1, ``is_word[node]`` marks ends of words and
``count[node]`` their frequency; node 0 is the root. Words can be added at any time ("dynamic
dictionary"): arrays grow by doubling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError, ParameterError, check_choice, check_int

__all__ = [
    "ALPHABETS",
    "Alphabet",
    "Trie",
    "bits_to_blocks",
    "blocks_to_bits",
    "character_error_rate",
    "load_word_list",
    "word_error_rate",
]


@dataclass(frozen=True)
class Alphabet:
    """A fixed-width character code: ``symbols[i]`` is the character of code ``i``."""

    name: str
    symbols: str
    bits: int
    separator: int  # code of the word separator (space)
    lowercase: bool
    fill: str = "?"

    @property
    def size(self) -> int:
        return len(self.symbols)

    def _table(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.symbols)}

    def normalize(self, text: str, unknown: str = "map") -> str:
        """Lower-case (``a27``) and map or reject characters outside the alphabet."""
        check_choice("unknown", unknown, ("map", "error"))
        if self.lowercase:
            text = text.lower()
        table = self._table()
        bad = {c for c in set(text) if c not in table}
        if bad and unknown == "error":
            shown = "".join(sorted(bad))[:20]
            raise ParameterError("text", f"characters outside the {self.name} alphabet: {shown!r}")
        if not bad:
            return text
        sub = self.symbols[self.separator] if self.name == "a27" else self.fill
        return "".join(c if c in table else sub for c in text)

    def encode(self, text: str, unknown: str = "map") -> np.ndarray:
        """Text -> symbol codes, int64 (m,)."""
        text = self.normalize(text, unknown)
        table = self._table()
        return np.fromiter((table[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, codes: np.ndarray) -> str:
        """Symbol codes -> text (codes without a character become ``fill``)."""
        return "".join(
            self.symbols[c] if c < self.size else self.fill for c in np.asarray(codes).tolist()
        )

    def to_bits(self, codes: np.ndarray) -> np.ndarray:
        """Codes (m,) -> bits uint8 (m * bits,), most significant bit first."""
        shifts = np.arange(self.bits - 1, -1, -1)
        return ((np.asarray(codes)[:, None] >> shifts) & 1).astype(np.uint8).reshape(-1)

    def from_bits(self, bits: np.ndarray) -> np.ndarray:
        """Bits (m * bits,) -> codes int64 (m,); trailing bits that do not fill a symbol are dropped."""
        b = np.asarray(bits, dtype=np.int64)
        m = b.size // self.bits
        weights = 1 << np.arange(self.bits - 1, -1, -1)
        return b[: m * self.bits].reshape(m, self.bits) @ weights

    def text_to_bits(self, text: str, unknown: str = "map") -> np.ndarray:
        return self.to_bits(self.encode(text, unknown))

    def bits_to_text(self, bits: np.ndarray) -> str:
        return self.decode(self.from_bits(bits))


ALPHABETS: dict[str, Alphabet] = {
    "a27": Alphabet("a27", " abcdefghijklmnopqrstuvwxyz", 5, 0, True),
    "ascii": Alphabet("ascii", "".join(chr(i) for i in range(128)), 8, 32, False),
}


def bits_to_blocks(bits: np.ndarray, k: int) -> np.ndarray:
    """Bits (m,) -> blocks uint8 (ceil(m / k), k), the last zero-padded."""
    k = check_int("k", k, 1)
    b = np.asarray(bits, dtype=np.uint8).reshape(-1)
    n_blocks = -(-b.size // k)
    out = np.zeros(n_blocks * k, dtype=np.uint8)
    out[: b.size] = b
    return out.reshape(n_blocks, k)


def blocks_to_bits(blocks: np.ndarray, length: int | None = None) -> np.ndarray:
    """Blocks (F, k) -> bits (F * k,) (or the first ``length``)."""
    b = np.asarray(blocks, dtype=np.uint8).reshape(-1)
    return b if length is None else b[:length]


@dataclass
class Trie:
    """A dictionary of words over an alphabet's symbol codes, in growable arrays.

    >>> t = Trie.from_words(["cat", "car"], ALPHABETS["a27"])
    >>> t.is_word("car"), t.is_prefix("ca"), t.is_prefix("cb")
    (True, True, False)
    """

    alphabet: Alphabet
    children: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.int32))
    is_word_node: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    count: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    n_nodes: int = 0

    def __post_init__(self) -> None:
        if self.n_nodes == 0:
            self.children = np.full((64, self.alphabet.size), -1, dtype=np.int32)
            self.is_word_node = np.zeros(64, dtype=bool)
            self.count = np.zeros(64, dtype=np.int64)
            self.n_nodes = 1  # the root

    # ------------------------------------------------------------------ building
    @classmethod
    def from_words(
        cls,
        words: Iterable[str],
        alphabet: Alphabet | str = "a27",
        counts: Iterable[int] | None = None,
    ) -> Trie:
        """A trie of ``words`` (normalised; words with characters outside the alphabet or the
        separator are skipped)."""
        alpha = ALPHABETS[alphabet] if isinstance(alphabet, str) else alphabet
        trie = cls(alpha)
        if counts is None:
            for w in words:
                trie.add(w)
            return trie
        words, counts = list(words), list(counts)
        if len(counts) != len(words):
            raise ParameterError("counts", f"one count per word ({len(words)})", len(counts))
        for w, c in zip(words, counts, strict=True):
            trie.add(w, c)
        return trie

    def _grow(self) -> None:
        cap = self.children.shape[0] * 2
        children = np.full((cap, self.alphabet.size), -1, dtype=np.int32)
        children[: self.n_nodes] = self.children[: self.n_nodes]
        self.children = children
        self.is_word_node = np.concatenate(
            [self.is_word_node, np.zeros(cap - self.is_word_node.size, bool)]
        )
        self.count = np.concatenate([self.count, np.zeros(cap - self.count.size, np.int64)])

    def add(self, word: str, count: int = 1) -> bool:
        """Add one word (its frequency ``count`` >= 1 accumulates); False if it cannot be spelt."""
        count = check_int("count", int(count) if isinstance(count, np.integer) else count, 1)
        if self.alphabet.lowercase:
            word = word.lower()
        table = self.alphabet._table()
        sep = self.alphabet.symbols[self.alphabet.separator]
        if not word or sep in word or any(c not in table for c in word):
            return False
        node = 0
        for c in word:
            s = table[c]
            nxt = int(self.children[node, s])
            if nxt < 0:
                if self.n_nodes == self.children.shape[0]:
                    self._grow()
                nxt = self.n_nodes
                self.n_nodes += 1
                self.children[node, s] = nxt
            node = nxt
        self.is_word_node[node] = True
        self.count[node] += count
        return True

    # ------------------------------------------------------------------ queries
    def walk(self, word: str, node: int = 0) -> int:
        """Node reached by spelling ``word`` from ``node``; -1 if it leaves the trie."""
        table = self.alphabet._table()
        for c in self.alphabet.normalize(word) if self.alphabet.lowercase else word:
            s = table.get(c)
            if s is None or node < 0:
                return -1
            node = int(self.children[node, s])
        return node

    def is_prefix(self, word: str) -> bool:
        """True when ``word`` starts some dictionary word (the empty string always does)."""
        return self.walk(word) >= 0

    def is_word(self, word: str) -> bool:
        node = self.walk(word)
        return node >= 0 and bool(self.is_word_node[node])

    @property
    def num_words(self) -> int:
        return int(self.is_word_node[: self.n_nodes].sum())

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(children, is_word)`` trimmed to the used nodes (for compiled decoders)."""
        return self.children[: self.n_nodes], self.is_word_node[: self.n_nodes]

    def valid_text(self, text: str) -> bool:
        """Every complete word is in the dictionary and the trailing partial word is a prefix."""
        sep = self.alphabet.symbols[self.alphabet.separator]
        parts = text.split(sep)
        return all(p == "" or self.is_word(p) for p in parts[:-1]) and self.is_prefix(parts[-1])


WORD_LIST = Path("/usr/share/dict/words")


def load_word_list(path: str | Path = WORD_LIST, alphabet: Alphabet | str = "a27") -> list[str]:
    """Words of a word list (one per line, e.g. Debian ``wamerican``) that the alphabet can
    spell, lower-cased, deduplicated, in file order."""
    alpha = ALPHABETS[alphabet] if isinstance(alphabet, str) else alphabet
    p = Path(path)
    if not p.is_file():
        raise DataError(f"word list {p} not found (Debian: apt-get install wamerican)")
    pattern = re.compile(r"^[a-z]+$") if alpha.name == "a27" else re.compile(r"^[\x21-\x7e]+$")
    seen: dict[str, None] = {}
    for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
        w = line.strip().lower() if alpha.lowercase else line.strip()
        if pattern.match(w):
            seen.setdefault(w, None)
    if not seen:
        raise DataError(f"word list {p} has no words the {alpha.name} alphabet can spell")
    return list(seen)


def _edit_distance(a: list, b: list) -> int:
    prev = np.arange(len(b) + 1)
    for i, x in enumerate(a, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        subs = prev[:-1] + np.array([x != y for y in b], dtype=np.int64)
        # insertions depend on the row being built, so finish with a running minimum
        cur[1:] = np.minimum(prev[1:] + 1, subs)
        for j in range(1, len(b) + 1):
            if cur[j - 1] + 1 < cur[j]:
                cur[j] = cur[j - 1] + 1
        prev = cur
    return int(prev[-1])


def character_error_rate(reference: str, decoded: str) -> float:
    """Fraction of differing characters (same length: substitutions; else edit distance / len)."""
    if not reference:
        return 0.0 if not decoded else 1.0
    if len(reference) == len(decoded):
        return float(
            np.mean(
                np.frombuffer(reference.encode("utf-32-le"), np.uint32)
                != np.frombuffer(decoded.encode("utf-32-le"), np.uint32)
            )
        )
    return _edit_distance(list(reference), list(decoded)) / len(reference)


def word_error_rate(reference: str, decoded: str) -> float:
    """Word-level edit distance (substitutions + insertions + deletions) / reference words."""
    ref, hyp = reference.split(), decoded.split()
    if not ref:
        return 0.0 if not hyp else 1.0
    return _edit_distance(ref, hyp) / len(ref)
