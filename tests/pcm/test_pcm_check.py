"""The vectorised checker against a brute-force checker written from the definition."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noisyhw.codes.pcm import Violation, check, max_window_cost
from noisyhw.errors import ParameterError


def brute_check(states, alpha, beta, p):
    """Every window (end write t, first cell j), in order t then j; windows clipped at edges."""
    s = np.asarray(states, int)
    T, n = s.shape[0] - 1, s.shape[1]
    best = None
    worst = 0
    for t in range(1, T + 1):
        for j in range(max(1, n - beta + 1)):
            cost = 0
            for tau in range(max(1, t - alpha + 1), t + 1):
                for i in range(j, min(n, j + beta)):
                    cost += int(s[tau, i] != s[tau - 1, i])
            worst = max(worst, cost)
            if cost > p and best is None:
                best = Violation(t, j, cost)
    return best, worst


@st.composite
def histories(draw):
    T = draw(st.integers(0, 9))
    n = draw(st.integers(1, 9))
    density = draw(st.sampled_from([0.05, 0.15, 0.3, 0.6]))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    x = (rng.random((T, n)) < density).astype(np.uint8)
    s0 = rng.integers(0, 2, n, dtype=np.uint8)
    states = np.vstack([s0, s0 ^ np.cumsum(x, axis=0) % 2]) if T else s0[None]
    return states.astype(np.uint8)


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(1, 4), st.integers(1, 4), st.integers(1, 5))
def test_check_matches_brute_force(states, alpha, beta, p):
    want, worst = brute_check(states, alpha, beta, p)
    assert check(states, alpha, beta, p) == want
    assert max_window_cost(states, alpha, beta) == worst


@settings(max_examples=100, deadline=None)
@given(histories(), st.integers(1, 4), st.integers(1, 4))
def test_near_violation_threshold(states, alpha, beta):
    """At p = worst cost the history passes; at p = worst - 1 it fails (when worst >= 2)."""
    worst = max_window_cost(states, alpha, beta)
    if worst >= 1:
        assert check(states, alpha, beta, worst) is None
    if worst >= 2:
        v = check(states, alpha, beta, worst - 1)
        assert (
            v is not None
            and v.cost == worst
            and v == brute_check(states, alpha, beta, worst - 1)[0]
        )


def test_known_small_cases():
    # one cell flipping at writes 1 and 2: violates (2,1,1) at write 2, not (1,1,1) or (3,1,2)
    s = np.array([[0], [1], [0]], np.uint8)
    assert check(s, 2, 1, 1) == Violation(2, 0, 2)
    assert check(s, 1, 1, 1) is None
    assert check(s, 3, 1, 2) is None
    # two adjacent cells in one write: violates (1,2,1) at cell 0
    s = np.array([[0, 0, 0], [0, 1, 1]], np.uint8)
    assert check(s, 1, 2, 1) == Violation(1, 1, 2)
    assert check(s, 1, 3, 2) is None


def test_bool_and_int_inputs_and_errors():
    s = np.array([[0, 1], [1, 1]])
    assert check(s.astype(bool), 1, 1, 1) is None
    with pytest.raises(ParameterError, match="binary"):
        check(np.array([[0, 2]]), 1, 1, 1)
    with pytest.raises(ParameterError, match="2-D"):
        check(np.zeros(3), 1, 1, 1)
    with pytest.raises(ParameterError, match="alpha"):
        check(s, 0, 1, 1)
    with pytest.raises(ParameterError, match="p"):
        check(s, 1, 1, 0)
    with pytest.raises(ParameterError, match="0/1"):
        check(s.astype(float), 1, 1, 1)
