"""Fault campaigns: accuracy of a stored model over a BER grid x configurations x trials.

A *configuration* is a (representation, protection) pair. For every configuration the campaign
evaluates the clean stored model once (``ber = 0``) and ``trials`` independently corrupted
copies per BER; each (BER, representation, protection, trial) is one trial of a
:class:`noisyhw.sweep.Run` (resumable, parallel with ``workers``). Trial seeds depend only on
``(seed, trial, BER)``, so configurations see common random numbers.

Statistics (:func:`summarize`): mean, std, 5/50/95th percentiles and a 95% Student-t interval
of the mean accuracy. *Tolerable BER* (:func:`tolerable_ber`): the largest grid BER such that
the mean accuracy at it and at every smaller grid BER stays within ``tolerance`` (default 1
point = 0.01) of the reference, the clean float32 accuracy; also a log-linear interpolation of
the crossing. The gain is the ratio to the float32/none tolerable BER.
"""

from __future__ import annotations

import copy
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats as sstats
from torch import nn

from ..errors import ParameterError, check_float, check_int
from ..progress import track
from ..sweep import Run, Section, line_plot
from .formats import representation
from .model import StoredModel, load_stored, store
from .protect import protection

__all__ = [
    "MEDIA_BER",
    "CampaignContext",
    "ber_grid",
    "campaign_trial",
    "campaign_trials",
    "media_table",
    "report_campaign",
    "run_campaign",
    "summarize",
    "tolerable_ber",
]

REFERENCE = ("float32", "none")

#: Rough raw bit error rates of storage media (orders of magnitude, from the research notes:
#: NAND raw BER spans ~1e-8 fresh SLC to 1e-3..1e-2 worn TLC/QLC or long retention; SRAM at
#: reduced voltage ~1e-2 for ~30% energy). Used to say which media a configuration tolerates.
MEDIA_BER: dict[str, float] = {
    "fresh SLC NAND": 1e-8,
    "fresh TLC NAND": 1e-5,
    "worn TLC NAND": 1e-3,
    "worn QLC NAND / long retention": 1e-2,
    "low-voltage SRAM (~30% energy saved)": 1e-2,
}


def ber_grid(lo: float = 1e-9, hi: float = 1e-1, per_decade: int = 1) -> list[float]:
    """Log grid from ``lo`` to ``hi`` (both included) with ``per_decade`` points per decade."""
    lo = check_float("ber_min", lo, 0.0, 1.0, lo_open=True)
    hi = check_float("ber_max", hi, lo, 1.0)
    per_decade = check_int("per_decade", per_decade, 1, 100)
    a, b = math.log10(lo), math.log10(hi)
    n = round((b - a) * per_decade) + 1
    return sorted({float(f"{10 ** (a + i * (b - a) / max(n - 1, 1)):.6g}") for i in range(n)})


def campaign_trials(
    configs: Sequence[tuple[str, str]], bers: Sequence[float], trials: int
) -> list[dict[str, Any]]:
    """The sweep grid: per configuration one clean trial (ber 0) and ``trials`` per BER."""
    check_int("trials", trials, 1)
    if not configs:
        raise ParameterError("configs", "needs at least one (representation, protection)")
    for b in bers:
        check_float("ber", b, 0.0, 1.0, lo_open=True)
    out = []
    for rep, prot in configs:
        r, p = representation(rep).name, protection(prot).name  # validate + canonical names
        out.append({"representation": r, "protection": p, "ber": 0.0, "trial": 0})
        out += [
            {"representation": r, "protection": p, "ber": float(b), "trial": t}
            for b in bers
            for t in range(trials)
        ]
    return out


@dataclass
class CampaignContext:
    """What every trial needs (sent once per worker): the clean model, the evaluation data."""

    model: nn.Module
    x: torch.Tensor
    y: torch.Tensor
    seed: int = 0
    device: str = "cpu"
    batch_size: int = 1024
    buffers: bool = False
    margin: float = 0.1
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


