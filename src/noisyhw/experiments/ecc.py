"""ECC or detection at equal storage: polar-coded weights against weight nulling, range
detection and the Hamming-weight-ordered code at the same stored bits per parameter.

The paper on stored weights (arXiv 1709.06173) turns ECC off because it costs storage and
bandwidth, and argues that cheap detection is enough. This study asks it at **equal storage**:
per budget of stored bits per parameter (:data:`BUDGETS`), configurations that spend the same
bits either on an error-correcting polar code over fewer value bits (``fixed6 + polar 3/4`` at 8
bits, ``fixed8 + polar 1/2`` at 16) or on more value bits with detection (``fixed8 + nulling``,
``float16 + range``, ``hwo16 + nulling``, ...). Every configuration goes through the storage
fault campaign (:func:`noisyhw.storage.campaign.run_campaign`: adaptive Monte-Carlo trials,
common random numbers, resumable), and its statistics (:func:`~noisyhw.storage.campaign.
summarize`, :func:`~noisyhw.storage.campaign.tolerable_ber` with bootstrap intervals).

The verdict per budget and BER compares the best ECC configuration with the best detection one
by their 95% intervals of the mean accuracy (non-overlapping intervals: a win; conservative,
the trials are paired but only sums are kept); per budget, the ratio of their tolerable BERs
with a 95% parametric-bootstrap interval (:func:`~noisyhw.storage.campaign.bootstrap_means`).
The decoder's cost is the wall time of decoding the clean stored model.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..claims import CLAIMS, Finding, judge
from ..errors import EPOCHS_MAX, ParameterError, check_choice, check_float, check_int
from ..storage import campaign as C
from ..storage import protection, representation, store
from ..storage.ecc import PolarECC
from ..sweep import Run, line_plot
from .storage import STUDIES, prepare_model, report_campaign

__all__ = [
    "BUDGETS",
    "OPTIONS",
    "TRIALS_MAX",
    "EccStudyConfig",
    "ber_axis",
    "compare",
    "decode_times",
    "finding",
    "run",
]

#: the most trials per BER and configuration (as ``noisyhw storage campaign``)
TRIALS_MAX = 10_000

#: the equal-storage sets: budget (stored bits per parameter) -> (representation, protection).
#: The ``polar`` rates are chosen so that ``width / rate`` is the budget (1024-bit codewords:
#: 6/0.75 = 8, 8/(2/3) and 6/0.5 ~ 12.05, 8/0.5 = 16; the last block's padding and the
#: per-tensor scale add a few hundredths, stated per configuration in the tables).
BUDGETS: dict[int, tuple[tuple[str, str], ...]] = {
    8: (
        ("fixed6", "polar:3/4"),
        ("fixed8", "none"),
        ("fixed8", "nulling"),
        ("hwo8", "none"),
        ("hwo8", "nulling"),
    ),
    12: (
        ("fixed6", "polar:1/2"),
        ("fixed8", "polar:2/3"),
        ("fixed12", "nulling"),
        ("hwo12", "nulling"),
    ),
    16: (
        ("fixed8", "polar:1/2"),
        ("float16", "range"),
        ("float16", "nulling+range"),
        ("fixed16", "nulling"),
        ("hwo16", "nulling"),
    ),
}

#: config field -> the CLI option that sets it (errors name what the user typed)
OPTIONS = {
    "study": "--study",
    "epochs": "--epochs",
    "budgets": "--budgets",
    "bers": "--bers",
    "fine_per_decade": "--fine-per-decade",
    "fine_from": "--fine-from",
    "trials": "--trials",
    "min_failures": "--min-failures",
    "chunk": "--chunk",
    "tolerance": "--tolerance",
    "margin": "--margin",
    "decoder": "--decoder",
    "n": "--n",
    "seed": "--seed",
    "protection": "--decoder",
}


def ber_axis(
    lo: float = 1e-6,
    hi: float = 1e-1,
    per_decade: int = 2,
    fine_from: float = 1e-2,
    fine_per_decade: int = 8,
) -> list[float]:
    """The log grid ``lo..hi`` at ``per_decade`` points per decade, refined to
    ``fine_per_decade`` from ``fine_from`` up (0: no refinement). The codes fall off a cliff
    between two coarse points near their threshold (a polar code is either fine or broken):
    without the fine points the tolerable BER would be an interpolation across the cliff."""
    grid = set(C.ber_grid(lo, hi, per_decade))
    check_int("fine_per_decade", fine_per_decade, 0, 100)
    if fine_per_decade and fine_from < hi:
        grid |= set(C.ber_grid(max(lo, fine_from), hi, fine_per_decade))
    return sorted(grid)


@dataclass(frozen=True)
class EccStudyConfig:
    """What :func:`run` measures.

    ``budgets``: keys of :data:`BUDGETS`; ``bers``: raw bit error rates (sorted, in (0, 1));
    up to ``trials`` trials per (configuration, BER) in chunks of ``chunk``, a point stopping
    at ``min_failures`` failed trials (accuracy more than ``tolerance`` below clean float32;
    None: always ``trials``); ``epochs`` overrides the study's training epochs; ``decoder``
    (``sc`` or ``scl<L>``) and ``n`` (codeword bits) of every polar code; ``margin``: the
    range check's slack.
    """

    study: str = "mlp-digits"
    epochs: int | None = None
    budgets: tuple[int, ...] = (8, 12, 16)
    bers: tuple[float, ...] = tuple(ber_axis())
    trials: int = 200
    min_failures: int | None = 20
    chunk: int = 20
    tolerance: float = 0.01
    margin: float = 0.1
    decoder: str = "sc"
    n: int = 1024
    seed: int = 0
    device: str = "cpu"
    workers: int = 1

    def __post_init__(self) -> None:
        check_choice("study", self.study, STUDIES)
        if self.epochs is not None:
            check_int("epochs", self.epochs, 1, EPOCHS_MAX)
        if not self.budgets:
            raise ParameterError("budgets", f"one or more of {sorted(BUDGETS)}", self.budgets)
        for b in self.budgets:
            check_choice("budgets", str(b), [str(k) for k in BUDGETS])
        if len(set(self.budgets)) != len(self.budgets):
            raise ParameterError("budgets", "each budget once", self.budgets)
        if not self.bers:
            raise ParameterError("bers", "one or more bit error rates", self.bers)
        for b in self.bers:
            check_float("bers", b, 0.0, 1.0, lo_open=True, hi_open=True)
        check_int("trials", self.trials, 1, TRIALS_MAX)
        check_int("chunk", self.chunk, 1, TRIALS_MAX)
        if self.min_failures is not None:
            check_int("min_failures", self.min_failures, 1, self.trials)
        check_float("tolerance", self.tolerance, 0.0, 1.0)
        check_float("margin", self.margin, 0.0, 1000.0)
        check_int("workers", self.workers, 1, 256)
        if not (self.decoder == "sc" or self.decoder.startswith("scl")):
            raise ParameterError("decoder", "sc or scl<L> (e.g. scl8)", self.decoder)
        try:
            PolarECC.parse(f"polar:0.5:{self.decoder}:n{self.n}")
        except ParameterError as exc:
            field = "n" if str(exc.allowed).startswith("n ") else "decoder"
            raise ParameterError(field, exc.allowed, getattr(self, field)) from None
        C.campaign_points(self.configs(), self.bers)  # every name valid
        for rep, prot in self.configs():  # every polar code holds a word
            ecc = protection(prot).ecc
            if ecc is not None and ecc.k < representation(rep).width:
                raise ParameterError(
                    "n", f"too short: {ecc.name} must hold one {rep} word per codeword", self.n
                )
        for b in self.budgets:  # a short code packs whole words only: its padding costs bits
            for rep, prot in self._pairs(b):
                ecc = protection(prot).ecc
                width = protection(prot).width(representation(rep))
                if ecc is not None and ecc.bits_per_value(width) > 1.02 * b:
                    raise ParameterError(
                        "n",
                        f"too short for equal storage: {rep}/{prot} stores "
                        f"{ecc.bits_per_value(width):.2f} bits per value at the {b}-bit budget",
                        self.n,
                    )

    def configs(self) -> list[tuple[str, str]]:
        """The (representation, canonical protection) pairs of the chosen budgets."""
        return [pair for b in sorted(self.budgets) for pair in self._pairs(b)]

    def _pairs(self, budget: int) -> list[tuple[str, str]]:
        out = []
        for rep, prot in BUDGETS[budget]:
            if prot.startswith("polar:"):
                prot = f"{prot}:{self.decoder}:n{self.n}"
            out.append((rep, protection(prot).name))
        return out

    def budget_of(self) -> dict[tuple[str, str], int]:
        """(representation, protection) -> its budget."""
        return {pair: b for b in self.budgets for pair in self._pairs(b)}


def _is_ecc(prot: str) -> bool:
    return "polar:" in prot


def _interval_text(m: float, lo: float, hi: float) -> str:
    return f"{m:.4f} [{lo:.4f}, {hi:.4f}]"


def _tolerable_replicates(
    points: list[dict[str, Any]],
    clean: float,
    threshold: float,
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Bootstrap replicates (n_boot,) of a configuration's interpolated tolerable BER, as
    :func:`~noisyhw.storage.campaign.tolerable_ber` draws them."""
    pts = sorted(points, key=lambda r: r["ber"])
    reps = np.stack([C.bootstrap_means(r, n_boot, rng) for r in pts], 1)
    return C.crossings([r["ber"] for r in pts], reps, clean, threshold)[1]


