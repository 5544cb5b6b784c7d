"""In-memory datasets and the loaders behind the registry."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import DataError, ParameterError, check_int
from .idx import read_idx

__all__ = [
    "FASHION_CLASSES",
    "ArrayDataset",
    "load_cifar10",
    "load_digits",
    "load_idx_pair",
    "load_imagefolder",
    "sequence_view",
]

FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


class ArrayDataset(Dataset):
    """A labelled dataset held in memory as two tensors.

    Attributes
    ----------
    x: float32 tensor (N, C, H, W) with values in [0, 1] for images, or (N, T, F) for sequences.
    y: int64 tensor (N,) of class indices.
    classes: class names, ``len(classes) == num_classes``.
    name: where it came from (e.g. ``"fashion-mnist/train"``).
    """

    def __init__(
        self, x: torch.Tensor, y: torch.Tensor, classes: Sequence[str], name: str = ""
    ) -> None:
        if x.shape[0] != y.shape[0]:
            raise DataError(f"{name}: {x.shape[0]} inputs but {y.shape[0]} labels")
        self.x = x
        self.y = y.long()
        self.classes = list(classes)
        self.name = name

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, e.g. (1, 28, 28) or (T, F)."""
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def subset(self, n: int | None, seed: int = 0) -> ArrayDataset:
        """A random subset of ``n`` examples (all when ``n`` is None or >= len), seeded."""
        if n is None or n >= len(self):
            return self
        check_int("n", n, 1)
        idx = torch.from_numpy(np.random.default_rng(seed).permutation(len(self))[:n])
        return ArrayDataset(self.x[idx], self.y[idx], self.classes, f"{self.name}[{n}]")

    def __repr__(self) -> str:
        return f"ArrayDataset({self.name!r}, n={len(self)}, input_shape={self.input_shape}, classes={self.num_classes})"


def sequence_view(ds: ArrayDataset) -> ArrayDataset:
    """Read each image row by row: (N, C, H, W) -> (N, T=H, F=C*W) for recurrent models."""
    if ds.x.dim() != 4:
        raise ParameterError(
            "dataset", "a sequence view needs images (N, C, H, W)", tuple(ds.x.shape)
        )
    n, c, h, w = ds.x.shape
    x = ds.x.permute(0, 2, 1, 3).reshape(n, h, c * w).contiguous()
    return ArrayDataset(x, ds.y, ds.classes, f"{ds.name}:rows")


def _images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) or (N, H, W, C) -> float32 (N, C, H, W) in [0, 1]."""
    arr = images if images.ndim == 4 else images[..., None]
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 3, 1, 2))).float().div_(255.0)


def load_idx_pair(images: Path, labels: Path, classes: Sequence[str], name: str) -> ArrayDataset:
    """An IDX image file (N, H, W) and an IDX label file (N,) as a dataset."""
    x = read_idx(images)
    y = read_idx(labels)
    if x.ndim != 3 or y.ndim != 1:
        raise DataError(
            f"{name}: expected images (N,H,W) and labels (N,), got {x.shape} and {y.shape}"
        )
    if x.shape[0] != y.shape[0]:
        raise DataError(f"{name}: {x.shape[0]} images but {y.shape[0]} labels")
    if y.size and (y.min() < 0 or y.max() >= len(classes)):
        raise DataError(f"{name}: labels outside 0..{len(classes) - 1}")
    return ArrayDataset(_images_to_tensor(x), torch.from_numpy(y.astype(np.int64)), classes, name)


def load_digits(split: str, test_fraction: float = 0.2) -> ArrayDataset:
    """sklearn's 1,797 8x8 digits, scaled to [0, 1]; a fixed stratified split (seed 0)."""
    from sklearn.datasets import load_digits as _sk
    from sklearn.model_selection import train_test_split

    bunch = _sk()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]
    idx_train, idx_test = train_test_split(
        np.arange(len(x)), test_size=test_fraction, random_state=0, stratify=bunch.target
    )
    idx = idx_train if split == "train" else idx_test
    return ArrayDataset(
        torch.from_numpy(x[idx]),
        torch.from_numpy(bunch.target[idx].astype(np.int64)),
        [str(i) for i in range(10)],
        f"digits/{split}",
    )


class _CifarUnpickler(pickle.Unpickler):
    """Unpickle CIFAR batches, allowing only the numpy pieces they are made of."""

    _ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"forbidden global {module}.{name}")


def load_cifar10(folder: Path, split: str) -> ArrayDataset:
    """CIFAR-10 "python version" batches (data_batch_1..5, test_batch) from ``folder``."""
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    xs, ys = [], []
    for n in names:
        path = folder / n
        try:
            with path.open("rb") as fh:
                batch = _CifarUnpickler(fh, encoding="bytes").load()
            data = np.asarray(batch[b"data"], dtype=np.uint8)
            labels = np.asarray(batch[b"labels"], dtype=np.int64)
        except FileNotFoundError:
            raise DataError(f"cifar10: missing {path}") from None
        except (pickle.UnpicklingError, KeyError, EOFError, ValueError, TypeError) as exc:
            raise DataError(f"cifar10: {path} is not a CIFAR-10 python batch ({exc})") from None
        if data.ndim != 2 or data.shape[1] != 3072 or data.shape[0] != labels.shape[0]:
            raise DataError(f"cifar10: {path} has data {data.shape}, labels {labels.shape}")
        xs.append(data.reshape(-1, 3, 32, 32))
        ys.append(labels)
    x = torch.from_numpy(np.concatenate(xs)).float().div_(255.0)
    return ArrayDataset(
        x, torch.from_numpy(np.concatenate(ys)), CIFAR10_CLASSES, f"cifar10/{split}"
    )


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class ImageFolderIndex:
    """Files of an ImageFolder tree ``root/<class>/<image>``, sorted."""

    files: list[Path]
    labels: list[int]
    classes: list[str]

    @classmethod
    def scan(cls, root: Path) -> ImageFolderIndex:
        if not root.is_dir():
            raise DataError(f"imagefolder: {root} is not a folder")
        classes = sorted(d.name for d in root.iterdir() if d.is_dir())
        files, labels = [], []
        for i, c in enumerate(classes):
            for f in sorted((root / c).iterdir()):
                if f.suffix.lower() in IMAGE_SUFFIXES:
                    files.append(f)
                    labels.append(i)
        if not files:
            raise DataError(
                f"imagefolder: no {'/'.join(IMAGE_SUFFIXES)} images under {root}/<class>/"
            )
        return cls(files, labels, classes)


def load_imagefolder(root: Path, size: int | tuple[int, int] = 224) -> ArrayDataset:
    """All images of ``root/<class>/*.jpg|png`` as RGB, resized to ``size`` (H, W)."""
    from PIL import Image, UnidentifiedImageError

    h, w = (size, size) if isinstance(size, int) else size
    index = ImageFolderIndex.scan(root)
    out = np.empty((len(index.files), h, w, 3), dtype=np.uint8)
    for i, f in enumerate(index.files):
        try:
            with Image.open(f) as im:
                out[i] = np.asarray(im.convert("RGB").resize((w, h), Image.BILINEAR))
        except (UnidentifiedImageError, OSError) as exc:
            raise DataError(f"imagefolder: {f} is not a readable image ({exc})") from None
    return ArrayDataset(
        _images_to_tensor(out),
        torch.tensor(index.labels),
        index.classes,
        f"imagefolder:{root.name}",
    )
