"""The runs of ``noisyhw freq stats | train | matched | select``: one frozen config per command
(every field checked on construction, before anything is written) and :func:`run` (the studies
themselves are in :mod:`noisyhw.experiments.freq`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import (
    BATCH_MAX,
    EPOCHS_MAX,
    DataError,
    ParameterError,
    check_choice,
    check_float,
    check_int,
    check_memory,
)
from .config import Outcome, check_count, check_out

__all__ = ["SIZE_MAX", "FreqMatched", "FreqSelect", "FreqStats", "FreqTrain", "run"]

#: the largest image side (imagefolder resizing; a 4096^2 RGB image is 200 MB of float32)
SIZE_MAX = 4096
#: the channel presets of the colour pipeline (192: all channels)
PRESETS = (24, 32, 48, 64, 192)


def _put(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


# --------------------------------------------------------------------------- freq stats
@dataclass(frozen=True)
class FreqStats:
    """Per-channel mean/std of a dataset's block-DCT channels (``noisyhw freq stats``).

    ``size``: imagefolder's image side; ``upscale``: factor before the DCT (None: the smallest
    that tiles the image with whole 8x8 blocks, 16x16 with ``chroma="420"``); ``n``: a random
    subset of ``n`` images (None: all); ``batch_size``: images per DCT batch (memory only).
    """

    dataset: str = "fashion-mnist"
    root: str | None = None
    size: int = 224
    upscale: int | None = None
    chroma: str = "full"
    n: int | None = None
    batch_size: int = 512
    seed: int = 0
    out: str | None = None

    def __post_init__(self) -> None:
        from .. import data as D
        from ..compress import frequency as fq

        if self.upscale is not None:
            check_int("upscale", self.upscale, 1, 16)
        check_int("batch_size", self.batch_size, 1, BATCH_MAX)
        check_int("size", self.size, 8, SIZE_MAX)  # checked for every dataset
        check_count("n", self.n)
        check_choice("chroma", self.chroma, fq.CHROMA)
        check_choice("dataset", self.dataset, D.DATASETS)
        if D.DATASETS[self.dataset].kind == "text":
            raise ParameterError("dataset", "must be an image dataset", self.dataset)
        _put(self, "root", None if self.root is None else str(self.root))
        _put(self, "out", check_out(self.out))


def run_stats(cfg: FreqStats) -> Outcome:
    """Stream the dataset through the DCT batch by batch; write stats.json (reuse it with
    ``ChannelStats.load``) and 8x8 grid plots of the mean and log10 std per Y/Cb/Cr."""
    import numpy as np
    import torch.nn.functional as F

    from .. import data as D
    from ..compress import frequency as fq
    from ..progress import track
    from ..sweep import Run
    from .freq import plot_channel_grids

    kw = {"size": cfg.size} if cfg.dataset == "imagefolder" else {}
    ds = D.load(cfg.dataset, "train", cfg.root, **kw)
    if not isinstance(ds, D.ArrayDataset) or ds.x.ndim != 4:
        raise ParameterError("dataset", "must be an image dataset", cfg.dataset)
    ds = ds.subset(cfg.n, seed=cfg.seed)
    c, h, w = ds.input_shape
    mult = 16 if cfg.chroma == "420" else 8
    upscale = cfg.upscale
    if upscale is None:  # the smallest factor that tiles the image with whole blocks
        upscale = next(u for u in range(1, mult + 1) if (h * u) % mult == (w * u) % mult == 0)
    if (h * upscale) % mult or (w * upscale) % mult:
        raise ParameterError(
            "upscale",
            f"images of {h}x{w} need height and width x upscale divisible by {mult}",
            upscale,
        )
    title = f"noisyhw freq stats: {cfg.dataset}"
    run = Run("freq stats", asdict(cfg), out=cfg.out, seed=cfg.seed, title=title)
    meta = {k: getattr(cfg, k) for k in ("dataset", "root", "size", "chroma", "n")}
    st = fq.ChannelStats({**meta, "upscale": upscale})
    for i in track(range(0, len(ds), cfg.batch_size), "DCT stats"):
        x = ds.x[i : i + cfg.batch_size]
        if upscale > 1:
            x = F.interpolate(x, scale_factor=upscale, mode="bilinear", align_corners=False)
            x = x.clamp(0, 1)
        st.update(fq.dct_channels(x, chroma=cfg.chroma))
    path = st.save(run.dir / "stats.json")
    sec = run.section("Per-channel statistics")
    sec.text(
        f"{len(ds)} images of {cfg.dataset} "
        f"({c}x{h * upscale}x{w * upscale} after upscale {upscale}), 8x8 block DCT "
        f"(chroma {cfg.chroma}): {st.channels} channels. Saved to {path.name}; load it with "
        "noisyhw.compress.frequency.ChannelStats.load(path)."
    )
    for p, cap in plot_channel_grids(st.mean, run.dir, "mean", "mean", fmt="{:.1f}"):
        sec.image(p, cap)
    log_std = np.log10(st.std + 1e-12)
    for p, cap in plot_channel_grids(log_std, run.dir, "log10_std", "log10 std", fmt="{:.1f}"):
        sec.image(p, cap)
    names = fq.channel_names(c)
    rows = [
        {"channel": names[i], "index": i, "mean": float(st.mean[i]), "std": float(st.std[i])}
        for i in range(min(st.channels, 8))
    ]
    results = run.finish(rows, stats_file=str(path))
    title = "first channels (all in stats.json)"
    return Outcome(run, results, rows, ["channel", "index", "mean", "std"], title)


# --------------------------------------------------------------------------- freq train
@dataclass(frozen=True)
class FreqTrain:
    """``noisyhw freq train``. Fashion-MNIST / MNIST: the equal-input-size study (DCT subsets vs
    downsampled pixels, gate heat map, gate top-k; ``lam`` per active channel, ``gate_scale``
    the gate's logit scale, ``top_k`` channels exported). imagefolder (``root``): the colour
    pipeline through a ResNet-18 adapter (``size``: image side, a multiple of 8; ``channels``:
    a preset of 24/32/48/64 or all 192)."""

    dataset: str = "fashion-mnist"
    root: str | None = None
    epochs: int = 3
    n_train: int | None = 8000
    n_test: int | None = 2000
    lam: float = 0.01
    gate_scale: float = 20.0
    top_k: int = 16
    size: int = 112
    channels: int = 24
    seed: int = 0
    device: str = "cpu"
    workers: int = 1
    out: str | None = None

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, 1, EPOCHS_MAX)
        check_float("lam", self.lam, 0.0, 1000.0)
        check_float("gate_scale", self.gate_scale, 0.0, 1e6, lo_open=True)
        check_int("top_k", self.top_k, 1, 64)
        check_count("n_train", self.n_train)
        check_count("n_test", self.n_test)
        # checked for every dataset (the study ignores them, but a bad value is still a mistake)
        if self.channels not in PRESETS:
            raise ParameterError("channels", "must be 24, 32, 48, 64 or 192", self.channels)
        check_int("size", self.size, 8, SIZE_MAX)
        if self.size % 8:
            raise ParameterError("size", "must be a multiple of 8", self.size)
        check_int("workers", self.workers, 1, 100_000)
        if self.root is not None and self.dataset != "imagefolder":  # the study finds its data
            raise ParameterError(
                "root",
                "is for --dataset imagefolder (the study finds fashion-mnist/mnist)",
                str(self.root),
            )
        if self.dataset == "imagefolder":
            if self.root is None:
                raise ParameterError("root", "imagefolder needs --root <folder>/<class>/*.jpg")
            from ..data.registry import check_root

            check_root("imagefolder", Path(self.root))
            _put(self, "root", str(self.root))
        elif self.dataset not in ("fashion-mnist", "mnist"):
            raise ParameterError(
                "dataset", "the study needs fashion-mnist or mnist (or imagefolder)", self.dataset
            )
        _put(self, "out", check_out(self.out))


def run_train(cfg: FreqTrain) -> Outcome:
    """The colour pipeline (imagefolder) or the equal-size study with its gate heat map
    (heat.json, for ``noisyhw freq select --heat``)."""
    from ..io import write_json
    from ..sweep import Run
    from .freq import colour_pipeline, equal_size_study

    if cfg.dataset == "imagefolder":
        title = "noisyhw freq train: colour pipeline"
        run = Run("freq train", asdict(cfg), out=cfg.out, seed=cfg.seed, title=title)
        rows = colour_pipeline(
            run.section("Colour pipeline"),
            cfg.root,
            run.dir,
            size=cfg.size,
            channels=cfg.channels,
            epochs=cfg.epochs,
            seed=cfg.seed,
            device=cfg.device,
        )
        return Outcome(run, run.finish(rows), rows, title="colour pipeline")
    title = f"noisyhw freq train: {cfg.dataset}"
    run = Run("freq train", asdict(cfg), out=cfg.out, seed=cfg.seed, title=title)
    rows = equal_size_study(
        run.section("Equal input size: DCT channels vs downsampled pixels"),
        run.dir,
        run,
        n_train=cfg.n_train,
        n_test=cfg.n_test,
        epochs=cfg.epochs,
        lam=cfg.lam,
        gate_scale=cfg.gate_scale,
        top_k=cfg.top_k,
        seed=cfg.seed,
        device=cfg.device,
        dataset=cfg.dataset,
        workers=cfg.workers,
    )
    gate = next(r for r in run.store.rows() if r.get("gate"))
    heat = {"heat": gate["heat"], "lam": cfg.lam, "dataset": cfg.dataset, "components": 1}
    write_json(run.dir / "heat.json", {**heat, "source": "freq train"})
    cols = ["name", "grid", "input_channels", "input_values", "accuracy", "active_channels"]
    return Outcome(run, run.finish(rows), rows, cols, title="test accuracy vs input")


# --------------------------------------------------------------------------- freq matched
@dataclass(frozen=True)
class FreqMatched:
    """``noisyhw freq matched``: DCT channels vs pixels rearranged (space-to-depth) into the
    same tensor through one network body, ``seeds`` seeds each. ``source``: fashion (28x28,
    4x4 DCT) or photos (``crop`` x ``crop`` crops of sklearn's two sample photos, 8x8 DCT of the
    full-resolution crop vs downsampling it; ``crop`` a multiple of 32, at most 416)."""

    source: str = "fashion"
    epochs: int = 4
    n_train: int | None = 10000
    n_test: int | None = 5000
    seeds: int = 3
    crop: int = 128
    seed: int = 0
    device: str = "cpu"
    workers: int = 1
    out: str | None = None

    def __post_init__(self) -> None:
        check_choice("source", self.source, ("fashion", "photos"))
        check_int("epochs", self.epochs, 1, EPOCHS_MAX)
        check_int("seeds", self.seeds, 1, 100)
        check_count("n_train", self.n_train)
        check_count("n_test", self.n_test)
        check_int("crop", self.crop, 32)
        if self.crop % 32:  # 4x downsampling then a 2x2 space-to-depth, on an 8x8 tile grid
            raise ParameterError("crop", "a multiple of 32", self.crop)
        if self.source == "photos":
            if self.crop > 416:
                raise ParameterError("crop", "at most 416 (the photos are 427x640)", self.crop)
            crops = (self.n_train or 2000) + (self.n_test or 1000)  # matched_study's defaults
            need = 3.0 * self.crop * self.crop * crops
            check_memory("n_train", need, self.n_train, "the photo crops (uint8)")
        check_int("workers", self.workers, 1, 100_000)
        _put(self, "out", check_out(self.out))


def run_matched(cfg: FreqMatched) -> Outcome:
    """The matched-stem comparison (:func:`~noisyhw.experiments.freq.matched_study`)."""
    from ..sweep import Run
    from .freq import matched_study

    title = f"noisyhw freq matched: {cfg.source}"
    run = Run("freq matched", asdict(cfg), out=cfg.out, seed=cfg.seed, title=title)
    rows, paired = matched_study(
        run,
        cfg.source,
        n_train=cfg.n_train,
        n_test=cfg.n_test,
        epochs=cfg.epochs,
        seeds=cfg.seeds,
        seed=cfg.seed,
        crop=cfg.crop,
        device=cfg.device,
        workers=cfg.workers,
    )
    cols = ["input", "shape", "seeds", "accuracy", "acc_lo", "acc_hi"]
    path = run.finish(rows, paired=paired)
    return Outcome(run, path, rows, cols, title="mean over seeds, 95% interval")


# --------------------------------------------------------------------------- freq select
@dataclass(frozen=True)
class FreqSelect:
    """``noisyhw freq select``: the ``k`` most used channels of a trained gate (``heat``: a
    heat.json or the folder of a ``freq train`` run; ``k`` default 16), or a ``preset`` (24,
    32, 48 or 64), as a static subset. Exactly one of ``heat`` and ``preset``."""

    heat: str | None = None
    k: int | None = None
    preset: int | None = None
    out: str | None = None

    def __post_init__(self) -> None:
        from ..compress import frequency as fq

        if (self.heat is None) == (self.preset is None):
            raise ParameterError("heat", "give exactly one of heat and preset (--heat, --preset)")
        if self.preset is not None:
            if self.k is not None:  # was silently ignored: a preset fixes its own count
                raise ParameterError("k", "applies to --heat; a preset has its own count", self.k)
            try:
                fq.preset_channels(self.preset)
            except ParameterError as exc:  # the library names its argument "channels"
                raise ParameterError("preset", exc.allowed, exc.got) from None
        else:
            _put(self, "heat", str(self.heat))
            _put(self, "k", check_int("k", 16 if self.k is None else self.k, 1, 192))
        _put(self, "out", check_out(self.out))

    def heat_values(self) -> tuple[Path, Any]:
        """(the heat.json read, its channel values as a float array); DataError when missing
        or not a heat.json of 64 or 192 finite values."""
        import numpy as np

        assert self.heat is not None
        path = Path(self.heat)
        path = path / "heat.json" if path.is_dir() else path
        try:
            values = np.asarray(json.loads(path.read_text())["heat"], dtype=float)
        except FileNotFoundError:
            raise DataError(f"heat: no such file {path}") from None
        except (KeyError, ValueError, TypeError, OSError) as exc:
            raise DataError(f"heat: {path} is not a heat.json ({exc.__class__.__name__})") from None
        if values.ndim != 1 or values.size not in (64, 192) or not np.isfinite(values).all():
            raise DataError(f"heat: {path} must hold 64 or 192 finite channel values")
        return path, values


def run_select(cfg: FreqSelect) -> Outcome:
    """Write subset.json (channels, per component) and 8x8 grid plots of the heat or preset."""
    import numpy as np

    from ..compress import frequency as fq
    from ..io import write_json
    from ..sweep import Run
    from .freq import plot_channel_grids

    if cfg.preset is not None:
        chosen = fq.preset_channels(cfg.preset)
        values = np.zeros(192)
        values[chosen] = 1.0
        what = f"preset {cfg.preset}"
    else:
        _, values = cfg.heat_values()
        chosen = fq.top_k_channels(values, check_int("k", cfg.k, 1, values.size))
        what = f"gate top-{cfg.k}"
    run = Run("freq select", asdict(cfg), out=cfg.out, title=f"noisyhw freq select: {what}")
    comps = len(values) // 64
    subset = {"channels": chosen, "by_component": fq.subset_by_component(chosen), "source": what}
    write_json(run.dir / "subset.json", subset)
    sec = run.section(what)
    sec.text(f"Channels kept ({len(chosen)} of {len(values)}): {chosen}. Saved to subset.json.")
    stem = "heat" if cfg.preset is None else "preset"
    for p, cap in plot_channel_grids(values, run.dir, stem, what):
        sec.image(p, cap)
    rows = [
        {"component": c, "kept": len(v), "coefficients": " ".join(map(str, v))}
        for c, v in list(subset["by_component"].items())[:comps]
    ]
    return Outcome(run, run.finish(rows), rows, ["component", "kept", "coefficients"], what)


_RUNS = {
    FreqStats: run_stats,
    FreqTrain: run_train,
    FreqMatched: run_matched,
    FreqSelect: run_select,
}


def run(cfg: FreqStats | FreqTrain | FreqMatched | FreqSelect) -> Outcome:
    """Run the ``freq`` command ``cfg`` is the config of."""
    if type(cfg) not in _RUNS:
        raise ParameterError("cfg", f"must be one of {', '.join(c.__name__ for c in _RUNS)}", cfg)
    return _RUNS[type(cfg)](cfg)
