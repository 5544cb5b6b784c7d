"""``noisyhw freq stats | train | matched | select``: frequency-domain inputs (issues 7, 20)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

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
from .common import (
    DeviceOpt,
    FormatOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    WorkersOpt,
    apply_quiet,
    check_counts,
    finish,
    resolve_device,
    tracked,
)

#: the largest image side (imagefolder resizing; a 4096^2 RGB image is 200 MB of float32)
SIZE_MAX = 4096

app = typer.Typer(
    help="Learning in the frequency domain: block-DCT inputs, channel stats, gate, subsets.",
    no_args_is_help=True,
)

DatasetOpt = Annotated[
    str,
    typer.Option(
        "--dataset", help="fashion-mnist, mnist, digits, cifar10 or imagefolder (--root)."
    ),
]
RootOpt = Annotated[
    Path | None, typer.Option("--root", help="Dataset folder (imagefolder: root/<class>/*.jpg).")
]


@app.command()
@tracked
def stats(
    dataset: DatasetOpt = "fashion-mnist",
    root: RootOpt = None,
    size: Annotated[int, typer.Option("--size", help="imagefolder: resize to size x size.")] = 224,
    upscale: Annotated[
        int | None,
        typer.Option(
            "--upscale",
            help="Upscale factor before the DCT (default: the smallest that makes the sides "
            "multiples of the 8x8 blocks, e.g. 2 for 28x28).",
        ),
    ] = None,
    chroma: Annotated[str, typer.Option("--chroma", help="full or 420 (RGB only).")] = "full",
    n: Annotated[int | None, typer.Option("--n", help="Use a random subset of n images.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 512,
    seed: SeedOpt = 0,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Per-channel mean/std of a dataset's DCT channels, streamed batch by batch; writes
    stats.json (reuse with ChannelStats.load) and 8x8 grid plots per Y/Cb/Cr."""
    import numpy as np
    import torch.nn.functional as F

    from .. import data as D
    from ..compress import frequency as fq
    from ..experiments.freq import plot_channel_grids
    from ..progress import track
    from ..sweep import Run

    apply_quiet(quiet)
    if upscale is not None:
        check_int("--upscale", upscale, 1, 16)
    check_int("--batch-size", batch_size, 1, BATCH_MAX)
    check_int("--size", size, 8, SIZE_MAX)  # checked for every dataset, used by imagefolder
    check_counts(("--n", n))
    check_choice("--chroma", chroma, fq.CHROMA)
    check_choice("--dataset", dataset, D.DATASETS)
    if D.DATASETS[dataset].kind == "text":
        raise ParameterError("--dataset", "must be an image dataset", dataset)
    kw = {"size": size} if dataset == "imagefolder" else {}
    ds = D.load(dataset, "train", str(root) if root else None, **kw)
    if not isinstance(ds, D.ArrayDataset) or ds.x.ndim != 4:
        raise ParameterError("--dataset", "must be an image dataset", dataset)
    ds = ds.subset(n, seed=seed)
    c, h, w = ds.input_shape
    mult = 16 if chroma == "420" else 8
    if upscale is None:  # the smallest factor that tiles the image with whole blocks
        upscale = next(u for u in range(1, mult + 1) if (h * u) % mult == (w * u) % mult == 0)
    if (h * upscale) % mult or (w * upscale) % mult:
        raise ParameterError(
            "--upscale",
            f"images of {h}x{w} need height and width x upscale divisible by {mult}",
            upscale,
        )
    config = {
        "dataset": dataset,
        "root": str(root) if root else None,
        "size": size,
        "upscale": upscale,
        "chroma": chroma,
        "n": n,
    }
    run = Run("freq stats", config, out=out, seed=seed, title=f"noisyhw freq stats: {dataset}")
    st = fq.ChannelStats(config)
    starts = range(0, len(ds), batch_size)
    for i in track(starts, "DCT stats"):
        x = ds.x[i : i + batch_size]
        if upscale > 1:
            x = F.interpolate(x, scale_factor=upscale, mode="bilinear", align_corners=False).clamp(
                0, 1
            )
        st.update(fq.dct_channels(x, chroma=chroma))
    path = st.save(run.dir / "stats.json")
    sec = run.section("Per-channel statistics")
    sec.text(
        f"{len(ds)} images of {dataset} "
        f"({c}x{h * upscale}x{w * upscale} after upscale {upscale}), 8x8 block DCT "
        f"(chroma {chroma}): {st.channels} channels. Saved to {path.name}; load it with "
        "noisyhw.compress.frequency.ChannelStats.load(path)."
    )
    for p, cap in plot_channel_grids(st.mean, run.dir, "mean", "mean", fmt="{:.1f}"):
        sec.image(p, cap)
    for p, cap in plot_channel_grids(
        np.log10(st.std + 1e-12), run.dir, "log10_std", "log10 std", fmt="{:.1f}"
    ):
        sec.image(p, cap)
    names = fq.channel_names(c)
    rows = [
        {"channel": names[i], "index": i, "mean": float(st.mean[i]), "std": float(st.std[i])}
        for i in range(st.channels)
    ]
    finish(
        run,
        rows[:8] if len(rows) > 8 else rows,
        ["channel", "index", "mean", "std"],
        title="first channels (all in stats.json)",
        stats_file=str(path),
    )


