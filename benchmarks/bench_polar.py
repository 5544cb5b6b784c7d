"""Polar decoder throughput on one core: noisyhw's numba kernels vs straightforward vectorised
numpy decoders (batched over frames and paths, recursive, full path copies) in the same run.

Throughput = decoded information bits per second of CPU time of this process, best of 3 runs
(5 for SCL-8 and CA-SCL-8); numba kernels are single-threaded, and ``time.process_time`` keeps
the figures meaningful on a shared machine.
Frames are BPSK-AWGN at Eb/N0 = 2 dB for (1024, 512).

    PYTHONPATH=src python benchmarks/bench_polar.py
"""

from __future__ import annotations

import time

import numpy as np

from noisyhw.channels import bpsk_awgn
from noisyhw.codes.polar import CASCLDecoder, PolarCode, SCDecoder, SCLDecoder, polar_transform

EBN0 = 2.0


# ----------------------------------------------------------------------------- numpy baseline
def _f(a, b):
    return np.sign(a) * np.sign(b) * np.minimum(np.abs(a), np.abs(b))


def _g(a, b, x):
    return np.where(x.astype(bool), b - a, b + a)


def numpy_sc(llr: np.ndarray, frozen: np.ndarray) -> np.ndarray:
    """Recursive SC vectorised over frames; returns the decided codeword x (F, n)."""

    def rec(alpha, fz):
        n = alpha.shape[1]
        if n == 1:
            if fz[0]:
                return np.zeros_like(alpha, dtype=np.uint8)
            return (alpha < 0).astype(np.uint8)
        h = n // 2
        a, b = alpha[:, :h], alpha[:, h:]
        xl = rec(_f(a, b), fz[:h])
        xr = rec(_g(a, b, xl), fz[h:])
        return np.concatenate([xl ^ xr, xr], axis=1)

    return rec(llr, frozen)


