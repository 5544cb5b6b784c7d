"""Staggered linear WOM groups: certificates re-checked by brute force, an exhaustive proof over
every reachable configuration for small codes, and long random / adversarial sequences."""

import itertools

import numpy as np
import pytest
from test_pcm_check import brute_check

from noisyhw.codes.pcm import (
    StaggeredWOMCode,
    best_code,
    capacity,
    check,
    constructions,
    simulate,
    solve_wom,
    staggered_wom,
)
from noisyhw.codes.pcm._tables import WOM_CODES
from noisyhw.errors import ParameterError


def _rank(vectors, bits: int) -> int:
    """GF(2) rank of int bit-vectors by row reduction of a 0/1 matrix (independent of the
    library's elimination)."""
    a = ((np.array([int(v) for v in vectors], np.int64)[:, None] >> np.arange(bits)) & 1).astype(
        np.uint8
    )
    rank = 0
    for col in range(bits):
        rows = np.flatnonzero(a[rank:, col]) + rank
        if rows.size == 0:
            continue
        a[[rank, rows[0]]] = a[[rows[0], rank]]
        others = np.flatnonzero(a[:, col])
        others = others[others != rank]
        a[others] ^= a[rank]
        rank += 1
        if rank == a.shape[0]:
            break
    return rank


def _rank_leading(vectors) -> int:
    """GF(2) rank by a leading-bit basis (pure Python; a third, independent elimination)."""
    basis: dict[int, int] = {}
    for v in vectors:
        v = int(v)
        while v:
            h = v.bit_length() - 1
            if h not in basis:
                basis[h] = v
                break
            v ^= basis[h]
    return len(basis)


SMALL_GROUPS = sorted(k for k in WOM_CODES if len(WOM_CODES[k]) <= 12)


@pytest.mark.parametrize("key", SMALL_GROUPS)
def test_wom_group_serves_every_target_sequence(key):
    """Every sequence of targets from a fresh group, starting in any phase: fresh cells only,
    syndrome reached."""
    t, d = key
    cols = WOM_CODES[key]
    tables = solve_wom(cols, d, t)
    assert tables is not None
    g = len(cols)
    for start in range(t):  # groups start mid-span at the first write, with nothing flipped
        for seq in itertools.product(range(2**d), repeat=t - start):
            flipped = 0
            syn = 0
            for i, target in enumerate(seq, start):
                x = int(tables[i][flipped, target ^ syn])
                assert x >= 0 and x & flipped == 0
                for c in range(g):
                    if (x >> c) & 1:
                        syn ^= cols[c]
                assert syn == target
                flipped |= x


def test_wom_game_rejects_too_few_cells():
    assert solve_wom([1, 2, 3], 2, 3) is None  # 3 cells cannot take 3 writes of 2 bits
    assert solve_wom([1, 2], 2, 2) is None
    assert solve_wom([1, 2, 4, 3, 5, 6, 7], 3, 3) is not None  # Hamming: 3 writes of 3 bits
    assert solve_wom([1, 2, 4, 3, 5, 6, 7], 3, 4) is None


@pytest.mark.parametrize("alpha", range(2, 9))
def test_active_groups_in_direct_sum_at_every_write(alpha):
    code = staggered_wom(alpha)
    P, t, r = code.period, code.t, code.r
    for w in range(P):
        active = [(w - i) % P for i in range(t)]
        basis = [v for j in active for v in code.embed[j]]
        assert len(basis) == r and _rank(basis, r) == r
        # every cell's global column lies in its group's image
        for j in active:
            assert set(code.gcols[j].tolist()) <= {
                int(
                    np.bitwise_xor.reduce(
                        [code.embed[j][k] for k in range(code.d) if v >> k & 1] or [0]
                    )
                )
                for v in range(2**code.d)
            }


@pytest.mark.parametrize("alpha", [3, 4, 5, 6, 7, 8])
def test_beats_round_robin_for_alpha_at_least_3(alpha):
    code = staggered_wom(alpha)  # the (19-cell, 13-bit) 2-write group
    assert code.rate == pytest.approx(26 / (19 * (alpha + 1)))
    assert code.rate > 1 / alpha
    assert code.rate < capacity(alpha, 1, 1)
    best = best_code(alpha, 1, 1)
    assert isinstance(best, StaggeredWOMCode) and best.rate == code.rate
    rs = staggered_wom(alpha, t=2, d=2)  # Rivest-Shamir groups: ties 1/3 at alpha = 3
    assert rs.rate == pytest.approx(4 / (3 * (alpha + 1)))
    assert rs.rate > 1 / alpha or alpha == 3


