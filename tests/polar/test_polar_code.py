"""Polar constructions and encoders against closed forms and the generator matrix."""

from __future__ import annotations

import numpy as np
import pytest

from noisyhw.codes.polar import (
    PolarCode,
    bhattacharyya,
    gaussian_approximation,
    nr5g,
    nr5g_sequence,
    polar_transform,
)
from noisyhw.errors import ParameterError


def _generator(n: int) -> np.ndarray:
    g = np.array([[1]], dtype=np.int64)
    for _ in range(int(np.log2(n))):
        g = np.kron(g, np.array([[1, 0], [1, 1]]))
    return g


def test_transform_is_generator_matrix_and_involution() -> None:
    rng = np.random.default_rng(0)
    for n in (2, 8, 64):
        u = rng.integers(0, 2, size=(5, n), dtype=np.uint8)
        x = polar_transform(u)
        assert np.array_equal(x, (u.astype(np.int64) @ _generator(n)) % 2)
        assert np.array_equal(polar_transform(x), u)


@pytest.mark.parametrize("n", [2, 16, 1024])
def test_compiled_transform_equals_generator_matrix(n: int) -> None:
    frames = (1 << 16) // n + 3  # above the compiled threshold
    u = np.random.default_rng(n).integers(0, 2, size=(frames, n), dtype=np.uint8)
    x = polar_transform(u)
    rows = slice(0, 9)  # the generator-matrix product on a few rows (O(n^2) each)
    assert np.array_equal(x[rows], (u[rows].astype(np.int64) @ _generator(n)) % 2)
    assert np.array_equal(polar_transform(x), u)


def test_5g_sequence() -> None:
    seq = nr5g_sequence()
    assert seq[:16].tolist() == [0, 1, 2, 4, 8, 16, 32, 3, 5, 64, 9, 6, 17, 10, 18, 128]
    assert seq[-1] == 1023
    assert nr5g(8).tolist() == [0, 1, 2, 4, 3, 5, 6, 7]
    with pytest.raises(ParameterError):
        nr5g(2048)


def test_bhattacharyya_bec_closed_form_and_ga_agree_with_5g() -> None:
    # On N = 8 at any SNR the ordering is the partial order's unique extension for these sets
    assert set(bhattacharyya(8, 1.0, 0.5)[-4:]) == {3, 5, 6, 7}
    assert set(gaussian_approximation(8, 1.0, 0.5)[-4:]) == {3, 5, 6, 7}
    # GA at a sensible design SNR picks nearly the same (1024, 512) set as 5G
    ga = set(gaussian_approximation(1024, 2.0, 0.5)[-512:].tolist())
    g5 = set(nr5g(1024)[-512:].tolist())
    assert len(ga & g5) >= 480
    bh = set(bhattacharyya(1024, 2.0, 0.5)[-512:].tolist())
    assert len(bh & ga) >= 480
    # GA and Bhattacharyya orders are permutations
    for order in (gaussian_approximation(4096, 1.0, 0.5), bhattacharyya(4096, 1.0, 0.5)):
        assert np.array_equal(np.sort(order), np.arange(4096))


@pytest.mark.parametrize("systematic", [False, True])
@pytest.mark.parametrize("construction", ["5g", "ga", "bhattacharyya"])
def test_encoder(construction: str, systematic: bool) -> None:
    code = PolarCode(64, 24, construction, 1.0, crc="crc6", systematic=systematic)
    assert code.K == 30 and code.rate == 24 / 64 and code.frozen.sum() == 34
    rng = np.random.default_rng(3)
    msg = code.random_messages(50, rng)
    x = code.encode(msg)
    assert x.shape == (50, 64) and x.dtype == np.uint8
    u = polar_transform(x)
    assert not u[:, code.frozen].any()  # a codeword: frozen inputs are zero
    pay = code.payload(msg)
    if systematic:
        assert np.array_equal(x[:, code.info_positions], pay)
    else:
        assert np.array_equal(u[:, code.info_positions], pay)
    assert np.array_equal(code.encode(msg[0]), x[0])


def test_bad_parameters() -> None:
    for kw in (
        {"n": 100, "k": 10},
        {"n": 64, "k": 65},
        {"n": 64, "k": 60, "crc": "crc8"},
        {"n": 64, "k": 0},
        {"n": 64, "k": 8, "construction": "random"},
        {"n": 64, "k": 8, "crc": "crc5"},
    ):
        with pytest.raises(ParameterError):
            PolarCode(**kw)
    code = PolarCode(16, 8)
    with pytest.raises(ParameterError):
        code.encode(np.zeros((2, 7), np.uint8))
