"""SCL kernel of this branch vs an older kernel from git, same frames, same run.

The old ``_kernels.py`` is read from git into a temporary module (needs the repository's
history); both decode (1024, 512) 5G frames at Eb/N0 = 2 dB and must agree on every decision
(and, for baselines with this branch's signature, on the whole list and its metrics). They are
timed in interleaved pairs on the same frames (the order alternates), CPU time; the speed-up is
the median of the per-pair ratios, so a load change on a shared machine hits both sides:

    PYTHONPATH=src python benchmarks/compare_polar_kernels.py [LIST_SIZES...]

``POLAR_OLD_KERNEL=<git ref>`` picks the baseline (default: the session-1 kernel ``b322346``;
e.g. ``main``), ``POLAR_REPS`` the number of pairs (default 9), ``POLAR_CRC=crc16`` the
CA-SCL code (K = 528).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
from _baseline import module_at  # benchmarks/ is on sys.path when run as a script

from noisyhw.channels import bpsk_awgn
from noisyhw.codes.polar import PolarCode, SCLDecoder, _kernels

OLD = os.environ.get("POLAR_OLD_KERNEL", "b322346")  # git ref of the baseline kernel


def _old_kernels():
    return module_at(
        OLD,
        "src/noisyhw/codes/polar/_kernels.py",
        "kold",
        ('"cache": True', '"cache": False'),
        package="noisyhw.codes.polar",
    )


def main(lists=(1, 8, 32)) -> list[dict]:
    kold = _old_kernels()
    code = PolarCode(1024, 512, crc=os.environ.get("POLAR_CRC") or None)
    K = code.K
    reps = int(os.environ.get("POLAR_REPS", 9))
    rng = np.random.default_rng(0)
    llr = bpsk_awgn(code.encode(code.random_messages(400, rng)), 2.0, code.rate, rng)
    llr = llr.astype(np.float32)
    ops = kold.build_schedule(code.frozen, rate0=True, rate1=True, rep=True)
    no_src = (np.zeros((1, 2), np.int32), np.zeros((1, 4), np.float32), 1, 0)
    out = []
    for L in lists:
        n = max(20, 200 // L)
        ops_same = SCLDecoder(code, L)._schedule(L, 0)  # this branch's schedule

        def run(mod, a, L=L, ops_same=ops_same):
            F = a.shape[0]
            info = np.empty((F, L, K), np.uint8)
            pm, st = np.empty((F, L)), np.empty((F, L), np.int32)
            s0 = np.zeros(F, np.int32)
            if mod is kold and OLD == "b322346":  # session 1: float64, its own schedule
                no64 = (no_src[0], no_src[1].astype(np.float64), 1, 0)
                mod.scl_decode(np.asarray(a, np.float64), ops, K, L, False, *no64, s0, info, pm, st)
            else:
                extra = ()  # kernels from issue 22 on also take (crc, crc_ok)
                if mod.scl_decode.py_func.__code__.co_argcount == 16:
                    extra = (np.zeros(4, np.int64), np.zeros(F, np.bool_))
                mod.scl_decode(a, ops_same, K, L, False, *no_src, s0, False, info, pm, st, *extra)
            return info, pm

        run(kold, llr[:2])
        run(_kernels, llr[:2])
        (i_old, p_old), (i_new, p_new) = run(kold, llr[:n]), run(_kernels, llr[:n])
        assert np.array_equal(i_old[:, 0], i_new[:, 0]), "old and new SCL disagree"
        if OLD != "b322346":
            assert np.array_equal(i_old, i_new) and np.array_equal(p_old, p_new), "lists differ"
        ratios, t_old, t_new = [], [], []
        for r in range(reps):
            a = llr[(r * n) % (400 - n + 1) :][:n]
            a_old = a.astype(np.float64) if OLD == "b322346" else a
            pair = {}
            for mod in (kold, _kernels) if r % 2 == 0 else (_kernels, kold):
                t = time.process_time()
                run(mod, a_old if mod is kold else a)
                pair[mod is kold] = time.process_time() - t
            t_old.append(pair[True])
            t_new.append(pair[False])
            ratios.append(pair[True] / pair[False])
        row = {
            "list_size": L,
            "crc": code.crc.name if code.crc else None,
            "old_mbps": round(n * code.k / min(t_old) / 1e6, 3),
            "new_mbps": round(n * code.k / min(t_new) / 1e6, 3),
            "speedup_median": round(float(np.median(ratios)), 3),
            "speedup_range": [round(min(ratios), 2), round(max(ratios), 2)],
            "pairs": reps,
        }
        print(row, flush=True)
        out.append(row)
    return out


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (1, 8, 32))
