"""Fault campaigns: accuracy of a stored model over a BER grid x configurations, adaptive trials.

A *configuration* is a (representation, protection) pair. For every configuration the campaign
evaluates the clean stored model once (``ber = 0``) and, per BER, independently corrupted copies
through the seeded Monte-Carlo engine (:mod:`noisyhw.sweep.montecarlo`): a point (configuration,
BER) runs chunks of ``chunk`` trials and stops at the first chunk prefix holding ``min_failures``
**failed trials** (accuracy below the clean float32 accuracy minus ``tolerance``) or at
``trials`` trials. A failed trial is what decides the tolerable BER of a float: the mean accuracy
is ``(1 - q) * ok + q * failed`` and the failure rate ``q`` comes from rare exponent flips, so the
number of trials needed to resolve the mean near the crossing is set by the failures seen, not by
a fixed count. Trial seeds depend only on ``(seed, BER, chunk, trial)``, so configurations see
common random numbers; a point's result is the same on any number of workers and resumes chunk
by chunk (through :meth:`noisyhw.sweep.Run.montecarlo`).

Statistics (:func:`summarize`): per point the trials, failures (95% Clopper-Pearson interval of
the failure rate), mean, std and a 95% Student-t interval of the mean accuracy. *Tolerable BER*
(:func:`tolerable_ber`): the largest grid BER such that the mean accuracy at it and at every
smaller grid BER stays within ``tolerance`` (default 1 point = 0.01) of the reference, the clean
float32 accuracy, a log-linear interpolation of the crossing, the gain over float32/none, and
95% intervals of both from a parametric bootstrap of every point's mean (:func:`bootstrap_means`).
"""

from __future__ import annotations

import copy
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from scipy import stats as sstats
from torch import nn

from ..errors import ParameterError, check_float, check_int
from ..sweep.montecarlo import StopRule, simulate_all
from .formats import representation
from .model import StoredModel, load_stored, store
from .protect import protection

if TYPE_CHECKING:
    from ..sweep import Run

