"""Joint source-channel decoding: exactness, dictionary validity, the source model, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from noisyhw.channels import bpsk_awgn
from noisyhw.codes.jscc import AdaptiveJointDecoder, JointSCLDecoder, text_metrics, trie_source
from noisyhw.codes.polar import PolarCode
from noisyhw.codes.text import ALPHABETS, Trie
from noisyhw.errors import ParameterError

A27 = ALPHABETS["a27"]
TEXT = (
    "the quick brown fox jumps over the lazy dog and then the dog sleeps while the fox "
    "runs into the green forest where many other animals live in peace under tall trees "
)


def _streams(text: str, S: int, B: int, k: int) -> np.ndarray:
    bits = A27.text_to_bits(text * 20)
    span = B * k
    return np.stack([bits[s * span : (s + 1) * span] for s in range(S)]).reshape(S, B, k)


def _valid_stream(trie: Trie, bits: np.ndarray) -> bool:
    """Every complete word of the decoded stream is in the dictionary (first partial word is
    unconstrained: streams may start inside a word)."""
    words = A27.bits_to_text(bits.reshape(-1)).split(" ")
    if len(words) == 1:
        return True
    return all(w == "" or trie.is_word(w) for w in words[1:-1]) and trie.is_prefix(words[-1])


def test_source_model_transitions():
    trie = Trie.from_words(["ab", "abc", "b"], A27)
    src = trie_source(trie, "prune")
    t = src.trans
    a, b, c = 1, 2, 3
    n_a = t[0, a]
    n_ab = t[n_a, b]
    assert n_a > 0 and n_ab > 0 and t[0, c] == -1
    assert t[n_a, 0] == -1  # "a" is not a word: no space
    assert t[n_ab, 0] == 0 and t[0, 0] == 0  # word end and runs of spaces return to the root
    assert (t[:, 27:] == -1).all()
    oov = t.shape[0] - 1
    assert t[oov, c] == oov and t[oov, 0] == 0
    pen = trie_source(trie, "penalty", penalty=7.0)
    assert pen.trans[0, c] == oov and pen.trans[n_a, 0] == 0
    # the tree root costs 0 where a valid symbol exists; a penalised leaf costs 7
    assert pen.tree[0, 1] == 0 and pen.tree[0, 32 + c] == 7.0 and pen.tree[0, 32 + 27] == np.inf


def test_prior_is_normalised():
    trie = Trie.from_words(["ab", "abc", "b"], A27, counts=[3, 1, 4])
    src = trie_source(trie, "prune", prior=True)
    p = np.exp(-src.tree[:, 32:])
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-12)
    # P(a | root) : P(b | root) = 4 : 4 up to the root-space share
    assert np.isclose(p[0, 1], p[0, 2])
    n_ab = src.trans[src.trans[0, 1], 2]
    assert np.isclose(p[n_ab, 0], 0.75) and np.isclose(p[n_ab, 3], 0.25)


@pytest.mark.parametrize("cls", [JointSCLDecoder, AdaptiveJointDecoder])
def test_noiseless_exact(cls):
    trie = Trie.from_words(TEXT.split(), A27)
    code = PolarCode(64, 30, construction="5g", crc="crc6")
    ref = _streams(TEXT, 5, 6, 30)
    x = code.encode(ref.reshape(-1, 30)).astype(float)
    llr = ((1 - 2 * x) * 4.0).reshape(5, 6, 64)
    out = cls(code, trie_source(trie, "prune"), 4).decode_stream(llr)
    np.testing.assert_array_equal(out.bits, ref)
    assert out.valid.all()
    assert text_metrics(ref, out.bits)["wer"] == 0


def test_joint_never_returns_invalid_path_when_valid_exists():
    trie = Trie.from_words(TEXT.split(), A27)
    src = trie_source(trie, "prune")
    code = PolarCode(128, 60, construction="5g")
    ref = _streams(TEXT, 40, 1, 60)
    x = code.encode(ref.reshape(-1, 60))
    llr = bpsk_awgn(x, 0.0, code.rate, rng=3)
    dec = JointSCLDecoder(code, src, 8)
    oov = src.trans.shape[0] - 1
    state0 = np.full(40, oov, np.int32)  # streams start mid-word
    out = dec._scl.decode_list(llr, state0=state0)
    pay, _, valid, _ = dec.select(out)
    for f in range(40):
        any_valid = bool((np.isfinite(out.pm[f]) & (out.state[f] >= 0)).any())
        assert valid[f] == any_valid
        if any_valid:
            assert _valid_stream(trie, pay[f][None, None, :60])
    # and the whole list agrees with the trie: every finite, constrained path is valid text
    for f in range(40):
        for ell in range(8):
            if np.isfinite(out.pm[f, ell]) and out.state[f, ell] >= 0:
                assert _valid_stream(trie, out.payload[f, ell][None, None, :60])
    # at 0 dB the dictionary helps: fewer frame errors than plain SCL on the same noise
    plain = JointSCLDecoder(code, None, 8)
    e_joint = (dec.decode_stream(llr.reshape(40, 1, 128), state0).bits != ref).any(2).sum()
    e_plain = (plain.decode_stream(llr.reshape(40, 1, 128)).bits != ref).any(2).sum()
    assert e_joint < e_plain


def test_state_carried_across_blocks():
    """A word cut by the block boundary is still constrained: decode two blocks as a stream
    and check the second block starts in the state the first ended in."""
    trie = Trie.from_words(TEXT.split(), A27)
    src = trie_source(trie, "prune")
    code = PolarCode(64, 30, construction="5g")
    ref = _streams(TEXT, 1, 2, 30)  # 6 characters per block: 'the qu' | 'ick br'
    x = code.encode(ref.reshape(-1, 30)).astype(float)
    dec = JointSCLDecoder(code, src, 2)
    _, st, _, _ = dec.decode_block((1 - 2 * x[:1]) * 4.0, np.zeros(1, np.int32))
    assert st[0] == trie.walk("qu")
    # from the root, the second block's 'ick' is not a prefix: the true path is pruned
    out0 = dec._scl.decode_list((1 - 2 * x[1:]) * 4.0, state0=np.zeros(1, np.int32))
    assert not (out0.payload[0, :, :30] == ref[0, 1]).all(1)[np.isfinite(out0.pm[0])].any()


def test_adaptive_list_sizes_and_metrics():
    trie = Trie.from_words(TEXT.split(), A27)
    code = PolarCode(128, 60, construction="5g", crc="crc8")
    ref = _streams(TEXT, 16, 3, 60)
    x = code.encode(ref.reshape(-1, 60))
    llr = bpsk_awgn(x, 6.0, code.rate, rng=0).reshape(16, 3, 128)
    out = AdaptiveJointDecoder(code, trie_source(trie, "penalty"), 8).decode_stream(llr)
    assert set(np.unique(out.list_size)) <= {1, 2, 4, 8}
    assert out.list_size.mean() < 2  # high SNR: almost always L = 1
    m = text_metrics(ref, out.bits)
    assert m["frames"] == 48 and m["fer"] == 0


def test_text_metrics_counts():
    ref = _streams(TEXT, 2, 2, 30)
    dec = ref.copy()
    dec[0, 0, 5:10] ^= np.array([0, 0, 0, 1, 1], np.uint8)  # second character changes
    m = text_metrics(ref, dec)
    assert m["frame_errors"] == 1 and m["bit_errors"] == 2 and m["char_errors"] == 1
    assert m["word_errors"] == 1


def test_bad_input():
    trie = Trie.from_words(["ab"], A27)
    with pytest.raises(ParameterError):
        trie_source(Trie(A27))  # empty dictionary
    with pytest.raises(ParameterError):
        trie_source(trie, "soft")
    with pytest.raises(ParameterError):
        trie_source(trie, "penalty", penalty=0)
    with pytest.raises(ParameterError):
        trie_source({"ab"})
    with pytest.raises(ParameterError):
        JointSCLDecoder(PolarCode(64, 32), trie_source(trie), 4)  # k not whole characters
    dec = JointSCLDecoder(PolarCode(64, 30), trie_source(trie), 4)
    with pytest.raises(ParameterError):
        dec.decode_stream(np.zeros((2, 64)))
    with pytest.raises(ParameterError):
        text_metrics(np.zeros((1, 1, 30)), np.zeros((1, 2, 30)))
    with pytest.raises(ParameterError):
        A27.encode("caf\u00e9", unknown="error")
