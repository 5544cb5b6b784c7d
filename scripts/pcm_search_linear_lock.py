"""Exact safety game for LINEAR (syndrome) block codes under (2, 1, 1), for blocks up to ~16 cells.

Under (2, 1, 1) the cells a write changes are locked at the next write, so a syndrome block's
encoder state is the lock set L (translation invariance removes the cells' values). The winning
set W is the greatest family of lock sets such that from every L in W each syndrome s equals H c
for some c in W disjoint from L. Coverage of all c inside a free set S is an OR over subsets of S:
one subset-zeta transform of 2^b bitsets of 2^r syndromes per iteration, O(b 2^b 2^r / 64) work
(the generic solver in noisyhw.codes.pcm.game is O(4^b b) and stops at b = 11).

Modes (rate r / b; r / b > 1/2 beats the round robin):
  random B R TRIES [SEED]   random distinct columns
  cyclic N R                every cyclic code of length N with r = R (generator = product of
                            irreducible factors of x^N - 1; columns x^i mod g)
Run: PYTHONPATH=src python scripts/pcm_search_linear_lock.py cyclic 15 8
"""

import itertools
import sys
import time

import numpy as np

from noisyhw.codes.pcm.game import syndromes


def solve_lock_game(cols, b: int, r: int) -> np.ndarray:
    """(2^b,) bool winning lock sets of the linear (2, 1, 1) game (W[0]: the code works)."""
    syn = syndromes(np.asarray(cols, np.int64), b)
    words = max(1, 2**r // 64)
    onehot = np.zeros((2**b, words), np.uint64)
    onehot[np.arange(2**b), syn // 64] = np.uint64(1) << (syn % 64).astype(np.uint64)
    full = np.zeros(words, np.uint64)
    for s in range(2**r):
        full[s // 64] |= np.uint64(1) << np.uint64(s % 64)
    win = np.ones(2**b, bool)
    comp = (2**b - 1) ^ np.arange(2**b)
    while True:
        f = np.where(win[:, None], onehot, np.uint64(0))
        for i in range(b):  # OR over subsets: f[S] = OR_{c subset of S, c in W} onehot[c]
            v = f.reshape(2 ** (b - i - 1), 2, 2**i, words)
            v[:, 1] |= v[:, 0]
        new = win & (f == full).all(axis=1)[comp]
        if np.array_equal(new, win):
            return win
        win = new


def _pmul(a: int, b: int) -> int:
    out = 0
    while b:
        if b & 1:
            out ^= a
        a, b = a << 1, b >> 1
    return out


def _pdivmod(a: int, g: int) -> tuple[int, int]:
    q, dg = 0, g.bit_length() - 1
    while a and a.bit_length() - 1 >= dg:
        s = a.bit_length() - 1 - dg
        q, a = q ^ (1 << s), a ^ (g << s)
    return q, a


def irreducible_factors(n: int) -> list[int]:
    f, out, cand = (1 << n) | 1, [], 2
    while f != 1:
        q, rem = _pdivmod(f, cand)
        if rem == 0:
            out.append(cand)
            f = q
        else:
            cand += 1
    return out


def main() -> None:
    mode = sys.argv[1]
    if mode == "random":
        b, r, tries = (int(v) for v in sys.argv[2:5])
        g = np.random.default_rng(int(sys.argv[5]) if len(sys.argv) > 5 else 0)
        t0 = time.time()
        for _ in range(tries):
            cols = g.choice(np.arange(1, 2**r), size=b, replace=False)
            if solve_lock_game(cols, b, r)[0]:
                print("WON", b, r, cols.tolist())
                return
        print(f"random b={b} r={r}: {tries} matrices, none won ({time.time() - t0:.0f} s)")
    elif mode == "cyclic":
        n, r = int(sys.argv[2]), int(sys.argv[3])
        fs = irreducible_factors(n)
        seen = set()
        for k in range(1, len(fs) + 1):
            for combo in itertools.combinations(fs, k):
                gen = 1
                for f in combo:
                    gen = _pmul(gen, f)
                if gen.bit_length() - 1 != r or gen in seen:
                    continue
                seen.add(gen)
                cols = [_pdivmod(1 << i, gen)[1] for i in range(n)]
                won = bool(solve_lock_game(cols, n, r)[0])
                print(f"cyclic n={n} r={r} g={gen:#b}: {'WON' if won else 'lost'}")
        print(f"{len(seen)} cyclic codes checked")


if __name__ == "__main__":
    main()
