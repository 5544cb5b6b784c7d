"""SCL kernel of this branch vs the session-1 kernel (git ``b322346``), same frames, same run.

The old ``_kernels.py`` is read from git into a temporary module (needs the repository's
history); both decode (1024, 512) 5G frames at Eb/N0 = 2 dB, must agree on every decision, and
are timed interleaved (best of 5, CPU time):

    PYTHONPATH=src python benchmarks/compare_polar_kernels.py [LIST_SIZES...]

``POLAR_OLD_KERNEL=<git ref>`` picks another baseline (e.g. the previous commit).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from noisyhw.channels import bpsk_awgn
from noisyhw.codes.polar import PolarCode, SCLDecoder

OLD = os.environ.get("POLAR_OLD_KERNEL", "b322346")  # git ref of the baseline kernel


def _old_kernels():
    src = subprocess.run(
        ["git", "show", f"{OLD}:src/noisyhw/codes/polar/_kernels.py"],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    path = Path(tempfile.mkdtemp()) / "kold.py"
    path.write_text(src.replace('"cache": True', '"cache": False'))
    spec = importlib.util.spec_from_file_location("kold", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(lists=(1, 8, 32)) -> list[dict]:
    kold = _old_kernels()
    code = PolarCode(1024, 512)
    rng = np.random.default_rng(0)
    llr = bpsk_awgn(code.encode(code.random_messages(400, rng)), 2.0, code.rate, rng)
    ops = kold.build_schedule(code.frozen, rate0=True, rate1=True, rep=True)
    out = []
    for L in lists:
        n = max(25, 400 // L)
        new = SCLDecoder(code, L)

        ops_same = new._schedule(L, 0)  # baseline with this branch's signature: same schedule

        def old(a, L=L, ops_same=ops_same):
            F = a.shape[0]
            info = np.empty((F, L, 512), np.uint8)
            pm, st = np.empty((F, L)), np.empty((F, L), np.int32)
            no_src = (np.zeros((1, 2), np.int32), np.zeros((1, 4)), 1, 0, np.zeros(F, np.int32))
            if OLD == "b322346":
                kold.scl_decode(a, ops, 512, L, False, *no_src, info, pm, st)
            else:  # float32 LLRs, as the decoder passes them
                a = np.ascontiguousarray(a, dtype=np.float32)
                kold.scl_decode(a, ops_same, 512, L, False, *no_src, False, info, pm, st)
            return info[:, 0]

        old(llr[:2])
        new(llr[:2])
        assert np.array_equal(old(llr[:n]), new(llr[:n])), "old and new SCL disagree"
        t_old = t_new = np.inf
        for _ in range(5):
            t = time.process_time()
            old(llr[:n])
            t_old = min(t_old, time.process_time() - t)
            t = time.process_time()
            new(llr[:n])
            t_new = min(t_new, time.process_time() - t)
        row = {
            "list_size": L,
            "old_mbps": round(n * 512 / t_old / 1e6, 3),
            "new_mbps": round(n * 512 / t_new / 1e6, 3),
            "speedup": round(t_old / t_new, 2),
        }
        print(row, flush=True)
        out.append(row)
    return out


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (1, 8, 32))
