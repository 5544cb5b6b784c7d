"""The dataset registry: ``load(name, split, root)``, file search order, optional download.

Search order for a dataset's files: the explicit ``root`` (the folder itself or
``root/<name>``), ``$NOISYHW_DATA/<name>``, ``~/.cache/noisyhw/<name>``,
``/usr/share/datasets/<name>``. Nothing is downloaded unless ``download=True`` is passed; a
download is verified against the SHA-256 recorded here before it is used.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, ParameterError, check_choice
from .datasets import (
    CIFAR10_CLASSES,
    FASHION_CLASSES,
    ArrayDataset,
    load_cifar10,
    load_digits,
    load_idx_pair,
    load_imagefolder,
)
from .text import CORPORA, load_corpus

__all__ = ["DATASETS", "DatasetInfo", "dataset_info", "load", "locate", "search_paths"]

SPLITS = ("train", "test")
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class DatasetInfo:
    """What a registered dataset is and how to get it."""

    name: str
    description: str
    kind: str  # "images", "text"
    shape: str
    classes: list[str] = field(default_factory=list)
    how_to_get: str = ""
    files: tuple[str, ...] = ()  # files that mark a folder as holding this dataset
    downloads: dict[str, tuple[str, str]] = field(default_factory=dict)  # file -> (url, sha256)
    builtin: bool = False  # ships with a dependency, no files to find


_FMNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

DATASETS: dict[str, DatasetInfo] = {
    "fashion-mnist": DatasetInfo(
        "fashion-mnist",
        "Zalando Fashion-MNIST: 60k train / 10k test 28x28 grey clothing images",
        "images",
        "(N, 1, 28, 28)",
        FASHION_CLASSES,
        "Debian: apt-get install dataset-fashion-mnist (files in /usr/share/datasets/fashion-mnist), "
        "or noisyhw data download fashion-mnist",
        files=("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"),
        downloads={
            "train-images-idx3-ubyte.gz": (
                _FMNIST_URL,
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            ),
            "train-labels-idx1-ubyte.gz": (
                _FMNIST_URL,
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            ),
            "t10k-images-idx3-ubyte.gz": (
                _FMNIST_URL,
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            ),
            "t10k-labels-idx1-ubyte.gz": (
                _FMNIST_URL,
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            ),
        },
    ),
    "mnist": DatasetInfo(
        "mnist",
        "MNIST handwritten digits: 60k train / 10k test 28x28 grey images",
        "images",
        "(N, 1, 28, 28)",
        [str(i) for i in range(10)],
        "put the four IDX files (.gz or raw) in $NOISYHW_DATA/mnist, or noisyhw data download mnist",
        files=("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"),
        downloads={
            "train-images-idx3-ubyte.gz": (
                _MNIST_URL,
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            ),
            "train-labels-idx1-ubyte.gz": (
                _MNIST_URL,
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            ),
            "t10k-images-idx3-ubyte.gz": (
                _MNIST_URL,
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            ),
            "t10k-labels-idx1-ubyte.gz": (
                _MNIST_URL,
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ),
        },
    ),
    "digits": DatasetInfo(
        "digits",
        "scikit-learn's 1,797 8x8 handwritten digits (values 0..16 scaled to [0, 1]); "
        "fixed stratified 80/20 split (seed 0)",
        "images",
        "(N, 1, 8, 8)",
        [str(i) for i in range(10)],
        "ships with scikit-learn",
        builtin=True,
    ),
    "cifar10": DatasetInfo(
        "cifar10",
        "CIFAR-10 python batches: 50k train / 10k test 32x32 colour images",
        "images",
        "(N, 3, 32, 32)",
        CIFAR10_CLASSES,
        "extract cifar-10-python.tar.gz so that $NOISYHW_DATA/cifar10 holds data_batch_1..5 and test_batch",
        files=("data_batch_1", "test_batch"),
    ),
    "imagefolder": DatasetInfo(
        "imagefolder",
        "any folder root/<class>/<image>.jpg|png, resized (size=224 by default)",
        "images",
        "(N, 3, size, size)",
        [],
        "pass root=<folder> (CLI: --root)",
    ),
    "fortunes": DatasetInfo(
        "fortunes",
        "English prose and quotes from Debian's fortunes packages (~4 MB)",
        "text",
        "str",
        [],
        "apt-get install fortunes",
        files=(),
        builtin=False,
    ),
    "licenses": DatasetInfo(
        "licenses",
        "English legal prose: /usr/share/common-licenses (~0.6 MB)",
        "text",
        "str",
        [],
        "present on every Debian system",
        builtin=False,
    ),
}


def search_paths(name: str, root: str | os.PathLike[str] | None = None) -> list[Path]:
    """Folders searched for ``name``, in order: with ``root``, only that root (the folder itself
    and ``root/<name>``; a given root is never silently replaced by the system's data)."""
    if root is not None:
        r = Path(root).expanduser()
        return [r, r / name]
    paths: list[Path] = []
    if os.environ.get("NOISYHW_DATA"):
        paths.append(Path(os.environ["NOISYHW_DATA"]).expanduser() / name)
    paths.append(Path.home() / ".cache" / "noisyhw" / name)
    paths.append(Path("/usr/share/datasets") / name)
    return paths


def _holds(folder: Path, files: tuple[str, ...]) -> bool:
    return all((folder / f).is_file() or (folder / f"{f}.gz").is_file() for f in files)


def locate(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """The first folder in the search order that holds ``name``'s files."""
    info = dataset_info(name)
    check_root(name, root)
    tried = search_paths(name, root)
    for folder in tried:
        if _holds(folder, info.files):
            return folder
    if root is not None:
        raise ParameterError(
            "root", f"holds no {name} files (looked in {tried[0]} and {tried[1]})", str(root)
        )
    raise DataError(
        f"dataset {name!r} not found; looked in: {', '.join(map(str, tried))}. "
        f"To get it: {info.how_to_get}"
    )


def check_root(name: str, root: str | os.PathLike[str] | None) -> None:
    """A given ``root`` must be usable for ``name``: an existing folder (a file or folder for a
    text corpus); the built-in ``digits`` reads no files and takes none."""
    if root is None:
        return
    if str(root).strip() == "":
        raise ParameterError("root", "must be a path (got an empty one)", str(root))
    r = Path(root).expanduser()
    if name == "digits":
        raise ParameterError("root", "digits is bundled with scikit-learn; give no root", str(root))
    if name in CORPORA:
        if not r.exists():
            raise ParameterError("root", f"no such file or folder for the {name} text", str(root))
        return
    if not r.is_dir():
        what = "no such folder" if not r.exists() else "must be a folder, not a file"
        raise ParameterError("root", what, str(root))


def dataset_info(name: str) -> DatasetInfo:
    check_choice("dataset", name, DATASETS)
    return DATASETS[name]


def _file(folder: Path, stem: str) -> Path:
    raw = folder / stem
    return raw if raw.is_file() else folder / f"{stem}.gz"


def load(
    name: str,
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    **kwargs: Any,
) -> ArrayDataset | str:
    """Load a registered dataset.

    Image datasets return an :class:`ArrayDataset` (x float32 (N, C, H, W) in [0, 1], y int64);
    text corpora (``fortunes``, ``licenses``) return the text (``split="train"`` the first 90%,
    ``"test"`` the last 10%). ``imagefolder`` needs ``root`` (and takes ``size``).
    """
    dataset_info(name)
    check_choice("split", split, SPLITS)
    if not download:
        check_root(name, root)
    loader = _LOADERS[name]
    if download:
        fetch(name, root)
    return loader(split, root, **kwargs)


def _load_idx_dataset(name: str) -> Callable[..., ArrayDataset]:
    def _load(split: str, root: Any, **_: Any) -> ArrayDataset:
        folder = locate(name, root)
        img, lab = _IDX_FILES[split]
        return load_idx_pair(
            _file(folder, img), _file(folder, lab), DATASETS[name].classes, f"{name}/{split}"
        )

    return _load


def _load_text(name: str) -> Callable[..., str]:
    def _load(split: str, root: Any, **kwargs: Any) -> str:
        text = load_corpus(root or CORPORA[name], **kwargs)
        cut = int(len(text) * 0.9)
        return text[:cut] if split == "train" else text[cut:]

    return _load


def _load_imagefolder(split: str, root: Any, size: int = 224, **_: Any) -> ArrayDataset:
    if root is None:
        raise ParameterError("root", "imagefolder needs root=<folder with one subfolder per class>")
    r = Path(root)
    folder = r / split if (r / split).is_dir() else r
    return load_imagefolder(folder, size)


_LOADERS: dict[str, Callable[..., Any]] = {
    "fashion-mnist": _load_idx_dataset("fashion-mnist"),
    "mnist": _load_idx_dataset("mnist"),
    "digits": lambda split, root, **kw: load_digits(split),
    "cifar10": lambda split, root, **kw: load_cifar10(locate("cifar10", root), split),
    "imagefolder": _load_imagefolder,
    "fortunes": _load_text("fortunes"),
    "licenses": _load_text("licenses"),
}


def fetch(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Download ``name``'s files into ``root/<name>`` (default ``~/.cache/noisyhw/<name>``),
    verifying each against its recorded SHA-256; files already present and valid are kept."""
    info = dataset_info(name)
    if not info.downloads:
        raise ParameterError("dataset", f"{name} has no download source; {info.how_to_get}", name)
    dest = (Path(root).expanduser() / name) if root else Path.home() / ".cache" / "noisyhw" / name
    made = [p for p in (dest, *dest.parents) if not p.exists()]  # deepest first
    dest.mkdir(parents=True, exist_ok=True)
    try:
        _fetch_files(info.downloads, dest)
    except DataError:
        for folder in made:  # a failed download leaves no folders behind (a mistyped --root)
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    return dest


def _fetch_files(downloads: dict[str, tuple[str, str]], dest: Path) -> None:
    for fname, (base, sha) in downloads.items():
        target = dest / fname
        if target.is_file() and _sha256(target) == sha:
            continue
        tmp = target.with_suffix(target.suffix + ".part")
        try:
            with urllib.request.urlopen(base + fname, timeout=120) as resp, tmp.open("wb") as fh:
                while chunk := resp.read(1 << 20):
                    fh.write(chunk)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise DataError(f"download of {base + fname} failed: {exc}") from None
        got = _sha256(tmp)
        if got != sha:
            tmp.unlink(missing_ok=True)
            raise DataError(f"{fname}: SHA-256 {got} does not match the expected {sha}; not used")
        tmp.replace(target)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
