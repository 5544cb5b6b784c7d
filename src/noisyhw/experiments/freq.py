"""Studies of learning in the frequency domain (issue 7), shared by ``noisyhw freq`` and the demo.

1. Equal input size on Fashion-MNIST: images upscaled 2x (56x56) -> Y-only 8x8 block DCT
   (64 channels on a 7x7 grid) and static subsets of it, against the original image
   area-downsampled to 7x7 / 14x14 (and the full 28x28), all through the same small CNN for the
   same epochs; plus the dynamic gate's learned heat map and its top-k export.
2. A colour pipeline on real JPEG photos (sklearn's sample images as a tiny ImageFolder) through
   a torchvision ResNet-18 adapter: shapes, throughput and a short training run.
3. Matched stem (issue 20): DCT channels against pixels rearranged by space-to-depth into the
   same (C, H/b, W/b) tensor, so one network body sees both; on Fashion-MNIST (4x4 DCT of the
   28x28 image) and on crops of full-resolution photos (8x8 DCT of the full-resolution crop
   against downsampling it), over several seeds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import data as D
from .. import models as M
from ..compress import frequency as fq
from ..errors import ParameterError
from ..stats import mean_ci
from ..sweep import Run, Section, bar_plot, heatmap
from ..train import TrainConfig, evaluate, fit

__all__ = [
    "FashionInputs",
    "colour_pipeline",
    "equal_size_study",
    "fashion_inputs",
    "make_sample_folder",
    "matched_input",
    "matched_study",
    "matched_trial",
    "matched_variants",
    "paired_differences",
    "photo_crops",
    "plot_channel_grids",
    "square_subset",
]


# --------------------------------------------------------------------------- inputs
def square_subset(side: int, component: int = 0, block: int = 8) -> list[int]:
    """Channels of the ``side x side`` lowest frequencies of one component (e.g. 4 -> 16)."""
    return [component * block * block + block * u + v for u in range(side) for v in range(side)]


class FashionInputs:
    """Every input variant of the equal-size study, built once (tensors, CPU).

    ``dct``: (N, 64, 7, 7) Y-only DCT of the 2x-upscaled 56x56 image, normalised per channel with
    the training set's stats; ``spatial<k>``: the 28x28 image area-downsampled to k x k,
    normalised with the training set's mean/std.
    """

    def __init__(self, train: D.ArrayDataset, test: D.ArrayDataset) -> None:
        self.classes = train.classes
        self.y_train, self.y_test = train.y, test.y
        up_train = F.interpolate(train.x, scale_factor=2, mode="bilinear", align_corners=False)
        up_test = F.interpolate(test.x, scale_factor=2, mode="bilinear", align_corners=False)
        dct_train = fq.dct_channels(up_train.clamp(0, 1))
        dct_test = fq.dct_channels(up_test.clamp(0, 1))
        self.stats = fq.ChannelStats({"dataset": "fashion-mnist", "upscale": 2, "block": 8})
        self.stats.update(dct_train)
        norm = self.stats.normalizer()
        with torch.no_grad():
            self.x: dict[str, tuple[torch.Tensor, torch.Tensor]] = {
                "dct": (norm(dct_train), norm(dct_test))
            }
        for k in (7, 14, 28):
            a = F.interpolate(train.x, size=(k, k), mode="area")
            b = F.interpolate(test.x, size=(k, k), mode="area")
            m, s = float(a.mean()), float(a.std())
            self.x[f"spatial{k}"] = ((a - m) / s, (b - m) / s)

    def datasets(
        self, kind: str, channels: list[int] | None = None
    ) -> tuple[D.ArrayDataset, D.ArrayDataset]:
        if kind not in self.x:
            raise ParameterError("input", f"must be one of {', '.join(self.x)}", kind)
        a, b = self.x[kind]
        if channels is not None:
            a, b = fq.select_channels(a, channels), fq.select_channels(b, channels)
        return (
            D.ArrayDataset(a, self.y_train, self.classes, f"{kind}/train"),
            D.ArrayDataset(b, self.y_test, self.classes, f"{kind}/test"),
        )


def fashion_inputs(
    n_train: int | None, n_test: int | None, seed: int = 0, dataset: str = "fashion-mnist"
) -> FashionInputs:
    train = D.load(dataset, "train").subset(n_train, seed=seed)
    test = D.load(dataset, "test").subset(n_test, seed=seed + 1)
    if train.input_shape != (1, 28, 28):
        raise ParameterError("dataset", "the study needs 28x28 grey images", dataset)
    return FashionInputs(train, test)


# --------------------------------------------------------------------------- one trial
def train_variant(params: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """One study trial (module level, so sweep workers can import it).

    params: ``name``, ``input`` ("dct" | "spatial7" | ...), ``channels`` (list or None),
    ``gate`` (bool), ``lam``, ``epochs``, ``seed``, ``lr``, ``batch_size``; ctx: ``inputs``
    (:class:`FashionInputs`), ``device``.
    """
    inputs: FashionInputs = ctx["inputs"]
    channels = params.get("channels")
    train, test = inputs.datasets(params["input"], channels)
    c, h, w = train.input_shape
    torch.manual_seed(params["seed"])
    net = M.create(params.get("model", "small_cnn"), (c, h, w), train.num_classes)
    callbacks = []
    gate = None
    if params.get("gate"):
        gate = fq.FrequencyGate(c, logit_scale=params.get("gate_scale", 1.0))
        net = nn.Sequential(gate, net)
        callbacks.append(fq.GatePenalty(params["lam"]))
    cfg = TrainConfig(
        epochs=params["epochs"],
        batch_size=params.get("batch_size", 128),
        lr=params.get("lr", 2e-3),
        seed=params["seed"],
        device=ctx.get("device", "cpu"),
    )
    t0 = time.perf_counter()
    history = fit(net, train, None, cfg, callbacks=callbacks, description=params["name"])
    train_s = time.perf_counter() - t0
    out: dict[str, Any] = {"input_values": c * h * w, "input_channels": c, "grid": f"{h}x{w}"}
    if gate is not None:
        gate.reset_heat()
    ev = evaluate(net, test, cfg.device)
    out.update(
        accuracy=round(ev["accuracy"], 4), loss=round(ev["loss"], 4), train_s=round(train_s, 1)
    )
    if gate is not None:
        out["active_channels"] = round(float(gate.on_rate.sum()), 2)
        out["train_active_channels"] = round(history[-1]["active_channels"], 2)
        out["heat"] = [round(float(v), 4) for v in gate.heat]
    return out


# --------------------------------------------------------------------------- study 1
def study_trials(
    epochs: int, seed: int, lam: float, gate_scale: float = 20.0, full: bool = True
) -> list[dict[str, Any]]:
    """The study's variants; ``full=False`` leaves out the (slowest) 28x28 reference."""
    base = {"epochs": epochs, "seed": seed}
    gate = {"gate": True, "lam": lam, "gate_scale": gate_scale}
    trials = [
        {**base, "name": "spatial 7x7", "input": "spatial7", "channels": None},
        {**base, "name": "spatial 14x14", "input": "spatial14", "channels": None},
        {**base, "name": "spatial 28x28", "input": "spatial28", "channels": None},
        {**base, "name": "DCT DC only", "input": "dct", "channels": square_subset(1)},
        {**base, "name": "DCT 2x2 low", "input": "dct", "channels": square_subset(2)},
        {**base, "name": "DCT 4x4 low", "input": "dct", "channels": square_subset(4)},
        {**base, "name": "DCT all 64", "input": "dct", "channels": None},
        {**base, "name": "DCT 64 + gate", "input": "dct", "channels": None, **gate},
    ]
    return trials if full else [t for t in trials if t["input"] != "spatial28"]