def compare(
    summary: list[dict[str, Any]],
    tol: list[dict[str, Any]],
    cfg: EccStudyConfig,
    *,
    n_boot: int = 2000,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per budget and BER, the best ECC and the best detection configuration by mean accuracy
    and who wins: ``both ok`` where both means are within the tolerance of clean float32 (a
    difference there does not matter), else ``ECC`` / ``detection`` where their 95% intervals
    do not overlap, else ``tie``; per budget, the tolerable-BER ratio ECC / detection of the two configurations
    with the highest tolerable BER of each kind, with a 95% bootstrap interval.
    Returns ``(per_ber, per_budget)``."""
    budget = cfg.budget_of()
    ref = next(r for r in tol if r["config"] == "float32/none")["clean_accuracy"]
    threshold = ref - cfg.tolerance
    per_ber, per_budget = [], []
    for b in sorted(cfg.budgets):
        rows = [r for r in summary if budget.get((r["representation"], r["protection"])) == b]
        for ber in sorted({r["ber"] for r in rows if r["ber"] > 0}):
            at = [r for r in rows if r["ber"] == ber]
            ecc = max((r for r in at if _is_ecc(r["protection"])), key=lambda r: r["mean"])
            det = max((r for r in at if not _is_ecc(r["protection"])), key=lambda r: r["mean"])
            if min(ecc["mean"], det["mean"]) >= threshold:
                win = "both ok"  # both within the tolerance: no difference that matters
            elif ecc["ci_lo"] > det["ci_hi"]:
                win = "ECC"
            elif det["ci_lo"] > ecc["ci_hi"]:
                win = "detection"
            else:
                win = "tie"
            per_ber.append(
                {
                    "budget": b,
                    "ber": ber,
                    "ecc": ecc["config"],
                    "ecc_accuracy": _interval_text(ecc["mean"], ecc["ci_lo"], ecc["ci_hi"]),
                    "detection": det["config"],
                    "detection_accuracy": _interval_text(det["mean"], det["ci_lo"], det["ci_hi"]),
                    "ecc_loss": ref - ecc["mean"],
                    "detection_loss": ref - det["mean"],
                    "winner": win,
                }
            )
        tb = [r for r in tol if budget.get((r["representation"], r["protection"])) == b]
        best_e = max((r for r in tb if _is_ecc(r["protection"])), key=_tol_key)
        best_d = max((r for r in tb if not _is_ecc(r["protection"])), key=_tol_key)
        reps = {}
        rng = np.random.default_rng(cfg.seed)  # one stream: the two sets' draws are independent
        for r in (best_e, best_d):
            pts = [s for s in summary if s["config"] == r["config"] and s["ber"] > 0]
            reps[r["config"]] = _tolerable_replicates(
                pts, r["clean_accuracy"], threshold, n_boot, rng
            )
        e, d = best_e["tolerable_ber_interp"], best_d["tolerable_ber_interp"]
        ratio = e / d if d > 0 else math.inf if e > 0 else math.nan
        boot = C.safe_ratio(reps[best_e["config"]], reps[best_d["config"]])
        lo, hi = C.percentile_interval(boot, 0.95)
        verdict = (
            "ECC"
            if lo is not None and lo > 1
            else "detection"
            if hi is not None and hi < 1
            else "tie"
        )
        per_budget.append(
            {
                "budget": b,
                "ecc": best_e["config"],
                "ecc_bits": best_e["bits_per_param"],
                "ecc_tolerable_ber": e,
                "ecc_tol_lo": best_e["tol_lo"],
                "ecc_tol_hi": best_e["tol_hi"],
                "detection": best_d["config"],
                "detection_bits": best_d["bits_per_param"],
                "detection_tolerable_ber": d,
                "det_tol_lo": best_d["tol_lo"],
                "det_tol_hi": best_d["tol_hi"],
                "ratio": ratio,
                "ratio_lo": lo,
                "ratio_hi": hi,
                "censored": bool(best_e["censored"] or best_d["censored"]),
                "winner": verdict,
                "ecc_wins_at": _ranges(per_ber, b, "ECC"),
                "detection_wins_at": _ranges(per_ber, b, "detection"),
            }
        )
    return per_ber, per_budget


def _tol_key(r: dict[str, Any]) -> tuple[float, float]:
    return (r["tolerable_ber_interp"], r["clean_accuracy"])


def _ranges(per_ber: list[dict[str, Any]], budget: int, who: str) -> str:
    """The BERs of ``budget`` where ``who`` wins, as ``1e-3..1e-2`` runs; ``none``."""
    rows = [r for r in per_ber if r["budget"] == budget]
    runs, cur = [], []
    for r in rows:
        if r["winner"] == who:
            cur.append(r["ber"])
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return ", ".join(
        f"{c[0]:.3g}" if len(c) == 1 else f"{c[0]:.3g}..{c[-1]:.3g}" for c in runs
    ) or ("none")


def decode_times(
    model: Any, configs: list[tuple[str, str]], repeats: int = 5
) -> list[dict[str, Any]]:
    """Wall time (ms, median of ``repeats``) to decode the clean stored ``model`` per
    configuration, per parameter (ns) and against the same representation without
    protection. Decoding time does not depend on the BER (SC: a fixed schedule)."""
    out, base = [], {}
    for rep, prot in configs:
        ms = []
        for key in ((rep, "none"), (rep, prot)):
            if key in base and key[1] == "none":
                ms.append(base[key])
                continue
            image = store(model, key[0], key[1])
            image.decode()  # warm: compiled kernels, caches
            t = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                image.decode()
                t.append(time.perf_counter() - t0)
            ms.append(1e3 * float(np.median(t)))
            if key[1] == "none":
                base[key] = ms[-1]
        params = image.num_values
        out.append(
            {
                "config": f"{rep}/{prot}",
                "decode_ms": ms[1],
                "ns_per_param": 1e6 * ms[1] / max(params, 1),
                "x_unprotected": ms[1] / ms[0] if ms[0] > 0 else math.nan,
            }
        )
    return out


def finding(
    per_budget: list[dict[str, Any]], budget: int = 16, model: str = "digits MLP"
) -> Finding:
    """The registry's ``storage-ecc`` claim judged on a budget's tolerable-BER ratio: measured
    ``log10(detection / ECC)`` with its 95% interval (reproduced when the interval lies above
    0: detection tolerates a significantly higher BER)."""
    row = next((r for r in per_budget if r["budget"] == budget), None)
    claim = CLAIMS["storage-ecc"]
    if row is None or row["ratio"] is None or math.isnan(row["ratio"]):
        return judge(claim, None, note=f"not measured: no ratio at {budget} bits/param")

    def neg_log(x: float | None) -> float | None:  # log10(detection / ECC) of a ratio ECC / det.
        if x is None or math.isnan(x):
            return None
        return math.inf if x <= 0 else -math.inf if math.isinf(x) else -math.log10(x)

    lo, hi = neg_log(row["ratio_hi"]), neg_log(row["ratio_lo"])
    return judge(
        claim,
        neg_log(row["ratio"]),
        lo,
        hi,
        setting=f"{model}, {budget} bits/param: {row['detection']} vs {row['ecc']}",
        note="censored at the top of the BER grid" if row["censored"] else "",
    )


def run(
    cfg: EccStudyConfig, *, out: Path | None = None, argv: list[str] | None = None
) -> tuple[Run, list[dict[str, Any]], dict[str, Any]]:
    """``noisyhw storage ecc``: train/load the study's model, run the campaign over every
    budget's configurations, report; returns the run (call ``finish``), the per-budget verdict
    rows and the model facts."""
    study = STUDIES[cfg.study]
    if cfg.epochs is not None:
        study = replace(study, epochs=cfg.epochs)
    run_ = Run(
        "storage ecc",
        asdict(cfg),
        out=out,
        seed=cfg.seed,
        argv=argv,
        extendable=("bers",),  # more BERs resume a run: its points are kept
        options=OPTIONS,
        title=f"ECC or detection at equal storage: {study.model} on {study.dataset}",
    )
    model, test, facts = prepare_model(study, run_.dir, seed=cfg.seed, device=cfg.device)
    configs = cfg.configs()
    rows = C.run_campaign(
        model,
        test.x,
        test.y,
        configs,
        list(cfg.bers),
        cfg.trials,
        run=run_,
        seed=cfg.seed,
        device=cfg.device,
        workers=cfg.workers,
        margin=cfg.margin,
        tolerance=cfg.tolerance,
        min_failures=cfg.min_failures,
        chunk=cfg.chunk,
        description="storage ecc",
    )
    sec = run_.section(f"ECC or detection at equal storage ({study.model} on {study.dataset})")
    sec.text(
        f"{facts['params']:,} parameters ({facts['source']}); clean test accuracy "
        f"{facts['clean_accuracy']:.4f} on {facts['n_test']} images. Budgets (stored bits per "
        "parameter) and their configurations: "
        + "; ".join(
            f"{b}: " + ", ".join(f"{r}/{p}" for r, p in cfg._pairs(b)) for b in sorted(cfg.budgets)
        )
        + f". Polar codes: 5G construction, n = {cfg.n}, {cfg.decoder.upper()} decoding from "
        "the channel LLRs +-log((1-p)/p) (p known to the decoder; min-sum decisions do not "
        "depend on it on a BSC). Every stored bit (codeword bits under a code) flips "
        f"independently at the BER; up to {cfg.trials} trials per point in chunks of "
        f"{cfg.chunk}"
        + (f", stopping at {cfg.min_failures} failed trials" if cfg.min_failures else "")
        + f"; tolerable BER: mean accuracy within {cfg.tolerance:g} of clean float32. At a BER "
        "where both kinds stay within it, neither wins ('both ok'); else a winner has a 95% "
        "interval of the mean accuracy above the other kind's (conservative: the trials are "
        "paired by common random numbers)."
    )
    summary, tol = report_campaign(
        sec, run_.dir, rows, prefix="ecc_", tolerance=cfg.tolerance, title="ECC or detection"
    )
    per_ber, per_budget = compare(summary, tol, cfg)
    budget = cfg.budget_of()
    for b in sorted(cfg.budgets):
        pts = [
            r
            for r in summary
            if r["ber"] > 0 and budget.get((r["representation"], r["protection"])) == b
        ]
        png = line_plot(
            pts,
            "ber",
            "mean",
            run_.plot_path(f"ecc_budget_{b}.png"),
            hue="config",
            band=("ci_lo", "ci_hi"),
            logx=True,
            title=f"{b} stored bits per parameter",
            xlabel="raw bit error rate",
            ylabel="accuracy (mean, 95% CI)",
        )
        sec.image(png, f"equal storage, {b} bits per parameter: accuracy vs raw BER")
    sec.table(
        per_budget,
        [
            "budget",
            "ecc",
            "ecc_tolerable_ber",
            "ecc_tol_lo",
            "ecc_tol_hi",
            "detection",
            "detection_tolerable_ber",
            "det_tol_lo",
            "det_tol_hi",
            "ratio",
            "ratio_lo",
            "ratio_hi",
            "winner",
            "ecc_wins_at",
            "detection_wins_at",
        ],
        title="Verdict per budget: tolerable BER of the best ECC and the best detection "
        "configuration, ratio ECC / detection with its 95% bootstrap interval",
    )
    sec.table(
        per_ber,
        [
            "budget",
            "ber",
            "ecc",
            "ecc_accuracy",
            "detection",
            "detection_accuracy",
            "winner",
        ],
        title="Best ECC vs best detection per budget and BER (mean accuracy [95% CI])",
    )
    times = decode_times(model.cpu(), configs)
    sec.table(
        times,
        ["config", "decode_ms", "ns_per_param", "x_unprotected"],
        title="Decode cost: wall time to load the clean stored model (median of 5)",
    )
    if 16 in cfg.budgets:
        sec.finding(finding(per_budget, 16, model=cfg.study))
    keep = ("config", "bits_per_param", "clean_accuracy", "tolerable_ber_interp", "tol_lo")
    tolerable = [{k: r[k] for k in (*keep, "tol_hi", "censored")} for r in tol]
    return run_, per_budget, facts | {"decode": times, "per_ber": per_ber, "tolerable": tolerable}
