"""Validate the polar decoders against the public reference points (research notes).

Prints, per point, our FER with its 95% Clopper-Pearson interval next to the published value and
whether the published value lies inside. All points are BPSK-AWGN with Eb/N0 counting the ``k``
information bits only (CRC excluded). Takes a few minutes on one core:

    PYTHONPATH=src python benchmarks/validate_polar.py [--quick] [--both]
    PYTHONPATH=src python benchmarks/validate_polar.py --fixed [--quick]

``--fixed`` measures instead the FER loss of the fixed-point SC decoders (int16, int8, default
quantisers) against float32 SC on the (1024, 512) 5G code (same frames for all three: the
simulator's common random numbers), with 95% Clopper-Pearson intervals and the loss in dB read
off the float curve's local slope.
"""

from __future__ import annotations

import math
import sys

from noisyhw.codes.polar.simulate import SimulationConfig, simulate

# (label, config, decoder, {ebn0: published FER}, min_errors, max_frames)
# The 5G short-code points are read as A = 64 / 128 *information* bits with the uplink CRC-11
# on top (K = A + 11 = 75 / 139 information-set positions; Eb over A): that reading matches
# every published point to within ~0.1 dB, SC included. The other reading (CRC-11 inside
# K = 64 / 128, A = 53 / 117 message bits) is ~0.2-0.35 dB better than the published points;
# it is kept below (``--both``) as the evidence for the choice.
CASES = [
    (
        "(1024,512) 5G SC",
        SimulationConfig(1024, 512, frames_per_chunk=2000),
        ("sc", 1),
        {1.5: 0.370, 2.0: 0.102, 2.5: 0.0157, 3.0: 0.00154},
        300,
        60000,
    ),
    (
        "(128,64) 5G, A=64 + CRC-11 (K=75), CA-SCL-8",
        SimulationConfig(128, 64, crc="crc11", frames_per_chunk=2000),
        ("cascl", 8),
        {1.5: 0.233, 2.0: 0.103, 2.5: 0.0361},
        500,
        40000,
    ),
    (
        "(128,64) 5G, A=64 + CRC-11 (K=75), SC",
        SimulationConfig(128, 64, crc="crc11", frames_per_chunk=2000),
        ("sc", 1),
        {1.5: 0.656, 2.0: 0.483},
        500,
        20000,
    ),
    (
        "(256,128) 5G, A=128 + CRC-11 (K=139), CA-SCL-8",
        SimulationConfig(256, 128, crc="crc11", frames_per_chunk=2000),
        ("cascl", 8),
        {1.5: 0.111, 2.0: 0.035},
        500,
        40000,
    ),
    (
        "(2048,1024)+CRC32 GA adaptive SCL Lmax=8",
        SimulationConfig(2048, 1024, "ga", 2.0, crc="crc32", frames_per_chunk=2000),
        ("ascl", 8),
        {1.5: 3.59e-2, 2.0: 7.49e-4},
        100,
        60000,
    ),
    (
        "(2048,1024)+CRC32 GA adaptive SCL Lmax=32",
        SimulationConfig(2048, 1024, "ga", 2.0, crc="crc32", frames_per_chunk=2000),
        ("ascl", 32),
        {1.5: 8.74e-3},
        100,
        30000,
    ),
]
OTHER_READING = [
    (
        "(128,64) 5G, CRC-11 inside K=64 (A=53), CA-SCL-8",
        SimulationConfig(128, 53, crc="crc11", frames_per_chunk=2000),
        ("cascl", 8),
        {1.5: 0.233, 2.0: 0.103, 2.5: 0.0361},
        300,
        20000,
    ),
    (
        "(128,64) 5G, CRC-11 inside K=64 (A=53), SC",
        SimulationConfig(128, 53, crc="crc11", frames_per_chunk=2000),
        ("sc", 1),
        {1.5: 0.656, 2.0: 0.483},
        300,
        20000,
    ),
    (
        "(256,128) 5G, CRC-11 inside K=128 (A=117), CA-SCL-8",
        SimulationConfig(256, 117, crc="crc11", frames_per_chunk=2000),
        ("cascl", 8),
        {1.5: 0.111, 2.0: 0.035},
        300,
        20000,
    ),
]