def _sweep(
    run: Run | None, trials: list[dict[str, Any]], ctx: dict[str, Any], workers: int
) -> list[dict[str, Any]]:
    """Through the run's resumable store, or in process (the demo's run has its own grid)."""
    if run is None:
        return [{**t, **train_variant(t, ctx)} for t in trials]
    return run.sweep(train_variant, trials, context=ctx, workers=workers, description="freq study")


def equal_size_study(
    section: Section,
    folder: str | Path,
    run: Run | None = None,
    *,
    n_train: int | None = 8000,
    n_test: int | None = 2000,
    epochs: int = 3,
    lam: float = 0.01,
    gate_scale: float = 20.0,
    full: bool = True,
    top_k: int = 16,
    seed: int = 0,
    device: str = "cpu",
    dataset: str = "fashion-mnist",
    workers: int = 1,
) -> list[dict[str, Any]]:
    """Run the equal-input-size comparison into ``section`` (plots into ``folder``); returns rows.

    With a ``run`` the trials go through its resumable store (``noisyhw freq train``).
    """
    inputs = fashion_inputs(n_train, n_test, seed, dataset)
    ctx = {"inputs": inputs, "device": device}
    trials = study_trials(epochs, seed, lam, gate_scale, full)
    extra_name = f"DCT gate top-{top_k}"
    # on resume the store may already hold the top-k trial: it must be part of the first grid
    stored = [r for r in run.store.rows() if r.get("name") == extra_name] if run else []
    keys = ("epochs", "seed", "name", "input", "channels")
    first = [*trials, {k: stored[0][k] for k in keys}] if stored else trials
    rows = _sweep(run, first, ctx, workers)
    gate_row = next(r for r in rows if r.get("gate"))
    heat = np.asarray(gate_row["heat"])
    chosen = fq.top_k_channels(heat, top_k)
    extra = {"epochs": epochs, "seed": seed, "name": extra_name, "input": "dct", "channels": chosen}
    if not stored:
        rows = (
            [*rows, *_sweep(None, [extra], ctx, workers)]
            if run is None
            else _sweep(run, [*trials, extra], ctx, workers)
        )
    table = [
        {
            k: r.get(k)
            for k in (
                "name",
                "grid",
                "input_channels",
                "input_values",
                "accuracy",
                "active_channels",
            )
        }
        for r in rows
    ]
    section.text(
        f"{dataset} ({len(inputs.y_train)} train / {len(inputs.y_test)} test images), "
        f"small CNN, {epochs} epochs, Adam lr 2e-3, seed {seed}. DCT inputs: the 28x28 image "
        "upscaled 2x (bilinear) to 56x56, Y-only 8x8 block DCT -> 64 channels on a 7x7 grid, "
        "normalised per channel; spatial inputs: the image area-downsampled. 'input_values' is the "
        "input data size per image. The gated model learns per image which of the 64 channels to "
        f"use (lambda {lam} per active channel, logit scale {gate_scale}); its top-{top_k} channels "
        "(by mean on-probability over the test set) are then trained as a static subset."
    )
    section.table(table, title="accuracy vs input size")
    bar = bar_plot(
        [r["name"] for r in rows],
        [r["accuracy"] for r in rows],
        Path(folder) / "freq_accuracy.png",
        title="test accuracy by input",
        ylabel="accuracy",
    )
    section.image(bar, "Test accuracy of each input variant (same model family and epochs).")
    for path, caption in plot_channel_grids(heat, folder, "freq_gate_heat", "gate on-rate"):
        section.image(path, caption)
    section.text(f"Gate top-{top_k} channels (coefficient index 8*row+col): {chosen}.")
    return table


