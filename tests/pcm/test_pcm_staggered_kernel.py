"""The compiled staggered WOM encoder is bit-identical to the pre-kernel algorithm
(``noisyhw.codes.pcm._reference``): same new state, or the same error, for the same state,
message, history and clock. Exhaustive on a small code, seeded-random on long sequences of every
group kind (WOM tables, first-write table + elimination) and several (alpha, beta, p)."""

import itertools

import numpy as np
import pytest

from noisyhw.codes.pcm import StaggeredWOMCode, staggered_wom
from noisyhw.codes.pcm._reference import reference_split, reference_write
from noisyhw.errors import ParameterError

CODES = [
    StaggeredWOMCode(2, [1, 1], 1, 2),  # 1-bit groups, P = 3
    StaggeredWOMCode(4, [1], 1, 1),  # t = 1: the round robin
    StaggeredWOMCode(2, [1, 1], 1, 2, beta=2, p=2, flips=1),  # space layout
    staggered_wom(4, 1, 3, t=2, d=2),  # Rivest-Shamir 3-cell groups (table)
    staggered_wom(6, 1, 2, t=3, d=4),  # 9-cell 3-write groups (table)
    staggered_wom(6, 1, 2, t=4, d=3),  # 8-cell 4-write groups (table)
    staggered_wom(4, copies=5),  # the 19-cell 2-write group (first table + elimination)
    staggered_wom(5, p=2, copies=2),  # 19-cell groups, spacing 3
    staggered_wom(4, 3, 2, beta=3),  # frozen cells between data cells
    StaggeredWOMCode(4, [1, 2, 4, 8, 3, 12, 16, 32, 64, 128, 48, 192, 256, 512, 768], 10, 2),
]


def _outcome(fn, *args):
    """fn(*args): the new state, or the error's (name, allowed) if it raises ParameterError."""
    try:
        return fn(*args)
    except ParameterError as e:
        return ("error", e.name, e.allowed)


def _same(code, state, message, history, step) -> bool:
    """Assert both encoders agree; True when both raised."""
    args = (state, message, history, step)
    new = _outcome(code.write, *args)
    ref = _outcome(reference_write, code, *args)
    if isinstance(ref, tuple):
        assert new == ref, (code, step)
        return True
    assert isinstance(new, np.ndarray) and new.dtype == np.uint8, (code, new)
    assert np.array_equal(new, ref), (code, step)
    return False


@pytest.mark.parametrize("code", CODES, ids=repr)
def test_encoder_sequences_match_reference(code):
    """Long encoder runs (random, then flip messages): every write identical, with the
    encoder's own history, with extra old history rows, and with fewer rows than memory."""
    rng = np.random.default_rng(code.n)
    enc = code.encoder()
    writes = 400 if code.g > 12 else 600
    full = code.radix - 1
    older: list[np.ndarray] = []
    for k in range(writes):
        m = code.random_messages(1, rng)[0] if k % 2 else code.read(enc.state) ^ full
        hist = enc.history
        ref = reference_write(code, enc.state, m, hist, enc.step)
        if hist is not None and older:
            longer = np.concatenate([np.array(older[-3:], np.uint8), hist])  # ignored rows
            assert np.array_equal(code.write(enc.state, m, longer, enc.step), ref)
        if hist is not None and hist.shape[0] > 1:
            _same(code, enc.state, m, hist[1:], enc.step)
        _same(code, enc.state, m, None, enc.step)
        older.append(enc.state.copy())
        assert np.array_equal(enc.write(m), ref), (code, k)
        assert np.array_equal(code.read(enc.state), m)


@pytest.mark.parametrize("code", CODES, ids=repr)
def test_arbitrary_states_histories_and_clocks_match_reference(code):
    """Random binary states and histories (mostly not ones the encoder produces) at random
    clocks: the same state or the same ParameterError."""
    rng = np.random.default_rng(7 + code.n)
    for _ in range(150):
        state = rng.integers(0, 2, code.n, dtype=np.uint8)
        rows = int(rng.integers(0, code.memory + 2))
        hist = rng.integers(0, 2, (rows, code.n), dtype=np.uint8) if rows else None
        if hist is not None and rng.random() < 0.5:  # few flips: often a valid history
            hist = state ^ (rng.random((rows, code.n)) < 0.05).astype(np.uint8)
        step = int(rng.integers(0, 3 * code.period))
        _same(code, state, code.random_messages(1, rng)[0], hist, step)


def test_exhaustive_small_code_matches_reference():
    """Every state, one-row history and message of a 6-cell code (P = 3); the clock runs
    through 0 (history unused) and 1..4 (every phase mod 3, history used) across the cases."""
    code = StaggeredWOMCode(2, [1, 1], 1, 2)
    words = [np.array(v, np.uint8) for v in itertools.product((0, 1), repeat=code.n)]
    cases = itertools.product(words, words, range(code.radix))
    errors = 0
    for k, (state, h, m) in enumerate(cases):
        errors += _same(code, state, [m], h[None], (k + k // 20) % 5)
    assert 0 < errors < len(words) ** 2 * code.radix  # both branches exercised


@pytest.mark.parametrize("code", CODES[3:8], ids=repr)
def test_split_columns_match_inverse_rows(code):
    """XOR of the precomputed split columns = one parity per row of B_w^-1, every phase."""
    rng = np.random.default_rng(3)
    delta = rng.integers(0, code.radix, 64, dtype=np.int64)
    for w in range(code.period):
        cols = code.split_columns[w]
        mine = [
            int(np.bitwise_xor.reduce(cols[((v >> np.arange(code.r)) & 1) == 1], initial=0))
            for v in delta.tolist()
        ]
        assert mine == reference_split(code, delta, w).tolist()


def test_non_binary_state_rejected():
    code = staggered_wom(4)
    state = code.initial_state()
    state[code.data[3]] = 2
    with pytest.raises(ParameterError, match="0/1"):
        code.write(state, [0], None, 0)
    hist = np.zeros((1, code.n), np.uint8)
    hist[0, code.data[0]] = 5
    with pytest.raises(ParameterError, match="0/1"):
        code.write(code.initial_state(), [0], hist, 1)
    frozen = staggered_wom(4, 3, 2, beta=3)  # frozen cells are copied untouched, as before
    s = frozen.initial_state()
    s[np.setdiff1d(np.arange(frozen.n), frozen.data)[0]] = 7
    assert np.array_equal(
        frozen.write(s, [1, 2], None, 0), reference_write(frozen, s, [1, 2], None, 0)
    )


def test_compiled_elimination_matches_solve_fresh():
    """The kernel's elimination against game.solve_fresh on random groups (unsorted columns,
    repeats, rank-deficient fresh sets): same pattern, or -1 for both."""
    from noisyhw.codes.pcm._kernels import _solve_fresh
    from noisyhw.codes.pcm.game import solve_fresh

    rng = np.random.default_rng(11)
    misses = 0
    for _ in range(3000):
        g, d = int(rng.integers(1, 24)), int(rng.integers(1, 17))
        cols = rng.integers(0, 2**d, g, dtype=np.int64)
        fresh = int(rng.integers(0, 2**g))
        target = int(rng.integers(0, 2**d))
        scratch = np.zeros(g, np.int64), np.zeros(g, np.int64)
        got = _solve_fresh(cols, fresh, target, *scratch)
        want = solve_fresh(tuple(cols.tolist()), fresh, target)
        assert got == want, (cols.tolist(), fresh, target)
        misses += want < 0
    assert 0 < misses < 3000
