"""Validate the polar decoders against the public reference points (research notes).

Prints, per point, our FER with its 95% Clopper-Pearson interval next to the published value and
whether the published value lies inside. All points are BPSK-AWGN with Eb/N0 counting the ``k``
information bits only (CRC excluded). Takes a few minutes on one core:

    PYTHONPATH=src python benchmarks/validate_polar.py [--quick]
"""

from __future__ import annotations

import sys

from noisyhw.codes.polar.simulate import DecoderSpec, SimulationConfig, simulate

# (label, config, decoder, {ebn0: published FER}, min_errors, max_frames, ebn0 shift)
# The 5G uplink points count the CRC-11 inside K = 64 / 128; we also evaluate them with Eb over
# K (shift = 10 log10(K / k)) to show how the convention moves the curve.
CASES = [
    (
        "(1024,512) 5G SC",
        SimulationConfig(1024, 512, frames_per_chunk=2000),
        DecoderSpec("sc"),
        {1.5: 0.370, 2.0: 0.102, 2.5: 0.0157, 3.0: 0.00154},
        300,
        60000,
        0.0,
    ),
    (
        "(128,64) 5G CRC11-in-K CA-SCL-8, Eb over k=53",
        SimulationConfig(128, 53, crc="crc11", frames_per_chunk=2000),
        DecoderSpec("cascl", 8),
        {1.5: 0.233, 2.0: 0.103, 2.5: 0.0361},
        300,
        20000,
        0.0,
    ),
    (
        "(128,64) 5G SC, Eb over k=53",
        SimulationConfig(128, 53, crc="crc11", frames_per_chunk=2000),
        DecoderSpec("sc"),
        {1.5: 0.656, 2.0: 0.483},
        300,
        20000,
        0.0,
    ),
    (
        "(256,128) 5G CRC11-in-K CA-SCL-8, Eb over k=117",
        SimulationConfig(256, 117, crc="crc11", frames_per_chunk=2000),
        DecoderSpec("cascl", 8),
        {1.5: 0.111, 2.0: 0.035},
        300,
        20000,
        0.0,
    ),
    (
        "(2048,1024)+CRC32 GA adaptive SCL Lmax=8",
        SimulationConfig(2048, 1024, "ga", 2.0, crc="crc32", frames_per_chunk=2000),
        DecoderSpec("ascl", 8),
        {1.5: 3.59e-2, 2.0: 7.49e-4},
        100,
        60000,
        0.0,
    ),
    (
        "(2048,1024)+CRC32 GA adaptive SCL Lmax=32",
        SimulationConfig(2048, 1024, "ga", 2.0, crc="crc32", frames_per_chunk=2000),
        DecoderSpec("ascl", 32),
        {1.5: 8.74e-3},
        100,
        30000,
        0.0,
    ),
]


def main(quick: bool = False) -> list[dict]:
    out = []
    for label, cfg, spec, ref, min_err, max_frames, shift in CASES:
        if quick:
            min_err, max_frames = min_err // 3, max_frames // 5
        rows = simulate(
            cfg, [spec], [x + shift for x in ref], min_errors=min_err, max_frames=max_frames
        )
        for r, (x, fer_ref) in zip(rows, ref.items(), strict=True):
            inside = r["fer_ci_low"] <= fer_ref <= r["fer_ci_high"]
            row = {
                "case": label,
                "ebn0_db": x,
                "published": fer_ref,
                "fer": r["fer"],
                "ci": (r["fer_ci_low"], r["fer_ci_high"]),
                "frames": r["frames"],
                "errors": r["frame_errors"],
                "inside": inside,
                "mbps": r["info_throughput_mbps"],
            }
            out.append(row)
            print(
                f"{label:55s} {x:4.1f} dB  published {fer_ref:.3g}  ours {r['fer']:.3g} "
                f"[{r['fer_ci_low']:.3g}, {r['fer_ci_high']:.3g}] ({r['frame_errors']}/"
                f"{r['frames']})  {'inside' if inside else 'OUTSIDE'}",
                flush=True,
            )
    return out


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
