"""Live rows: a printed row per finished Monte-Carlo point, as it finishes."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import typer

from ..sweep.labels import cell
from .output import output_format

__all__ = ["live_rows"]

#: the Monte-Carlo point keys shown as the x column of a live row, with their headers
_X_KEYS = {"ebn0_db": "Eb/N0", "p": "p", "snr_db": "SNR"}


def _live_header(x_name: str) -> str:
    cols = f"{'decoder':<10} {x_name:>6}  {'FER':>9} {'BER':>9} {'FE':>6} {'frames':>9}"
    return f"{cols} {'Mb/s':>6} {'elapsed':>8}"


@contextmanager
def live_rows(
    bits_per_frame: int, frame_errors: str = "frame_errors", decoder: str | None = None
) -> Iterator[None]:
    """Print a row per finished Monte-Carlo point as it finishes (as AFF3CT's simulator does):
    decoder, channel point, FER, BER, frame errors, frames, decoded Mb/s, elapsed time.

    ``bits_per_frame``: information bits per frame (BER and Mb/s); ``frame_errors``: the count
    key of erroneous frames; ``decoder``: the name shown (default: the point's label without
    its channel value, e.g. ``SCL-8``). Mb/s needs a ``decode_s`` count (decoder time), else ``-``.
    Rows go to stdout with ``--format table`` only (a csv/json stdout holds the table only).
    """
    from ..progress import _clock, label, on_point_done

    if output_format() != "table":
        yield
        return
    t0 = time.monotonic()
    shown = [False]

    def show(params: Mapping[str, Any], row: Mapping[str, Any]) -> None:
        x_key = next((k for k in _X_KEYS if k in params), None)
        rest = {k: v for k, v in params.items() if k != x_key}
        x = params[x_key] if x_key else None
        x_text = f"{x:.2f}" if x_key != "p" and isinstance(x, float) else cell(x)
        if not shown[0]:
            header = _live_header(_X_KEYS.get(x_key or "", "point"))
            typer.echo(f"{header}\n{'-' * len(header)}")
            shown[0] = True
        frames = int(row.get("frames", 0))
        fe = int(row.get(frame_errors, 0))
        bits = frames * bits_per_frame
        dt = float(row.get("decode_s", 0.0))
        ber = row.get("bit_errors", 0) / bits if bits and "bit_errors" in row else None
        fields = [
            f"{decoder or label(rest) or '-':<10}",
            f"{x_text:>6} ",
            f"{cell(fe / frames if frames else None):>9}",
            f"{cell(ber):>9}",
            f"{fe:>6}",
            f"{frames:>9}",
            f"{cell(bits / dt / 1e6 if dt > 0 else None):>6}",
            f"{_clock(time.monotonic() - t0):>8}",
        ]
        typer.echo(" ".join(fields))

    with on_point_done(show):
        yield
