"""Constructions: certificates, exhaustive reachability proofs, property tests, rate vs bounds."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pcm_check import brute_check

from noisyhw.codes.pcm import (
    ResidueCode,
    SyndromeCode,
    TimeSharedCode,
    best_code,
    capacity_bounds,
    check,
    constraint,
    constructions,
    finite_n_bound,
    rate_table,
    round_robin,
    simulate,
)
from noisyhw.codes.pcm._tables import BLOCK_CODES
from noisyhw.errors import ParameterError

TRIPLES = [(a, b, p) for a in range(1, 5) for b in range(1, 5) for p in range(1, 5) if p < a * b]


@pytest.mark.parametrize("alpha,beta,p", TRIPLES)
def test_rates_below_upper_and_finite_n_bounds(alpha, beta, p):
    upper = capacity_bounds(alpha, beta, p, time_budget=0.05).upper
    codes = constructions(alpha, beta, p)
    assert codes and codes[0] is not None
    for code in codes:
        assert code.constraint == (alpha, beta, p)
        assert code.rate <= upper + 1e-9, code
        assert code.rate <= finite_n_bound(alpha, beta, p, code.n) + 1e-9, code
        assert math.isclose(code.rate, code.symbols * math.log2(code.radix) / code.n)
    assert best_code(alpha, beta, p).rate == max(c.rate for c in codes)


def explore(code, limit=40000):
    """Every (history, state) configuration the encoder can reach, over every message, checked
    with the brute-force checker and the decoder: a proof for all message sequences."""
    a = code.constraint.alpha
    start = tuple([tuple(code.initial_state())] * a)  # (oldest..current), a-1 previous + current
    seen = {start}
    todo = [start]
    msgs = [np.array(m) for m in itertools.product(range(code.radix), repeat=code.symbols)]
    while todo:
        conf = todo.pop()
        cur = np.array(conf[-1], np.uint8)
        hist = np.array(conf[:-1], np.uint8) if a > 1 else None
        for m in msgs:
            new = code.write(cur, m, hist)
            assert np.array_equal(code.read(new), m)
            window = np.array([*conf, tuple(new)], np.uint8)
            v, _ = brute_check(window, *code.constraint)
            assert v is None, (code, window, v)
            nxt = (*conf[1:], tuple(new))
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
                assert len(seen) < limit, "configuration space too large for this test"
    return len(seen)


SMALL = [
    round_robin(2),
    round_robin(3),
    SyndromeCode(1, 2, 1, *BLOCK_CODES[(1, 2, 1)]),
    SyndromeCode(1, 3, 1, *BLOCK_CODES[(1, 3, 1)]),
    SyndromeCode(2, 2, 1, *BLOCK_CODES[(2, 2, 1)]),
    SyndromeCode(3, 1, 2, *BLOCK_CODES[(3, 1, 2)]),
    SyndromeCode(3, 2, 2, *BLOCK_CODES[(3, 2, 2)]),
    TimeSharedCode(2, 2, 1, ResidueCode(2, 1)),
    TimeSharedCode(2, 3, 1, SyndromeCode(1, 3, 1, 2, 1, [1, 1])),
    TimeSharedCode(3, 3, 1, ResidueCode(3, 1)),
    TimeSharedCode(3, 2, 4, None, copies=2, width=2),
    ResidueCode(3, 2),
]


@pytest.mark.parametrize("code", SMALL, ids=repr)
def test_exhaustive_reachable_configurations(code):
    assert explore(code) >= 1


@pytest.mark.parametrize("key", [k for k in BLOCK_CODES if k[0] == 1])
def test_guarded_syndrome_every_syndrome_has_allowed_pattern(key):
    """(1, beta, p): brute-force every change pattern of the block; all 2^r syndromes occur."""
    _, beta, p = key
    b, r, cols = BLOCK_CODES[key]
    x = (np.arange(2**b)[:, None] >> np.arange(b)) & 1  # every change pattern, one per row
    ok = np.ones(2**b, bool)
    for j in range(max(1, b - beta + 1)):  # every beta-window of the block, from the definition
        ok &= x[:, j : j + beta].sum(axis=1) <= p
    syn = np.zeros(2**b, np.int64)
    for i, col in enumerate(cols):
        syn ^= x[:, i] * col
    assert set(syn[ok].tolist()) == set(range(2**r))


@st.composite
def code_and_messages(draw):
    alpha, beta, p = draw(st.sampled_from(TRIPLES))
    codes = constructions(alpha, beta, p, copies=draw(st.integers(1, 3)))
    code = draw(st.sampled_from(codes))
    T = draw(st.integers(1, 40))
    msgs = draw(
        st.lists(
            st.lists(st.integers(0, code.radix - 1), min_size=code.symbols, max_size=code.symbols),
            min_size=T,
            max_size=T,
        )
    )
    return code, np.array(msgs, np.int64)


@settings(max_examples=120, deadline=None)
@given(code_and_messages())
def test_any_message_sequence_zero_error(case):
    code, msgs = case
    res = simulate(code, msgs)
    assert res.decode_errors == 0 and res.violations == 0
    assert brute_check(res.states, *code.constraint)[0] is None


@pytest.mark.parametrize(
    "alpha,beta,p",
    [
        (2, 1, 1),
        (1, 3, 1),
        (2, 2, 2),
        (3, 2, 2),
        (4, 4, 1),
        (2, 4, 3),
        (3, 1, 2),
        (4, 3, 2),
        # blocks with fewer than beta - 1 guard cells: windows across blocks are checked here
        (1, 4, 3),
        (1, 3, 2),
        (2, 4, 4),
        (2, 3, 4),
    ],
)
@pytest.mark.parametrize("source", ["random", "flip", "greedy"])
def test_long_adversarial_sequences(alpha, beta, p, source):
    for code in constructions(alpha, beta, p, copies=3):
        res = simulate(code, writes=150 if source != "greedy" else 40, source=source, rng=7)
        assert res.violations == 0 and res.decode_errors == 0, code
        assert check(res.states, alpha, beta, p) is None


def test_greedy_adversary_is_harsher_than_random():
    code = best_code(2, 2, 2, copies=4)
    cost = {}
    for src in ("random", "greedy"):
        res = simulate(code, writes=60, source=src, rng=3)
        cost[src] = int(np.bitwise_xor(res.states[1:], res.states[:-1]).sum())
    assert cost["greedy"] >= cost["random"]


def test_round_robin_rate_and_residue_rate():
    assert round_robin(3, copies=5).rate == pytest.approx(1 / 3)
    assert ResidueCode(4, 3, groups=2).rate == pytest.approx(3 / 4)
    # guarded syndrome blocks beat p / beta where the search found them
    assert best_code(1, 2, 1).rate > 1 / 2 and best_code(1, 3, 1).rate > 1 / 3
    assert best_code(1, 4, 1).rate > 1 / 4 and best_code(1, 4, 2).rate > 2 / 4
    assert best_code(1, 4, 3).rate > 3 / 4 and best_code(1, 3, 2).rate > 2 / 3


@pytest.mark.parametrize("alpha,beta,p", TRIPLES)
def test_guard_cells_bound_every_window_across_blocks(alpha, beta, p):
    """Brute force over two adjacent blocks' edge cells: whatever each block's cells do (each
    cell changes at most once per write), a window touching both blocks holds <= p changes."""
    c = constraint(alpha, beta, p)
    g = c.guards
    assert 0 <= g <= beta - 1
    # worst case: every data cell of the window changes in each of the alpha writes
    for left in range(1, beta - g):  # data cells of the left block inside the window
        right = beta - g - left
        assert alpha * (left + right) <= p
    if g < beta - 1:
        assert alpha * (beta - g) <= p
    if g > 0:  # one guard fewer would let some window exceed p (guards are tight)
        assert alpha * (beta - g + 1) > p
    for code in constructions(alpha, beta, p, copies=2):
        if isinstance(code, SyndromeCode):
            assert code.guards == g and code.n == 2 * (code.b + g)


def test_bad_parameters():
    with pytest.raises(ParameterError, match="unconstrained"):
        ResidueCode(3, 3)
    with pytest.raises(ParameterError, match="no zero-error strategy"):
        SyndromeCode(2, 1, 1, 2, 2, [1, 2])  # 2 bits on 2 cells cannot rest a cell
    with pytest.raises(ParameterError, match="p ="):
        TimeSharedCode(4, 2, 1, ResidueCode(2, 1), copies=2)
    with pytest.raises(ParameterError, match="alpha"):
        round_robin(1)
    code = round_robin(2, copies=2)
    s = code.initial_state()
    with pytest.raises(ParameterError, match="digits"):
        code.write(s, [0, 2])
    with pytest.raises(ParameterError, match="shape"):
        code.write(s[:-1], [0, 1])
    with pytest.raises(ParameterError, match="history"):
        code.write(s, [0, 1], np.zeros((3, code.n + 1)))
    with pytest.raises(ParameterError, match="messages"):
        simulate(code, np.zeros((3, 5), int))


def test_rate_table_small():
    rows = rate_table((1, 2), (1, 2), (1, 2, 3), time_budget=0.05)
    assert len(rows) == 12
    for r in rows:
        assert r["lower"] <= r["upper"] and r["rate"] <= r["upper"] + 1e-9
        if r["p"] >= r["alpha"] * r["beta"]:
            assert r["code"] == "unconstrained"


@pytest.mark.parametrize("alpha,beta,p", [(2, 2, 2), (3, 1, 1), (1, 3, 2), (2, 3, 1)])
def test_non_binary_states_and_fractional_digits_rejected(alpha, beta, p):
    """A state with a cell value 3 used to read as a garbage index (IndexError) or digits; a
    digit 1.5 was truncated to 1 and written."""
    for code in constructions(alpha, beta, p):
        s = code.initial_state()
        with pytest.raises(ParameterError, match="0/1"):
            code.read(np.full(code.n, 3))
        with pytest.raises(ParameterError, match="0/1"):
            code.write(np.full(code.n, 2, np.uint8), [0] * code.symbols, step=0)
        with pytest.raises(ParameterError, match="integers"):
            code.write(s, [1.5] * code.symbols, step=0)
        ok = code.write(s.astype(bool), np.ones(code.symbols), step=0)  # bool / float 1.0 fine
        assert np.array_equal(code.read(ok), np.ones(code.symbols))
