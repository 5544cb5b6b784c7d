"""Joint source-channel decoding with a dictionary trie on top of the SCL source hook."""

from __future__ import annotations

import numpy as np
import pytest

from noisyhw.channels import bpsk, bpsk_awgn
from noisyhw.codes.jscc import JointSCLDecoder, trie_source
from noisyhw.codes.polar import PolarCode, SCLDecoder
from noisyhw.codes.text import ALPHABETS, Trie, bits_to_blocks
from noisyhw.errors import ParameterError

ALPHA = ALPHABETS["a27"]
WORDS = [
    "the",
    "then",
    "they",
    "cat",
    "car",
    "cart",
    "a",
    "an",
    "and",
    "dog",
    "do",
    "does",
    "on",
    "one",
    "at",
    "to",
    "top",
    "tap",
    "ten",
    "net",
    "nest",
    "test",
    "tea",
    "eat",
]


def _streams(k: int, blocks: int, streams: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(streams):
        text = " ".join(rng.choice(WORDS, size=80))
        bits = ALPHA.text_to_bits(text)[: blocks * k]
        out.append(bits_to_blocks(bits, k))
    return np.stack(out, 1)  # (T, S, k)


def test_trie_source_tables() -> None:
    trie = Trie.from_words(WORDS, ALPHA)
    src = trie_source(trie)
    t = ALPHA._table()
    node = trie.walk("ca")
    assert src.trans[node, t["r"]] == trie.walk("car")
    assert src.trans[node, t["x"]] == -1
    assert src.trans[trie.walk("car"), 0] == 0  # "car" is a word: space returns to the root
    assert src.trans[node, 0] == -1  # "ca" is not a word
    assert (src.trans[:, 27:] == -1).all()  # codes without characters
    with pytest.raises(ParameterError):
        trie_source(Trie(ALPHA))


def test_noiseless_exact_and_valid_under_noise() -> None:
    trie = Trie.from_words(WORDS, ALPHA)
    code = PolarCode(128, 60)  # 12 characters per block
    msg = _streams(60, 6, 8, 0)
    T, S, k = msg.shape
    x = code.encode(msg.reshape(-1, k))
    dec = JointSCLDecoder(code, trie, 4)
    res = dec.decode((20.0 * bpsk(x)).reshape(T, S, -1))
    assert np.array_equal(res.payload, msg) and res.valid.all()
    # noisy: every block whose chosen path is valid decodes to dictionary-consistent text
    llr = bpsk_awgn(x, 0.5, code.rate, np.random.default_rng(1)).reshape(T, S, -1)
    res = dec.decode(llr)
    for s in range(S):
        text = ALPHA.bits_to_text(res.payload[:, s].reshape(-1))
        if res.valid[:, s].all():
            assert trie.valid_text(text), text
    e_joint = (res.payload != msg).any(-1).mean()
    e_scl = (SCLDecoder(code, 4)(llr.reshape(-1, code.n)).reshape(T, S, k) != msg).any(-1).mean()
    assert e_joint < e_scl


def test_penalty_mode_and_adaptive() -> None:
    trie = Trie.from_words(WORDS, ALPHA)
    code = PolarCode(128, 60, crc="crc8")
    msg = _streams(60, 4, 8, 2)
    T, S, k = msg.shape
    llr = bpsk_awgn(
        code.encode(msg.reshape(-1, k)), 1.0, code.rate, np.random.default_rng(3)
    ).reshape(T, S, -1)
    pen = JointSCLDecoder(code, trie, 8, mode="penalty").decode(llr)
    ada = JointSCLDecoder(code, trie, 8, adaptive=True).decode(llr)
    full = JointSCLDecoder(code, trie, 8).decode(llr)
    e = {
        n: (r.payload[..., :k] != msg).any(-1).mean()
        for n, r in (("pen", pen), ("ada", ada), ("full", full))
    }
    assert e["full"] <= e["pen"] + 0.1 and e["ada"] <= e["full"] + 0.1
    assert ada.list_sizes.mean() < 8 and set(np.unique(ada.list_sizes)) <= {1, 2, 4, 8}
    with pytest.raises(ParameterError):
        JointSCLDecoder(PolarCode(128, 60), trie, 8, adaptive=True)  # no CRC
    with pytest.raises(ParameterError):
        JointSCLDecoder(PolarCode(128, 61), trie, 8)  # k not whole characters
    with pytest.raises(ParameterError):
        JointSCLDecoder(code, trie, 8).decode(llr[0])