@app.command()
@tracked
def train(
    dataset: DatasetOpt = "fashion-mnist",
    root: RootOpt = None,
    epochs: Annotated[int, typer.Option("--epochs")] = 3,
    n_train: Annotated[int | None, typer.Option("--n-train", help="Training subset size.")] = 8000,
    n_test: Annotated[int | None, typer.Option("--n-test", help="Test subset size.")] = 2000,
    lam: Annotated[float, typer.Option("--lam", help="Gate penalty per active channel.")] = 0.01,
    gate_scale: Annotated[
        float, typer.Option("--gate-scale", help="Gate logit scale (s x faster gate under Adam).")
    ] = 20.0,
    top_k: Annotated[int, typer.Option("--top-k", help="Channels exported from the gate.")] = 16,
    size: Annotated[
        int, typer.Option("--size", help="imagefolder: image side (multiple of 8).")
    ] = 112,
    channels: Annotated[
        int, typer.Option("--channels", help="imagefolder: preset 24/32/48/64 or 192.")
    ] = 24,
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    workers: WorkersOpt = 1,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Fashion-MNIST / MNIST: the equal-input-size study (DCT subsets vs downsampled pixels,
    gate heat map, gate top-k). imagefolder: the colour pipeline through a ResNet-18 adapter."""
    from ..experiments.freq import colour_pipeline, equal_size_study
    from ..sweep import Run

    apply_quiet(quiet)
    check_int("--epochs", epochs, 1, EPOCHS_MAX)
    check_float("--lam", lam, 0.0, 1000.0)
    check_float("--gate-scale", gate_scale, 0.0, 1e6, lo_open=True)
    check_int("--top-k", top_k, 1, 64)
    check_counts(("--n-train", n_train), ("--n-test", n_test))
    # checked for every dataset (the study ignores them, but a bad value is still a mistake)
    if channels not in (24, 32, 48, 64, 192):
        raise ParameterError("--channels", "must be 24, 32, 48, 64 or 192", channels)
    check_int("--size", size, 8, SIZE_MAX)
    if size % 8:
        raise ParameterError("--size", "must be a multiple of 8", size)
    dev = resolve_device(device)
    if root is not None and dataset != "imagefolder":  # the study reads its data itself
        raise ParameterError(
            "--root",
            "is for --dataset imagefolder (the study finds fashion-mnist/mnist)",
            str(root),
        )
    if dataset == "imagefolder":
        if root is None:
            raise ParameterError("--root", "imagefolder needs --root <folder>/<class>/*.jpg")
        from ..data.registry import check_root

        check_root("imagefolder", root)
        config = {
            "dataset": dataset,
            "root": str(root),
            "size": size,
            "channels": channels,
            "epochs": epochs,
            "device": dev,
        }
        run = Run(
            "freq train", config, out=out, seed=seed, title="noisyhw freq train: colour pipeline"
        )
        rows = colour_pipeline(
            run.section("Colour pipeline"),
            root,
            run.dir,
            size=size,
            channels=channels,
            epochs=epochs,
            seed=seed,
            device=dev,
        )
        finish(run, rows, title="colour pipeline")
        return
    if dataset not in ("fashion-mnist", "mnist"):
        raise ParameterError(
            "--dataset", "the study needs fashion-mnist or mnist (or imagefolder)", dataset
        )
    config = {
        "dataset": dataset,
        "epochs": epochs,
        "n_train": n_train,
        "n_test": n_test,
        "lam": lam,
        "gate_scale": gate_scale,
        "top_k": top_k,
        "device": dev,
        "workers": workers,
    }
    run = Run("freq train", config, out=out, seed=seed, title=f"noisyhw freq train: {dataset}")
    sec = run.section("Equal input size: DCT channels vs downsampled pixels")
    rows = equal_size_study(
        sec,
        run.dir,
        run,
        n_train=n_train,
        n_test=n_test,
        epochs=epochs,
        lam=lam,
        gate_scale=gate_scale,
        top_k=top_k,
        seed=seed,
        device=dev,
        dataset=dataset,
        workers=workers,
    )
    gate = next(r for r in run.store.rows() if r.get("gate"))
    from ..io import write_json

    write_json(
        run.dir / "heat.json",
        {
            "heat": gate["heat"],
            "lam": lam,
            "dataset": dataset,
            "components": 1,
            "source": "freq train",
        },
    )
    finish(
        run,
        rows,
        ["name", "grid", "input_channels", "input_values", "accuracy", "active_channels"],
        title="test accuracy vs input",
    )


@app.command()
@tracked
def matched(
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="fashion (28x28, 4x4 DCT) or photos (crops of sklearn's 2 sample photos).",
        ),
    ] = "fashion",
    epochs: Annotated[int, typer.Option("--epochs")] = 4,
    n_train: Annotated[
        int | None, typer.Option("--n-train", help="Training images (photos: crops drawn).")
    ] = 10000,
    n_test: Annotated[int | None, typer.Option("--n-test", help="Test images.")] = 5000,
    seeds: Annotated[int, typer.Option("--seeds", help="Seeds per input: mean, 95% CI.")] = 3,
    crop: Annotated[
        int, typer.Option("--crop", help="photos: crop side in pixels (multiple of 8).")
    ] = 128,
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    workers: WorkersOpt = 1,
    out: OutOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """DCT channels vs pixels rearranged (space-to-depth) into the same tensor, through one
    network body; photos: DCT of the full-resolution crop vs downsampling it."""
    from ..experiments.freq import matched_study
    from ..sweep import Run

    apply_quiet(quiet)
    check_choice("--source", source, ("fashion", "photos"))
    check_int("--epochs", epochs, 1, EPOCHS_MAX)
    check_int("--seeds", seeds, 1, 100)
    check_counts(("--n-train", n_train), ("--n-test", n_test))
    check_int("--crop", crop, 32)
    if crop % 32:  # 4x downsampling then a 2x2 space-to-depth, on an 8x8 tile grid
        raise ParameterError("--crop", "a multiple of 32", crop)
    if source == "photos":
        if crop > 416:
            raise ParameterError("--crop", "at most 416 (the photos are 427x640)", crop)
        crops = (n_train or 2000) + (n_test or 1000)  # the defaults of matched_study
        check_memory("--n-train", 3.0 * crop * crop * crops, n_train, "the photo crops (uint8)")
    dev = resolve_device(device)
    config = {
        "source": source,
        "epochs": epochs,
        "n_train": n_train,
        "n_test": n_test,
        "seeds": seeds,
        "crop": crop,
        "device": dev,
        "workers": workers,
    }
    run = Run("freq matched", config, out=out, seed=seed, title=f"noisyhw freq matched: {source}")
    rows, paired = matched_study(
        run,
        source,
        n_train=n_train,
        n_test=n_test,
        epochs=epochs,
        seeds=seeds,
        seed=seed,
        crop=crop,
        device=dev,
        workers=workers,
    )
    cols = ["input", "shape", "seeds", "accuracy", "acc_lo", "acc_hi"]
    finish(run, rows, cols, title="mean over seeds, 95% interval", paired=paired)


@app.command()
@tracked
def select(
    heat: Annotated[
        Path | None, typer.Option("--heat", help="heat.json, or the folder of a `freq train` run.")
    ] = None,
    k: Annotated[
        int | None, typer.Option("--k", help="Channels to keep (with --heat; default 16).")
    ] = None,
    preset: Annotated[
        int | None, typer.Option("--preset", help="Show a preset: 24, 32, 48 or 64.")
    ] = None,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
) -> None:
    """Export the k most used channels of a trained gate (or show a preset) as a static subset:
    writes subset.json and 8x8 grid plots per component."""
    import numpy as np

    from ..compress import frequency as fq
    from ..experiments.freq import plot_channel_grids
    from ..io import write_json
    from ..sweep import Run

    if (heat is None) == (preset is None):
        raise ParameterError("--heat/--preset", "give exactly one")
    if preset is not None:
        if k is not None:  # was silently ignored: a preset fixes its own channel count
            raise ParameterError("--k", "applies to --heat; a preset has its own count", k)
        chosen = fq.preset_channels(preset)
        values = np.zeros(192)
        values[chosen] = 1.0
        what, config = f"preset {preset}", {"preset": preset}
    else:
        path = heat / "heat.json" if heat.is_dir() else heat
        try:
            values = np.asarray(json.loads(path.read_text())["heat"], dtype=float)
        except FileNotFoundError:
            raise DataError(f"heat: no such file {path}") from None
        except (KeyError, ValueError, TypeError, OSError) as exc:
            raise DataError(f"heat: {path} is not a heat.json ({exc.__class__.__name__})") from None
        if values.ndim != 1 or values.size not in (64, 192) or not np.isfinite(values).all():
            raise DataError(f"heat: {path} must hold 64 or 192 finite channel values")
        k = 16 if k is None else k
        chosen = fq.top_k_channels(values, check_int("--k", k, 1, values.size))
        what, config = f"gate top-{k}", {"heat": str(path), "k": k}
    run = Run("freq select", config, out=out, title=f"noisyhw freq select: {what}")
    comps = len(values) // 64
    subset = {"channels": chosen, "by_component": fq.subset_by_component(chosen), "source": what}
    write_json(run.dir / "subset.json", subset)
    sec = run.section(what)
    sec.text(f"Channels kept ({len(chosen)} of {len(values)}): {chosen}. Saved to subset.json.")
    mask = np.zeros(len(values))
    mask[chosen] = 1.0
    src = values if preset is None else mask
    for p, cap in plot_channel_grids(src, run.dir, "heat" if preset is None else "preset", what):
        sec.image(p, cap)
    rows = [
        {"component": c, "kept": len(v), "coefficients": " ".join(map(str, v))}
        for c, v in list(subset["by_component"].items())[:comps]
    ]
    finish(run, rows, ["component", "kept", "coefficients"], title=what)