def plot_channel_grids(
    values: np.ndarray, folder: Path, stem: str, what: str, block: int = 8, fmt: str = "{:.2f}"
) -> list[tuple[Path, str]]:
    """One annotated 8x8 heat map per component present (Y, Cb, Cr); returns (path, caption)."""
    grids = fq.channel_grid(np.asarray(values, dtype=float), block)
    out = []
    for comp, grid in zip(fq.COMPONENTS, grids, strict=False):
        path = heatmap(
            grid,
            Path(folder) / f"{stem}_{comp}.png",
            title=f"{what}: {comp}",
            xlabels=[str(v) for v in range(block)],
            ylabels=[str(u) for u in range(block)],
            xlabel="horizontal frequency v",
            ylabel="vertical frequency u",
            annotate=True,
            fmt=fmt,
        )
        out.append((path, f"{what} of the {comp} coefficients (row u, column v; channel 8u+v)."))
    return out


# --------------------------------------------------------------------------- study 2
def make_sample_folder(
    root: str | Path, per_class: int = 12, crop: int = 256, seed: int = 0
) -> Path:
    """A tiny ImageFolder of JPEG crops of sklearn's two sample photos (classes china/flower)."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    root = Path(root)
    rng = np.random.default_rng(seed)
    for img, name in zip(bunch.images, ("china", "flower"), strict=True):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            y0 = int(rng.integers(0, img.shape[0] - crop))
            x0 = int(rng.integers(0, img.shape[1] - crop))
            Image.fromarray(img[y0 : y0 + crop, x0 : x0 + crop]).save(
                folder / f"{i:03d}.jpg", quality=90
            )
    return root


def _throughput(fn, n: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def colour_pipeline(
    section: Section,
    folder: str | Path,
    out: str | Path,
    *,
    size: int = 112,
    channels: int = 24,
    epochs: int = 3,
    seed: int = 0,
    device: str = "cpu",
    test_fraction: float = 0.25,
) -> list[dict[str, Any]]:
    """ImageFolder of JPEGs -> DCT (augmented) -> ResNet-18 adapter; shapes, speed, training."""
    ds = D.load("imagefolder", "train", root=str(folder), size=size)
    perm = torch.from_numpy(np.random.default_rng(seed).permutation(len(ds)))
    n_test = max(1, round(len(ds) * test_fraction))
    test = D.ArrayDataset(ds.x[perm[:n_test]], ds.y[perm[:n_test]], ds.classes, "test")
    train = D.ArrayDataset(ds.x[perm[n_test:]], ds.y[perm[n_test:]], ds.classes, "train")
    stats = fq.ChannelStats({"folder": str(folder), "size": size}).update(fq.dct_channels(train.x))
    stats.save(Path(out) / "freq_colour_stats.json")
    front = fq.FrequencyInput(size, channels=channels, stats=stats, augment=True, seed=seed)
    torch.manual_seed(seed)
    net = fq.to_frequency("resnet18", front.out_channels, num_classes=train.num_classes)
    model = fq.frequency_model(front, net).to(device)
    batch = train.x[:8].to(device)
    coeffs = fq.dct_channels(batch)
    model.eval()
    with torch.no_grad():
        feats = front(batch)
        logits = model(batch)
        dct_ips = _throughput(lambda: fq.dct_channels(batch), len(batch))
        fwd_ips = _throughput(lambda: model(batch), len(batch), repeat=2)
    cfg = TrainConfig(epochs=epochs, batch_size=16, lr=1e-3, seed=seed, device=device)
    hist = fit(model, train, test, cfg, description="freq colour")
    ev = evaluate(model, test, device)
    rows = [
        {"stage": "pixels", "shape": str(tuple(batch.shape))},
        {"stage": "DCT (all channels)", "shape": str(tuple(coeffs.shape))},
        {"stage": f"preset {channels}, normalised", "shape": str(tuple(feats.shape))},
        {"stage": "ResNet-18 adapter logits", "shape": str(tuple(logits.shape))},
    ]
    summary = {
        "images": len(ds),
        "train": len(train),
        "test": len(test),
        "size": size,
        "channels": front.out_channels,
        "dct_images_per_s": round(dct_ips, 1),
        "forward_images_per_s": round(fwd_ips, 1),
        "epochs": epochs,
        "final_train_acc": round(hist[-1]["train_acc"], 3),
        "test_accuracy": round(ev["accuracy"], 3),
    }
    if fq.jpeg_available():
        first = sorted(Path(folder).glob("*/*.jpg"))[0]
        from PIL import Image

        with Image.open(first) as im:
            arr = np.asarray(im.convert("RGB"))
        pix = fq.dct_channels(np.ascontiguousarray(arr.transpose(2, 0, 1)[None]), chroma="420")[0]
        coef = fq.read_jpeg_dct(first)
        summary["jpeg_vs_pixel_mean_abs"] = round(float(np.abs(coef - pix).mean()), 3)
    section.text(
        f"{len(ds)} JPEG photos crops ({', '.join(ds.classes)}) resized to {size}x{size}, "
        f"random-resized-crop + flip, block DCT to 192 channels on a {size // 8}x{size // 8} grid, "
        f"the {channels}-channel preset normalised with stats of the training images, then "
        f"torchvision ResNet-18 with the stride-4 stem removed and layer1 re-fitted to "
        f"{front.out_channels} channels; {epochs} epochs of Adam."
    )
    section.table(rows, title="shapes through the pipeline")
    section.table([summary], title="throughput and training")
    return [summary]


# --------------------------------------------------------------------------- study 3
def matched_input(
    images: torch.Tensor,
    kind: str,
    block: int,
    *,
    down: int = 1,
    channels: list[int] | None = None,
) -> torch.Tensor:
    """One input of the matched-stem study, ``(N, C', H/block, W/block)`` float32.

    ``kind="pixels"``: the image area-downsampled by ``down`` (1: full resolution), then
    space-to-depth by ``block / down`` (``F.pixel_unshuffle``: channel ``c * r^2 + r i + j``
    holds pixel (i, j) of each r x r tile of component c), so C' = C * (block / down)^2.
    ``kind="dct"``: the ``block`` x ``block`` DCT of the full-resolution image
    (:func:`~noisyhw.compress.frequency.dct_channels`), channels ``channels`` (all when None).
    ``images``: (N, C, H, W) uint8 in [0, 255] or float in [0, 1]; H, W multiples of ``block``.
    """
    if kind == "dct":
        coeffs = fq.dct_channels(images, block=block)
        return coeffs if channels is None else fq.select_channels(coeffs, channels)
    if kind != "pixels":
        raise ParameterError("kind", "pixels or dct", kind)
    if block % down:
        raise ParameterError("down", f"a divisor of the block ({block})", down)
    x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    if down > 1:
        x = F.interpolate(x, scale_factor=1 / down, mode="area")
    return F.pixel_unshuffle(x, block // down)


def _square_all(side: int, components: int, block: int) -> list[int]:
    """The ``side x side`` lowest frequencies of every component."""
    return [i for c in range(components) for i in square_subset(side, c, block)]


def matched_variants(source: str) -> list[dict[str, Any]]:
    """The study's inputs, in pairs of equal shape: ``name``, ``kind``, ``down``, ``channels``.

    ``fashion`` (28x28 grey, 4x4 DCT, 7x7 grid): 1, 4 and 16 channels. ``photos`` (RGB crops,
    8x8 DCT, crop/8 grid): 12 (2x2 per component vs 4x downsampling), 48 (4x4 per component
    and the paper's 48-channel preset vs 2x downsampling) and 192 (all vs full resolution).
    """
    if source == "fashion":
        b, comps, ratios = 4, 1, (4, 2, 1)
    elif source == "photos":
        b, comps, ratios = 8, 3, (4, 2, 1)
    else:
        raise ParameterError("source", "fashion or photos", source)
    out = []
    for down in ratios:
        side = b // down
        c = comps * side * side
        out.append({"name": f"pixels /{down} s2d {c}ch", "kind": "pixels", "down": down})
        chans = None if down == 1 else _square_all(side, comps, b)
        label = "all" if down == 1 else f"{side}x{side} low"
        out.append({"name": f"DCT {label} {c}ch", "kind": "dct", "down": 1, "channels": chans})
        if source == "photos" and c == 48:
            out.append(
                {
                    "name": "DCT preset-48 48ch",
                    "kind": "dct",
                    "down": 1,
                    "channels": fq.preset_channels(48),
                }
            )
    for v in out:
        v["block"] = b
        v.setdefault("channels", None)
    return out


def photo_crops(
    n: int, crop: int = 128, regions: tuple[int, int] = (2, 4), seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Random ``crop`` x ``crop`` crops of sklearn's two sample photos (china, flower; 427x640
    RGB each), labelled by the region of the photo their centre falls in: the photo split into
    ``regions`` (rows, cols) cells gives 2 * rows * cols classes. Each draw picks a class
    uniformly, then a centre uniformly in its cell (the crop clamped to the photo).

    Returns (N, 3, crop, crop) uint8, (N,) int64 labels and the class names. All crops come
    from the same two photos, so crops of different draws overlap: a test set measures new
    positions, not new images.
    """
    from sklearn.datasets import load_sample_images

    photos = [np.ascontiguousarray(im) for im in load_sample_images().images]
    rows, cols = regions
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2 * rows * cols, n)
    out = np.empty((n, 3, crop, crop), dtype=np.uint8)
    for i, lab in enumerate(labels):
        img = photos[lab // (rows * cols)]
        r, c = divmod(int(lab) % (rows * cols), cols)
        h, w = img.shape[:2]
        cy = (r + rng.random()) * h / rows
        cx = (c + rng.random()) * w / cols
        y0 = int(np.clip(round(cy - crop / 2), 0, h - crop))
        x0 = int(np.clip(round(cx - crop / 2), 0, w - crop))
        out[i] = img[y0 : y0 + crop, x0 : x0 + crop].transpose(2, 0, 1)
    names = [f"{p}-r{r}c{c}" for p in ("china", "flower") for r in range(rows) for c in range(cols)]
    return torch.from_numpy(out), torch.from_numpy(labels), names


def matched_trial(params: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """One (variant, seed): build both splits' inputs, normalise every channel with the
    training split's mean/std (the same for pixels and DCT), train ``ctx["model"]`` and test.

    ctx: ``train`` / ``test`` as (images, labels), ``classes``, ``epochs``, ``lr``,
    ``batch_size``, ``model``, ``device``.
    """
    torch.set_num_threads(1)
    from ..progress import set_quiet

    set_quiet(True)
    kw = {"down": params["down"], "channels": params.get("channels")}
    xs = {
        split: matched_input(ctx[split][0], params["kind"], params["block"], **kw)
        for split in ("train", "test")
    }
    norm = fq.ChannelStats({}).update(xs["train"]).normalizer()
    with torch.no_grad():
        xs = {k: norm(v) for k, v in xs.items()}
    train = D.ArrayDataset(xs["train"], ctx["train"][1], ctx["classes"], "train")
    test = D.ArrayDataset(xs["test"], ctx["test"][1], ctx["classes"], "test")
    torch.manual_seed(params["seed"])
    net = M.create(ctx.get("model", "small_cnn"), train.input_shape, train.num_classes)
    cfg = TrainConfig(
        epochs=ctx["epochs"],
        batch_size=ctx.get("batch_size", 128),
        lr=ctx.get("lr", 2e-3),
        seed=params["seed"],
        device=ctx.get("device", "cpu"),
    )
    t0 = time.perf_counter()
    fit(net, train, None, cfg, description=params["name"])
    ev = evaluate(net, test, cfg.device)
    c, h, w = train.input_shape
    return {
        "shape": f"{c}x{h}x{w}",
        "input_values": c * h * w,
        "accuracy": ev["accuracy"],
        "train_s": round(time.perf_counter() - t0, 1),
    }


def _fashion_source(n_train: int | None, n_test: int | None, seed: int) -> dict[str, Any]:
    train = D.load("fashion-mnist", "train").subset(n_train, seed=seed)
    test = D.load("fashion-mnist", "test").subset(n_test, seed=seed + 1)
    return {"train": (train.x, train.y), "test": (test.x, test.y), "classes": train.classes}


def _photo_source(n_train: int, n_test: int, crop: int, seed: int) -> dict[str, Any]:
    x, y, names = photo_crops(n_train, crop, seed=seed)
    xt, yt, _ = photo_crops(n_test, crop, seed=seed + 1)
    return {"train": (x, y), "test": (xt, yt), "classes": names}


def matched_study(
    run: Run,
    source: str,
    *,
    n_train: int | None,
    n_test: int | None,
    epochs: int,
    seeds: int = 3,
    seed: int = 0,
    crop: int = 128,
    lr: float = 2e-3,
    device: str = "cpu",
    workers: int = 1,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The matched-stem comparison into ``run`` (resumable): every variant of
    :func:`matched_variants` at seeds ``seed .. seed + seeds - 1`` through one small CNN (the
    data are drawn once, with ``seed``). Returns one summary row per variant (mean test
    accuracy and its 95% Student-t interval over the seeds) and the paired DCT - pixels
    differences (:func:`paired_differences`)."""
    if source == "fashion":
        ctx = _fashion_source(n_train, n_test, seed)
    else:
        ctx = _photo_source(n_train or 2000, n_test or 1000, crop, seed)
    ctx |= {"epochs": epochs, "lr": lr, "device": device, "model": "small_cnn"}
    variants = matched_variants(source)
    trials = [{**v, "seed": s} for v in variants for s in range(seed, seed + seeds)]
    rows = run.sweep(matched_trial, trials, context=ctx, workers=workers, description="matched")
    summary = []
    for v in variants:
        acc = [r["accuracy"] for r in rows if r["name"] == v["name"]]
        mean, lo, hi = mean_ci(acc)
        first = next(r for r in rows if r["name"] == v["name"])
        summary.append(
            {
                "input": v["name"],
                "shape": first["shape"],
                "seeds": len(acc),
                "accuracy": mean,
                "acc_lo": lo,
                "acc_hi": hi,
            }
        )
    paired = paired_differences(rows, variants)
    n_tr, n_te = len(ctx["train"][1]), len(ctx["test"][1])
    what = (
        "Fashion-MNIST 28x28: 4x4 block DCT of the image vs the image area-downsampled and "
        "rearranged by space-to-depth onto the same 7x7 grid"
        if source == "fashion"
        else f"{crop}x{crop} crops of sklearn's 2 sample photos, {len(ctx['classes'])} classes "
        "(photo x region of the crop centre): 8x8 block DCT of the full-resolution crop (YCbCr) "
        f"vs the crop area-downsampled (RGB) and rearranged onto the same {crop // 8}x{crop // 8} "
        "grid"
    )
    sec = run.section(f"Matched stem: {source}")
    sec.text(
        f"{what}; {n_tr} training / {n_te} test images, small CNN (identical body: only the "
        f"first conv's input channels follow the shape, which is the same within each pair), "
        f"{epochs} epochs, Adam lr {lr:g}, every channel normalised with the training split's "
        f"mean/std; mean test accuracy over {seeds} seeds with its 95% Student-t interval."
    )
    sec.table(summary, ["input", "shape", "seeds", "accuracy", "acc_lo", "acc_hi"])
    sec.table(
        paired,
        ["dct", "pixels", "shape", "seeds", "diff", "diff_lo", "diff_hi"],
        title="DCT minus pixels of the same shape, paired by seed (same initialisation of the "
        "body), mean with 95% interval",
    )
    png = bar_plot(
        [r["input"] for r in summary],
        [r["accuracy"] for r in summary],
        run.plot_path(f"freq_matched_{source}.png"),
        title=f"matched stem, {source}: mean test accuracy over {seeds} seeds",
        ylabel="test accuracy",
    )
    sec.image(png, "mean test accuracy per input (pairs of equal shape side by side)")
    return summary, paired


def paired_differences(
    rows: list[dict[str, Any]], variants: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per DCT variant: its test accuracy minus that of the pixel variant of the same shape,
    seed by seed (both start from the same body initialisation), as mean and 95% interval."""
    acc = {(r["name"], r["seed"]): r["accuracy"] for r in rows}
    shape = {r["name"]: r["shape"] for r in rows}
    pixels = {shape[v["name"]]: v["name"] for v in variants if v["kind"] == "pixels"}
    out = []
    for v in variants:
        if v["kind"] != "dct":
            continue
        ref = pixels[shape[v["name"]]]
        seeds = sorted(s for n, s in acc if n == v["name"] and (ref, s) in acc)
        if not seeds:  # a partial resume: no seed finished for both inputs yet
            continue
        mean, lo, hi = mean_ci([acc[(v["name"], s)] - acc[(ref, s)] for s in seeds])
        out.append(
            {
                "dct": v["name"],
                "pixels": ref,
                "shape": shape[v["name"]],
                "seeds": len(seeds),
                "diff": mean,
                "diff_lo": lo,
                "diff_hi": hi,
            }
        )
    return out


# --------------------------------------------------------------------------- demo
def demo_section(ctx: Any) -> list[dict[str, Any]]:
    """The equal-size study on Fashion-MNIST at demo scale (2,000 training images, 2 epochs,
    without the 28x28 reference: ~1 min of one core; the full study is `noisyhw freq train`)
    + the colour pipeline smoke run."""
    import tempfile

    ctx.section.title = "Learning in the frequency domain"
    fashion = ctx.dataset in ("fashion-mnist", "mnist")
    rows: list[dict[str, Any]] = []
    if fashion:
        rows = equal_size_study(
            ctx.section,
            ctx.run.dir,
            n_train=1000 if ctx.fast else 2000,
            n_test=500 if ctx.fast else 1000,
            epochs=1 if ctx.fast else 2,
            full=False,  # the 28x28 reference costs more than all the others together
            seed=ctx.seed,
            device=ctx.device,
            dataset=ctx.dataset,
        )
    elif hasattr(ctx, "fallback"):
        ctx.fallback(
            "Fashion-MNIST",
            "the colour pipeline alone (the equal-size study needs 28x28 images)",
            "apt-get install dataset-fashion-mnist, or scripts/install-data as root",
        )
    with tempfile.TemporaryDirectory() as d:
        folder = make_sample_folder(d, per_class=6 if ctx.fast else 10, seed=ctx.seed)
        rows += colour_pipeline(
            ctx.section,
            folder,
            ctx.run.dir,
            size=64 if ctx.fast else 96,
            epochs=2,
            seed=ctx.seed,
            device=ctx.device,
        )
    return rows
