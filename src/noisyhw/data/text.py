"""English text available offline, a character vocabulary, and language-model windows.

Corpora (Debian packages, present after ``apt-get install fortunes``):

* ``fortunes`` — every plain-text fortune file in ``/usr/share/games/fortunes`` (prose, quotes,
  jokes; about 4 MB), files joined in sorted order.
* ``licenses`` — the licence texts in ``/usr/share/common-licenses`` (legal prose, ~0.6 MB;
  always present on Debian).
* any file path, read as UTF-8.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError, ParameterError, check_int
from .datasets import ArrayDataset

__all__ = ["CORPORA", "CharVocab", "char_windows", "load_corpus"]

CORPORA: dict[str, Path] = {
    "fortunes": Path("/usr/share/games/fortunes"),
    "licenses": Path("/usr/share/common-licenses"),
}


def _corpus_files(folder: Path) -> list[Path]:
    files = []
    for f in sorted(folder.iterdir()):
        if f.is_symlink() or not f.is_file() or f.suffix in (".dat", ".u8"):
            continue
        files.append(f)
    return files


def load_corpus(name_or_path: str | os.PathLike[str], max_chars: int | None = None) -> str:
    """The text of a named corpus (see module docstring) or a file/folder path.

    Line breaks are kept; ``max_chars`` truncates.
    """
    key = str(name_or_path)
    path = CORPORA.get(key, Path(key))
    if not path.exists():
        hint = (
            "install it with `apt-get install fortunes`"
            if key == "fortunes"
            else f"known corpora: {', '.join(CORPORA)}, or give a text file path"
        )
        raise DataError(f"corpus {key!r}: {path} not found; {hint}")
    files = _corpus_files(path) if path.is_dir() else [path]
    parts = [f.read_bytes().decode("utf-8", errors="replace") for f in files]
    text = "\n".join(parts)
    if not text.strip():
        raise DataError(f"corpus {key!r}: no text in {path}")
    return text[:max_chars] if max_chars else text


@dataclass(frozen=True)
class CharVocab:
    """A character vocabulary; index 0 is reserved for characters outside it (``unk``)."""

    chars: str
    unk: str = "\ufffd"

    @classmethod
    def from_text(cls, text: str, max_size: int | None = None) -> CharVocab:
        """The ``max_size - 1`` most frequent characters of ``text`` (all when None), sorted."""
        values, counts = np.unique(
            np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32), return_counts=True
        )
        order = np.argsort(-counts, kind="stable")
        if max_size is not None:
            order = order[: max(1, max_size - 1)]
        return cls("".join(sorted(chr(int(v)) for v in values[order])))

    def __len__(self) -> int:
        return len(self.chars) + 1

    def encode(self, text: str) -> np.ndarray:
        """Characters -> int64 ids (unknown -> 0)."""
        table = {c: i + 1 for i, c in enumerate(self.chars)}
        return np.fromiter((table.get(c, 0) for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.chars[i - 1] if i > 0 else self.unk for i in ids)


def char_windows(
    ids: np.ndarray, seq_len: int, *, stride: int | None = None, vocab_size: int | None = None
) -> ArrayDataset:
    """Language-model windows: x = ids[t : t+seq_len], y = ids[t+1 : t+seq_len+1].

    Returns an :class:`ArrayDataset` with ``x`` int64 (N, seq_len) and ``y`` int64 (N, seq_len)
    (``classes`` are the token ids). ``stride`` defaults to ``seq_len`` (non-overlapping).
    """
    seq_len = check_int("seq_len", seq_len, 1)
    stride = check_int("stride", stride or seq_len, 1)
    if len(ids) < seq_len + 1:
        raise ParameterError("seq_len", f"must be < the text length {len(ids)}", seq_len)
    starts = np.arange(0, len(ids) - seq_len, stride)
    idx = starts[:, None] + np.arange(seq_len + 1)[None, :]
    win = torch.from_numpy(ids[idx])
    vs = vocab_size or int(ids.max()) + 1
    ds = ArrayDataset(
        win[:, :-1].contiguous(), win[:, 1:].contiguous(), [str(i) for i in range(vs)], "text"
    )
    return ds
