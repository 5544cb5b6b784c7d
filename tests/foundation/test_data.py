import pickle

import numpy as np
import pytest
import torch

from noisyhw import data
from noisyhw.data import write_idx
from noisyhw.errors import DataError, ParameterError


def _have(name):
    try:
        data.locate(name)
        return True
    except DataError:
        return False


@pytest.mark.skipif(not _have("fashion-mnist"), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_shapes():
    train = data.load("fashion-mnist", "train")
    test = data.load("fashion-mnist", "test")
    assert train.x.shape == (60000, 1, 28, 28) and test.x.shape == (10000, 1, 28, 28)
    assert (
        train.x.dtype == torch.float32 and float(train.x.min()) >= 0 and float(train.x.max()) <= 1
    )
    assert train.num_classes == 10 and train.classes[0] == "T-shirt/top"
    assert torch.equal(test.y.bincount(), torch.full((10,), 1000))


def test_digits_split_is_stratified_and_fixed():
    a, b = data.load("digits", "train"), data.load("digits", "test")
    assert len(a) + len(b) == 1797 and a.input_shape == (1, 8, 8)
    assert torch.equal(a.x, data.load("digits", "train").x)
    assert float(a.x.max()) == 1.0


def test_mnist_layout_from_root(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 12), ("t10k", 5)):
        write_idx(
            tmp_path / "mnist" / f"{split}-images-idx3-ubyte.gz",
            rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        )
        write_idx(
            tmp_path / "mnist" / f"{split}-labels-idx1-ubyte",
            rng.integers(0, 10, n, dtype=np.uint8),
        )
    ds = data.load("mnist", "train", root=tmp_path)
    assert ds.x.shape == (12, 1, 28, 28)
    assert len(data.load("mnist", "test", root=tmp_path / "mnist")) == 5


