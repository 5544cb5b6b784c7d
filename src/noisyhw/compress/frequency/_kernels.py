"""numba kernel of the CPU fast path: uint8/float pixels -> block-DCT channels in one pass.

Per row of tiles, pixels are gathered tile-column-major (``rows[k, i, j, tile]``) so that every
inner loop runs over the tiles of the row, contiguous and vectorisable: colour conversion and
level shift, the vertical DCT (``D @ tile``), then the horizontal one (``@ D^T``), written
straight into the (N, C*block**2, H/block, W/block) layout. Accumulation is float64, so the
result agrees with the float64 numpy path to the float32 rounding of the output.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def dct_full_kernel(x, scale, m, shift, d, out):  # pragma: no cover - compiled
    n, c, h, w = x.shape
    block = d.shape[0]
    b2 = block * block
    hb = h // block
    wb = w // block
    for t in prange(n * hb):
        img = t // hb
        bi = t % hb
        rows = np.empty((c, block, block, wb))
        vert = np.empty((c, block, block, wb))
        line = np.empty(wb)
        for i in range(block):
            yy = bi * block + i
            for j in range(block):
                if c == 3:
                    for bj in range(wb):
                        xx = bj * block + j
                        r = x[img, 0, yy, xx] * scale
                        g = x[img, 1, yy, xx] * scale
                        b = x[img, 2, yy, xx] * scale
                        rows[0, i, j, bj] = m[0, 0] * r + m[0, 1] * g + m[0, 2] * b + shift[0]
                        rows[1, i, j, bj] = m[1, 0] * r + m[1, 1] * g + m[1, 2] * b + shift[1]
                        rows[2, i, j, bj] = m[2, 0] * r + m[2, 1] * g + m[2, 2] * b + shift[2]
                else:
                    for bj in range(wb):
                        rows[0, i, j, bj] = x[img, 0, yy, bj * block + j] * scale - 128.0
        for k in range(c):
            for u in range(block):
                for j in range(block):
                    for bj in range(wb):
                        vert[k, u, j, bj] = 0.0
                    for i in range(block):
                        dui = d[u, i]
                        for bj in range(wb):
                            vert[k, u, j, bj] += dui * rows[k, i, j, bj]
        for k in range(c):
            for u in range(block):
                for v in range(block):
                    for bj in range(wb):
                        line[bj] = 0.0
                    for j in range(block):
                        dvj = d[v, j]
                        for bj in range(wb):
                            line[bj] += dvj * vert[k, u, j, bj]
                    ch = k * b2 + u * block + v
                    for bj in range(wb):
                        out[img, ch, bi, bj] = line[bj]