__all__ = [
    "MEDIA_BER",
    "CampaignContext",
    "ber_grid",
    "bootstrap_means",
    "campaign_chunk",
    "campaign_points",
    "clean_stored",
    "crossings",
    "gain_text",
    "media_table",
    "percentile_interval",
    "run_campaign",
    "safe_ratio",
    "stop_rule",
    "summarize",
    "tolerable_ber",
    "trial_counts",
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

#: the additive counts of a campaign chunk (see :func:`trial_counts`)
COUNTS = ("failures", "acc_sum", "acc_sq", "fail_acc_sum", "fail_acc_sq")


def ber_grid(lo: float = 1e-9, hi: float = 1e-1, per_decade: int = 1) -> list[float]:
    """Log grid from ``lo`` to ``hi`` (both included) with ``per_decade`` points per decade."""
    lo = check_float("ber_min", lo, 0.0, 1.0, lo_open=True)
    hi = check_float("ber_max", hi, lo, 1.0)
    per_decade = check_int("per_decade", per_decade, 1, 100)
    a, b = math.log10(lo), math.log10(hi)
    n = round((b - a) * per_decade) + 1
    return sorted({float(f"{10 ** (a + i * (b - a) / max(n - 1, 1)):.6g}") for i in range(n)})


def campaign_points(configs: Sequence[tuple[str, str]], bers: Sequence[float]) -> list[dict]:
    """The Monte-Carlo points: ``{"representation", "protection", "ber"}`` per configuration and
    BER (names validated and made canonical)."""
    if not configs:
        raise ParameterError("configs", "needs at least one (representation, protection)")
    for b in bers:
        check_float("ber", b, 0.0, 1.0, lo_open=True)
    out = []
    for rep, prot in configs:
        r, p = representation(rep).name, protection(prot).name
        out += [{"representation": r, "protection": p, "ber": float(b)} for b in bers]
    return out


def stop_rule(trials: int, min_failures: int | None = None, chunk: int = 50) -> StopRule:
    """At most ``trials`` trials per point in chunks of ``chunk``; with ``min_failures``, stop at
    the first chunk prefix holding that many failed trials (None: always ``trials``)."""
    check_int("trials", trials, 1)
    check_int("chunk", chunk, 1)
    return StopRule(
        chunk_size=min(chunk, trials),
        min_errors=min_failures,
        max_frames=trials,
        error_key="failures",
    )


def trial_counts(accuracies: Sequence[float], fail_below: float) -> dict[str, int | float]:
    """Additive counts of trial accuracies: ``failures`` (accuracy < ``fail_below``), the sum
    and sum of squares of all accuracies and of the failed ones."""
    a = np.asarray(accuracies, dtype=np.float64)
    f = a[a < fail_below]
    return {
        "failures": int(f.size),
        "acc_sum": float(a.sum()),
        "acc_sq": float((a * a).sum()),
        "fail_acc_sum": float(f.sum()),
        "fail_acc_sq": float((f * f).sum()),
    }


@dataclass
class CampaignContext:
    """What every trial needs (sent once per worker): the clean model, the evaluation data and
    ``fail_below``, the accuracy under which a trial counts as failed."""

    model: nn.Module
    x: torch.Tensor
    y: torch.Tensor
    device: str = "cpu"
    batch_size: int = 1024
    buffers: bool = False
    margin: float = 0.1
    fail_below: float = 0.0
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


_CACHE: dict[str, dict[str, Any]] = {}


def _state(ctx: CampaignContext) -> dict[str, Any]:
    st = _CACHE.get(ctx.token)
    if st is None:
        _CACHE.clear()  # one campaign at a time per process
        work = copy.deepcopy(ctx.model).to(ctx.device).eval()
        st = _CACHE[ctx.token] = {"work": work, "images": {}, "clean_acc": {}}
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


def _evaluate(st: dict[str, Any], ctx: CampaignContext, image: StoredModel) -> tuple[float, dict]:
    detected = load_stored(st["work"], image)
    return _accuracy(st["work"], ctx.x, ctx.y, ctx.device, ctx.batch_size), detected


def clean_stored(ctx: CampaignContext, rep: str, prot: str) -> dict[str, Any]:
    """The uncorrupted stored model of a configuration: ``accuracy``, ``bits_per_param``,
    ``width`` (evaluated once per process and cached)."""
    st = _state(ctx)
    key = (rep, prot)
    if key not in st["clean_acc"]:
        image = _image(st, ctx, rep, prot)
        acc, _ = _evaluate(st, ctx, image)
        st["clean_acc"][key] = {
            "accuracy": acc,
            "bits_per_param": round(image.bits_per_param, 4),
            "width": image.width,
        }
    return st["clean_acc"][key]


def campaign_chunk(
    params: dict[str, Any], rng: np.random.Generator, n: int, ctx: CampaignContext
) -> dict[str, int | float]:
    """``n`` trials at ``params`` (representation, protection, ber): corrupt the stored model,
    load it, measure accuracy. Returns :func:`trial_counts` plus summed ``flips``, ``nulled``
    and ``range_zeroed``. Trial ``t`` draws its flips from its own generator seeded by the
    ``t``-th word of ``rng`` (the chunk's stream is shared by the configurations: common random
    numbers). A trial without flips is the clean stored model (its accuracy is reused)."""
    st = _state(ctx)
    rep, prot, ber = params["representation"], params["protection"], float(params["ber"])
    image = _image(st, ctx, rep, prot)
    clean = clean_stored(ctx, rep, prot)["accuracy"]
    seeds = rng.integers(0, 2**63 - 1, size=n)
    accs, flips, nulled, ranged = [], 0, 0, 0
    for s in seeds:
        noisy, f = image.corrupted(ber, np.random.default_rng(int(s)))
        if f == 0:  # nothing flipped: the clean image decodes to the clean model exactly
            accs.append(clean)
            continue
        acc, detected = _evaluate(st, ctx, noisy)
        accs.append(acc)
        flips += f
        nulled += detected["nulled"]
        ranged += detected["range_zeroed"]
    return trial_counts(accs, ctx.fail_below) | {
        "flips": flips,
        "nulled": nulled,
        "range_zeroed": ranged,
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
    tolerance: float = 0.01,
    min_failures: int | None = None,
    chunk: int = 50,
    description: str = "storage campaign",
) -> list[dict[str, Any]]:
    """One row per (configuration, BER) point plus one clean row (``ber = 0``, one trial) per
    configuration: ``{representation, protection, ber, trials, failures, acc_sum, acc_sq,
    fail_acc_sum, fail_acc_sq, flips, nulled, range_zeroed, bits_per_param, width, stopped}``
    (counts summed over the point's trials). Up to ``trials`` trials per point, fewer when
    ``min_failures`` failed trials (accuracy below clean float32 minus ``tolerance``) are seen
    first (:func:`stop_rule`). Through ``run.montecarlo`` (resumable, ``workers`` processes)
    when ``run`` is given, else in this process. float32/none (the reference) is always
    included."""
    configs = [(representation(r).name, protection(p).name) for r, p in configs]
    if REFERENCE not in configs:
        configs = [REFERENCE, *configs]
    points = campaign_points(configs, bers)
    rule = stop_rule(trials, min_failures, chunk)
    ctx = CampaignContext(
        model.cpu() if workers > 1 else model, x, y, device, batch_size, buffers, margin
    )
    ctx.fail_below = clean_stored(ctx, *REFERENCE)["accuracy"] - tolerance
    if run is not None:
        rows = run.montecarlo(
            campaign_chunk,
            points,
            rule=rule,
            context=ctx,
            workers=workers,
            description=description,
            stream_keys=("ber",),
        )
    else:
        rows = [
            {**p, **r}
            for p, r in zip(
                points,
                simulate_all(
                    campaign_chunk,
                    points,
                    seed=seed,
                    rule=rule,
                    context=ctx,
                    stream_keys=("ber",),
                    description=description,
                ),
                strict=True,
            )
        ]
    out = []
    for rep, prot in configs:
        info = clean_stored(ctx, rep, prot)
        acc = info["accuracy"]
        side = {"bits_per_param": info["bits_per_param"], "width": info["width"]}
        clean = {"representation": rep, "protection": prot, "ber": 0.0, "trials": 1}
        out.append(
            clean
            | trial_counts([acc], ctx.fail_below)
            | {"flips": 0, "nulled": 0, "range_zeroed": 0, "stopped": "clean"}
            | side
        )
        for r in rows:
            if (r["representation"], r["protection"]) == (rep, prot):
                counts = {k: r[k] for k in (*COUNTS, "flips", "nulled", "range_zeroed")}
                out.append(
                    {"representation": rep, "protection": prot, "ber": float(r["ber"])}
                    | {"trials": r["frames"], **counts, "stopped": r["stopped"]}
                    | side
                )
    return out


# --------------------------------------------------------------------------- statistics
def _moments(r: dict[str, Any]) -> tuple[float, float, float, float]:
    """(ok mean, ok variance, failed mean, failed variance) of a point's trial accuracies."""
    n, k = r["trials"], r["failures"]
    no = n - k
    mo = (r["acc_sum"] - r["fail_acc_sum"]) / no if no else 0.0
    vo = max((r["acc_sq"] - r["fail_acc_sq"]) / no - mo * mo, 0.0) if no else 0.0
    mf = r["fail_acc_sum"] / k if k else 0.0
    vf = max(r["fail_acc_sq"] / k - mf * mf, 0.0) if k else 0.0
    return mo, vo, mf, vf


def summarize(rows: Sequence[dict[str, Any]], confidence: float = 0.95) -> list[dict[str, Any]]:
    """Per (representation, protection, ber): trials, failures with a ``confidence``
    Clopper-Pearson interval of the failure rate (``fail_lo``/``fail_hi``), mean, std,
    ``ci_lo``/``ci_hi`` (a ``confidence`` Student-t interval of the mean accuracy, clipped to
    [0, 1]), mean flips and detections per trial, and the counts (for :func:`bootstrap_means`).
    Rows of the same point (e.g. of two runs) are pooled."""
    from ..sweep.montecarlo import clopper_pearson

    keys = ("trials", *COUNTS, "flips", "nulled", "range_zeroed")
    groups: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        g = groups.setdefault(
            (r["representation"], r["protection"], float(r["ber"])),
            {"bits_per_param": r["bits_per_param"], **dict.fromkeys(keys, 0)},
        )
        for k in keys:
            g[k] += r[k]
    out = []
    for (rep, prot, ber), g in groups.items():
        n = g["trials"]
        mean = g["acc_sum"] / n
        std = math.sqrt(max(g["acc_sq"] - n * mean * mean, 0.0) / (n - 1)) if n > 1 else 0.0
        half = sstats.t.ppf(0.5 + confidence / 2, n - 1) * std / math.sqrt(n) if n > 1 else 0.0
        fail_lo, fail_hi = clopper_pearson(g["failures"], n, confidence)
        out.append(
            {
                "representation": rep,
                "protection": prot,
                "config": f"{rep}/{prot}",
                "family": rep.rstrip("0123456789") if rep.startswith(("fixed", "hwo")) else rep,
                "ber": ber,
                **{k: g[k] for k in ("trials", *COUNTS)},
                "fail_rate": g["failures"] / n,
                "fail_lo": fail_lo,
                "fail_hi": fail_hi,
                "mean": mean,
                "std": std,
                "ci_lo": max(0.0, mean - half),
                "ci_hi": min(1.0, mean + half),
                "flips": g["flips"] / n,
                "nulled": g["nulled"] / n,
                "range_zeroed": g["range_zeroed"] / n,
                "bits_per_param": g["bits_per_param"],
            }
        )
    return sorted(out, key=lambda r: (r["config"], r["ber"]))


def bootstrap_means(point: dict[str, Any], n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` parametric-bootstrap replicates of a point's mean accuracy.

    The trials are a mixture of ok and failed ones: per replicate the failure count is drawn
    Binomial(n, k/n) (the rare-event part, which dominates the uncertainty near a float's
    crossing), and the ok and failed means are drawn Normal around their sample means with their
    sample variances over the replicate's counts (clipped to [0, 1]); the replicate mean is the
    mixture. A point with one trial (the clean evaluation, deterministic) is returned as is.
    """
    n, k = int(point["trials"]), int(point["failures"])
    mean = point["acc_sum"] / n
    if n <= 1:
        return np.full(n_boot, mean)
    mo, vo, mf, vf = _moments(point)
    ks = rng.binomial(n, k / n, size=n_boot)
    no = n - ks
    ok = np.clip(mo + rng.standard_normal(n_boot) * np.sqrt(vo / np.maximum(no, 1)), 0, 1)
    bad = np.clip(mf + rng.standard_normal(n_boot) * np.sqrt(vf / np.maximum(ks, 1)), 0, 1)
    return (no * ok + ks * bad) / n


def crossings(
    bers: Sequence[float], means: np.ndarray, clean: float, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tolerable BER of mean-accuracy curves: ``means`` (R, P) over the sorted grid ``bers``
    (P,). Returns ``(grid, interp, censored)`` (R,): the largest grid BER with this and every
    smaller grid mean >= ``threshold`` (0 if the first is below it or ``clean`` is), the
    log-linear crossing between it and the next grid BER, and whether no grid BER fell below
    the threshold (then both are the top of the grid: a lower bound)."""
    m = np.atleast_2d(np.asarray(means, dtype=np.float64))
    R, P = m.shape
    grid, interp, censored = np.zeros(R), np.zeros(R), np.zeros(R, dtype=bool)
    if clean < threshold or P == 0:
        return grid, interp, censored
    ber = np.asarray(bers, dtype=np.float64)
    b = np.log10(ber)
    below = m < threshold
    first = np.where(below.any(1), below.argmax(1), P)
    censored = first == P
    grid[censored] = interp[censored] = ber[-1]
    cross = (first > 0) & ~censored
    i = first[cross]
    m0, m1 = m[cross, i - 1], m[cross, i]
    frac = (m0 - threshold) / (m0 - m1)
    grid[cross] = ber[i - 1]
    interp[cross] = 10 ** (b[i - 1] + frac * (b[i] - b[i - 1]))
    return grid, interp, censored


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with x/0 = inf (x > 0) and 0/0 = nan."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.where(num > 0, np.inf, np.nan))


def percentile_interval(x: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    """The central ``confidence`` interval of bootstrap samples ``x`` (NaNs dropped; None if none)."""
    x = x[~np.isnan(x)]
    if x.size == 0:
        return None, None
    a = (1 - confidence) / 2
    lo, hi = np.quantile(x, [a, 1 - a], method="inverted_cdf")
    return float(lo), float(hi)


def tolerable_ber(
    summary: Sequence[dict[str, Any]],
    tolerance: float = 0.01,
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Per configuration: its clean accuracy, the tolerable BER (grid and log-interpolated) for
    ``mean >= reference - tolerance`` with the clean float32/none accuracy as reference, the
    gain over float32/none (None where float32's tolerable BER is below the grid), and
    ``confidence`` percentile intervals of the interpolated tolerable BER (``tol_lo``,
    ``tol_hi``) and of the gain (``gain_lo``, ``gain_hi``) from ``n_boot`` replicates of every
    point's mean (:func:`bootstrap_means`, independent across points). ``censored``: the mean
    never fell below the threshold on the grid (tolerable BER and gain are lower bounds);
    ``spans_10x``: the gain's interval spans a factor 10 or more (unresolved)."""
    by_cfg: dict[tuple, list[dict[str, Any]]] = {}
    for r in summary:
        by_cfg.setdefault((r["representation"], r["protection"]), []).append(r)
    if REFERENCE not in by_cfg:
        raise ParameterError("summary", "needs the float32/none configuration as reference")
    ref_rows = {r["ber"]: r for r in by_cfg[REFERENCE]}
    if 0.0 not in ref_rows:
        raise ParameterError("summary", "needs the clean (ber 0) float32/none trial")
    threshold = ref_rows[0.0]["mean"] - tolerance
    rng = np.random.default_rng(seed)
    out, boot = [], {}
    for key, grp in by_cfg.items():
        pts = sorted((r for r in grp if r["ber"] > 0), key=lambda r: r["ber"])
        clean = next((r["mean"] for r in grp if r["ber"] == 0.0), float("nan"))
        bers = [r["ber"] for r in pts]
        grid, interp, censored = crossings(bers, [[r["mean"] for r in pts]], clean, threshold)
        reps = np.stack([bootstrap_means(r, n_boot, rng) for r in pts], 1) if pts else None
        boot[key] = crossings(bers, reps, clean, threshold)[1] if pts else np.zeros(n_boot)
        lo, hi = percentile_interval(boot[key], confidence)
        out.append(
            {
                "representation": key[0],
                "protection": key[1],
                "config": f"{key[0]}/{key[1]}",
                "family": grp[0]["family"],
                "bits_per_param": grp[0]["bits_per_param"],
                "clean_accuracy": clean,
                "tolerable_ber": float(grid[0]),
                "tolerable_ber_interp": float(interp[0]),
                "tol_lo": lo,
                "tol_hi": hi,
                "censored": bool(censored[0]),
                "max_grid_ber": bers[-1] if bers else None,
                "trials_at_crossing": _trials_near(pts, float(interp[0])),
            }
        )
    base = next(r for r in out if (r["representation"], r["protection"]) == REFERENCE)
    for r in out:
        ref = base["tolerable_ber"]
        r["gain"] = r["tolerable_ber"] / ref if ref else None
        ref = base["tolerable_ber_interp"]
        r["gain_interp"] = r["tolerable_ber_interp"] / ref if ref else None
        g = safe_ratio(boot[(r["representation"], r["protection"])], boot[REFERENCE])
        r["gain_lo"], r["gain_hi"] = percentile_interval(g, confidence) if ref else (None, None)
        lo, hi = r["gain_lo"], r["gain_hi"]
        r["spans_10x"] = bool(lo is not None and hi is not None and (lo <= 0 or hi >= 10 * lo))
    return sorted(out, key=lambda r: (-r["tolerable_ber_interp"], r["config"]))


def _trials_near(pts: Sequence[dict[str, Any]], ber: float) -> int | None:
    """Trials of the two grid points around ``ber`` (the fewer of them), None off the grid."""
    if not pts or ber <= 0:
        return None
    bers = [p["ber"] for p in pts]
    i = int(np.searchsorted(bers, ber))
    near = [pts[j]["trials"] for j in (i - 1, i) if 0 <= j < len(pts)]
    return min(near)


def gain_text(r: dict[str, Any]) -> str:
    """A gain with its interval for tables: ``"660x [210, 2.1e3]"``, ``">= ..."`` when
    censored, ``"none"`` without a tolerable BER, and ``"(spans >= 10x)"`` when unresolved."""
    if r.get("gain_interp") is None:
        return "n/a (float32 below the grid)"
    if not r["tolerable_ber_interp"]:
        return "none"
    lo, hi = r.get("gain_lo"), r.get("gain_hi")
    txt = f"{'>= ' if r.get('censored') else ''}{r['gain_interp']:.3g}x"
    if lo is not None and hi is not None:
        txt += f" [{lo:.3g}, {hi:.3g}]"
    return txt + (" (interval spans >= 10x)" if r.get("spans_10x") else "")


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
