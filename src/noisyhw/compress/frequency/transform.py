"""Block-DCT channels of images: the input transform of "Learning in the frequency domain".

Convention (fixed; every function in this package follows it):

1. Colour: JPEG YCbCr, i.e. ITU-R BT.601 full range, Cb and Cr centred at 128::

       Y  =  0.299    R + 0.587    G + 0.114    B
       Cb = -0.168736 R - 0.331264 G + 0.5      B + 128
       Cr =  0.5      R - 0.418688 G - 0.081312 B + 128

   with R, G, B in [0, 255]. A grey image (one channel) is its own Y.
2. Level shift: subtract 128 from Y, Cb and Cr (JPEG's level shift).
3. Orthonormal 2-D DCT-II of every non-overlapping ``block x block`` tile
   (``scipy.fft.dctn(tile, norm="ortho")``); coefficient ``(u, v)`` has vertical frequency ``u``
   (row) and horizontal frequency ``v`` (column).
4. Layout: channel ``k * block**2 + block * u + v`` holds coefficient ``(u, v)`` of component
   ``k`` (0 = Y, 1 = Cb, 2 = Cr): ``[Y0..Y63, Cb0..Cb63, Cr0..Cr63]`` for 8x8 blocks, natural
   (row-major) order, not JPEG's zig-zag. Spatial position ``(i, j)`` of the output is the
   block at rows ``8i..8i+7``, columns ``8j..8j+7``.

``chroma="full"`` keeps Cb/Cr at Y's resolution (equivalent to the paper's "upscale 2x, then
4:2:0" trick). ``chroma="420"`` averages Cb/Cr over 2x2 pixels as JPEG 4:2:0 does, transforms
them on the half-resolution grid and repeats every chroma coefficient map 2x2 (nearest) so that all
192 channels share Y's ``H/8 x W/8`` grid, as the reference code's ``UpsampleCbCr`` does.

Units: with 8x8 blocks the DC coefficient is ``8 x`` the block's mean level-shifted value
(range [-1024, 1016] for Y); AC coefficients are bounded by 1024 in magnitude.

Three implementations agree to 1e-4: the torch path (batched, differentiable, runs on the input's
device; one strided convolution with the DCT basis), the numpy path (float64 colour conversion,
then ``scipy.fft.dctn`` of the tiles) and the fused numba kernel (CPU, ``chroma="full"``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, overload

import numpy as np
import scipy.fft
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ParameterError, check_choice, check_int

__all__ = [
    "CHROMA",
    "COMPONENTS",
    "ENGINES",
    "RGB_TO_YCBCR",
    "SIZE_POLICIES",
    "YCBCR_TO_RGB",
    "BlockDCT",
    "channel_grid",
    "channel_index",
    "channel_names",
    "dct_channels",
    "dct_matrix",
    "fit_size",
    "idct_channels",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
]

COMPONENTS = ("Y", "Cb", "Cr")
CHROMA = ("full", "420")
SIZE_POLICIES = ("error", "pad", "crop")
ENGINES = ("auto", "torch", "numpy", "numba")

#: rows: Y, Cb, Cr; columns: R, G, B (JPEG / JFIF, BT.601 full range)
RGB_TO_YCBCR = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.168735892, -0.331264108, 0.5],
        [0.5, -0.418687589, -0.081312411],
    ]
)
#: the exact inverse of :data:`RGB_TO_YCBCR`
YCBCR_TO_RGB = np.linalg.inv(RGB_TO_YCBCR)
#: level-shifted YCbCr = RGB_TO_YCBCR @ rgb + _SHIFT (Cb/Cr's +128 cancels the -128 level shift)
_SHIFT = np.array([-128.0, 0.0, 0.0])

Array = np.ndarray | torch.Tensor


# --------------------------------------------------------------------------- small pieces
@lru_cache(maxsize=8)
def dct_matrix(n: int = 8) -> np.ndarray:
    """Orthonormal DCT-II matrix ``D`` (n, n), float64: ``D @ x`` is ``scipy.fft.dct(x, norm="ortho")``.

    ``D[k, i] = c_k cos(pi (2 i + 1) k / (2 n))`` with ``c_0 = sqrt(1/n)``, ``c_k = sqrt(2/n)``.
    """
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    d = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    d[0] /= np.sqrt(2.0)
    d.setflags(write=False)
    return d


def _basis(block: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Conv weight (block**2, 1, block, block): filter ``block*u + v`` is ``D[u]^T D[v]``."""
    d = dct_matrix(block)
    w = np.einsum("ui,vj->uvij", d, d).reshape(block * block, 1, block, block)
    return torch.as_tensor(w, dtype=dtype, device=device)