_CACHE: dict[str, dict[str, Any]] = {}


def _state(ctx: CampaignContext) -> dict[str, Any]:
    st = _CACHE.get(ctx.token)
    if st is None:
        _CACHE.clear()  # one campaign at a time per process
        work = copy.deepcopy(ctx.model).to(ctx.device).eval()
        st = _CACHE[ctx.token] = {"work": work, "images": {}, "x": ctx.x, "y": ctx.y}
        st["clean"] = {k: v.detach().clone() for k, v in work.state_dict().items()}
    return st


def _image(st: dict[str, Any], ctx: CampaignContext, rep: str, prot: str) -> StoredModel:
    key = (rep, prot)
    if key not in st["images"]:
        work = st["work"]
        work.load_state_dict(st["clean"])
        st["images"][key] = store(work, rep, protection(prot, ctx.margin), buffers=ctx.buffers)
    return st["images"][key]


@torch.no_grad()
def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: str, bs: int) -> float:
    correct = 0
    for i in range(0, len(x), bs):
        logits = model(x[i : i + bs].to(device))
        correct += int((logits.argmax(1).cpu() == y[i : i + bs]).sum())
    return correct / max(len(x), 1)


def campaign_trial(params: dict[str, Any], ctx: CampaignContext) -> dict[str, Any]:
    """One trial: corrupt the stored model at ``params["ber"]``, load it, measure accuracy."""
    st = _state(ctx)
    image = _image(st, ctx, params["representation"], params["protection"])
    ber, trial = float(params["ber"]), int(params["trial"])
    if ber > 0:
        rng = np.random.default_rng([ctx.seed, trial, round(-1000 * math.log10(ber))])
        noisy, flips = image.corrupted(ber, rng)
    else:
        noisy, flips = image, 0
    detected = load_stored(st["work"], noisy)
    acc = _accuracy(st["work"], st["x"], st["y"], ctx.device, ctx.batch_size)
    return {
        "accuracy": acc,
        "flips": flips,
        "nulled": detected["nulled"],
        "range_zeroed": detected["range_zeroed"],
        "bits_per_param": round(image.bits_per_param, 4),
        "width": image.width,
    }


def run_campaign(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    configs: Sequence[tuple[str, str]],
    bers: Sequence[float],
    trials: int,
    *,
    run: Run | None = None,
    seed: int = 0,
    device: str = "cpu",
    workers: int = 1,
    batch_size: int = 1024,
    buffers: bool = False,
    margin: float = 0.1,
    description: str = "storage campaign",
) -> list[dict[str, Any]]:
    """All trial rows ``{representation, protection, ber, trial, accuracy, flips, nulled,
    range_zeroed, bits_per_param, width}``; through ``run.sweep`` (resumable) when ``run`` is
    given, else in this process. The float32/none reference is always included."""
    configs = [(representation(r).name, protection(p).name) for r, p in configs]
    if REFERENCE not in configs:
        configs = [REFERENCE, *configs]
    grid = campaign_trials(configs, bers, trials)
    ctx = CampaignContext(
        model.cpu() if workers > 1 else model, x, y, seed, device, batch_size, buffers, margin
    )
    if run is not None:
        return run.sweep(
            campaign_trial, grid, context=ctx, workers=workers, description=description
        )
    return [{**t, **campaign_trial(t, ctx)} for t in track(grid, description)]


