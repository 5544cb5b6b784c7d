"""SAT search for nonlinear zero-error (alpha, beta, p) block codes (the safety game as CNF).

A block has b cells (followed by guard cells, see below); the decoder is any map
D: {0,1}^b -> [M]. The encoder's state is (x, h): x the block's cells, h = (u_1, ..., u_{a-1})
the change patterns of the last alpha-1 writes (u_1 most recent). From (x, h) a write may add a
pattern c when the stacked rows (c, u_1, ..., u_{a-1}) hold <= p ones in every beta-window
(windows cut at the block's edges); the next state is (x ^ c, (c, u_1, ..., u_{a-2})).

CNF: d[x, m] (D(x) = m, exactly one m per x) and s[x, h] ("(x, h) is safe"). For every safe
state and message m some allowed c reaches a state with D = m that is safe again:
    s[x, h]  ->  OR_c  t[x ^ c, c :: h, m],     t[y, g, m] -> d[y, m] and s[y, g].
Any satisfying s is a subset of the game's winning region, so the CNF is satisfiable iff some D
has (0, empty) in its winning region (message and translation symmetry: D(0) = 0 and s[0, ()]).
Moves are limited to ``--kmax`` changed cells. For (alpha >= 2, 1, 1) the default, the largest k
with 2^(b-k) >= M, loses nothing: the cells a write changes are locked at the next write, so
after a write of more than k cells fewer than M states are reachable and that state is never
safe. A smaller kmax restricts the encoder (a solution is still a valid
code, but UNSAT is then a proof only for that restricted encoder).

Needs python-sat (kept out of the library: run it from a separate venv), e.g.
    python -m venv .satvenv && .satvenv/bin/pip install python-sat
    .satvenv/bin/python scripts/pcm_search_nonlinear.py --alpha 2 --b 5 --M 6
Prints the decoder table D (list of 2^b ints, index = cells as a little-endian int) on success.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time

from pysat.card import CardEnc, EncType
from pysat.formula import IDPool
from pysat.solvers import Solver


def popcount(v: int) -> int:
    return bin(v).count("1")


def stack_ok(rows: tuple[int, ...], b: int, beta: int, p: int) -> bool:
    """Every beta-window (cut at the block edges) of the stacked rows holds <= p ones."""
    counts = [sum((r >> i) & 1 for r in rows) for i in range(b)]
    w = min(beta, b)
    return all(sum(counts[i : i + w]) <= p for i in range(b - w + 1))


def build(alpha, beta, p, b, M, kmax=None, symmetry=None):
    pats = [c for c in range(2**b) if kmax is None or popcount(c) <= kmax]
    k = alpha - 1
    # reachable histories: tuples of k patterns (from pats) whose stack is valid
    hists = [()]
    if k:
        hists = [h for h in itertools.product(pats, repeat=k) if stack_ok(h, b, beta, p)]
    hset = set(hists)
    moves = {h: [c for c in pats if stack_ok((c, *h), b, beta, p)] for h in hists}
    pool = IDPool()

    def d(x, m):
        return pool.id(("d", x, m))

    def s(x, h):
        return pool.id(("s", x, h))

    def t(y, g, m):
        return pool.id(("t", y, g, m))

    clauses = []
    for x in range(2**b):
        lits = [d(x, m) for m in range(M)]
        clauses.append(lits)
        enc = CardEnc.atmost(
            lits, 1, vpool=pool, encoding=EncType.pairwise if M < 8 else EncType.seqcounter
        )
        clauses.extend(enc.clauses)
    made_t = set()
    for x in range(2**b):
        for h in hists:
            for m in range(M):
                cl = [-s(x, h)]
                for c in moves[h]:
                    g = (c, *h[: k - 1]) if k else ()
                    if g not in hset:
                        continue
                    y = x ^ c
                    cl.append(t(y, g, m))
                    if (y, g, m) not in made_t:
                        made_t.add((y, g, m))
                        clauses.append([-t(y, g, m), d(y, m)])
                        clauses.append([-t(y, g, m), s(y, g)])
                clauses.append(cl)
    # monotonicity (redundant, helps propagation): a weaker history is safe when a stronger one is
    if k == 1:
        for x in range(2**b):
            for (u,) in hists:
                for i in range(b):
                    if (u >> i) & 1 and (u & ~(1 << i),) in hset:
                        clauses.append([-s(x, (u,)), s(x, (u & ~(1 << i),))])
    if symmetry == "complement":  # optional restriction of the search: D(~x) = D(x)
        for x in range(2**b):
            for m in range(M):
                clauses.append([-d(x, m), d(x ^ (2**b - 1), m)])
    if symmetry == "rotation":  # optional restriction: D invariant under a cyclic cell shift
        for x in range(2**b):
            y = ((x << 1) | (x >> (b - 1))) & (2**b - 1)
            for m in range(M):
                clauses.append([-d(x, m), d(y, m)])
    empty = tuple([0] * k)
    clauses.append([s(0, empty)])
    clauses.append([d(0, 0)])
    # value precedence (message relabelling symmetry): label m > 0 first appears after m - 1
    for x in range(2**b):
        for m in range(1, M):
            clauses.append([-d(x, m)] + [d(y, m - 1) for y in range(x)])
    return pool, clauses


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--alpha", type=int, default=2)
    ap.add_argument("--beta", type=int, default=1)
    ap.add_argument("--p", type=int, default=1)
    ap.add_argument("--b", type=int, required=True)
    ap.add_argument("--M", type=int, required=True)
    ap.add_argument("--kmax", type=int, default=None)
    ap.add_argument("--solver", default="cadical153")
    ap.add_argument(
        "--symmetry",
        choices=["complement", "rotation"],
        default=None,
        help="restrict D (SAT still gives a valid code; UNSAT proves nothing general)",
    )
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    if a.kmax is None and a.alpha >= 2 and a.beta == 1 and a.p == 1:
        a.kmax = max(k for k in range(a.b + 1) if 2 ** (a.b - k) >= a.M)
    t0 = time.time()
    pool, clauses = build(a.alpha, a.beta, a.p, a.b, a.M, a.kmax, a.symmetry)
    nv = pool.top
    print(
        f"kmax {a.kmax} vars {nv} clauses {len(clauses)} built in {time.time() - t0:.1f}s",
        flush=True,
    )
    with Solver(name=a.solver, bootstrap_with=clauses) as sv:
        ok = sv.solve()
        print(f"{'SAT' if ok else 'UNSAT'} in {time.time() - t0:.1f}s", flush=True)
        if not ok:
            return 1
        model = set(v for v in sv.get_model() if v > 0)
    D = []
    for x in range(2**a.b):
        ms = [m for m in range(a.M) if pool.id(("d", x, m)) in model]
        D.append(ms[0])
    res = {"alpha": a.alpha, "beta": a.beta, "p": a.p, "b": a.b, "M": a.M, "decoder": D}
    print(json.dumps(res))
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(res, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
