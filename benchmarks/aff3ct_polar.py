"""noisyhw's polar decoders side by side with AFF3CT's FAST decoders, on this machine.

AFF3CT (v3.0.2) runs through ``benchmarks/aff3ct/polar_driver`` (built by
``benchmarks/aff3ct/build.sh AFF3CT_SRC``), a small C++ program around AFF3CT's own decoder
classes that decodes LLRs written here and reports the decoder's CPU time only. Point the
environment variable ``AFF3CT_POLAR_DRIVER`` at the built binary; without it the comparison is
skipped with a note.

What is compared (one thread each, decoder time only, 32-bit float LLRs, (1024, 512) 5G
reliability order, BPSK-AWGN at Eb/N0 = 2 dB, Mb/s of message bits):

* SC: AFF3CT ``Decoder_polar_SC_fast_sys`` with the static sequential API (the simulator's
  ``--dec-implem FAST``) and the static intra-frame SIMD API (``--dec-simd INTRA``), against
  noisyhw's inter-frame ``SCDecoder`` in float32 and int8.
* CA-SCL-8: AFF3CT ``Decoder_polar_SCL_fast_CA_sys`` (dynamic sequential / intra-frame API), a
  CRC-16 (0x1021) *inside* K = 512 (496 message bits), against noisyhw's ``CASCLDecoder`` on the
  same code (``PolarCode(1024, 496, crc="crc16")``). Mb/s count the 496 message bits on both sides.

AFF3CT's FAST decoders are systematic; noisyhw decodes its default non-systematic code. Both
sides decode the *same noise*: the two codewords are sent through ``bpsk_awgn`` with the same
seed, so their LLRs differ only by exact sign flips, and decoders that are symmetric in the
codeword (SC and SCL are, to the last float bit) make their frame errors on the same frames.
The frames in error on one side only are counted (SC float32: none expected; Fast-SSC's SPC
node in AFF3CT is not bitwise SC); list FERs are compared with their intervals.

Timing is interleaved: every round runs every decoder once over all frames in a shuffled order
(the AFF3CT driver is a second process, fed through a pipe and timing itself with the thread's
CPU clock; the noisyhw calls are timed with this process's CPU clock), and a ratio is the median
over rounds of the per-round ratio, so a load change on the shared machine hits both sides.

    AFF3CT_POLAR_DRIVER=/path/polar_driver PYTHONPATH=src python benchmarks/aff3ct_polar.py [--quick]
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from noisyhw.channels import bpsk_awgn
from noisyhw.codes.polar import CASCLDecoder, PolarCode, SCDecoder
from noisyhw.sweep.montecarlo import clopper_pearson

ENV = "AFF3CT_POLAR_DRIVER"
EBN0 = 2.0
BATCH = 128  #: frames per noisyhw decoder call (AFF3CT: one frame per call, as its simulator)
L = 8


class Driver:
    """One ``polar_driver`` process holding one code's frames; ``run(name)`` decodes them all."""

    def __init__(self, exe: str, code_sys: PolarCode, llr: np.ndarray, ref: np.ndarray, crc: str):
        self._dir = tempfile.TemporaryDirectory(prefix="aff3ct_polar_")
        d = Path(self._dir.name)
        (d / "frozen.txt").write_text("".join("1" if f else "0" for f in code_sys.frozen))
        np.ascontiguousarray(llr, dtype="<f4").tofile(d / "llr.bin")
        np.ascontiguousarray(ref, dtype=np.uint8).tofile(d / "ref.bin")
        args = [exe, str(code_sys.n), str(code_sys.K), str(L), crc]
        args += [str(d / "frozen.txt"), str(d / "llr.bin"), str(d / "ref.bin")]
        self.p = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        line = self.p.stdout.readline()
        if not line.startswith("ready"):
            self.p.kill()
            raise RuntimeError(f"{exe} did not start: {line!r} {self.p.stderr.read()!r}")

    def _ask(self, cmd: str) -> str:
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def run(self, name: str) -> tuple[float, int]:
        """CPU seconds of decoding every frame once, and the number of frame errors."""
        t, err, _ = self._ask(name).split()
        return float(t), int(err)

    def flags(self, name: str) -> np.ndarray:
        """Per-frame error flags (F,) bool."""
        return np.frombuffer(self._ask(f"flags {name}").encode(), np.uint8) == ord("1")

    def close(self) -> None:
        self.p.stdin.close()
        self.p.wait(10)
        self._dir.cleanup()


