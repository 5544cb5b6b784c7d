"""PCM codes speed: the numba checker vs a brute-force checker; encoder writes per second; the
compiled staggered WOM encoder vs the round robin and vs its pre-kernel reference (same process,
shuffled paired rounds).

    PYTHONPATH=src python benchmarks/bench_pcm.py
"""

from __future__ import annotations

import time

import numpy as np
from _timing import best_of, median, paired_ratio, rounds  # benchmarks/ is on sys.path (run_all)

from noisyhw.codes.pcm import Encoder, best_code, check, round_robin, staggered_wom
from noisyhw.codes.pcm._reference import reference_write


def brute_check(states, alpha, beta, p):
    """Reference: every (write, cell) window summed from the definition (Python loops)."""
    x = np.bitwise_xor(states[1:], states[:-1]).astype(int).tolist()
    T, n = len(x), len(x[0])
    for t in range(T):
        for j in range(max(1, n - beta + 1)):
            cost = sum(
                x[tau][i]
                for tau in range(max(0, t - alpha + 1), t + 1)
                for i in range(j, min(n, j + beta))
            )
            if cost > p:
                return t + 1, j, cost
    return None


def _valid_history(code, writes, seed=0):
    enc = code.encoder()
    msgs = code.random_messages(writes, np.random.default_rng(seed))
    rows = [enc.state.copy()]
    t0 = time.perf_counter()
    for m in msgs:
        rows.append(enc.write(m).copy())
    return np.array(rows, np.uint8), writes / (time.perf_counter() - t0)


class _ReferenceCode:
    """A staggered code whose ``write`` is the pre-kernel reference (everything else shared)."""

    def __init__(self, code) -> None:
        self._code = code

    def __getattr__(self, name):
        return getattr(self._code, name)

    def write(self, state, message, history=None, step=None):
        return reference_write(self._code, state, message, history, step)


def _drive(code, msgs: np.ndarray) -> np.ndarray:
    """Write ``msgs`` (T, symbols) through an :class:`Encoder`; the final state (n,)."""
    enc = Encoder(code)
    for m in msgs:
        enc.write(m)
    return enc.state


def staggered_vs_round_robin(writes: int = 1000, n_rounds: int = 7) -> dict[str, float]:
    """Encoder writes/s at (4,1,1), 475-cell staggered (19-cell groups) compiled and reference vs
    the 512-cell round robin: CPU time of ``writes`` writes each, shuffled paired rounds.

    Returns writes/s (medians over rounds) and the medians and quartiles of the per-round ratios
    new / round robin and new / reference (as speed ratios: > 1 means the new encoder is faster).
    """
    new, rr = staggered_wom(4, copies=5), round_robin(4, copies=128)
    ref = _ReferenceCode(new)
    msg = {
        k: c.random_messages(writes, np.random.default_rng(1)) for k, c in [("s", new), ("r", rr)]
    }
    fns = {
        "new": lambda: _drive(new, msg["s"]),
        "reference": lambda: _drive(ref, msg["s"]),
        "round_robin": lambda: _drive(rr, msg["r"]),
    }
    assert np.array_equal(fns["new"](), fns["reference"]()), "compiled encoder differs"
    times = rounds(fns, n_rounds)
    out = {f"{k}_writes_per_s": writes / median(times, k) for k in fns}
    for base in ("round_robin", "reference"):
        med, q1, q3 = paired_ratio(times, base, "new")  # t_base / t_new = speed new / base
        out |= {f"vs_{base}": med, f"vs_{base}_q1": q1, f"vs_{base}_q3": q3}
    out["rounds"] = n_rounds
    return out


def run() -> dict:
    a, b, p = 2, 2, 2
    code = best_code(a, b, p, copies=73)  # 511 cells
    states, _ = _valid_history(code, 2000)
    check(states[:3], a, b, p)  # numba compile / cache load outside the timing
    fast = best_of(lambda: check(states, a, b, p), 3)
    small = states[:60]
    slow = best_of(lambda: brute_check(small, a, b, p), repeat=1)
    cells_fast = (states.shape[0] - 1) * states.shape[1] / fast
    cells_slow = (small.shape[0] - 1) * small.shape[1] / slow
    figures = [
        {
            "name": "checker throughput, (2,2,2), 2000 writes x 511 cells (valid history)",
            "value": cells_fast / 1e6,
            "unit": "M cell-writes/s",
            "baseline": cells_slow / 1e6,
            "ratio": cells_fast / cells_slow,
            "note": "vs brute-force window sums (Python loops) on 60 writes",
        }
    ]
    for name, c in [
        ("(2,2,2) best code, 511 cells", code),
        ("(2,1,1) round robin, 512 cells", round_robin(2, copies=256)),
        ("(4,1,1) round robin, 512 cells", round_robin(4, copies=128)),
        ("(4,1,1) staggered 19-cell WOM groups, 475 cells", staggered_wom(4, copies=5)),
        ("(4,1,1) staggered 3-cell WOM groups, 510 cells", staggered_wom(4, 1, 34, t=2, d=2)),
        ("(3,3,1) best code", best_code(3, 3, 1, copies=20)),
        ("(1,3,1) guarded syndrome, 504 cells", best_code(1, 3, 1, copies=56)),
    ]:
        _, wps = _valid_history(c, 1000, seed=1)
        figures.append(
            {
                "name": f"encoder writes/s, {name}",
                "value": wps,
                "unit": "writes/s",
                "note": f"n={c.n}, rate={c.rate:.4f}: {wps * c.messages_log2 / 1e6:.2f} Mbit/s stored",
            }
        )
    st = staggered_vs_round_robin()
    for base, label in (
        ("round_robin", "512-cell round robin"),
        ("reference", "pre-kernel encoder"),
    ):
        figures.append(
            {
                "name": f"(4,1,1) staggered 475-cell encoder writes/s vs the {label}",
                "value": st["new_writes_per_s"],
                "unit": "writes/s",
                "baseline": st[f"{base}_writes_per_s"],
                "ratio": st[f"vs_{base}"],
                "target": ">= 1x" if base == "round_robin" else "",
                "note": f"median of {st['rounds']} shuffled paired rounds of 1000 writes (CPU "
                f"time), quartiles {st[f'vs_{base}_q1']:.2f}-{st[f'vs_{base}_q3']:.2f}",
            }
        )
    return {"figures": figures}


if __name__ == "__main__":
    for f in run()["figures"]:
        extra = f" (baseline {f['baseline']:.4g}, x{f['ratio']:.1f})" if "ratio" in f else ""
        print(f"{f['name']}: {f['value']:.4g} {f['unit']}{extra}  {f.get('note', '')}")