def test_missing_dataset_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("NOISYHW_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(DataError) as exc:
        data.load("mnist", "train")
    msg = str(exc.value)
    assert "nowhere" in msg and "download" in msg


@pytest.mark.parametrize("kind", ["missing", "file", "empty"])
def test_a_given_root_is_that_root_never_a_fallback(tmp_path, kind):
    """--root pointing to nothing, a file or an empty folder used to fall back silently to the
    system's data (/usr/share/datasets)."""
    root = {"missing": tmp_path / "none", "file": tmp_path / "f", "empty": tmp_path / "e"}[kind]
    if kind == "file":
        root.write_text("x")
    if kind == "empty":
        root.mkdir()
    with pytest.raises(ParameterError, match=r"^root: ") as exc:
        data.load("fashion-mnist", "train", root=root)
    assert str(root) in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(ParameterError, match=r"^root: "):
        data.locate("fashion-mnist", root)


def test_root_of_a_builtin_or_a_text_dataset(tmp_path):
    with pytest.raises(ParameterError, match="digits is bundled"):
        data.load("digits", "train", root=tmp_path)
    with pytest.raises(ParameterError, match="no such file or folder"):
        data.load("fortunes", "train", root=tmp_path / "none")
    (tmp_path / "t.txt").write_text("some text to read " * 20)
    assert data.load("fortunes", "train", root=tmp_path / "t.txt").startswith("some text")


def test_cli_root_errors_name_the_option(tmp_path, capsys):
    from noisyhw.cli import main

    for argv in (
        ["data", "info", "fashion-mnist", "--root", str(tmp_path / "none")],
        [
            "train",
            "--dataset",
            "fashion-mnist",
            "--root",
            str(tmp_path),
            "--out",
            str(tmp_path / "r"),
        ],
        ["freq", "stats", "--dataset", "fashion-mnist", "--root", str(tmp_path / "none")],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: --root: ") and "\n" not in err
    assert not (tmp_path / "r").exists() and not (tmp_path / "runs").exists()


def test_unknown_dataset_and_split():
    with pytest.raises(ParameterError, match="dataset"):
        data.load("imagenet")
    with pytest.raises(ParameterError, match="split"):
        data.load("digits", "validation")


def test_cifar10_batches(tmp_path):
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
            b"labels": [int(v) for v in rng.integers(0, 10, 4)],
        }
        (tmp_path / name).write_bytes(pickle.dumps(batch))
    train = data.load("cifar10", "train", root=tmp_path)
    assert train.x.shape == (20, 3, 32, 32) and train.num_classes == 10
    raw = pickle.loads((tmp_path / "test_batch").read_bytes())[b"data"][0]
    test = data.load("cifar10", "test", root=tmp_path)
    assert torch.allclose(
        test.x[0, 0].flatten() * 255, torch.tensor(raw[:1024], dtype=torch.float32)
    )


def test_cifar10_rejects_foreign_pickle(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (tmp_path / name).write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(DataError, match="not a CIFAR-10"):
        data.load("cifar10", "test", root=tmp_path)


def test_imagefolder_from_sample_photos(tmp_path):
    from PIL import Image
    from sklearn.datasets import load_sample_images

    for i, img in enumerate(load_sample_images().images):
        (tmp_path / f"class{i}").mkdir()
        Image.fromarray(img).save(tmp_path / f"class{i}" / "a.jpg")
        Image.fromarray(img[::2, ::2]).save(tmp_path / f"class{i}" / "b.png")
    ds = data.load("imagefolder", root=tmp_path, size=64)
    assert ds.x.shape == (4, 3, 64, 64) and ds.classes == ["class0", "class1"]
    assert ds.y.tolist() == [0, 0, 1, 1]


def test_sequence_view_reads_rows():
    ds = data.load("digits", "test")
    seq = data.sequence_view(ds)
    assert seq.input_shape == (8, 8)
    assert torch.equal(seq.x[3, 5], ds.x[3, 0, 5])


def test_text_corpus_and_vocab():
    text = data.load("licenses", "train")
    assert isinstance(text, str) and len(text) > 10000
    vocab = data.CharVocab.from_text(text, max_size=40)
    assert len(vocab) == 40
    ids = vocab.encode("the license")
    assert vocab.decode(ids) == "the license"
    win = data.char_windows(vocab.encode(text[:1000]), 50)
    assert win.x.shape == (19, 50) and torch.equal(win.x[0, 1:], win.y[0, :-1])


def test_subset_is_seeded():
    ds = data.load("digits", "train")
    a, b = ds.subset(100, seed=3), ds.subset(100, seed=3)
    assert len(a) == 100 and torch.equal(a.x, b.x)


def _fake_source(monkeypatch, files):
    """Serve ``files`` (name -> bytes) in place of the network; a missing name fails."""
    import dataclasses
    import hashlib
    import io
    import urllib.request

    from noisyhw.data import registry

    def urlopen(url, timeout=None):
        name = url.rsplit("/", 1)[1]
        if name not in files:
            raise OSError("network unreachable")
        return io.BytesIO(files[name])

    payload = {f"f{i}.gz": bytes([i]) * 100 for i in range(2)}
    pins = {
        n: ("http://example.invalid/", hashlib.sha256(b).hexdigest()) for n, b in payload.items()
    }
    info = dataclasses.replace(registry.DATASETS["mnist"], downloads=pins)
    monkeypatch.setitem(registry.DATASETS, "mnist", info)
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return payload


def test_download_verifies_sha256_and_keeps_nothing_bad(tmp_path, monkeypatch):
    payload = _fake_source(monkeypatch, {})
    root = tmp_path / "typo" / "data"
    with pytest.raises(DataError, match=r"download of .* failed"):
        data.fetch("mnist", root)
    assert not (tmp_path / "typo").exists()  # no folders left by a failed download

    _fake_source(monkeypatch, {"f0.gz": payload["f0.gz"], "f1.gz": b"tampered"})
    with pytest.raises(DataError, match="does not match the expected"):
        data.fetch("mnist", root)
    assert sorted(p.name for p in (root / "mnist").iterdir()) == ["f0.gz"]  # only verified files

    _fake_source(monkeypatch, payload)
    assert data.fetch("mnist", root) == root / "mnist"
    assert {p.name: p.read_bytes() for p in (root / "mnist").iterdir()} == payload
