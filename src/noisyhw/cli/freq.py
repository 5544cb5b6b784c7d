"""``noisyhw freq stats | train | matched | select``: frequency-domain inputs (issues 7, 20).

Each command maps its options to a config of :mod:`noisyhw.experiments.freq_study` and runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import (
    DeviceOpt,
    FormatOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    WorkersOpt,
    apply_quiet,
    resolve_device,
    show,
    tracked,
)

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
    from ..experiments import freq_study as S

    apply_quiet(quiet)
    cfg = S.FreqStats(
        dataset=dataset,
        root=str(root) if root else None,
        size=size,
        upscale=upscale,
        chroma=chroma,
        n=n,
        batch_size=batch_size,
        seed=seed,
        out=out,
    )
    show(S.run(cfg))


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
    from ..experiments import freq_study as S

    apply_quiet(quiet)
    cfg = S.FreqTrain(
        dataset=dataset,
        root=str(root) if root else None,
        epochs=epochs,
        n_train=n_train,
        n_test=n_test,
        lam=lam,
        gate_scale=gate_scale,
        top_k=top_k,
        size=size,
        channels=channels,
        seed=seed,
        device=resolve_device(device),
        workers=workers,
        out=out,
    )
    show(S.run(cfg))


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
        int,
        typer.Option("--crop", help="photos: crop side in pixels (multiple of 32, at most 416)."),
    ] = 128,
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    workers: WorkersOpt = 1,
    out: OutOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """DCT channels vs pixels rearranged (space-to-depth) into the same tensor, through one
    network body; photos: DCT of the full-resolution crop vs downsampling it."""
    from ..experiments import freq_study as S

    apply_quiet(quiet)
    cfg = S.FreqMatched(
        source=source,
        epochs=epochs,
        n_train=n_train,
        n_test=n_test,
        seeds=seeds,
        crop=crop,
        seed=seed,
        device=resolve_device(device),
        workers=workers,
        out=out,
    )
    show(S.run(cfg))


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
    from ..experiments import freq_study as S

    cfg = S.FreqSelect(heat=str(heat) if heat else None, k=k, preset=preset, out=out)
    show(S.run(cfg))
