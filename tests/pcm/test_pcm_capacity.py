"""Capacities: closed forms, independent transfer matrices, brute-force counts, known constants."""

import itertools
import math

import numpy as np
import pytest

from noisyhw.cli import main
from noisyhw.codes.pcm import (
    capacity,
    capacity_1d,
    capacity_1d_p1,
    capacity_bounds,
    constraint,
    finite_n_bound,
    max_messages,
    strip_matrix,
)
from noisyhw.errors import ParameterError


def independent_1d(w, p):
    """Dense transfer matrix over (w-1)-bit tuples built with itertools, numpy eigvals."""
    states = [s for s in itertools.product((0, 1), repeat=w - 1) if sum(s) <= p]
    idx = {s: i for i, s in enumerate(states)}
    A = np.zeros((len(states), len(states)))
    for s in states:
        for bit in (0, 1):
            if sum(s) + bit <= p:
                A[idx[s], idx[(*s[1:], bit)]] = 1
    return math.log2(max(abs(np.linalg.eigvals(A))))


@pytest.mark.parametrize("w", range(1, 11))
def test_p1_closed_form(w):
    # closed form: largest root of x^w = x^(w-1) + 1
    assert capacity_1d(w, 1) == pytest.approx(capacity_1d_p1(w), abs=1e-10)
    if w >= 2:
        x = 2 ** capacity_1d_p1(w)
        assert x**w == pytest.approx(x ** (w - 1) + 1, rel=1e-12)


@pytest.mark.parametrize("w,p", [(w, p) for w in range(2, 9) for p in range(1, w)])
def test_1d_against_independent_matrix(w, p):
    assert capacity_1d(w, p) == pytest.approx(independent_1d(w, p), abs=1e-9)


def test_golden_ratio_and_exact_api():
    assert capacity(2, 1, 1) == pytest.approx(math.log2((1 + 5**0.5) / 2), abs=1e-12)
    assert capacity(1, 3, 2) == capacity(3, 1, 2)  # symmetry in 1-D
    with pytest.raises(ParameterError, match="capacity_bounds"):
        capacity(2, 2, 1)


def brute_count(T, n, alpha, beta, p):
    count = 0
    for bits in itertools.product((0, 1), repeat=T * n):
        x = np.array(bits).reshape(T, n)
        ok = all(
            x[max(0, t - alpha + 1) : t + 1, j : j + beta].sum() <= p
            for t in range(T)
            for j in range(max(1, n - beta + 1))
        )
        count += ok
    return count


def matrix_count(T, n, alpha, beta, p):
    """Walks of length T from the all-zero state = valid T x n arrays."""
    A = strip_matrix(alpha, beta, p, n).toarray()
    v = np.zeros(A.shape[0])
    v[0] = 1  # state id 0 (all-zero history) is the first valid state
    for _ in range(T):
        v = v @ A
    return round(v.sum()) if alpha > 1 else round(A[0, 0] ** T)


@pytest.mark.parametrize("alpha,beta,p", [(2, 2, 1), (2, 3, 2), (3, 2, 2), (1, 3, 1), (3, 3, 3)])
def test_strip_counts_and_transpose_symmetry(alpha, beta, p):
    for T, n in [(2, 3), (3, 3), (3, 4), (4, 2)]:
        want = brute_count(T, n, alpha, beta, p)
        assert matrix_count(T, n, alpha, beta, p) == want
        # transposing the array swaps the roles of alpha and beta
        assert matrix_count(n, T, beta, alpha, p) == want


def test_kings_entropy_inside_221_bounds():
    # (2,2,1): no two changes in any 2x2 box = non-attacking kings, growth 1.342643951124...
    b = capacity_bounds(2, 2, 1, time_budget=1.0)
    kings = math.log2(1.342643951124)
    assert b.lower <= kings <= b.upper
    assert b.upper - b.lower < 0.01


@pytest.mark.parametrize(
    "alpha,beta,p",
    [(a, b, p) for a in range(1, 5) for b in range(1, 5) for p in range(1, 5) if p < a * b],
)
def test_lower_le_upper_and_sandwich(alpha, beta, p):
    b = capacity_bounds(alpha, beta, p, time_budget=0.05)
    assert 0 < b.lower <= b.upper <= 1
    # a 2-D array restricted to one row / one column obeys the 1-D constraint
    cap = min(
        capacity_1d(alpha, p) if p < alpha else 1.0, capacity_1d(beta, p) if p < beta else 1.0
    )
    assert b.upper <= cap + 1e-9
    # symmetry C(alpha, beta, p) = C(beta, alpha, p): the bounds are the same numbers
    t = capacity_bounds(beta, alpha, p, time_budget=0.05)
    assert max(b.lower, t.lower) <= min(b.upper, t.upper)


def test_bounds_tighten_with_budget():
    short = capacity_bounds(3, 3, 1, time_budget=0.0)
    long = capacity_bounds(3, 3, 1, time_budget=1.0)
    assert long.lower >= short.lower and long.upper <= short.upper
    assert long.upper - long.lower < short.upper - short.lower


def test_finite_n_bound():
    # alpha = 1: M <= number of valid change vectors, counted by brute force
    for beta, p, n in [(2, 1, 6), (3, 1, 7), (3, 2, 5), (4, 2, 8)]:
        valid = sum(
            all(sum(v[j : j + beta]) <= p for j in range(max(1, n - beta + 1)))
            for v in itertools.product((0, 1), repeat=n)
        )
        assert max_messages(1, beta, p, n) == valid
    # finite-n bounds are upper bounds on C, decreasing towards it; splitting wide n is valid
    c = capacity(2, 1, 1)
    assert finite_n_bound(2, 1, 1, 1) == pytest.approx(c, abs=1e-8)
    b = capacity_bounds(2, 2, 1, time_budget=0.2)
    for n in (2, 5, 9, 40):
        assert finite_n_bound(2, 2, 1, n) >= b.lower


def test_bad_parameters():
    with pytest.raises(ParameterError, match="unconstrained"):
        capacity_bounds(2, 2, 4)
    assert constraint(2, 2, 4, allow_unconstrained=True).unconstrained
    for bad in [(0, 1, 1), (1, 0, 1), (1, 1, 0), (1.5, 2, 1), (-1, 2, 1)]:
        with pytest.raises(ParameterError):
            capacity_bounds(*bad)


def test_long_1d_window_error_names_the_parameter(capsys, tmp_path):
    """(1, 30, 1): the error named an internal 'w' the user never gave."""
    for a, b, name in ((1, 30, "beta"), (30, 1, "alpha")):
        with pytest.raises(ParameterError, match=f"^{name}: must be an integer in \\[1, 24\\]"):
            capacity(a, b, 1)
        with pytest.raises(ParameterError, match=f"^{name}:"):
            capacity_bounds(a, b, 1)
    out = tmp_path / "b"
    args = ["pcm", "bound", "--alpha", "1", "--beta", "30", "--p", "1", "--out", str(out)]
    assert main(args) == 2  # before the run (it failed inside the trial)
    assert capsys.readouterr().err.startswith("error: --beta: must be an integer in [1, 24]")
    assert not out.exists()