def channel_index(component: int | str, u: int, v: int, block: int = 8) -> int:
    """Channel of coefficient ``(u, v)`` (row, column) of ``component`` (0/"Y", 1/"Cb", 2/"Cr")."""
    k = COMPONENTS.index(component) if isinstance(component, str) else int(component)
    if not 0 <= k < 3:
        raise ParameterError("component", "must be 0-2 or Y, Cb, Cr", component)
    check_int("u", u, 0, block - 1)
    check_int("v", v, 0, block - 1)
    return k * block * block + block * u + v


def channel_names(n_components: int = 3, block: int = 8) -> list[str]:
    """``["Y0", ..., "Y63", "Cb0", ..., "Cr63"]`` for the first ``n_components`` components."""
    return [f"{c}{i}" for c in COMPONENTS[:n_components] for i in range(block * block)]


def channel_grid(values: Array, block: int = 8) -> np.ndarray:
    """Per-channel values (K*block**2,) -> (K, block, block): one frequency grid per component."""
    v = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values)
    if v.ndim != 1 or v.size % (block * block) or v.size // (block * block) > 3:
        raise ParameterError(
            "values", f"must be 1-D with 64, 128 or 192 entries for block {block}", v.shape
        )
    return v.reshape(-1, block, block)


def fit_size(h: int, w: int, multiple: int, policy: str = "error") -> tuple[int, int, int, int]:
    """How to make (h, w) multiples of ``multiple``: returns (new_h, new_w, pad_or_crop_h, ..._w).

    ``"error"`` raises :class:`ParameterError` unless both already are, ``"pad"`` rounds up
    (the new rows/columns repeat the edge pixels, as JPEG encoders do), ``"crop"`` rounds down
    (drops the bottom rows / right columns).
    """
    check_choice("size_policy", policy, SIZE_POLICIES)
    if h % multiple == 0 and w % multiple == 0:
        return h, w, 0, 0
    if policy == "error":
        raise ParameterError(
            "images",
            f"height and width must be multiples of {multiple} (or size_policy='pad'/'crop')",
            (h, w),
        )
    if policy == "pad":
        nh, nw = -(-h // multiple) * multiple, -(-w // multiple) * multiple
        return nh, nw, nh - h, nw - w
    nh, nw = h // multiple * multiple, w // multiple * multiple
    if nh == 0 or nw == 0:
        raise ParameterError("images", f"smaller than one {multiple}x{multiple} tile", (h, w))
    return nh, nw, h - nh, w - nw


# --------------------------------------------------------------------------- validation
def _check_images(x: Array) -> tuple[int, int, int, int]:
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ParameterError(
            "images", "must be (N, 3, H, W) RGB or (N, 1, H, W) grey", tuple(x.shape)
        )
    return tuple(int(s) for s in x.shape)  # type: ignore[return-value]


def _scale_of(x: Array, value_range: float | None) -> float:
    """Factor taking the input to [0, 255]: uint8 as is, float from [0, value_range]."""
    is_uint8 = x.dtype == torch.uint8 if isinstance(x, torch.Tensor) else x.dtype == np.uint8
    is_float = (
        x.is_floating_point()
        if isinstance(x, torch.Tensor)
        else np.issubdtype(x.dtype, np.floating)
    )
    if not (is_uint8 or is_float):  # an int64 image of 0..255 would be scaled as [0, 1] floats
        raise ParameterError(
            "images", "must be uint8 in [0, 255] or float in [0, value_range]", str(x.dtype)
        )
    if is_uint8:
        if value_range not in (None, 255, 255.0):
            raise ParameterError("value_range", "uint8 images are always in [0, 255]", value_range)
        return 1.0
    if value_range is None:
        return 255.0
    if not value_range > 0:
        raise ParameterError("value_range", "must be > 0", value_range)
    return 255.0 / float(value_range)


def _check_options(block: int, chroma: str) -> None:
    check_int("block", block, 2, 64)
    check_choice("chroma", chroma, CHROMA)


# --------------------------------------------------------------------------- colour
def rgb_to_ycbcr(rgb: Array, level_shift: bool = True) -> Array:
    """RGB (N, 3, H, W) in [0, 255] -> YCbCr, minus 128 when ``level_shift`` (same type)."""
    shift = _SHIFT if level_shift else _SHIFT + 128.0
    if isinstance(rgb, torch.Tensor):
        m = torch.as_tensor(RGB_TO_YCBCR, dtype=rgb.dtype, device=rgb.device)
        s = torch.as_tensor(shift, dtype=rgb.dtype, device=rgb.device)
        return torch.einsum("kc,nchw->nkhw", m, rgb) + s[None, :, None, None]
    out = np.matmul(RGB_TO_YCBCR, rgb.reshape(*rgb.shape[:-2], -1)).reshape(rgb.shape)
    out += shift[:, None, None]
    return out


def ycbcr_to_rgb(ycc: Array, level_shift: bool = True) -> Array:
    """Inverse of :func:`rgb_to_ycbcr` (no clipping), same type."""
    shift = _SHIFT if level_shift else _SHIFT + 128.0
    if isinstance(ycc, torch.Tensor):
        m = torch.as_tensor(YCBCR_TO_RGB, dtype=ycc.dtype, device=ycc.device)
        s = torch.as_tensor(shift, dtype=ycc.dtype, device=ycc.device)
        return torch.einsum("ck,nkhw->nchw", m, ycc - s[None, :, None, None])
    return np.einsum("ck,nkhw->nchw", YCBCR_TO_RGB, ycc - shift[None, :, None, None])


# --------------------------------------------------------------------------- forward
@overload
def dct_channels(images: torch.Tensor, **kw: Any) -> torch.Tensor: ...
@overload
def dct_channels(images: np.ndarray, **kw: Any) -> np.ndarray: ...


def dct_channels(
    images: Array,
    block: int = 8,
    chroma: str = "full",
    *,
    size_policy: str = "error",
    value_range: float | None = None,
    engine: str = "auto",
) -> Array:
    """Images -> block-DCT channels (see the module docstring for the exact convention).

    Parameters
    ----------
    images: (N, 3, H, W) RGB or (N, 1, H, W) grey; ``torch.Tensor`` (torch path: batched,
        differentiable, on the tensor's device) or ``np.ndarray`` (numpy path, float64 inside).
        uint8 is taken in [0, 255]; floats in [0, ``value_range``] (default 1.0, as noisyhw
        datasets hold images).
    block: tile size (8 as in JPEG; smaller tiles suit small images).
    chroma: ``"full"`` or ``"420"`` (RGB only; needs H, W multiples of ``2*block``).
    size_policy: ``"error"`` (default), ``"pad"`` (replicate edges) or ``"crop"`` when H or W is
        not a multiple of the tile.
    engine: ``"torch"`` (strided convolution; differentiable, any device), ``"numpy"`` (float64
        ``scipy.fft.dctn`` of the tiles), ``"numba"`` (fused one-pass CPU kernel, float64 accumulation, float32
        output; ``chroma="full"`` only) or ``"auto"``: numba for uint8/float32 CPU input with
        ``chroma="full"`` that needs no gradient, else torch for tensors and numpy for arrays.
        The output type always follows the input type.

    Returns
    -------
    (N, C * block**2, H' / block, W' / block) with C = 3 (RGB) or 1 (grey), float32 (float64 for
    float64 input), H' / W' the size after ``size_policy``.
    """
    _check_options(block, chroma)
    _, c, h, w = _check_images(images)
    if c == 1 and chroma != "full":
        raise ParameterError("chroma", "grey images have no chroma; use 'full'", chroma)
    mult = 2 * block if chroma == "420" else block
    nh, nw, dh, dw = fit_size(h, w, mult, size_policy)
    scale = _scale_of(images, value_range)
    fit = (nh, nw, dh, dw, size_policy)
    engine = _pick_engine(images, chroma, check_choice("engine", engine, ENGINES))
    if engine == "numba":
        return _dct_numba(images, block, scale, fit)
    if engine == "torch":
        t = images if isinstance(images, torch.Tensor) else torch.from_numpy(images)
        out = _dct_torch(t, block, chroma, scale, fit)
        return out if isinstance(images, torch.Tensor) else out.numpy()
    a = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else images
    out = _dct_numpy(a, block, chroma, scale, fit)
    return torch.from_numpy(out).to(images.device) if isinstance(images, torch.Tensor) else out


def _pick_engine(x: Array, chroma: str, engine: str) -> str:
    if not isinstance(x, torch.Tensor | np.ndarray):
        raise ParameterError("images", "must be a torch.Tensor or numpy.ndarray", type(x))
    if engine == "numba":
        if chroma != "full":
            raise ParameterError("engine", "numba handles chroma='full' only", engine)
        if isinstance(x, torch.Tensor) and x.device.type != "cpu":
            raise ParameterError("engine", "numba runs on the CPU; use torch on GPU", engine)
    if engine != "auto":
        return engine
    if isinstance(x, torch.Tensor):
        fast = (
            x.device.type == "cpu"
            and not (x.requires_grad and torch.is_grad_enabled())
            and x.dtype in (torch.uint8, torch.float32)
        )
        return "numba" if fast and chroma == "full" else "torch"
    return "numba" if chroma == "full" and x.dtype in (np.uint8, np.float32) else "numpy"


def _dct_numba(x: Array, block: int, scale: float, fit: tuple) -> Array:
    from ._kernels import dct_full_kernel

    nh, nw, dh, dw, policy = fit
    is_tensor = isinstance(x, torch.Tensor)
    a = x.detach().numpy() if is_tensor else x
    if dh or dw:
        pad = ((0, 0), (0, 0), (0, dh), (0, dw))
        a = np.pad(a, pad, mode="edge") if policy == "pad" else a[..., :nh, :nw]
    if a.dtype not in (np.uint8, np.float32, np.float64):
        a = a.astype(np.float32)
    a = np.ascontiguousarray(a)
    n, c = a.shape[:2]
    out = np.empty((n, c * block * block, nh // block, nw // block), dtype=np.float32)
    dct_full_kernel(a, float(scale), RGB_TO_YCBCR, _SHIFT, dct_matrix(block), out)
    return torch.from_numpy(out) if is_tensor else out


#: pixels per chunk of the torch engine on the CPU (cache-sized pieces run ~3x faster)
_CPU_CHUNK_PIXELS = 1 << 19


def _dct_torch(x: torch.Tensor, block: int, chroma: str, scale: float, fit: tuple) -> torch.Tensor:
    per_image = x.shape[1] * x.shape[2] * x.shape[3]
    step = max(1, _CPU_CHUNK_PIXELS // per_image)
    if x.device.type == "cpu" and x.shape[0] > step:
        parts = [
            _dct_torch_batch(x[i : i + step], block, chroma, scale, fit)
            for i in range(0, x.shape[0], step)
        ]
        return torch.cat(parts)
    return _dct_torch_batch(x, block, chroma, scale, fit)


def _dct_torch_batch(
    x: torch.Tensor, block: int, chroma: str, scale: float, fit: tuple
) -> torch.Tensor:
    nh, nw, dh, dw, policy = fit
    dtype = x.dtype if x.dtype in (torch.float64, torch.float16, torch.bfloat16) else torch.float32
    x = x.to(dtype) * scale
    if dh or dw:
        x = F.pad(x, (0, dw, 0, dh), mode="replicate") if policy == "pad" else x[..., :nh, :nw]
    n, c = x.shape[:2]
    if c == 3:  # colour conversion + level shift as a 1x1 convolution (fastest on CPU)
        m = torch.as_tensor(RGB_TO_YCBCR, dtype=dtype, device=x.device)[:, :, None, None]
        planes = F.conv2d(x, m, torch.as_tensor(_SHIFT, dtype=dtype, device=x.device))
    else:
        planes = x - 128.0
    basis = _basis(block, dtype, x.device)
    b2 = block * block
    if chroma == "full":
        out = F.conv2d(planes.reshape(n * c, 1, nh, nw), basis, stride=block)
        return out.reshape(n, c * b2, nh // block, nw // block)
    y = F.conv2d(planes[:, :1], basis, stride=block)
    cc = F.avg_pool2d(planes[:, 1:], 2).reshape(n * 2, 1, nh // 2, nw // 2)
    cc = F.conv2d(cc, basis, stride=block).reshape(n, 2 * b2, nh // (2 * block), nw // (2 * block))
    cc = cc.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    return torch.cat([y, cc], dim=1)


def _np_blocks_dct(planes: np.ndarray, block: int) -> np.ndarray:
    """(N, K, H, W) float64 -> (N, K*block**2, H/block, W/block): ``scipy.fft.dctn`` of every
    tile (orthonormal DCT-II over the tile's rows and columns)."""
    n, k, h, w = planes.shape
    tiles = planes.reshape(n, k, h // block, block, w // block, block).transpose(0, 1, 2, 4, 3, 5)
    coef = scipy.fft.dctn(tiles, axes=(-2, -1), norm="ortho", workers=1)  # (n, k, a, b, u, v)
    return np.ascontiguousarray(coef.transpose(0, 1, 4, 5, 2, 3)).reshape(
        n, k * block * block, h // block, w // block
    )


def _dct_numpy(x: np.ndarray, block: int, chroma: str, scale: float, fit: tuple) -> np.ndarray:
    nh, nw, dh, dw, policy = fit
    out_dtype = np.float64 if x.dtype == np.float64 else np.float32
    x = x.astype(np.float64)
    if scale != 1.0:
        x *= scale
    if dh or dw:
        pad = ((0, 0), (0, 0), (0, dh), (0, dw))
        x = np.pad(x, pad, mode="edge") if policy == "pad" else x[..., :nh, :nw]
    n, c = x.shape[:2]
    planes = rgb_to_ycbcr(x) if c == 3 else x - 128.0
    if chroma == "full":
        return _np_blocks_dct(planes, block).astype(out_dtype)
    y = _np_blocks_dct(planes[:, :1], block)
    cc = planes[:, 1:].reshape(n, 2, nh // 2, 2, nw // 2, 2).mean(axis=(3, 5))
    cc = _np_blocks_dct(cc, block).repeat(2, axis=2).repeat(2, axis=3)
    return np.concatenate([y, cc], axis=1).astype(out_dtype)


# --------------------------------------------------------------------------- inverse
@overload
def idct_channels(coeffs: torch.Tensor, **kw: Any) -> torch.Tensor: ...
@overload
def idct_channels(coeffs: np.ndarray, **kw: Any) -> np.ndarray: ...


def idct_channels(
    coeffs: Array,
    block: int = 8,
    chroma: str = "full",
    *,
    value_range: float = 1.0,
    clip: bool = False,
) -> Array:
    """Block-DCT channels (N, C*block**2, h, w) -> images (N, C, h*block, w*block), C = 1 or 3.

    The exact inverse of :func:`dct_channels` for ``chroma="full"`` (up to float rounding); for
    ``"420"`` the chroma is rebuilt at half resolution from every second coefficient position
    and repeated 2x2 (nearest), so only Y is exact. Output is float in [0, ``value_range``]
    (default 1.0; 255 gives the [0, 255] scale) when the input came from a valid image;
    ``clip=True`` clamps to that range.
    """
    _check_options(block, chroma)
    b2 = block * block
    if coeffs.ndim != 4 or coeffs.shape[1] not in (b2, 3 * b2):
        raise ParameterError(
            "coeffs", f"must be (N, {b2} or {3 * b2}, h, w) for block {block}", tuple(coeffs.shape)
        )
    c = coeffs.shape[1] // b2
    if c == 1 and chroma != "full":
        raise ParameterError("chroma", "grey coefficients have no chroma; use 'full'", chroma)
    if chroma == "420" and (coeffs.shape[2] % 2 or coeffs.shape[3] % 2):
        raise ParameterError("coeffs", "4:2:0 coefficient grids have even h and w", coeffs.shape)
    if not value_range > 0:
        raise ParameterError("value_range", "must be > 0", value_range)
    if isinstance(coeffs, torch.Tensor):
        planes = _idct_torch(coeffs, block, chroma, c)
        img = ycbcr_to_rgb(planes) if c == 3 else planes + 128.0
        img = img * (value_range / 255.0)
        return img.clamp(0.0, value_range) if clip else img
    if isinstance(coeffs, np.ndarray):
        planes = _idct_numpy(coeffs.astype(np.float64), block, chroma, c)
        img = ycbcr_to_rgb(planes) if c == 3 else planes + 128.0
        img = img * (value_range / 255.0)
        img = np.clip(img, 0.0, value_range) if clip else img
        return img.astype(np.float64 if coeffs.dtype == np.float64 else np.float32)
    raise ParameterError("coeffs", "must be a torch.Tensor or numpy.ndarray", type(coeffs))


def _idct_torch(coeffs: torch.Tensor, block: int, chroma: str, c: int) -> torch.Tensor:
    dtype = coeffs.dtype if coeffs.is_floating_point() else torch.float32
    coeffs = coeffs.to(dtype)
    n, _, h, w = coeffs.shape
    b2 = block * block
    basis = _basis(block, dtype, coeffs.device)
    if chroma == "full":
        planes = F.conv_transpose2d(coeffs.reshape(n * c, b2, h, w), basis, stride=block)
        return planes.reshape(n, c, h * block, w * block)
    y = F.conv_transpose2d(coeffs[:, :b2], basis, stride=block)
    cc = coeffs[:, b2:, ::2, ::2].reshape(n * 2, b2, h // 2, w // 2)
    cc = F.conv_transpose2d(cc, basis, stride=block).reshape(n, 2, h * block // 2, w * block // 2)
    cc = cc.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    return torch.cat([y, cc], dim=1)


def _np_blocks_idct(coef: np.ndarray, block: int) -> np.ndarray:
    """Inverse of :func:`_np_blocks_dct`: ``scipy.fft.idctn`` of every tile's coefficients."""
    n, kc, h, w = coef.shape
    k = kc // (block * block)
    c = coef.reshape(n, k, block, block, h, w).transpose(0, 1, 4, 5, 2, 3)  # (n, k, a, b, u, v)
    tiles = scipy.fft.idctn(c, axes=(-2, -1), norm="ortho", workers=1)
    return np.ascontiguousarray(tiles.transpose(0, 1, 2, 4, 3, 5)).reshape(
        n, k, h * block, w * block
    )


def _idct_numpy(coeffs: np.ndarray, block: int, chroma: str, c: int) -> np.ndarray:
    if chroma == "full":
        return _np_blocks_idct(coeffs, block)
    b2 = block * block
    y = _np_blocks_idct(coeffs[:, :b2], block)
    cc = _np_blocks_idct(coeffs[:, b2:, ::2, ::2], block).repeat(2, axis=2).repeat(2, axis=3)
    return np.concatenate([y, cc], axis=1)


# --------------------------------------------------------------------------- module
class BlockDCT(nn.Module):
    """:func:`dct_channels` as a layer (N, C, H, W) -> (N, C*block**2, H/block, W/block).

    Put it in front of a frequency model to transform on the model's device (e.g. GPU), e.g.
    ``nn.Sequential(BlockDCT(), ChannelNormalize(stats), ChannelSelect(24), net)``.
    """

    def __init__(
        self,
        block: int = 8,
        chroma: str = "full",
        size_policy: str = "error",
        value_range: float | None = None,
    ) -> None:
        super().__init__()
        _check_options(block, chroma)
        check_choice("size_policy", size_policy, SIZE_POLICIES)
        self.block, self.chroma, self.size_policy = block, chroma, size_policy
        self.value_range = value_range

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dct_channels(
            x,
            self.block,
            self.chroma,
            size_policy=self.size_policy,
            value_range=self.value_range,
        )

    def extra_repr(self) -> str:
        return f"block={self.block}, chroma={self.chroma!r}, size_policy={self.size_policy!r}"
