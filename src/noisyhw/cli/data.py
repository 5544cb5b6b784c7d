"""``noisyhw data list | info NAME | download NAME``.

The library is imported inside the commands: ``noisyhw --help`` must not import torch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import DataError
from .common import FormatOpt, print_rows, say

app = typer.Typer(
    help="Datasets available offline: list, inspect, download (explicitly).", no_args_is_help=True
)

RootOpt = Annotated[Path | None, typer.Option("--root", help="Folder holding the dataset's files.")]


def _where(name: str, root: Path | None) -> str:
    from ..data import DATASETS, locate

    info = DATASETS[name]
    if info.builtin:
        return "(bundled with scikit-learn)"
    if info.kind == "text":
        from ..data.text import CORPORA

        p = Path(root) if root else CORPORA[name]
        return str(p) if p.exists() else f"missing: {info.how_to_get}"
    if name == "imagefolder":
        return str(root) if root else "(give --root)"
    try:
        return str(locate(name, root))
    except DataError:
        return f"missing: {info.how_to_get}"


@app.command("list")
def list_(output_format: FormatOpt = "table") -> None:
    """All registered datasets, whether each is present here, and where."""
    from ..data import DATASETS

    rows = [
        {
            "name": n,
            "kind": i.kind,
            "shape": i.shape,
            "location": _where(n, None),
            "description": i.description,
        }
        for n, i in DATASETS.items()
    ]
    print_rows(rows, ["name", "kind", "shape", "location", "description"])


@app.command()
def info(
    name: Annotated[str, typer.Argument(help="Dataset name (see `noisyhw data list`).")],
    root: RootOpt = None,
    output_format: FormatOpt = "table",
) -> None:
    """Sizes, shapes, classes and location of one dataset (loads it)."""
    from ..data import dataset_info, load

    meta = dataset_info(name)
    say(f"{name}: {meta.description}")
    say(f"location: {_where(name, root)}")
    if meta.kind == "text":
        for split in ("train", "test"):
            text = load(name, split, root)
            say(f"{split}: {len(text):,} characters, {len(set(text))} distinct")
        return
    rows = []
    for split in ("train", "test"):
        ds = load(name, split, root)
        counts = ds.y.bincount(minlength=ds.num_classes).tolist()
        rows.append(
            {
                "split": split,
                "examples": len(ds),
                "input_shape": str(ds.input_shape),
                "classes": ds.num_classes,
                "min/class": min(counts),
                "max/class": max(counts),
                "mean pixel": round(float(ds.x.mean()), 4),
            }
        )
    print_rows(rows)
    say("classes: " + ", ".join(load(name, "test", root).classes))


@app.command()
def download(
    name: Annotated[str, typer.Argument(help="fashion-mnist or mnist")], root: RootOpt = None
) -> None:
    """Fetch a dataset from its official source, verified by SHA-256 (needs network)."""
    from ..data import fetch

    path = fetch(name, root)
    typer.echo(f"{name}: verified files in {path}")