def numpy_scl(llr: np.ndarray, frozen: np.ndarray, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Recursive SCL vectorised over frames and paths with full copies (gathers) of every
    path's state at each decision; approximate LLR metric. Returns x (F, L, n), pm (F, L)."""
    F = llr.shape[0]
    pm = np.full((F, L), np.inf)
    pm[:, 0] = 0.0
    rows = np.arange(F)[:, None]

    def rec(alpha, fz):
        nonlocal pm
        n = alpha.shape[2]
        if n == 1:
            a = alpha[:, :, 0]
            if fz[0]:
                pm = pm + np.where(a < 0, -a, 0.0)
                return np.zeros_like(alpha, dtype=np.uint8), np.broadcast_to(np.arange(L), (F, L))
            cand = np.concatenate(
                [pm + np.where(a < 0, -a, 0.0), pm + np.where(a > 0, a, 0.0)], axis=1
            )  # (F, 2L): [bit 0 of each path, bit 1 of each path]
            idx = np.argsort(cand, axis=1, kind="stable")[:, :L]
            pm = np.take_along_axis(cand, idx, 1)
            return (idx >= L).astype(np.uint8)[:, :, None], idx % L
        h = n // 2
        a, b = alpha[:, :, :h], alpha[:, :, h:]
        xl, p1 = rec(_f(a, b), fz[:h])
        a, b = a[rows, p1], b[rows, p1]
        xr, p2 = rec(_g(a, b, xl), fz[h:])
        xl = xl[rows, p2]
        return np.concatenate([xl ^ xr, xr], axis=2), p1[rows, p2]

    x, _ = rec(np.repeat(llr[:, None, :], L, axis=1), frozen)
    return x, pm


def numpy_decode(code: PolarCode, llr: np.ndarray, L: int, crc: bool) -> np.ndarray:
    if L == 1 and not crc:
        x = numpy_sc(llr, code.frozen)
        return polar_transform(x)[:, code.info_positions]
    x, pm = numpy_scl(llr, code.frozen, L)
    F = llr.shape[0]
    pay = polar_transform(x.reshape(F * L, -1))[:, code.info_positions].reshape(F, L, -1)
    order = np.argsort(pm, axis=1, kind="stable")
    pay = np.take_along_axis(pay, order[:, :, None], 1)
    if crc:
        ok = code.crc.check(pay.reshape(F * L, -1)).reshape(F, L)
        first = np.where(ok.any(1), ok.argmax(1), 0)
        return pay[np.arange(F), first]
    return pay[:, 0]


# ----------------------------------------------------------------------------- timing
def _frames(code: PolarCode, frames: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    msg = code.random_messages(frames, rng)
    # float32: the decoders' working precision, so the numpy baseline sees the same numbers
    return msg, bpsk_awgn(code.encode(msg), EBN0, code.rate, rng).astype(np.float32)


def _mbps(fn, llr: np.ndarray, k: int, repeat: int = 3) -> tuple[float, np.ndarray]:
    fn(llr[:2])  # compile / warm up
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn(llr)
        best = min(best, time.process_time() - t0)
    return llr.shape[0] * k / best / 1e6, out


def run(quick: bool = False) -> dict:
    s = 0.25 if quick else 1.0
    figures = []
    code = PolarCode(1024, 512)
    ccode = PolarCode(1024, 512, crc="crc16")
    msg, llr = _frames(code, int(4000 * s))
    _, cllr = _frames(ccode, int(800 * s))

    sc, d_sc = _mbps(SCDecoder(code), llr, 512)
    base_sc, d_np = _mbps(lambda a: numpy_decode(code, a, 1, False), llr[: int(400 * s)], 512, 1)
    assert np.array_equal(d_np, d_sc[: d_np.shape[0]]), "numpy SC baseline disagrees"
    figures.append(
        {
            "name": "SC (1024,512) throughput",
            "value": sc,
            "unit": "Mb/s",
            "baseline": base_sc,
            "ratio": sc / base_sc,
            "target": ">= 20",
            "note": f"vs recursive numpy SC batched over frames; FER@{EBN0}dB "
            f"{(d_sc != msg).any(1).mean():.3f}",
        }
    )

    scl, d_scl = _mbps(SCLDecoder(code, 8), llr[: int(800 * s)], 512, 5)
    base_scl, d_np = _mbps(lambda a: numpy_decode(code, a, 8, False), llr[: int(100 * s)], 512, 1)
    agree = (d_np == d_scl[: d_np.shape[0]]).all(1).mean()
    figures.append(
        {
            "name": "SCL-8 (1024,512) throughput",
            "value": scl,
            "unit": "Mb/s",
            "baseline": base_scl,
            "ratio": scl / base_scl,
            "target": ">= 2",
            "note": f"vs numpy SCL with full path copies (same decisions on {agree:.0%} of frames)",
        }
    )

    leaf, d_leaf = _mbps(SCLDecoder(code, 8, shortcuts=False), llr[: int(200 * s)], 512)
    assert np.array_equal(d_leaf, d_scl[: d_leaf.shape[0]]), "node shortcuts changed SCL's output"
    figures.append(
        {
            "name": "SCL-8 (1024,512) node shortcuts vs bitwise",
            "value": scl,
            "unit": "Mb/s",
            "baseline": leaf,
            "ratio": scl / leaf,
            "note": "Rate-0/Rate-1/REP/SPC nodes vs the leaf-by-leaf schedule (same decisions)",
        }
    )

    ca, _ = _mbps(CASCLDecoder(ccode, 8), cllr, 512, 5)
    base_ca, _ = _mbps(lambda a: numpy_decode(ccode, a, 8, True), cllr[: int(100 * s)], 512, 1)
    figures.append(
        {
            "name": "CA-SCL-8 (1024,512)+CRC16 throughput",
            "value": ca,
            "unit": "Mb/s",
            "baseline": base_ca,
            "ratio": ca / base_ca,
            "target": ">= 2",
            "note": "vs numpy SCL + CRC selection",
        }
    )

    scaling_n = []
    for n in (256, 512, 1024, 2048, 4096):
        c = PolarCode(n, n // 2, "5g" if n <= 1024 else "ga", 2.0)
        _, ll = _frames(c, max(200, int(4_000_000 * s / n)))
        v_sc, _ = _mbps(SCDecoder(c), ll, n // 2)
        v_scl, _ = _mbps(SCLDecoder(c, 8), ll[: max(50, ll.shape[0] // 5)], n // 2)
        scaling_n.append(
            {"n": n, "k": n // 2, "sc_mbps": round(v_sc, 2), "scl8_mbps": round(v_scl, 3)}
        )
    scaling_l = []
    for L in (1, 2, 4, 8, 16, 32):
        v, _ = _mbps(SCLDecoder(code, L), llr[: max(50, int(3200 * s) // L)], 512)
        scaling_l.append({"list_size": L, "scl_mbps": round(v, 3)})
    for r in scaling_n:
        figures.append(
            {"name": f"SC throughput n={r['n']} (k=n/2)", "value": r["sc_mbps"], "unit": "Mb/s"}
        )
    for r in scaling_l:
        figures.append(
            {
                "name": f"SCL throughput L={r['list_size']} (1024,512)",
                "value": r["scl_mbps"],
                "unit": "Mb/s",
            }
        )
    return {"figures": figures, "scaling_n": scaling_n, "scaling_list": scaling_l}


if __name__ == "__main__":
    import sys

    res = run(quick="--quick" in sys.argv)
    for f in res["figures"]:
        print(f)
    print("scaling with n (k = n/2, L = 8):", res["scaling_n"])
    print("scaling with L ((1024, 512)):", res["scaling_list"])
