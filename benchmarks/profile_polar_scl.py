"""Where CA-SCL's time goes: time-stamp-counter profile of ``scl_decode`` per schedule operation.

A copy of ``codes/polar/_kernels.py`` is patched (text substitutions, each asserted to match
once) to read the CPU's cycle counter (``llvm.readcyclecounter``) at every schedule operation
and at the phases of a Rate-1 / SPC node (setup: hard decisions, parity, reliability keys;
fork: the candidate expansion; materialise: kills and clones; u: the survivors' u bits and
decision records), accumulated per frame. The figures are **medians over frames** of cycles per
frame, so a frame hit by preemption on a loaded machine does not skew them (the counter runs in
wall time). Decisions are asserted identical to the unpatched kernel.

    PYTHONPATH=src python benchmarks/profile_polar_scl.py [FRAMES] [LIST_SIZE]
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

import numpy as np

from noisyhw.channels import bpsk_awgn
from noisyhw.codes.polar import CASCLDecoder, PolarCode

KERNELS = Path(__file__).resolve().parents[1] / "src/noisyhw/codes/polar/_kernels.py"
BUCKETS = ["F", "G", "R0", "R1", "REP", "INFO", "SAVE", "COMB", "SPC", "output"]
PHASES = ["node setup", "node fork", "node materialise", "node u bits"]

_COUNTER = """import numba
from llvmlite import ir as _ir
from numba.core import cgutils as _cgutils, types as _types
from numba.extending import intrinsic as _intrinsic


@_intrinsic
def _rdtsc(typingctx):
    def codegen(context, builder, signature, args):
        fnty = _ir.FunctionType(_ir.IntType(64), [])
        fn = _cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
        return builder.call(fn, [])

    return _types.int64(), codegen
"""

_PATCHES = [
    ('"cache": True', '"cache": False'),
    ("from ._transform import", "from noisyhw.codes.polar._transform import"),
    ("import numba\n", _COUNTER),
    (
        "    out_ok: np.ndarray,\n) -> None:\n",
        "    out_ok: np.ndarray,\n    prof: np.ndarray,\n) -> None:\n",
    ),
    (
        "        for t in range(n_ops):\n            op = ops[t, 0]\n",
        "        last = _rdtsc()\n        pop = -1\n"
        "        for t in range(n_ops):\n            op = ops[t, 0]\n"
        "            now = _rdtsc()\n            if pop >= 0:\n"
        "                prof[fr, pop] += now - last\n"
        "            last = now\n            pop = op\n",
    ),
    (
        "                src_node = use_src and j_info < n_src_bits\n",
        "                _p1 = _rdtsc()\n                prof[fr, 10] += _p1 - last\n"
        "                src_node = use_src and j_info < n_src_bits\n",
    ),
    (
        "                # source costs of the candidates' u bits (decoding order)\n",
        "                _p2 = _rdtsc()\n                prof[fr, 11] += _p2 - _p1\n"
        "                # source costs of the candidates' u bits (decoding order)\n",
    ),
    (
        "                # u bits: each parent's hard decisions through the transform once, then\n",
        "                _p3 = _rdtsc()\n                prof[fr, 12] += _p3 - _p2\n"
        "                # u bits: each parent's hard decisions through the transform once, then\n",
    ),
    (
        "                j_info += size - t0\n",
        "                j_info += size - t0\n                prof[fr, 13] += _rdtsc() - _p3\n",
    ),
    (
        "        # ---- output: surviving paths by metric",
        "        now = _rdtsc()\n        prof[fr, pop] += now - last\n        last = now\n"
        "        # ---- output: surviving paths by metric",
    ),
    (
        "            out_state[fr, 0] = st[ell]\n            continue\n",
        "            out_state[fr, 0] = st[ell]\n            prof[fr, 9] += _rdtsc() - last\n"
        "            continue\n",
    ),
]


def patched_kernels():
    """The list kernel with cycle counters: ``scl_decode(..., prof (F, 14) int64)``."""
    src = KERNELS.read_text()
    for old, new in _PATCHES:
        assert src.count(old) == 1, f"kernel changed, patch no longer applies: {old!r}"
        src = src.replace(old, new)
    path = Path(tempfile.mkdtemp()) / "profiled_kernels.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("profiled_kernels", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(frames: int = 256, L: int = 8) -> dict[str, float]:
    code = PolarCode(1024, 496, crc="crc16")  # CRC-16 inside K = 512, as AFF3CT's comparison
    rng = np.random.default_rng(0)
    msg = code.random_messages(frames, rng)
    llr = bpsk_awgn(code.encode(msg), 2.0, code.rate, rng).astype(np.float32)
    ref = CASCLDecoder(code, L)(llr)
    mod = patched_kernels()
    prof = np.zeros((frames, len(BUCKETS) + len(PHASES)), np.int64)
    dec = CASCLDecoder(code, L)
    dec._kernel = lambda *a: mod.scl_decode(*a, prof[: a[0].shape[0]])
    dec(llr[:2])  # compile
    prof[:] = 0
    out = dec(llr)
    assert np.array_equal(out, ref), "the profiled kernel changed decisions"
    med = np.median(prof, axis=0)
    total = med[: len(BUCKETS)].sum()
    res = {}
    print(f"CA-SCL-{L}, (1024, 496 + CRC-16) at 2 dB, {frames} frames; median cycles per frame")
    for i, name in enumerate(BUCKETS + PHASES):
        res[name] = float(med[i])
        part = "  of R1 + SPC:" if i >= len(BUCKETS) else ""
        print(f"  {name:<18} {med[i]:10.0f}  {med[i] / total:6.1%} {part}")
    print(f"  {'total':<18} {total:10.0f}")
    return res


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