def test_19_cell_group_certificate_by_brute_force():
    """Every one of the 2^13 first-write targets: the table's pattern has that syndrome and
    leaves fresh columns of rank 13 (so the second write reaches every target); plus the
    second write's linear algebra on random targets."""
    from noisyhw.codes.pcm.game import solve_fresh, two_write_first

    cols = WOM_CODES[(2, 13)]
    assert len(cols) == 19
    first = two_write_first(cols, 13)
    assert first is not None
    rng = np.random.default_rng(1)
    colarr = np.array(cols, np.int64)
    for s, x in enumerate(first.tolist()):
        syn = 0
        for i in range(19):
            if x >> i & 1:
                syn ^= cols[i]
        assert syn == s
        assert _rank_leading(cols[i] for i in range(19) if not x >> i & 1) == 13
        if s % 256 == 0:
            u = int(rng.integers(2**13))
            y = solve_fresh(cols, (2**19 - 1) & ~x, u)
            assert y >= 0 and y & x == 0
            assert np.bitwise_xor.reduce(colarr[((y >> np.arange(19)) & 1) == 1], initial=0) == u


def explore_clocked(code, limit=300_000):
    """Every (clock mod P, last alpha states) configuration reachable under every message:
    decoding and the constraint (brute-force checker over the last alpha writes) checked on
    every transition. A proof for all message sequences of any length."""
    a = code.constraint.alpha
    keep = max(a, code.memory + 1)
    zero = tuple(code.initial_state())
    start = (0, (zero,) * keep)
    seen = {start}
    todo = [start]
    msgs = [np.array(m) for m in itertools.product(range(code.radix), repeat=code.symbols)]
    P = code.period
    while todo:
        phase, conf = todo.pop()
        cur = np.array(conf[-1], np.uint8)
        hist = np.array(conf[:-1], np.uint8)[-code.memory :] if code.memory else None
        # step only matters mod P; phase + P stands for "not the first write" once states exist
        for m in msgs:
            new = code.write(cur, m, hist, phase)
            assert np.array_equal(code.read(new), m)
            window = np.array([*conf[-a:], tuple(new)], np.uint8)  # the last alpha writes
            if code.constraint.beta == 1:  # per cell, straight from the definition
                changes = (window[1:] != window[:-1]).sum(axis=0)
                assert changes.max() <= code.constraint.p, (code, window)
            else:
                assert brute_check(window, *code.constraint)[0] is None, (code, window)
            nxt = ((phase + 1) % P + P, (*conf[1:], tuple(new)))
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
                assert len(seen) < limit, "configuration space too large for this test"
    return len(seen)


@pytest.mark.parametrize(
    "code",
    [
        StaggeredWOMCode(2, [1, 1], 1, 2),  # two 1-bit writes per span, P = 3
        StaggeredWOMCode(4, [1], 1, 1),  # the round robin as a staggered code
        StaggeredWOMCode(3, [1, 1], 1, 2, p=2),  # (3, 1, 2) via spacing 2, P = 3
        StaggeredWOMCode(2, [1, 1], 1, 2, beta=2, p=2, flips=1),  # 2 data cells per 2, P = 3
    ],
    ids=repr,
)
def test_exhaustive_reachable_configurations_clocked(code):
    assert explore_clocked(code) > code.period


@pytest.mark.parametrize("alpha", [4, 5, 6])
@pytest.mark.parametrize("source", ["random", "flip", "greedy"])
def test_long_random_and_adversarial_sequences(alpha, source):
    code = staggered_wom(alpha, copies=3)
    writes = {"random": 1500, "flip": 1500, "greedy": 150}[source]
    res = simulate(code, writes=writes, source=source, rng=alpha)
    assert res.violations == 0 and res.decode_errors == 0
    assert check(res.states, alpha, 1, 1) is None
    assert brute_check(res.states[-400:], alpha, 1, 1)[0] is None


def test_longer_groups_and_spacing():
    for t, d in WOM_CODES:
        code = staggered_wom(6, copies=2, t=t, d=d)
        res = simulate(code, writes=400, source="flip", rng=1)
        assert res.violations == 0 and res.decode_errors == 0, code
    code = staggered_wom(5, p=2, copies=2)  # spacing ceil(5/2) = 3
    res = simulate(code, writes=600, source="random", rng=2)
    assert res.violations == 0 and res.decode_errors == 0
    assert check(res.states, 5, 1, 2) is None