def offset_db(points: list[tuple[float, float]], x: float, published: float) -> float | None:
    """Horizontal distance (dB) from our curve to a published point, using our local slope in
    log10(FER) between neighbouring points: the extra Eb/N0 our curve needs to reach the
    published FER (> 0: ours is worse, < 0: ours is better)."""
    pts = sorted(points)
    i = [p[0] for p in pts].index(x)
    j = i + 1 if i + 1 < len(pts) else i - 1
    if j < 0 or pts[i][1] <= 0 or pts[j][1] <= 0:
        return None
    slope = (math.log10(pts[j][1]) - math.log10(pts[i][1])) / (pts[j][0] - pts[i][0])
    if slope >= 0:
        return None
    return round((math.log10(published) - math.log10(pts[i][1])) / slope, 3)


def main(quick: bool = False, both: bool = False) -> list[dict]:
    out = []
    for label, cfg, spec, ref, min_err, max_frames in CASES + (OTHER_READING if both else []):
        if quick:
            min_err, max_frames = min_err // 3, max_frames // 5
        rows = simulate(cfg, [spec], list(ref), min_errors=min_err, max_frames=max_frames)
        ours = [(r["ebn0_db"], r["fer"]) for r in rows]
        for r, (x, fer_ref) in zip(rows, ref.items(), strict=True):
            inside = r["fer_ci_low"] <= fer_ref <= r["fer_ci_high"]
            off = offset_db(ours, x, fer_ref) if len(ours) > 1 else None
            row = {
                "case": label,
                "ebn0_db": x,
                "published": fer_ref,
                "fer": r["fer"],
                "ci": (r["fer_ci_low"], r["fer_ci_high"]),
                "frames": r["frames"],
                "errors": r["frame_errors"],
                "inside": inside,
                "offset_db": off,
                "mbps": r["info_throughput_mbps"],
            }
            out.append(row)
            print(
                f"{label:50s} {x:4.1f} dB  published {fer_ref:.3g}  ours {r['fer']:.3g} "
                f"[{r['fer_ci_low']:.3g}, {r['fer_ci_high']:.3g}] ({r['frame_errors']}/"
                f"{r['frames']})  {'inside' if inside else 'OUTSIDE'}"
                + ("" if off is None else f"  offset {off:+.2f} dB (+ = ours worse)"),
                flush=True,
            )
    return out


FIXED_POINTS = [1.5, 2.0, 2.5, 3.0]  # 3.0 dB only gives the float curve's slope at 2.5 dB


def fixed_point(quick: bool = False, seed: int = 0) -> list[dict]:
    """FER of ``sc-int16`` / ``sc-int8`` vs ``sc`` (float32) on (1024, 512) 5G; one row per
    (decoder, Eb/N0) with the loss in dB against the float curve (> 0: fixed point worse)."""
    cfg = SimulationConfig(1024, 512, frames_per_chunk=5000, seed=seed)
    specs = [("sc", 1), ("sc-int16", 1), ("sc-int8", 1)]
    min_err, max_frames = (300, 60_000) if quick else (2000, 400_000)
    rows = simulate(cfg, specs, FIXED_POINTS, min_errors=min_err, max_frames=max_frames)
    flt = [(r["ebn0_db"], r["fer"]) for r in rows if r["decoder"] == "sc"]
    out = []
    for r in rows:
        x = r["ebn0_db"]
        off = offset_db(flt, x, r["fer"]) if r["decoder"] != "sc" else 0.0
        loss = None if off is None else round(-off, 3)
        out.append({**r, "loss_db": loss})
        print(
            f"{r['decoder']:9s} {x:4.1f} dB  FER {r['fer']:.4g} [{r['fer_ci_low']:.4g}, "
            f"{r['fer_ci_high']:.4g}] ({r['frame_errors']}/{r['frames']})"
            + ("" if loss is None else f"  loss vs float {loss:+.3f} dB"),
            flush=True,
        )
    return out


if __name__ == "__main__":
    if "--fixed" in sys.argv:
        fixed_point(quick="--quick" in sys.argv)
    else:
        main(quick="--quick" in sys.argv, both="--both" in sys.argv)
