"""Block-DCT transform against an independent reference: scipy dctn per block after the
stated JPEG YCbCr conversion, written out here with its own constants."""

import numpy as np
import pytest
import scipy.fft
import torch

from noisyhw.compress.frequency import (
    channel_grid,
    channel_index,
    channel_names,
    dct_channels,
    idct_channels,
)
from noisyhw.errors import ParameterError


def reference(rgb255: np.ndarray, block: int = 8) -> np.ndarray:
    """Independent per-block reference: JFIF YCbCr, -128, scipy dctn(norm='ortho') per tile."""
    r, g, b = (rgb255[:, i].astype(np.float64) for i in range(3))
    planes = (
        np.stack(
            [
                0.299 * r + 0.587 * g + 0.114 * b,
                -0.1687358916 * r - 0.3312641084 * g + 0.5 * b + 128,
                0.5 * r - 0.4186875892 * g - 0.0813124108 * b + 128,
            ],
            axis=1,
        )
        - 128.0
    )
    n, k, h, w = planes.shape
    out = np.zeros((n, k * block * block, h // block, w // block))
    for i in range(h // block):
        for j in range(w // block):
            tile = planes[:, :, i * block : (i + 1) * block, j * block : (j + 1) * block]
            coef = scipy.fft.dctn(tile, axes=(-2, -1), norm="ortho")  # (n, k, u, v)
            out[:, :, i, j] = coef.reshape(n, -1)
    return out


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from sklearn.datasets import load_sample_images

    img = load_sample_images().images[0][100:164, 200:296]  # (64, 96, 3) real photo
    return np.ascontiguousarray(img.transpose(2, 0, 1)[None])


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (2, 3, 32, 48), dtype=np.uint8)


@pytest.mark.parametrize("which", ["photo", "noise"])
def test_both_paths_match_scipy_reference(which, request):
    x = request.getfixturevalue(which)
    ref = reference(x)
    out_np = dct_channels(x, engine="numpy")
    out_t = dct_channels(torch.from_numpy(x), engine="torch")
    out_nb = dct_channels(x, engine="numba")
    out_auto = dct_channels(torch.from_numpy(x))
    assert out_np.shape == out_t.shape == (x.shape[0], 192, x.shape[2] // 8, x.shape[3] // 8)
    assert isinstance(out_auto, torch.Tensor) and out_auto.shape == out_t.shape
    assert np.abs(out_np - ref).max() < 1e-3
    assert np.abs(out_t.numpy() - ref).max() < 1e-3
    # the numba kernel accumulates in float64: agrees with numpy to float32 output rounding
    assert np.abs(out_nb - out_np).max() < 1e-4
    assert np.abs(out_auto.numpy() - out_np).max() < 1e-4
    # float32 paths: within float32 rounding of the coefficient (|c| reaches ~1000, ulp 6e-5)
    assert (np.abs(out_t.numpy() - out_np) <= 1e-4 + 1e-6 * np.abs(ref)).all()
    # float64 paths agree to 1e-4 outright (in fact ~1e-10)
    x64 = x.astype(np.float64) / 255.0
    t64 = dct_channels(torch.from_numpy(x64), engine="torch").numpy()
    assert np.abs(t64 - dct_channels(x64, engine="numpy")).max() < 1e-4
    assert np.abs(dct_channels(x64) - ref).max() < 1e-5  # reference constants have 10 digits


@pytest.mark.parametrize("engine", ["torch", "numpy", "numba"])
def test_float_input_in_unit_range_equals_uint8(photo, engine):
    a = dct_channels(torch.from_numpy(photo), engine=engine)
    b = dct_channels(torch.from_numpy(photo).double() / 255.0, engine=engine).double()
    c = dct_channels(photo.astype(np.float32), value_range=255.0, engine=engine)
    assert torch.allclose(a.double(), b, atol=1e-3)
    assert np.abs(c - a.numpy()).max() < 1e-3


def test_grey_is_its_own_luma_and_layout_indices():
    rng = np.random.default_rng(1)
    g = rng.integers(0, 256, (1, 1, 16, 24), dtype=np.uint8)
    out = dct_channels(g)
    assert out.shape == (1, 64, 2, 3)
    for engine in ("torch", "numpy"):
        assert np.abs(dct_channels(g, engine=engine) - out).max() < 1e-4
    tile = g[0, 0, 8:16, 16:24].astype(np.float64) - 128
    coef = scipy.fft.dctn(tile, norm="ortho")
    for u, v in [(0, 0), (0, 1), (1, 0), (3, 5), (7, 7)]:
        assert abs(out[0, channel_index("Y", u, v), 1, 2] - coef[u, v]) < 1e-3
    # DC of a constant block is 8 x (value - 128); a horizontal cosine lands on (0, v)
    flat = np.full((1, 1, 8, 8), 200, dtype=np.uint8)
    assert abs(dct_channels(flat)[0, 0, 0, 0] - 8 * 72) < 1e-3
    cols = np.cos(np.pi * (2 * np.arange(8) + 1) * 3 / 16)
    wave = (128 + 100 * np.tile(cols, (8, 1)))[None, None]
    c = dct_channels(wave, value_range=255.0)[0, :, 0, 0]
    assert np.argmax(np.abs(c)) == channel_index(0, 0, 3) == 3
    assert channel_index("Cb", 0, 0) == 64 and channel_index(2, 7, 7) == 191
    names = channel_names()
    assert names[0] == "Y0" and names[64] == "Cb0" and names[191] == "Cr63"
    assert channel_grid(np.arange(192)).shape == (3, 8, 8)
    assert channel_grid(np.arange(192))[1, 2, 3] == 64 + 19


def test_chroma_components_follow_the_order_y_cb_cr():
    red = np.zeros((1, 3, 8, 8), dtype=np.uint8)
    red[:, 0] = 255
    c = dct_channels(red)[0, :, 0, 0]
    assert abs(c[0] - 8 * (0.299 * 255 - 128)) < 1e-3
    assert abs(c[64] - 8 * (-0.168735892 * 255)) < 1e-3
    assert abs(c[128] - 8 * (0.5 * 255)) < 1e-3


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_inverse_of_forward_is_identity(backend, noise):
    x = noise.astype(np.float64) / 255.0
    if backend == "torch":
        x = torch.from_numpy(x)
    back = idct_channels(dct_channels(x))
    diff = np.abs(np.asarray(back) - np.asarray(x)).max()
    assert diff < 1e-9
    g = np.random.default_rng(3).random((2, 1, 16, 16)).astype(np.float32)
    assert np.abs(idct_channels(dct_channels(g)) - g).max() < 1e-5


def test_420_subsamples_chroma_like_jpeg(photo):
    out = dct_channels(photo, chroma="420")
    full = dct_channels(photo)
    assert out.shape == full.shape
    assert np.abs(out[:, :64] - full[:, :64]).max() < 1e-4  # Y untouched
    # chroma: reference = 2x2 mean, then per-block DCT on the half grid, repeated 2x2
    ref = reference(photo)
    r = photo.astype(np.float64)
    cb = -0.1687358916 * r[:, 0] - 0.3312641084 * r[:, 1] + 0.5 * r[:, 2]
    cb_half = cb.reshape(1, 32, 2, 48, 2).mean(axis=(2, 4))
    tile = cb_half[0, 8:16, 16:24]
    coef = scipy.fft.dctn(tile, norm="ortho")
    for i, j in [(2, 4), (3, 5), (2, 5)]:
        assert np.allclose(out[0, 64:128, i, j], coef.reshape(-1), atol=1e-3)
    assert ref.shape == out.shape
    t = dct_channels(torch.from_numpy(photo), chroma="420").numpy()
    assert (np.abs(t - out) <= 1e-4 + 1e-6 * np.abs(out)).all()
    back = idct_channels(out, chroma="420", value_range=255.0)
    assert back.shape == photo.shape
    y = lambda im: 0.299 * im[:, 0] + 0.587 * im[:, 1] + 0.114 * im[:, 2]  # noqa: E731
    assert np.abs(y(back) - y(photo.astype(np.float64))).max() < 1e-2


def test_torch_path_is_differentiable_and_keeps_device():
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64, requires_grad=True)
    coeffs = dct_channels(x)
    coeffs[:, 5].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert torch.autograd.gradcheck(
        lambda t: dct_channels(t, block=4),
        (torch.rand(1, 3, 8, 8, dtype=torch.float64, requires_grad=True),),
    )
    assert coeffs.device == x.device


def test_pad_and_crop_policies():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (1, 3, 13, 21), dtype=np.uint8)
    with pytest.raises(ParameterError, match="multiples of 8"):
        dct_channels(x)
    for engine in ("torch", "numpy"):
        got = dct_channels(x, size_policy="pad", engine=engine)
        assert np.abs(got - dct_channels(x, size_policy="pad")).max() < 1e-3
    crop = dct_channels(x, size_policy="crop")
    assert crop.shape == (1, 192, 1, 2)
    assert np.allclose(crop, dct_channels(x[..., :8, :16]), atol=1e-4)
    pad = dct_channels(x, size_policy="pad")
    assert pad.shape == (1, 192, 2, 3)
    padded = np.pad(x, ((0, 0), (0, 0), (0, 3), (0, 3)), mode="edge")
    assert np.allclose(pad, dct_channels(padded), atol=1e-4)
    assert torch.allclose(
        dct_channels(torch.from_numpy(x), size_policy="pad"), torch.from_numpy(pad), atol=1e-3
    )


@pytest.mark.parametrize(
    "bad, kw, match",
    [
        (np.zeros((3, 8, 8), np.uint8), {}, "N, 3, H, W"),
        (np.zeros((1, 2, 8, 8), np.uint8), {}, "N, 3, H, W"),
        (np.zeros((1, 3, 8, 8), np.uint8), {"chroma": "422"}, "chroma"),
        (np.zeros((1, 3, 8, 8), np.uint8), {"chroma": "420"}, "multiples of 16"),
        (np.zeros((1, 1, 16, 16), np.uint8), {"chroma": "420"}, "grey"),
        (np.zeros((1, 3, 8, 8), np.uint8), {"size_policy": "stretch"}, "size_policy"),
        (np.zeros((1, 3, 8, 8), np.uint8), {"value_range": 1.0}, "uint8"),
        (np.zeros((1, 3, 4, 4), np.uint8), {"size_policy": "crop"}, "smaller than one"),
        (np.zeros((1, 3, 16, 16), np.uint8), {"engine": "numba", "chroma": "420"}, "numba"),
        (np.zeros((1, 3, 8, 8), np.uint8), {"engine": "cuda"}, "engine"),
    ],
)
def test_bad_inputs_are_clear_errors(bad, kw, match):
    with pytest.raises(ParameterError, match=match):
        dct_channels(bad, **kw)


def test_inverse_rejects_wrong_channel_counts():
    with pytest.raises(ParameterError, match="64 or 192"):
        idct_channels(np.zeros((1, 100, 2, 2)))


@pytest.mark.parametrize(
    "x",
    [
        np.full((1, 3, 8, 8), 200, np.int64),
        np.full((1, 1, 8, 8), 200, np.int16),
        torch.full((1, 3, 8, 8), 200, dtype=torch.int64),
        torch.zeros((1, 1, 8, 8), dtype=torch.bool),
    ],
)
def test_integer_images_other_than_uint8_are_an_error(x):
    # they were taken as floats in [0, 1] and scaled by 255: an int64 image of 0..255 gave
    # coefficients 255x too large, silently
    for engine in ("auto", "torch", "numpy"):
        with pytest.raises(ParameterError, match="uint8"):
            dct_channels(x, engine=engine)