# --------------------------------------------------------------------------- statistics
def summarize(rows: Sequence[dict[str, Any]], confidence: float = 0.95) -> list[dict[str, Any]]:
    """Per (representation, protection, ber): n, mean, std, p5/p50/p95, ``ci_lo``/``ci_hi`` (a
    ``confidence`` Student-t interval of the mean, clipped to [0, 1]) and mean detections."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["representation"], r["protection"], float(r["ber"])), []).append(r)
    out = []
    for (rep, prot, ber), grp in groups.items():
        acc = np.array([g["accuracy"] for g in grp], dtype=np.float64)
        n = acc.size
        mean = float(acc.mean())
        std = float(acc.std(ddof=1)) if n > 1 else 0.0
        half = (
            float(sstats.t.ppf(0.5 + confidence / 2, n - 1) * std / math.sqrt(n)) if n > 1 else 0.0
        )
        p5, p50, p95 = (float(v) for v in np.percentile(acc, [5, 50, 95]))
        out.append(
            {
                "representation": rep,
                "protection": prot,
                "config": f"{rep}/{prot}",
                "family": rep.rstrip("0123456789") if rep.startswith(("fixed", "hwo")) else rep,
                "ber": ber,
                "trials": n,
                "mean": mean,
                "std": std,
                "p5": p5,
                "p50": p50,
                "p95": p95,
                "ci_lo": max(0.0, mean - half),
                "ci_hi": min(1.0, mean + half),
                "flips": float(np.mean([g["flips"] for g in grp])),
                "nulled": float(np.mean([g["nulled"] for g in grp])),
                "range_zeroed": float(np.mean([g["range_zeroed"] for g in grp])),
                "bits_per_param": grp[0]["bits_per_param"],
            }
        )
    return sorted(out, key=lambda r: (r["config"], r["ber"]))


def tolerable_ber(
    summary: Sequence[dict[str, Any]], tolerance: float = 0.01
) -> list[dict[str, Any]]:
    """Per configuration: its clean accuracy, the tolerable BER (grid and log-interpolated) for
    ``mean >= reference - tolerance`` with the clean float32/none accuracy as reference, and
    the gain over float32/none (None where a tolerable BER is below the grid)."""
    by_cfg: dict[tuple, list[dict[str, Any]]] = {}
    for r in summary:
        by_cfg.setdefault((r["representation"], r["protection"]), []).append(r)
    if REFERENCE not in by_cfg:
        raise ParameterError("summary", "needs the float32/none configuration as reference")
    ref_rows = {r["ber"]: r for r in by_cfg[REFERENCE]}
    if 0.0 not in ref_rows:
        raise ParameterError("summary", "needs the clean (ber 0) float32/none trial")
    reference = ref_rows[0.0]["mean"]
    threshold = reference - tolerance
    out = []
    for (rep, prot), grp in by_cfg.items():
        pts = sorted((r["ber"], r["mean"]) for r in grp if r["ber"] > 0)
        clean = next((r["mean"] for r in grp if r["ber"] == 0.0), float("nan"))
        grid_ber, interp = 0.0, 0.0
        if clean >= threshold:
            prev = None
            for ber, mean in pts:
                if mean < threshold:
                    if prev is not None:  # log-linear crossing between prev and this point
                        (b0, m0) = prev
                        frac = (m0 - threshold) / (m0 - mean)
                        interp = 10 ** (math.log10(b0) + frac * (math.log10(ber) - math.log10(b0)))
                    break
                grid_ber = interp = ber
                prev = (ber, mean)
        out.append(
            {
                "representation": rep,
                "protection": prot,
                "config": f"{rep}/{prot}",
                "family": grp[0]["family"],
                "bits_per_param": grp[0]["bits_per_param"],
                "clean_accuracy": clean,
                "tolerable_ber": grid_ber,
                "tolerable_ber_interp": interp,
                "max_grid_ber": pts[-1][0] if pts else None,
            }
        )
    base = next(r for r in out if (r["representation"], r["protection"]) == REFERENCE)
    for r in out:
        r["gain"] = r["tolerable_ber"] / base["tolerable_ber"] if base["tolerable_ber"] else None
        r["gain_interp"] = (
            r["tolerable_ber_interp"] / base["tolerable_ber_interp"]
            if base["tolerable_ber_interp"]
            else None
        )
    return sorted(out, key=lambda r: (-r["tolerable_ber_interp"], r["config"]))


def media_table(tol: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per :data:`MEDIA_BER` preset: the configurations whose tolerable BER reaches it."""
    out = []
    for medium, ber in MEDIA_BER.items():
        ok = [r for r in tol if r["tolerable_ber_interp"] >= ber]
        ok.sort(key=lambda r: (r["bits_per_param"], r["config"]))
        out.append(
            {
                "medium": medium,
                "raw_ber": ber,
                "tolerated_by": ", ".join(r["config"] for r in ok) or "none",
                "fewest_bits": ok[0]["config"] if ok else "none",
            }
        )
    return out


