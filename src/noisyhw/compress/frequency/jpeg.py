"""Optional path: DCT coefficients straight from a JPEG file, without decoding pixels.

A baseline JPEG already stores the 8x8 block DCT of the level-shifted YCbCr image, quantised.
:func:`read_jpeg_dct` reads those integers with `jpeglib <https://pypi.org/project/jpeglib/>`_
(a maintained ctypes wrapper around libjpeg; ``pip install jpeglib``, the ``jpeg`` extra of
noisyhw), multiplies them by the quantisation table and lays them out as :func:`dct_channels`
does. The result equals the pixel path on the *original* image up to JPEG's quantisation (each
coefficient within half a quantisation step, plus the encoder's colour rounding) and agrees with
the pixel path on the *decoded* image to about 0.2-0.3 on average; single coefficients differ by
up to several units (the decoder's integer IDCT and colour conversion round every pixel, and it
clips to [0, 255]: sklearn's sample photos, 4:4:4, quality 95/90/75 gave maxima of 3.4-3.9 /
5.2-7.2 / 8.4-17).

Speed: with jpeglib this is *not* faster than decoding with PIL and running the numba DCT
(jpeglib round-trips every file through a temporary file and nested ctypes arrays; see
``benchmarks/bench_freq.py``); its value is exactness, the coefficients as stored.

Why jpeglib: jpeg2dct is under a non-commercial licence and unmaintained, torchjpeg pins old torch
versions, jpegio has had no release since 2021; jpeglib 1.x is maintained and ships wheels with
its own libjpeg builds. Without it installed, :func:`read_jpeg_dct` raises an error that says so
and everything else (the pixel path) works.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import DataError, ParameterError

__all__ = ["jpeg_available", "read_jpeg_dct"]


def jpeg_available() -> bool:
    """True when the optional ``jpeglib`` package can be imported."""
    try:
        import jpeglib  # noqa: F401
    except ImportError:
        return False
    return True


def read_jpeg_dct(path: str | Path, *, crop: bool = True) -> np.ndarray:
    """Dequantised DCT channels of a baseline JPEG: (C*64, h, w) float32, C = 1 (grey) or 3.

    Layout and units as :func:`~noisyhw.compress.frequency.dct_channels`. 4:4:4 files give the
    ``chroma="full"`` layout; 4:2:0 files the ``chroma="420"`` layout (each chroma coefficient
    map repeated 2x2 onto Y's grid). ``crop=True`` drops the encoder's padding blocks so that
    ``h, w = H // 8, W // 8`` for an image of H x W pixels (``crop=False`` keeps the padded grid,
    ``ceil``).
    """
    try:
        import jpeglib
    except ImportError:
        raise ParameterError(
            "read_jpeg_dct", "needs the optional package jpeglib (pip install jpeglib)"
        ) from None
    path = Path(path)
    if not path.is_file():
        raise DataError(f"jpeg: no such file {path}")
    try:
        jp = jpeglib.read_dct(str(path))
        y, (cb, cr), qt = jp.load()  # one decode of the entropy-coded data
        y, qt = np.asarray(y), np.asarray(qt)
        tbl = np.asarray(jp.quant_tbl_no).reshape(-1)
        chroma = [np.asarray(cb), np.asarray(cr)] if jp.has_chrominance else []
        height, width = int(jp.height), int(jp.width)
    except Exception as exc:  # jpeglib raises plain Exceptions for bad files
        raise DataError(f"jpeg: {path} is not a readable baseline JPEG ({exc})") from None
    hb, wb = y.shape[:2]
    comps = [y * qt[tbl[0]]]
    for k, c in enumerate(chroma, start=1):
        deq = c * qt[tbl[k]]
        fy, fx = -(-hb // c.shape[0]), -(-wb // c.shape[1])
        if (fy, fx) not in ((1, 1), (2, 2)):
            raise DataError(f"jpeg: {path} has chroma subsampling {fy}x{fx}; 4:4:4 or 4:2:0 only")
        comps.append(deq.repeat(fy, axis=0).repeat(fx, axis=1)[:hb, :wb])
    # (hb, wb, u, v) per component -> (64*C, hb, wb), channel 8u + v
    out = np.concatenate([c.reshape(hb, wb, 64).transpose(2, 0, 1) for c in comps], axis=0)
    if crop:
        out = out[:, : height // 8, : width // 8]
    return np.ascontiguousarray(out, dtype=np.float32)
