"""Variable-rate linear 2-write WOM groups for the staggered construction: exhaustive search.

A group of g = d0 + m cells, H = [I_d0 | B] (WLOG, as in pcm_search_wom2.py), must reach ANY
vector of GF(2)^d0 at its first write and any vector of a fixed subspace U1 (dim d1) at its
second write, with fresh cells only. Staggering such groups (group j embedded by
v -> (v, phi_j pi(v)), pi: GF(2)^d0 -> GF(2)^d1 injective on U1, phi_j in {0, 1, w} of GF(2^d1)
alternating around the cycle) gives rate (d0 + d1) / (g (alpha + 1)); beating alpha = 3 needs
(d0 + d1) / g > 4/3. This script tries every B (row multisets) and every U1 (as the common
kernel of d0 - d1 functionals) for one (d0, m, d1).
Run: nice -n 10 env PYTHONPATH=src python scripts/pcm_search_wom_var.py D0 M D1
"""

import itertools
import sys

import numpy as np

from noisyhw.codes.pcm.game import disjoint_pairs, syndromes


def subspaces(d0: int, d1: int):
    """Every d1-dimensional subspace of GF(2)^d0 (as a bool mask over the 2^d0 vectors)."""
    seen = set()
    vec = np.arange(2**d0)
    for fs in itertools.combinations(range(1, 2**d0), d0 - d1):
        mask = np.ones(2**d0, bool)
        for q in fs:
            mask &= (np.bitwise_count(vec & q) & 1) == 0
        key = mask.tobytes()
        if mask.sum() == 2**d1 and key not in seen:
            seen.add(key)
            yield mask


def main(d0: int, m: int, d1: int) -> None:
    g = d0 + m
    f, x = disjoint_pairs(g)
    spaces = list(subspaces(d0, d1))
    tried = 0
    for rows in itertools.combinations_with_replacement(range(2**m), d0):
        extra = [sum(((rows[i] >> j) & 1) << i for i in range(d0)) for j in range(m)]
        cols = [1 << i for i in range(d0)] + extra
        syn = syndromes(cols, g)
        for umask in spaces:
            tried += 1
            sel = umask[syn[x]]
            cov = np.zeros(2**g * 2**d0, bool)
            cov[f[sel] * 2**d0 + syn[x[sel]]] = True
            win1 = cov.reshape(2**g, 2**d0)[:, umask].all(axis=1)
            reach = np.zeros(2**d0, bool)
            reach[syn[np.flatnonzero(win1)]] = True
            if reach.all():
                print(f"d0={d0} d1={d1} g={g}: FOUND columns {cols}")
                return
    print(f"d0={d0} d1={d1} g={g} ((d0+d1)/g = {(d0 + d1) / g:.4f}): none in {tried} (B, U1)")


if __name__ == "__main__":
    main(*(int(v) for v in sys.argv[1:4]))