# --------------------------------------------------------------------------- report
def report_campaign(
    section: Section,
    folder: Path,
    rows: Sequence[dict[str, Any]],
    *,
    prefix: str = "storage_",
    title: str = "",
    tolerance: float = 0.01,
    plot: Callable[..., Path] = line_plot,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Plots and tables of a campaign into ``section``; returns ``(summary, tolerance table)``.

    Plots: accuracy vs BER (one curve per configuration, 95% band, clean float32 line),
    tolerable BER vs bits per parameter, and accuracy vs bits per parameter at fixed BERs
    (equal-storage comparison).
    """
    summary = summarize(rows)
    tol = tolerable_ber(summary, tolerance)
    ref = next(r["clean_accuracy"] for r in tol if r["config"] == "float32/none")
    noisy = [r for r in summary if r["ber"] > 0]
    acc_png = plot(
        noisy,
        "ber",
        "mean",
        folder / f"{prefix}accuracy_vs_ber.png",
        hue="config",
        band=("ci_lo", "ci_hi"),
        hlines={f"clean float32 {ref:.3f}": ref, f"-{tolerance:g}": ref - tolerance},
        logx=True,
        title=title or "Accuracy vs bit error rate",
        xlabel="bit error rate",
        ylabel="accuracy (mean, 95% CI)",
    )
    section.image(acc_png, "mean accuracy over trials per BER, shaded: 95% interval of the mean")
    tol_rows = [dict(r, tolerable=r["tolerable_ber_interp"]) for r in tol]  # 0 = below the grid
    tol_png = plot(
        tol_rows,
        "bits_per_param",
        "tolerable",
        folder / f"{prefix}tolerable_vs_bits.png",
        hue=("family", "protection"),
        logy=True,
        title="Tolerable BER vs storage",
        xlabel="stored bits per parameter",
        ylabel=f"tolerable BER (within {tolerance:g} of clean)",
    )
    section.image(tol_png, "equal storage: tolerable BER vs bits per parameter (triangle: none)")
    bers = sorted({r["ber"] for r in noisy})
    picks = [b for b in bers if any(abs(math.log10(b) - k) < 1e-9 for k in (-3, -2))]
    for ber in picks or bers[-2:]:
        eq_png = plot(
            [r for r in noisy if r["ber"] == ber],
            "bits_per_param",
            "mean",
            folder / f"{prefix}accuracy_vs_bits_{ber:g}.png",
            hue=("family", "protection"),
            title=f"Accuracy vs storage at BER {ber:g}",
            xlabel="stored bits per parameter",
            ylabel="accuracy (mean)",
        )
        section.image(eq_png, f"equal storage: accuracy vs bits per parameter at BER {ber:g}")
    section.table(
        tol,
        [
            "config",
            "bits_per_param",
            "clean_accuracy",
            "tolerable_ber",
            "tolerable_ber_interp",
            "gain",
            "gain_interp",
        ],
        title=f"Tolerable BER (mean accuracy within {tolerance:g} of clean float32 {ref:.4f})",
    )
    section.table(
        media_table(tol),
        ["medium", "raw_ber", "fewest_bits", "tolerated_by"],
        title="Which media each configuration tolerates (approximate raw BERs)",
    )
    section.table(
        summary,
        [
            "config",
            "ber",
            "trials",
            "mean",
            "ci_lo",
            "ci_hi",
            "p5",
            "p50",
            "p95",
            "flips",
            "nulled",
            "range_zeroed",
        ],
        title="Accuracy per configuration and BER",
    )
    return summary, tol
