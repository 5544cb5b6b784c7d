import gzip

import numpy as np
import pytest

from noisyhw.data import read_idx, write_idx
from noisyhw.errors import DataError


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((5, 3, 4)) * 100).astype(dtype)
    path = write_idx(tmp_path / f"a-idx3-ubyte{suffix}", arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(back, arr)


def test_reads_big_endian_header(tmp_path):
    # hand-built file: 2 labels, type uint8, 1 dim
    raw = bytes([0, 0, 0x08, 1, 0, 0, 0, 2, 7, 9])
    (tmp_path / "l").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "l"), [7, 9])


def test_truncated_file_is_one_clear_error(tmp_path):
    arr = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    path = write_idx(tmp_path / "x", arr)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)


def test_trailing_bytes_rejected(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((2, 2), np.uint8))
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(DataError, match="trailing"):
        read_idx(path)


def test_bad_magic_rejected(tmp_path):
    (tmp_path / "x").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(DataError, match="magic"):
        read_idx(tmp_path / "x")


def test_corrupted_gzip_rejected(tmp_path):
    data = gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 100]) + bytes(100))
    (tmp_path / "x.gz").write_bytes(data[:-20])
    with pytest.raises(DataError, match="gzip"):
        read_idx(tmp_path / "x.gz")


def test_tiny_file_rejected(tmp_path):
    (tmp_path / "x").write_bytes(b"\0\0")
    with pytest.raises(DataError):
        read_idx(tmp_path / "x")


@pytest.mark.parametrize(
    "dims", [(2**31, 2**31, 4), (2**32 - 1,) * 4, (2**31, 2**31, 2**31, 2**31)]
)
def test_huge_header_dims_are_one_clear_error_without_overflow(tmp_path, dims):
    """The expected size is a Python int: the int64 product used to wrap (a wrong byte count,
    or 'cannot reshape array of size 0')."""
    import math
    import struct

    path = tmp_path / "huge.idx"
    path.write_bytes(struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(f">{len(dims)}I", *dims))
    with pytest.raises(DataError, match=f"needs {math.prod(dims)} data bytes, found 0"):
        read_idx(path)
