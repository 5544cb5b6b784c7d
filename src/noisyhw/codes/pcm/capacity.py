"""Capacity of the (alpha, beta, p) constraint: exact 1-D values and rigorous 2-D bounds.

Stack the change vectors of T writes into a T x n binary array. A code is (alpha, beta, p)
constrained iff every alpha x beta box of that array holds at most p ones. Any zero-error rewrite
code maps distinct message sequences to distinct arrays (the decoder reads the state, the state
sequence fixes the array), so its rate log2(M)/n is at most

    C(alpha, beta, p) = lim (1 / (T n)) log2 N(T, n),   N = number of valid T x n arrays,

which is symmetric in (alpha, beta) (transpose the array). For alpha = 1 or beta = 1 the
constraint is one-dimensional ("at most p ones in any window of w = max(alpha, beta)") and C is
log2 of the largest eigenvalue of a transfer matrix; for p = 1 it is log2 of the largest root of
x^w = x^(w-1) + 1. In 2-D we bracket C with strip transfer matrices:

* upper, free strip: C <= log2 rho(T_m) / m, T_m the row-to-row matrix of a strip m cells wide
  (restricting an array to disjoint strips gives N(T, k m) <= N(T, m)^k);
* lower, guarded strips: C >= log2 rho(T_m) / (m + beta - 1) (strips separated by beta - 1
  all-zero columns never share a window);
* when one window is 2 the row-to-row matrix B of that direction is symmetric, and
  Calkin-Wilf's argument gives, with V_h the column-to-column matrix of a strip h rows high
  (V^per with the rows wrapped into a cycle),
  (log2 rho(V_{2q+1}) - log2 rho(V_1)) / (2q) <= C <= log2 rho(V^per_{2q}) / (2q).

Spectral radii are bracketed rigorously by Collatz-Wielandt bounds
min_i (Av)_i / v_i <= rho(A) <= max_i (Av)_i / v_i for a positive vector v (power iteration), then
widened by a relative 1e-9 for floating-point rounding.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp

from ...errors import ParameterError, check_float, check_int
from .params import constraint

#: log2 of the costliest bound candidate :func:`capacity_bounds` evaluates by default (about
#: 0.1-2 s per constraint on one core; a fixed depth, so the bounds do not depend on the machine)
DEFAULT_DEPTH = 24

__all__ = [
    "Bounds",
    "capacity",
    "capacity_1d",
    "capacity_1d_p1",
    "capacity_bounds",
    "finite_n_bound",
    "max_messages",
    "spectral_bracket",
    "strip_matrix",
]

_SAFETY = 1e-9  # relative widening of every spectral bracket (rounding in float64 power steps)


# --------------------------------------------------------------------------- 1-D
def capacity_1d_p1(w: int) -> float:
    """Closed form for p = 1: log2 of the largest real root of x^w = x^(w-1) + 1."""
    w = check_int("w", w, 1)
    if w == 1:
        return 1.0
    roots = np.roots([1.0, -1.0] + [0.0] * (w - 2) + [-1.0])
    x = max(r.real for r in roots if abs(r.imag) < 1e-9)
    # one Newton polish step on f(x) = x^w - x^(w-1) - 1
    for _ in range(3):
        f = x**w - x ** (w - 1) - 1.0
        df = w * x ** (w - 1) - (w - 1) * x ** (w - 2)
        x -= f / df
    return math.log2(x)


def capacity_1d(w: int, p: int) -> float:
    """Capacity (bits per symbol) of binary sequences with at most p ones in every w-window.

    Exact up to float64 rounding: log2 of the Perron root of the 2^(w-1)-state transfer matrix.
    """
    w = check_int("w", w, 1, 24)
    p = check_int("p", p, 0)
    if p >= w:
        return 1.0
    if p == 0:
        return 0.0
    A = strip_matrix(w, 1, p, 1)
    lo, hi = spectral_bracket(A, tol=1e-12)
    return math.log2(math.sqrt(lo * hi))


# --------------------------------------------------------------------------- transfer matrices
def _window_ok(counts: np.ndarray, c: int, p: int, periodic: bool) -> np.ndarray:
    """counts (..., m) per-cell totals -> bool (...) whether every c-window holds <= p."""
    m = counts.shape[-1]
    if periodic:
        ext = np.concatenate([counts, counts[..., : c - 1]], axis=-1) if c > 1 else counts
        cs = np.concatenate([np.zeros((*counts.shape[:-1], 1), np.int64), np.cumsum(ext, -1)], -1)
        sums = cs[..., c : c + m] - cs[..., :m]
    else:
        cw = min(c, m)
        cs = np.concatenate(
            [np.zeros((*counts.shape[:-1], 1), np.int64), np.cumsum(counts, -1)], -1
        )
        sums = cs[..., cw:] - cs[..., : m - cw + 1]
    return (sums <= p).all(axis=-1)


def _bits(values: np.ndarray, m: int) -> np.ndarray:
    """ints -> (..., m) 0/1 little-endian bits."""
    return ((values[..., None] >> np.arange(m)) & 1).astype(np.int64)


def strip_matrix(a: int, c: int, p: int, m: int, *, periodic: bool = False) -> sp.csr_matrix:
    """Transfer matrix of a strip m cells wide: the window is ``a`` along the strip (the transfer
    direction) and ``c`` across it; states are the last a-1 slices (m bits each).

    ``periodic`` wraps the c-windows around the m cells of a slice (needs m >= c). Entry (s, s')
    is 1 when slice r extends state s to a valid window and s' = (s without its oldest slice, r);
    for a = 1 the matrix is 1 x 1 holding the number of valid slices.
    """
    if periodic and m < c:
        raise ParameterError("m", f"periodic strips need m >= c = {c}", m)
    rows = np.arange(2**m)
    rbits = _bits(rows, m)
    if a == 1:
        return sp.csr_matrix(np.array([[float(_window_ok(rbits, c, p, periodic).sum())]]))
    k = a - 1
    nbits = k * m
    if nbits > 26:
        raise ParameterError("m", f"strip too wide: (a-1)*m = {nbits} state bits (max 26)", m)
    sidx = np.arange(2**nbits, dtype=np.int64)
    # slice i of state s (i = 0 oldest) is (s >> (m*(k-1-i))) & (2^m - 1)
    counts = np.zeros((sidx.size, m), np.int64)
    ok = np.ones(sidx.size, bool)
    for i in range(k):  # validity of a state: every suffix of its slices is a valid window
        sl = (sidx >> (m * (k - 1 - i))) & (2**m - 1)
        counts += _bits(sl, m)
    # windows of a state's slices: the full stack (all k) and its suffixes are checked as
    # windows ending at each slice; a suffix sum <= full sum, so only prefix-windows matter.
    part = np.zeros((sidx.size, m), np.int64)
    for i in range(k):
        sl = (sidx >> (m * (k - 1 - i))) & (2**m - 1)
        part += _bits(sl, m)
        ok &= _window_ok(part, c, p, periodic)
    valid = sidx[ok]
    vcounts = counts[ok]
    index = -np.ones(sidx.size, np.int64)
    index[valid] = np.arange(valid.size)
    src, dst = [], []
    chunk = max(1, (1 << 22) // (2**m * m + 1))
    mask = 2**nbits - 1
    for start in range(0, valid.size, chunk):
        vs = valid[start : start + chunk]
        tot = vcounts[start : start + chunk, None, :] + rbits[None, :, :]
        good = _window_ok(tot, c, p, periodic)
        si, ri = np.nonzero(good)
        nxt = ((vs[si] << m) & mask) | rows[ri]
        src.append(start + si)
        dst.append(index[nxt])
    src = np.concatenate(src)
    dst = np.concatenate(dst)
    n = valid.size
    return sp.csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))


def spectral_bracket(
    A: sp.spmatrix, *, tol: float = 1e-10, max_iter: int = 5000
) -> tuple[float, float]:
    """Rigorous (lo, hi) around the Perron root of a nonnegative primitive matrix.

    Power iteration (from ARPACK's Perron vector above 4096 states, else from all ones);
    Collatz-Wielandt bounds min/max (Av)_i / v_i at each step; the result is widened by a
    relative 1e-9 for rounding.
    """
    A = sp.csr_matrix(A)
    n = A.shape[0]
    if n == 1:
        v = float(A[0, 0])
        return v * (1 - _SAFETY), v * (1 + _SAFETY)
    v = np.ones(n)
    lo, hi = 0.0, math.inf
    # Large matrices: start from ARPACK's Perron vector (power iteration alone converges slowly
    # when the spectral gap is small); small ones converge fast from the all-ones vector.
    if n > 4096:
        try:
            from scipy.sparse.linalg import eigs

            _, vec = eigs(A, k=1, which="LR", tol=1e-12, maxiter=20000)
            vec = np.abs(vec[:, 0].real)
            v = vec + 1e-9 * vec.max()
        except Exception:  # ARPACK may not converge; plain power iteration still works
            v = np.ones(n)
    stale = 0
    for _ in range(max_iter):
        w = A @ v
        ratio = w / v
        new_lo, new_hi = max(lo, float(ratio.min())), min(hi, float(ratio.max()))
        stale = stale + 1 if (new_lo, new_hi) == (lo, hi) else 0
        lo, hi = new_lo, new_hi
        if hi - lo <= tol * hi or stale >= 25:  # converged, or stuck at rounding level
            break
        v = w / w.max()
        # (A + I) keeps the Perron vector and damps oscillation from periodic parts
        v = (A @ v + v) / 2.0
        v /= v.max()
    return lo * (1 - _SAFETY), hi * (1 + _SAFETY)


def _log2_bracket(A: sp.spmatrix) -> tuple[float, float]:
    lo, hi = spectral_bracket(A)
    return math.log2(lo) if lo > 0 else -math.inf, math.log2(hi)


# --------------------------------------------------------------------------- 2-D bounds
@dataclass
class Bounds:
    """Bounds on C(alpha, beta, p) in bits per cell per write."""

    alpha: int
    beta: int
    p: int
    lower: float
    upper: float
    exact: float | None = None
    lower_method: str = ""
    upper_method: str = ""
    elapsed_s: float = 0.0
    log: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("log")
        return d


def capacity(alpha: int, beta: int, p: int) -> float:
    """Exact capacity when alpha = 1 or beta = 1 (1-D); otherwise raises (use bounds)."""
    c = constraint(alpha, beta, p)
    if c.unconstrained:
        return 1.0
    if min(c.alpha, c.beta) != 1:
        raise ParameterError(
            "alpha/beta",
            "exact capacity is known only when alpha = 1 or beta = 1; use capacity_bounds",
            (c.alpha, c.beta),
        )
    return capacity_1d(check_window_1d(c), c.p)


def check_window_1d(c) -> int:
    """The window of a 1-D constraint, checked under the name the user gave it (the transfer
    matrix has 2^(w-1) states: w <= 24)."""
    return check_int("beta" if c.alpha == 1 else "alpha", max(c.alpha, c.beta), 1, 24)


def capacity_bounds(
    alpha: int,
    beta: int,
    p: int,
    *,
    depth: int = DEFAULT_DEPTH,
    time_budget: float | None = None,
    max_states: int = 1 << 16,
) -> Bounds:
    """Rigorous lower/upper bounds on C(alpha, beta, p), tightening with strip width.

    Candidates (free strips, guarded strips, Calkin-Wilf when a window is 2) are evaluated in
    order of cost (states x slices enumerated), widest strips last, while the cost is at most
    ``2**depth`` and the matrices stay within ``max_states`` states: the same inputs give the
    same bounds on any machine. ``time_budget`` (seconds, opt-in) also stops after the first
    candidate that ends past it; the result then depends on the machine's speed and load.
    Exact (lower = upper) when alpha = 1 or beta = 1.
    """
    c = constraint(alpha, beta, p)
    depth = check_int("depth", depth, 1, 40)
    if time_budget is not None:
        time_budget = check_float("time_budget", time_budget, 0.0)
    t0 = time.perf_counter()
    if c.unconstrained:
        return Bounds(*c, 1.0, 1.0, 1.0, "unconstrained", "unconstrained")
    if min(c.alpha, c.beta) == 1:
        v = capacity_1d(check_window_1d(c), c.p)
        b = Bounds(*c, v, v, v, "1-D transfer matrix", "1-D transfer matrix")
        b.elapsed_s = time.perf_counter() - t0
        return b
    best = Bounds(*c, 0.0, 1.0)
    tasks = _tasks(c.alpha, c.beta, c.p, max_states)
    cache: dict = {}

    def rho(a, cc, m, periodic=False):
        key = (a, cc, m, periodic)
        if key not in cache:
            cache[key] = _log2_bracket(strip_matrix(a, cc, c.p, m, periodic=periodic))
        return cache[key]

    for cost, kind, args in tasks:
        if best.log and cost > 2**depth:
            break
        if time_budget is not None and time.perf_counter() - t0 > time_budget and best.log:
            break
        if kind == "strip":
            a, cc, m = args
            lo, hi = rho(a, cc, m)
            up, low = hi / m, lo / (m + cc - 1)
            names = (f"free strip a={a} c={cc} m={m}", f"guarded strip a={a} c={cc} m={m}")
        else:  # Calkin-Wilf, window 2 across, window a along
            a, q = args
            h = 2 * q + 1
            lo_big, _ = rho(a, 2, h)
            _, hi_per = rho(a, 2, 2 * q, True)
            up = hi_per / (2 * q)
            low, h0 = -math.inf, 1
            for j in range(q):  # (log rho(V_h) - log rho(V_{2j+1})) / (h - 2j - 1)
                _, hi_small = rho(a, 2, 2 * j + 1)
                cand = (lo_big - hi_small) / (h - 2 * j - 1)
                if cand > low:
                    low, h0 = cand, 2 * j + 1
            names = (f"Calkin-Wilf periodic h={2 * q}", f"Calkin-Wilf ratio h={h}/{h0}")
        best.log.append({"method": kind, "args": list(args), "lower": low, "upper": up})
        if up < best.upper:
            best.upper, best.upper_method = up, names[0]
        if low > best.lower:
            best.lower, best.lower_method = low, names[1]
    best.elapsed_s = time.perf_counter() - t0
    return best


def _tasks(alpha: int, beta: int, p: int, max_states: int) -> list[tuple[int, str, tuple]]:
    """(cost, kind, args) candidates, cheapest first; cost = states * slices enumerated."""
    max_pairs = 16 * max_states * 64
    out = []
    for a, cc in {(alpha, beta), (beta, alpha)}:
        m = 1
        while (a - 1) * m <= 26 and 2 ** ((a - 1) * m) <= max_states:
            if 2 ** (a * m) > max_pairs:
                break
            out.append((2 ** (a * m), "strip", (a, cc, m)))
            m += 1
    for two, other in ((alpha, beta), (beta, alpha)):
        if two == 2:
            q = 1
            while (other - 1) * (2 * q + 1) <= 26 and 2 ** (
                (other - 1) * (2 * q + 1)
            ) <= max_states:
                cost = 2 ** (other * (2 * q + 1))
                if cost > max_pairs:
                    break
                out.append((cost, "cw", (other, q)))
                q += 1
    out.sort(key=lambda t: t[0])
    return out


# --------------------------------------------------------------------------- finite n
def finite_n_bound(alpha: int, beta: int, p: int, n: int, *, max_states: int = 1 << 20) -> float:
    """Upper bound on the rate log2(M)/n of ANY zero-error code on n cells.

    M^T <= N(T, n) for every T, so M <= rho(T_n), T_n the time-transfer matrix of an n-cell
    strip. Strips too wide to build (2^(alpha m) > max_states transitions) are split:
    rho(T_{a+b}) <= rho(T_a) rho(T_b).
    """
    c = constraint(alpha, beta, p)
    n = check_int("n", n, 1)
    if c.unconstrained:
        return 1.0
    return _log2_rho_free(c.alpha, c.beta, c.p, n, max_states) / n


MAX_COUNT_BITS = 1000  #: largest log2 M that max_messages returns as an integer


def max_messages(alpha: int, beta: int, p: int, n: int, *, max_states: int = 1 << 20) -> int:
    """Largest message-alphabet size M any zero-error code on n cells could have: floor(rho).

    Counts above ``2**MAX_COUNT_BITS`` do not fit a float: a ParameterError says to use
    :func:`finite_n_bound` (log2 M / n) instead."""
    r = finite_n_bound(alpha, beta, p, n, max_states=max_states) * n
    if r > MAX_COUNT_BITS:
        raise ParameterError(
            "n", f"the count exceeds 2^{MAX_COUNT_BITS}; use finite_n_bound (log2 M / n)", n
        )
    return math.floor(2.0**r + 1e-9)


def _log2_rho_free(a: int, c: int, p: int, n: int, max_states: int) -> float:
    # building T_m enumerates states x slices = 2^((a-1) m) * 2^m pairs
    widest = 1
    while widest < n and 2 ** (a * (widest + 1)) <= max(max_states, 2**a):
        widest += 1
    if n <= widest:
        return _log2_bracket(strip_matrix(a, c, p, n))[1]
    q, r = divmod(n, widest)
    total = q * _log2_bracket(strip_matrix(a, c, p, widest))[1]
    if r:
        total += _log2_bracket(strip_matrix(a, c, p, r))[1]
    return total