def test_write_is_pure_given_history_and_clock():
    code = staggered_wom(4, copies=2)
    enc = code.encoder()
    rng = np.random.default_rng(0)
    for _ in range(30):
        m = code.random_messages(1, rng)[0]
        again = code.write(enc.state, m, enc.history, enc.step)
        assert np.array_equal(enc.write(m), again)


def test_bad_parameters_staggered():
    with pytest.raises(ParameterError, match="WOM"):
        StaggeredWOMCode(4, [1, 2, 3], 2, 3)
    code = staggered_wom(4)
    s = code.initial_state()
    with pytest.raises(ParameterError, match="step"):
        code.write(s, [3])
    with pytest.raises(ParameterError, match="step"):
        code.write(s, [3], None, -1)
    with pytest.raises(ParameterError, match="curve points"):
        StaggeredWOMCode(3, [1, 1, 1], 1, 3, p=2)
    with pytest.raises(ParameterError, match="t, d"):
        staggered_wom(4, t=7)
    # a history no encoder produces: every cell of the span's groups already flipped
    state = np.ones(code.n, np.uint8)
    with pytest.raises(ParameterError, match="history"):
        code.write(state, [0], np.zeros((1, code.n), np.uint8), 1)
    assert any(isinstance(c, StaggeredWOMCode) for c in constructions(4, 1, 1))


@pytest.mark.parametrize("alpha,beta,p", [(4, 3, 3), (4, 4, 3), (5, 2, 2), (3, 2, 2), (4, 2, 4)])
@pytest.mark.parametrize("source", ["random", "flip", "greedy"])
def test_space_layout_any_beta(alpha, beta, p, source):
    """Data cells at i mod beta < s: every beta-window holds s data cells, each flipped <= q
    times in alpha writes, s q <= p; the frozen cells never change."""
    code = staggered_wom(alpha, p, copies=2, beta=beta)
    assert code.stride * code.flips <= p and code.stride <= beta
    frozen = np.setdiff1d(np.arange(code.n), code.data)
    is_data = np.zeros(code.n + beta, int)
    is_data[code.data] = 1
    assert max(is_data[j : j + beta].sum() for j in range(code.n)) <= code.stride
    res = simulate(code, writes=80 if source == "greedy" else 800, source=source, rng=3)
    assert res.violations == 0 and res.decode_errors == 0
    assert brute_check(res.states[-200:], alpha, beta, p)[0] is None
    assert not res.states[:, frozen].any()


def test_space_layout_beats_time_sharing_at_4_3_3():
    best = best_code(4, 3, 3)
    assert isinstance(best, StaggeredWOMCode)
    assert best.rate == pytest.approx(26 / 96) and best.rate > 1 / 4


def test_two_write_groups_of_any_size():
    """g > 12 cells, t = 2: first-write table (fresh columns still span) + linear algebra at
    the second write; here the direct sum of Rivest-Shamir-type groups, (15 cells, 10 bits)."""
    from noisyhw.codes.pcm.game import gf2_rank, solve_fresh, two_write_first

    cols = [1, 2, 4, 8, 3, 12, 16, 32, 64, 128, 48, 192, 256, 512, 768]
    first = two_write_first(cols, 10)
    assert first is not None and first.shape == (1024,)
    rng = np.random.default_rng(0)
    for s, x in enumerate(first.tolist()):
        assert np.bitwise_xor.reduce([c for i, c in enumerate(cols) if x >> i & 1] or [0]) == s
        fresh = [c for i, c in enumerate(cols) if not x >> i & 1]
        assert gf2_rank(fresh) == 10
        u = int(rng.integers(1024))
        y = solve_fresh(cols, (2**15 - 1) & ~x, u)
        assert y >= 0 and y & x == 0
        assert np.bitwise_xor.reduce([c for i, c in enumerate(cols) if y >> i & 1] or [0]) == u
    assert two_write_first([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1, 2, 4], 10) is None
    code = StaggeredWOMCode(4, cols, 10, 2, copies=2)
    assert code.tables is None and code.rate == pytest.approx(4 / 15)
    for source in ("random", "flip", "greedy"):
        res = simulate(code, writes=60 if source == "greedy" else 400, source=source, rng=5)
        assert res.violations == 0 and res.decode_errors == 0
    with pytest.raises(ParameterError, match="t = 2"):
        StaggeredWOMCode(4, cols, 10, 3)