def _frames(code: PolarCode, code_sys: PolarCode, frames: int, seed: int):
    """Messages and float32 LLRs of ``code`` and of its systematic twin, over the same noise;
    the systematic payloads (what AFF3CT's decoders return) for the driver."""
    rng = np.random.default_rng(seed)
    msg = code.random_messages(frames, rng)
    x, x_sys = code.encode(msg), code_sys.encode(msg)
    llr = bpsk_awgn(x, EBN0, code.rate, seed + 1).astype(np.float32)
    # the same noise seen from the systematic codeword: y = x + sigma z, and sending x' with
    # the noise z' = z x x' gives exactly -y where x' differs from x (float negation is exact)
    llr_sys = np.where(x != x_sys, -llr, llr)
    ref = x_sys[:, code_sys.info_positions]
    return msg, llr, llr_sys, ref


def _noisyhw(dec, llr: np.ndarray, msg: np.ndarray):
    """A round function for a noisyhw decoder: (CPU seconds, frame errors) over all batches."""

    def go() -> tuple[float, int]:
        t0 = time.process_time()
        outs = [dec(llr[i : i + BATCH]) for i in range(0, llr.shape[0], BATCH)]
        t = time.process_time() - t0
        return t, int((np.concatenate(outs) != msg).any(1).sum())

    return go


def _rounds(fns: dict, n: int, seed: int = 0) -> dict[str, list[float]]:
    """``n`` shuffled rounds (after one warm-up call each) of functions returning their own
    (seconds, errors); the seconds per function per round."""
    rng = random.Random(seed)
    for f in fns.values():
        f()
    times: dict[str, list[float]] = {k: [] for k in fns}
    keys = list(fns)
    for _ in range(n):
        rng.shuffle(keys)
        for k in keys:
            times[k].append(fns[k]()[0])
    return times


def _ratio(times: dict[str, list[float]], slow: str, fast: str) -> tuple[float, float, float]:
    """Median and quartiles over rounds of ``times[slow] / times[fast]`` (= Mb/s fast / slow)."""
    r = [a / b for a, b in zip(times[slow], times[fast], strict=True)]
    q1, med, q3 = statistics.quantiles(r, n=4, method="inclusive")
    return med, q1, q3


def _fer(errors: int, frames: int) -> str:
    lo, hi = clopper_pearson(errors, frames)
    return f"{errors / frames:.2e} [{lo:.1e}, {hi:.1e}] ({errors}/{frames})"


