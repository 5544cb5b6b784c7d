"""Compiled kernel of :func:`noisyhw.channels.bpsk_awgn` (numba, cached; imported on first use).

One pass over the frames instead of numpy's five temporaries. The arithmetic is the reference's,
in its order (``x = 1 - 2 b``, ``y = x + sigma z``, ``llr = (2 / sigma^2) y``, float64, no
contraction into fused multiply-adds), so the LLRs are bit-identical to the numpy expression.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def bpsk_llr_(z, bits, sigma, scale):  # pragma: no cover - compiled
    """In place: ``z[i] = scale * ((1 - 2 bits[i]) + sigma * z[i])`` for flat float64 ``z``."""
    for i in range(z.size):
        x = 1.0 - 2.0 * float(bits[i])
        z[i] = scale * (x + sigma * z[i])
