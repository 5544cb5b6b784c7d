"""The IDX file format of MNIST, Fashion-MNIST and EMNIST (raw or gzip-compressed).

Layout: 2 zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64), the number of dimensions, then each dimension as a big-endian uint32, then the
data in big-endian C order.
"""

from __future__ import annotations

import gzip
import math
import struct
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io import atomic_write

__all__ = ["read_idx", "write_idx"]

_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {
    dt.newbyteorder("=").str if dt.itemsize > 1 else dt.str: code for code, dt in _TYPES.items()
}


def _open_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path}: corrupted gzip stream ({exc})") from None
    return raw


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a native-endian numpy array.

    Raises :class:`~noisyhw.errors.DataError` with one clear message when the magic number, the
    number of dimensions or the data length do not match.
    """
    path = Path(path)
    data = _open_bytes(path)
    if len(data) < 4:
        raise DataError(f"{path}: not an IDX file (only {len(data)} bytes)")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _TYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number 0x{data[:4].hex()})")
    if not 1 <= ndim <= 8:
        raise DataError(f"{path}: IDX header claims {ndim} dimensions (allowed 1..8)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _TYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: 4 dims of 2^32 do not overflow
    actual = len(data) - header
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise DataError(
            f"{path}: IDX file {what}: header {dims} needs {expected} data bytes, found {actual}"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as IDX (gzip when ``compress`` or the name ends in ``.gz``); atomic."""
    path = Path(path)
    arr = np.ascontiguousarray(array)
    key = arr.dtype.newbyteorder("=").str if arr.dtype.itemsize > 1 else arr.dtype.str
    if key not in _CODES:
        raise DataError(f"write_idx: dtype {arr.dtype} has no IDX type code")
    code = _CODES[key]
    header = struct.pack(">HBB", 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = header + arr.astype(_TYPES[code], copy=False).tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    return atomic_write(path, lambda fh: fh.write(payload))