def run(quick: bool = False) -> dict:
    """Side-by-side figures, or ``{"skipped": why}`` when the driver is not found."""
    exe = os.environ.get(ENV)
    if not exe or not Path(exe).is_file():
        return {
            "figures": [],
            "skipped": f"AFF3CT comparison skipped: set {ENV} to a polar_driver built by "
            "benchmarks/aff3ct/build.sh (see docs/polar.md)",
        }
    s = 0.25 if quick else 1.0
    reps = 5 if quick else 11
    figures, fer = [], {}

    # ---------------------------------------------------------------- SC, (1024, 512)
    code, code_sys = PolarCode(1024, 512), PolarCode(1024, 512, systematic=True)
    nf = int(4096 * s)
    msg, llr, llr_sys, ref = _frames(code, code_sys, nf, seed=10)
    drv = Driver(exe, code_sys, llr_sys, ref, "none")
    try:
        fns = {
            "AFF3CT SC FAST": lambda: drv.run("sc_seq"),
            "AFF3CT SC FAST intra-SIMD": lambda: drv.run("sc_intra"),
            "noisyhw SC float32": _noisyhw(SCDecoder(code), llr, msg),
            "noisyhw SC int8": _noisyhw(SCDecoder(code, dtype="int8"), llr, msg),
        }
        times = _rounds(fns, reps)
        # frame errors: the same frames on both sides (same noise), asserted for float32
        flags = {k: drv.flags(v) for k, v in (("seq", "sc_seq"), ("intra", "sc_intra"))}
        ours = (SCDecoder(code)(llr) != msg).any(1)
        differ = int((flags["seq"] != ours).sum() + (flags["intra"] != ours).sum())
        i8 = int((SCDecoder(code, dtype="int8")(llr) != msg).any(1).sum())
        fer["SC"] = {
            "AFF3CT FAST (seq and intra)": _fer(int(flags["seq"].sum()), nf),
            "noisyhw float32": _fer(int(ours.sum()), nf),
            "noisyhw int8": _fer(i8, nf),
            "frames in error on one side only (float32 vs FAST, FAST intra)": differ,
        }
    finally:
        drv.close()
    mbps = {k: nf * 512 / statistics.median(v) / 1e6 for k, v in times.items()}
    for ours_name in ("noisyhw SC float32", "noisyhw SC int8"):
        for aff in ("AFF3CT SC FAST", "AFF3CT SC FAST intra-SIMD"):
            r, q1, q3 = _ratio(times, aff, ours_name)
            figures.append(
                {
                    "name": f"{ours_name.removeprefix('noisyhw ')} vs {aff}",
                    "value": mbps[ours_name],
                    "unit": "Mb/s",
                    "baseline": mbps[aff],
                    "ratio": r,
                    "target": ">= 1" if ours_name.endswith("float32") else None,
                    "note": f"(1024,512) at {EBN0} dB, {nf} frames, median of {reps} interleaved "
                    f"rounds of per-round ratios (IQR {q1:.2f}-{q3:.2f})",
                }
            )

    # ---------------------------------------------------------------- CA-SCL-8, CRC inside K
    code = PolarCode(1024, 496, crc="crc16")
    code_sys = PolarCode(1024, 496, crc="crc16", systematic=True)
    nf = int(1024 * s)
    msg, llr, llr_sys, ref = _frames(code, code_sys, nf, seed=20)
    nfer = int(16384 * s)
    fmsg, fllr, fllr_sys, fref = _frames(code, code_sys, nfer, seed=30)
    dec = CASCLDecoder(code, L)
    drv = Driver(exe, code_sys, llr_sys, ref, "16-CCITT")
    try:
        fns = {
            "AFF3CT CA-SCL-8 FAST": lambda: drv.run("cascl_seq"),
            "AFF3CT CA-SCL-8 FAST intra-SIMD": lambda: drv.run("cascl_intra"),
            "noisyhw CA-SCL-8": _noisyhw(dec, llr, msg),
        }
        times = _rounds(fns, reps)
    finally:
        drv.close()
    drv = Driver(exe, code_sys, fllr_sys, fref, "16-CCITT")
    try:
        a_seq, a_intra = drv.flags("cascl_seq"), drv.flags("cascl_intra")
    finally:
        drv.close()
    b = (dec(fllr) != fmsg).any(1)
    fer["CA-SCL-8"] = {
        "AFF3CT FAST": _fer(int(a_seq.sum()), nfer),
        "AFF3CT FAST intra": _fer(int(a_intra.sum()), nfer),
        "noisyhw": _fer(int(b.sum()), nfer),
        "frames in error on both sides (AFF3CT FAST / noisyhw)": int((a_seq & b).sum()),
    }
    mbps.update({k: nf * 496 / statistics.median(v) / 1e6 for k, v in times.items()})
    for aff in ("AFF3CT CA-SCL-8 FAST", "AFF3CT CA-SCL-8 FAST intra-SIMD"):
        r, q1, q3 = _ratio(times, aff, "noisyhw CA-SCL-8")
        figures.append(
            {
                "name": f"CA-SCL-8 vs {aff}",
                "value": mbps["noisyhw CA-SCL-8"],
                "unit": "Mb/s",
                "baseline": mbps[aff],
                "ratio": r,
                "target": ">= 1",
                "note": f"(1024, 496 + CRC-16 = 512) at {EBN0} dB, {nf} frames, Mb/s of the 496 "
                f"message bits, median of {reps} interleaved rounds (IQR {q1:.2f}-{q3:.2f})",
            }
        )
    return {"figures": figures, "fer": fer, "mbps": {k: round(v, 3) for k, v in mbps.items()}}


if __name__ == "__main__":
    import json
    import sys

    res = run(quick="--quick" in sys.argv)
    if "skipped" in res:
        print(res["skipped"])
        sys.exit(0)
    print(f"{'noisyhw vs AFF3CT':<44} {'Mb/s':>8} {'AFF3CT':>8} {'ratio':>6}")
    for f in res["figures"]:
        print(f"{f['name']:<44} {f['value']:8.2f} {f['baseline']:8.2f} {f['ratio']:6.2f}")
    print(json.dumps(res["fer"], indent=1))
