"""What each demo section measured for the registered claims (:mod:`noisyhw.claims`).

One function per demo section reads the rows the section returned and gives one
:class:`~noisyhw.claims.Finding` per claim of that section: the measured value in the claim's
units, its 95% interval where the rows allow one, the setting that differs from the paper's and
the verdict (:func:`~noisyhw.claims.judge`). A section whose rows lack what a claim needs gives a
finding with no measurement and says what is missing: the report never invents a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..claims import CLAIMS, Finding, judge
from ..sweep.labels import cell
from ..sweep.montecarlo import clopper_pearson
from ..sweep.report import Section

__all__ = ["FINDERS", "SECTION_TITLES", "annotate", "findings"]

Rows = Sequence[dict[str, Any]]


def _missing(key: str, what: str, setting: str = "") -> Finding:
    return judge(CLAIMS[key], None, setting=setting, note=f"not measured: {what}")


def _analog(rows: Rows) -> list[Finding]:
    out = []
    mlp = [r for r in rows if r.get("model") == "mlp" and r.get("test_snr_db") == 0.0]
    clean = [r for r in mlp if r.get("train") == "clean" and r.get("votes") == 1]
    trained = [r for r in mlp if r.get("train") != "clean"]
    if trained:
        best = max(trained, key=lambda r: r["accuracy"])
        out.append(
            judge(
                CLAIMS["analog-voting"],
                100 * best["accuracy"],
                setting=f"8x8 digits, small MLP, {best.get('mode', '?')} noise, "
                f"{best.get('votes', 1)} votes, 1 seed; 99.5% is above its clean accuracy",
                comparable=False,
                note=f"clean-trained single pass: {100 * clean[0]['accuracy']:.1f}%"
                if clean
                else "",
            )
        )
    else:
        out.append(_missing("analog-voting", "no noise-trained MLP row at 0 dB"))
    lstm = [
        r
        for r in rows
        if r.get("model") == "lstm" and r.get("test_snr_db") == 0.0 and r.get("votes") == 1
    ]
    base = [r for r in lstm if r.get("train") == "clean"]
    noisy = [r for r in lstm if r.get("train") != "clean"]
    if base and noisy:
        gain = 100 * (max(r["accuracy"] for r in noisy) - base[0]["accuracy"])
        out.append(
            judge(
                CLAIMS["analog-rnn"],
                gain,
                setting="digit rows as sequences, LSTM, 1 seed",
            )
        )
    else:
        out.append(_missing("analog-rnn", "no clean- and noise-trained LSTM rows at 0 dB"))
    return out


def _nvm(rows: Rows) -> list[Finding]:
    floats = [r for r in rows if r.get("stage") == "float" and "accuracy" in r]
    q4 = [r for r in rows if r.get("stage") == "bits" and r.get("bits") == 4 and r.get("qat")]
    if not (floats and q4):
        return [_missing("nvm-4bit", "no float and 4-bit QAT rows")]
    lost = 100 * (floats[0]["accuracy"] - q4[0]["accuracy"])
    return [
        judge(
            CLAIMS["nvm-4bit"],
            lost,
            setting="row-LSTM, short training, 1 seed",
        )
    ]


def _storage(rows: Rows) -> list[Finding]:
    nulling = [r for r in rows if str(r.get("config", "")).endswith("/nulling")]
    pick = next((r for r in nulling if str(r["config"]).startswith("float32/")), None)
    pick = pick or (max(nulling, key=lambda r: r.get("gain") or 0) if nulling else None)
    if pick is None or pick.get("gain") is None:
        return [_missing("storage-detection", "no weight-nulling row with a gain")]
    return [
        judge(
            CLAIMS["storage-detection"],
            float(pick["gain"]),
            setting=f"digits MLP, {pick['config']}, 3 trials per BER (no interval)",
        )
    ]


def _prune(rows: Rows) -> list[Finding]:
    dense = next(
        (
            r.get(k)
            for r in rows
            for k in ("dense_accuracy", "baseline_accuracy")
            if r.get(k) is not None
        ),
        None,
    )
    rw = [r for r in rows if r.get("method") == "reweighted" and r.get("accuracy") is not None]
    if dense is None or not rw:
        return [
            _missing(
                "prune-reweighted",
                "the demo's rows hold no dense-model accuracy",
                setting="small CNN, 2 epochs on 800 images",
            )
        ]
    lost = 100 * (float(dense) - max(r["accuracy"] for r in rw))
    return [judge(CLAIMS["prune-reweighted"], lost, setting="small CNN, short training")]


def _freq(rows: Rows) -> list[Finding]:
    setting = "small images and CNN, a few epochs (not ImageNet / ResNet-50)"
    sizes: dict[Any, tuple[list[float], list[float]]] = {}
    for r in rows:
        if r.get("accuracy") is None or r.get("input_values") is None:
            continue
        dct, rgb = sizes.setdefault(r["input_values"], ([], []))
        if _is_dct(r):
            dct.append(float(r["accuracy"]))
        elif _is_rgb(r):
            rgb.append(float(r["accuracy"]))
    shared = sorted(k for k, (d, s) in sizes.items() if d and s)
    if not shared:
        return [_missing("freq-gain", "no DCT and spatial rows with the same input size", setting)]
    gains = {k: 100 * (max(sizes[k][0]) - max(sizes[k][1])) for k in shared}
    size = shared[-1]  # the largest input both saw
    others = ", ".join(f"{cell(gains[k])} at {k}" for k in shared[:-1])
    return [
        judge(
            CLAIMS["freq-gain"],
            gains[size],
            setting=f"{setting}; {size} input values, 1 seed",
            comparable=False,
            note=f"other sizes: {others}" if others else "",
        )
    ]


def _is_dct(r: dict[str, Any]) -> bool:
    text = " ".join(str(r.get(k, "")) for k in ("input", "name", "kind", "pipeline")).lower()
    return "dct" in text or "freq" in text


def _is_rgb(r: dict[str, Any]) -> bool:
    text = " ".join(str(r.get(k, "")) for k in ("input", "name", "kind", "pipeline")).lower()
    return ("rgb" in text or "spatial" in text or "pixel" in text) and not _is_dct(r)


def _jscc(rows: Rows) -> list[Finding]:
    curves: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        if r.get("fer") is not None and r["fer"] > 0:
            curves.setdefault(str(r["scheme"]), []).append((float(r["ebn0_db"]), float(r["fer"])))
    ref = curves.get("cascl")
    joint = curves.get("joint") or curves.get("adaptive")
    if not (ref and joint):
        seen = {str(r.get("scheme")) for r in rows}
        why = (
            "no frame errors at any point for a scheme (too few frames to locate its curve)"
            if {"cascl", "joint"} <= seen
            else "no CA-SCL and joint FER curves"
        )
        return [_missing("jscc-gain", why)]
    # equal-FER gain at the geometric middle of the FERs both curves span
    lo = max(min(f for _, f in ref), min(f for _, f in joint))
    hi = min(max(f for _, f in ref), max(f for _, f in joint))
    if lo > hi:
        return [_missing("jscc-gain", "the FER curves do not overlap")]
    target = math.sqrt(lo * hi)
    gain = _ebn0_at(ref, target) - _ebn0_at(joint, target)
    return [
        judge(
            CLAIMS["jscc-gain"],
            gain,
            setting=f"our polar code and text, at FER {target:.2g} (no interval)",
        )
    ]


def _ebn0_at(curve: list[tuple[float, float]], fer: float) -> float:
    """Eb/N0 where a FER curve crosses ``fer`` (linear in log10 FER)."""
    pts = sorted(curve)
    x = np.array([p[0] for p in pts])
    y = np.log10([p[1] for p in pts])
    order = np.argsort(y)
    return float(np.interp(math.log10(fer), y[order], x[order]))


def _pcm(rows: Rows) -> list[Finding]:
    cases = [r for r in rows if r.get("rate") is not None and r.get("upper") is not None]
    if not cases:
        return [_missing("pcm-bound", "no rate and upper-bound rows")]
    holds = all(float(r["rate"]) <= float(r["upper"]) + 1e-9 for r in cases)
    return [
        judge(
            CLAIMS["pcm-bound"],
            1.0 if holds else 0.0,
            setting=f"{len(cases)} (alpha, beta, p) cases, our constructions",
        )
    ]


def _polar(rows: Rows) -> list[Finding]:
    return [
        _missing(
            "polar-sc-1024",
            "the demo runs a shorter code (noisyhw polar simulate --n 1024 --k 512 "
            "--decoder sc --ebn0 2.0 measures it)",
            setting="(256,128) + CRC-8 in the demo",
        )
    ]


def _scale(rows: Rows) -> list[Finding]:
    pts = [r for r in rows if {"errors", "frames", "theory"} <= r.keys()]
    if not pts:
        return [_missing("bpsk-closed-form", "no Monte-Carlo points")]
    # family-wise 95%: Bonferroni over the points
    level = 1 - 0.05 / len(pts)
    inside = 0
    for r in pts:
        low, high = clopper_pearson(int(r["errors"]), int(r["frames"]), level)
        inside += low <= float(r["theory"]) <= high
    return [
        judge(
            CLAIMS["bpsk-closed-form"],
            1.0 if inside == len(pts) else 0.0,
            setting=f"{len(pts)} Eb/N0 points, family-wise 95% intervals",
            note=f"closed form inside {inside} of {len(pts)} intervals",
        )
    ]


FINDERS: dict[str, Callable[[Rows], list[Finding]]] = {
    "analog": _analog,
    "nvm": _nvm,
    "storage": _storage,
    "prune": _prune,
    "freq": _freq,
    "jscc": _jscc,
    "pcm": _pcm,
    "polar": _polar,
    "scale": _scale,
}


def findings(section: str, rows: Rows) -> list[Finding]:
    """The findings of a demo section's rows (none for a section without registered claims)."""
    finder = FINDERS.get(section)
    return finder(rows) if finder else []


#: a name for people of each demo section that failed before it set its own title
SECTION_TITLES: dict[str, str] = {
    "classifier": "Classifier training",
    "pcm": "Phase-change memory codes",
    "prune": "Reweighted pruning",
    "storage": "Weights in noisy storage",
    "scale": "Scale: seeded Monte-Carlo",
    "polar": "Polar codes",
    "analog": "Noisy analog inference",
    "freq": "Learning in the frequency domain",
    "jscc": "Joint source-channel decoding of text",
    "nvm": "NVM crossbar LSTM",
}


def annotate(section: Section, name: str, status: str, rows: Rows) -> Section:
    """Mark a restored demo section for the report: its status (``ok``; ``skipped: <reason>``;
    anything else, e.g. ``failed: <reason>``, is a failure) and, when it ran, its findings for
    the registered claims."""
    if section.title == name and name in SECTION_TITLES:  # failed before naming itself
        section.title = f"{SECTION_TITLES[name]} ({name})"
    kind, _, reason = status.partition(":")
    if kind == "skipped":
        return section.skip(reason.strip() or "skipped")
    if status != "ok":  # failed: ..., error: ..., anything else
        return section.fail(reason.strip() or status)
    for f in findings(name, rows):
        section.finding(f)
    return section
