"""Decoders: noiseless, SC/SCL equivalences, exhaustive ML on short codes, CRC selection, the
source hook, and bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from noisyhw.channels import bec, bpsk, bpsk_awgn
from noisyhw.codes.polar import (
    AdaptiveSCLDecoder,
    CASCLDecoder,
    PolarCode,
    SCDecoder,
    SCLDecoder,
    SourceModel,
    make_decoder,
    polar_transform,
)
from noisyhw.errors import ParameterError


def _frames(code: PolarCode, frames: int, ebn0: float, seed: int):
    rng = np.random.default_rng(seed)
    msg = code.random_messages(frames, rng)
    return msg, bpsk_awgn(code.encode(msg), ebn0, code.rate, rng)


@pytest.mark.parametrize("systematic", [False, True])
def test_noiseless_decodes_perfectly(systematic: bool) -> None:
    code = PolarCode(128, 50, crc="crc8", systematic=systematic)
    msg = code.random_messages(40, 0)
    llr = 20.0 * bpsk(code.encode(msg))
    for dec in (
        SCDecoder(code),
        SCDecoder(code, shortcuts=False),
        SCLDecoder(code, 4),
        SCLDecoder(code, 3, metric="exact"),
        CASCLDecoder(code, 8),
        AdaptiveSCLDecoder(code, 8),
    ):
        assert np.array_equal(dec(llr), msg), dec
    assert np.array_equal(SCDecoder(code)(llr[0]), msg[0])  # single frame (n,) -> (k,)


def _sc_boxplus(llr: np.ndarray, frozen: np.ndarray) -> np.ndarray:
    """Reference SC with exact check nodes, recursive numpy: u (F, n) of x = u F^{(x)m}."""

    def rec(a: np.ndarray, fz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if a.shape[1] == 1:
            u = np.zeros_like(a, dtype=np.uint8) if fz[0] else (a < 0).astype(np.uint8)
            return u, u
        h = a.shape[1] // 2
        left, right = a[:, :h], a[:, h:]
        f = 2 * np.arctanh(np.clip(np.tanh(left / 2) * np.tanh(right / 2), -1 + 1e-15, 1 - 1e-15))
        u1, v1 = rec(f, fz[:h])
        u2, v2 = rec(right + (1 - 2.0 * v1) * left, fz[h:])
        return np.concatenate([u1, u2], 1), np.concatenate([v1 ^ v2, v2], 1)

    return rec(np.asarray(llr, np.float64), frozen)[0]


def test_scl_list1_is_sc_bit_for_bit() -> None:
    code = PolarCode(256, 128, "ga", 1.5)
    msg, llr = _frames(code, 300, 1.0, 1)
    sc_leaf = SCDecoder(code, shortcuts=False)(llr)
    assert (sc_leaf != msg).any()  # noisy enough to matter
    for shortcuts in (True, False):
        assert np.array_equal(SCLDecoder(code, 1, shortcuts=shortcuts)(llr), sc_leaf)
    # the exact metric runs exact (boxplus) check nodes: at L = 1 it is SC with boxplus
    exact_sc = _sc_boxplus(llr, code.frozen)[:, code.info_positions]
    assert np.array_equal(SCLDecoder(code, 1, "exact")(llr), exact_sc)
    assert not np.array_equal(exact_sc, sc_leaf)  # the two check nodes do differ here
    assert np.array_equal(SCDecoder(code)(llr), sc_leaf)  # Rate-0/1/REP shortcuts are exact
    # on a BEC (LLRs exactly 0) the leaf schedules still agree bit for bit
    erased = bec(30.0 * bpsk(code.encode(msg)), 0.3, np.random.default_rng(2))
    assert np.array_equal(
        SCLDecoder(code, 1, shortcuts=False)(erased), SCDecoder(code, shortcuts=False)(erased)
    )


@pytest.mark.parametrize("L", [2, 8, 16])
def test_scl_node_shortcuts_are_exact_for_approx_metric(L: int) -> None:
    """Rate-0 / REP / Rate-1 (L-1 forks) / SPC (L forks) nodes: the same list, in the same
    order, with the same metrics (float32 rounding aside) as the leaf-by-leaf schedule."""
    code = PolarCode(256, 100, crc="crc8")
    _, llr = _frames(code, 200, 1.0, 3)
    leaf = SCLDecoder(code, L, shortcuts=False).decode_list(llr)
    fast = SCLDecoder(code, L)
    assert {2, 3, 4, 8} <= set(np.unique(fast._ops[:, 0]))  # R0, R1, REP, SPC in use
    for dec in (fast, SCLDecoder(code, L, spc=False)):
        a = dec.decode_list(llr)
        assert np.array_equal(a.info, leaf.info)
        np.testing.assert_allclose(a.pm, leaf.pm, rtol=1e-5)
    full, top = fast.decode_list(llr), fast.decode_list(llr, paths=2)  # best 2 traced back
    assert top.info.shape == (200, 2, code.K)
    assert np.array_equal(top.info, full.info[:, :2]) and np.array_equal(top.pm, full.pm[:, :2])
    with pytest.raises(ParameterError):
        fast.decode_list(llr, paths=L + 1)


@pytest.mark.parametrize("L", [4, 8])
def test_scl_large_nodes_are_exact(L: int) -> None:
    """A high-rate code with a 256-bit Rate-1 node and 128-bit SPC nodes (u bits spanning
    several 64-bit words, flips at positions >= 64): same list and metrics as bitwise SCL."""
    code = PolarCode(1024, 900, crc="crc8")
    ops = SCLDecoder(code, L)._ops
    assert ((ops[:, 0] == 3) & (ops[:, 1] == 8)).any()  # Rate-1, 256 bits
    assert ((ops[:, 0] == 8) & (ops[:, 1] == 7)).any()  # SPC, 128 bits
    _, llr = _frames(code, 40, 3.0, 7)
    leaf = SCLDecoder(code, L, shortcuts=False).decode_list(llr)
    fast = SCLDecoder(code, L).decode_list(llr)
    assert np.array_equal(fast.info, leaf.info)
    np.testing.assert_allclose(fast.pm, leaf.pm, rtol=1e-5)


def test_node_u_bit_flips_match_the_transform() -> None:
    """Flipping codeword bit j of a node flips exactly the u bits the transform says
    (the packed submask update the list decoder uses), for nodes of 1 to 4 words."""
    from noisyhw.codes.polar import _kernels as K

    rng = np.random.default_rng(0)
    for size in (4, 64, 128, 256):
        x = rng.integers(0, 2, size, dtype=np.uint8)
        res = np.zeros((1, 2 * size), dtype=np.uint8)
        res[0, size:] = x
        w = np.zeros(max(1, size // 64), dtype=np.uint64)
        K._u_words(res, 0, size, w)
        pos = np.arange(size)
        shift = (pos % 64).astype(np.uint64)
        np.testing.assert_array_equal((w[pos // 64] >> shift) & 1, polar_transform(x))
        for j in rng.choice(size, min(size, 5), replace=False):
            K._flip_u.py_func(w, int(j))  # the compiled helper is inlined; test its body
            x[j] ^= 1
            np.testing.assert_array_equal((w[pos // 64] >> shift) & 1, polar_transform(x))


def _ml(code: PolarCode, llr: np.ndarray) -> np.ndarray:
    """Exhaustive ML on BPSK-AWGN: minimise sum |LLR_j| over positions where x_j != hard(LLR_j)."""
    msgs = np.array(list(itertools.product([0, 1], repeat=code.k)), dtype=np.uint8)
    cws = code.encode(msgs).astype(np.float64)  # (2^k, n)
    hard = (llr < 0).astype(np.float64)  # (F, n)
    cost = np.abs(llr)[:, None, :] * (cws[None, :, :] != hard[:, None, :])
    return msgs[cost.sum(-1).argmin(1)]


@pytest.mark.parametrize("n,k", [(8, 4), (16, 5), (16, 8), (4, 2)])
def test_scl_full_list_is_maximum_likelihood(n: int, k: int) -> None:
    code = PolarCode(n, k)
    msg, llr = _frames(code, 400, 0.0, n + k)
    got = SCLDecoder(code, 2**k)(llr)
    np.testing.assert_array_equal(got, _ml(code, llr))
    assert (got != msg).any(1).mean() <= (SCDecoder(code)(llr) != msg).any(1).mean()


@pytest.mark.parametrize("n,k", [(4, 3), (8, 4), (16, 5)])
def test_exact_metric_full_list_is_maximum_likelihood(n: int, k: int) -> None:
    """Exact path metric with exact check nodes: a full list is ML (with min-sum check nodes
    under the exact metric, as before, it was not)."""
    code = PolarCode(n, k)
    _, llr = _frames(code, 400, 0.0, 7 * n + k)
    np.testing.assert_array_equal(SCLDecoder(code, 2**k, "exact")(llr), _ml(code, llr))


def test_list_fer_not_worse_than_sc_and_crc_selection() -> None:
    code = PolarCode(256, 120, crc="crc8")
    msg, llr = _frames(code, 600, 1.5, 4)
    e_sc = (SCDecoder(code)(llr) != msg).any(1)
    e_scl = (SCLDecoder(code, 8)(llr) != msg).any(1)
    e_ca = (CASCLDecoder(code, 8)(llr) != msg).any(1)
    ad = AdaptiveSCLDecoder(code, 8)
    d_ad = ad(llr)
    e_ad = (d_ad != msg).any(1)
    # paired comparison on the same frames: the list (almost) never loses a frame SC got right
    assert e_scl.sum() <= e_sc.sum() and (e_scl & ~e_sc).sum() <= 3
    assert e_ca.sum() < e_scl.sum()
    # adaptive = CA-SCL-8 except where a smaller list already held a wrong CRC-passing word
    lost = e_ad & ~e_ca
    assert (ad.last_list_sizes[lost] < 8).all()
    assert code.crc.check(code.payload(d_ad[lost])).all()
    assert lost.sum() <= 0.2 * e_ca.sum() + 3
    assert (ad.last_list_sizes == 1).mean() > 0.5  # most frames stop at L = 1
    # CA-SCL returns a CRC-passing word whenever its list has one
    out = CASCLDecoder(code, 8).decode_list(llr)
    pay, ok = CASCLDecoder(code, 8).select(out)
    assert code.crc.check(pay[ok]).all()


def test_exact_metric_close_to_approx() -> None:
    code = PolarCode(256, 128)
    msg, llr = _frames(code, 500, 1.5, 5)
    ea = (SCLDecoder(code, 8, "approx")(llr) != msg).any(1).sum()
    ee = (SCLDecoder(code, 8, "exact")(llr) != msg).any(1).sum()
    assert abs(int(ea) - int(ee)) <= max(6, 0.3 * ea)


def test_source_hook_prunes_and_allow_all_changes_nothing() -> None:
    code = PolarCode(128, 64)
    bits = 4
    msg, llr = _frames(code, 300, 0.5, 6)
    # allow-all source: identical lists
    allow = SourceModel.from_symbols(np.zeros((1, 16), np.int32), bits)
    plain = SCLDecoder(code, 8).decode_list(llr)
    hooked = SCLDecoder(code, 8, source=allow).decode_list(llr)
    assert np.array_equal(plain.info, hooked.info)
    for nodes in (True, "wide"):  # Rate-1 / SPC nodes inside the source bits: still identical
        node = SCLDecoder(code, 8, source=allow, source_nodes=nodes)
        assert (node._schedule(8, 64)[:, 0] == 8).any()  # SPC nodes in the source region
        assert np.array_equal(plain.info, node.decode_list(llr).info)
    # a source whose symbols are all even (last bit 0): force the messages to obey it
    msg[:, bits - 1 :: bits] = 0
    rng = np.random.default_rng(7)
    llr = bpsk_awgn(code.encode(msg), 0.5, code.rate, rng)
    trans = np.where(np.arange(16) % 2 == 0, 0, -1)[None, :].astype(np.int32)
    even = SourceModel.from_symbols(trans, bits)
    dec = SCLDecoder(code, 8, source=even)
    out = dec.decode_list(llr)
    best = out.payload[:, 0]
    assert not best[:, bits - 1 :: bits].any()  # every decoded symbol is valid
    e_src = (best != msg).any(1).sum()
    e_plain = (SCLDecoder(code, 8)(llr) != msg).any(1).sum()
    assert e_src < e_plain
    # states: one state (0) throughout; invalid paths never survive
    assert (out.state[np.isfinite(out.pm)] == 0).all()
    # node mode: close to bitwise joint decoding (never worse than plain SCL by much)
    e_node = (SCLDecoder(code, 8, source=even, source_nodes=True)(llr) != msg).any(1).sum()
    assert e_node <= e_plain + 3 and e_node <= e_src + max(5, e_src)
    with pytest.raises(ParameterError):
        SCLDecoder(code, 8, source=even, source_nodes="sometimes")


def test_source_model_prior_tree() -> None:
    trans = np.array([[0, 0, -1, 0]], np.int32)
    nlp = -np.log(np.array([[0.5, 0.25, 1.0, 0.25]]))
    sm = SourceModel.from_symbols(trans, 2, nlp)
    # root costs -log(total valid mass) = 0; prefix '0' has mass 0.75; leaf 2 is invalid
    np.testing.assert_allclose(sm.tree[0, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(sm.tree[0, 2], -np.log(0.75), rtol=1e-6)
    assert np.isinf(sm.tree[0, 6])


def test_bad_input() -> None:
    code = PolarCode(64, 32)
    with pytest.raises(ParameterError):
        SCDecoder(code)(np.zeros((3, 32)))
    with pytest.raises(ParameterError):
        SCDecoder(code)(np.full((2, 64), np.nan))
    with pytest.raises(ParameterError):
        SCLDecoder(code, 0)
    with pytest.raises(ParameterError):
        SCLDecoder(code, 4, metric="bogus")
    with pytest.raises(ParameterError):
        make_decoder(code, "bp")
    with pytest.raises(ParameterError):
        CASCLDecoder(code, 4)  # no CRC
    with pytest.raises(ParameterError):
        SCDecoder("not a code")  # type: ignore[arg-type]
    # +-inf LLRs are accepted (known bits)
    msg = code.random_messages(3, 0)
    assert np.array_equal(SCLDecoder(code, 4)(np.inf * bpsk(code.encode(msg))), msg)


def test_huge_finite_llrs_and_bad_values() -> None:
    """|LLR| = 1e300 is finite in float64 but inf in the float32 kernels (the exact metric then
    formed inf - inf and lost frames); complex LLRs and non-binary messages were cast silently."""
    code = PolarCode(64, 32, crc="crc6")
    msg = code.random_messages(20, 0)
    llr = 1e300 * bpsk(code.encode(msg))
    for dec in (SCDecoder(code), SCLDecoder(code, 4), SCLDecoder(code, 4, "exact")):
        assert np.array_equal(dec(llr), msg), dec
        assert np.array_equal(dec(np.where(llr > 0, 1e39, -1e39)), msg), dec
    assert np.array_equal(CASCLDecoder(code, 4, "exact")(llr), msg)
    with pytest.raises(ParameterError, match="real"):
        SCDecoder(code)(llr.astype(complex))
    with pytest.raises(ParameterError, match="NaN"):
        SCLDecoder(code, 2)(np.where(np.arange(64) == 3, np.nan, llr))
    for bad in (np.full((2, 32), 2), np.full((2, 32), 0.7), -np.ones((2, 32), np.int64)):
        with pytest.raises(ParameterError, match="0 or 1"):
            code.encode(bad)
    assert code.encode(msg.astype(bool)).shape == (20, 64)
    assert code.encode(msg.astype(np.float64)).shape == (20, 64)
