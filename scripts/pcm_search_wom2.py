"""Exhaustive search for linear 2-write WOM codes with H = [I_d | B] (the staggered groups with
t = 2): does any g = d + m cell code beat the Rivest-Shamir sum-rate 4/3 (S_2 = 2 d / g)?

Every linear code whose columns span GF(2)^d is equivalent (GL(d, 2) and cell order) to
H = [I_d | B], B a d x m matrix, and permuting the first d cells permutes the rows of B: so the
multisets of d rows (m-bit ints) cover every code. The first write from the empty flipped set
needs, for every syndrome s, a pattern x = (x1, x2) with x1 + B x2 = s whose unflipped columns
still span GF(2)^d (the second write must reach every syndrome with fresh cells only). The
unflipped columns span iff the rows of B indexed by supp(x1), restricted to the unflipped
B-columns, are linearly independent. Checked for all 2^m x2 and all 2^d x1 (numba).

Run: nice -n 10 env PYTHONPATH=src python scripts/pcm_search_wom2.py D M
Larger sizes, not exhaustive (hill-climb on the number of reachable syndromes, random restarts):
     nice -n 10 env PYTHONPATH=src python scripts/pcm_search_wom2.py --climb D M SECONDS SEED
"""

import itertools
import sys
import time

import numba
import numpy as np

from noisyhw.codes.pcm.game import wom_winning


@numba.njit(cache=True)
def wins(rows: np.ndarray, d: int, m: int) -> bool:  # pragma: no cover - numba
    return coverage(rows, d, m) == 1 << d


@numba.njit(cache=True)
def coverage(rows: np.ndarray, d: int, m: int) -> int:  # pragma: no cover - numba
    """Number of syndromes the first write can reach while leaving a spanning fresh set."""
    full = 1 << d
    covered = np.zeros(full, np.bool_)
    sub = np.zeros(full, np.int64)
    dep = np.zeros(full, np.bool_)
    for x2 in range(1 << m):
        keep = ~x2 & ((1 << m) - 1)
        bx2 = 0
        for i in range(d):
            v = rows[i] & x2
            par = 0
            while v:
                par ^= v & 1
                v >>= 1
            bx2 |= par << i
        sub[0] = 0
        for i in range(d):
            r = rows[i] & keep
            b = 1 << i
            for s in range(b):
                sub[s | b] = sub[s] ^ r
        for s in range(full):
            dep[s] = s != 0 and sub[s] == 0
        for i in range(d):
            b = 1 << i
            for s in range(full):
                if s & b and dep[s ^ b]:
                    dep[s] = True
        for s in range(full):
            if not dep[s]:
                covered[s ^ bx2] = True
    return covered.sum()


def columns(rows, d: int, m: int) -> list[int]:
    """Columns of H = [I_d | B] as d-bit ints."""
    extra = [sum(((int(rows[i]) >> j) & 1) << i for i in range(d)) for j in range(m)]
    return [1 << i for i in range(d)] + extra


def climb(d: int, m: int, seconds: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t0 = time.time()
    best_all = 0
    while time.time() - t0 < seconds:
        rows = rng.integers(0, 2**m, d)
        cur = coverage(rows, d, m)
        stall = 0
        while stall < 4 * d * m and time.time() - t0 < seconds:
            i = int(rng.integers(d))
            old = rows[i]
            if rng.random() < 0.5:  # flip one bit of B, or replace a whole row
                rows[i] ^= 1 << int(rng.integers(m))
            else:
                rows[i] = rng.integers(0, 2**m)
            new = coverage(rows, d, m)
            if new >= cur:
                stall = 0 if new > cur else stall + 1
                cur = new
            else:
                rows[i] = old
                stall += 1
            if cur == 2**d:
                cols = columns(rows, d, m)
                print(f"d={d} g={d + m} S_2={2 * d / (d + m):.4f}: FOUND {cols}", flush=True)
                return
        best_all = max(best_all, cur)
    print(f"d={d} g={d + m}: not found in {seconds:.0f} s; best coverage {best_all} / {2**d}")


if __name__ == "__main__":
    if sys.argv[1] == "--climb":
        climb(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
        sys.exit(0)
    d, m = int(sys.argv[1]), int(sys.argv[2])
    # cross-check the fast test against the exact game on small sizes
    rng = np.random.default_rng(0)
    for _ in range(300):
        dd, mm = int(rng.integers(2, 6)), int(rng.integers(1, 4))
        rr = rng.integers(0, 2**mm, dd)
        assert wins(rr, dd, mm) == bool(wom_winning(columns(rr, dd, mm), dd, 2)[0][0])
    t0 = time.time()
    tried = 0
    for tried, rows in enumerate(itertools.combinations_with_replacement(range(2**m), d), 1):
        if wins(np.array(rows, np.int64), d, m):
            cols = columns(rows, d, m)
            print(f"d={d} g={d + m} S_2={2 * d / (d + m):.4f}: FOUND {cols} ({tried} tried)")
            break
        if tried % 200000 == 0:
            print(f"  {tried} tried, {time.time() - t0:.0f} s", flush=True)
    else:
        print(
            f"d={d} g={d + m} S_2={2 * d / (d + m):.4f}: none in {tried} row multisets "
            f"({time.time() - t0:.0f} s): no linear 2-write code of this size"
        )
