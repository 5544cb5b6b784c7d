"""Reports a researcher reads: labels for people, plots, the summary-first page, the claims."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from noisyhw import claims as C
from noisyhw.experiments.findings import annotate, findings
from noisyhw.sweep import plots
from noisyhw.sweep.labels import cell, header, label
from noisyhw.sweep.report import FOLD_ROWS, Report

ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- labels
def test_labels_never_show_python_values():
    assert [cell(v) for v in (None, True, False, float("nan"), float("inf"))] == [
        "–",
        "yes",
        "no",
        "n/a",
        "∞",
    ]
    assert cell({"a": 1}) == "a 1" and cell([1, 2.5]) == "1, 2.5"
    assert header("snr_db") == "SNR (dB)" and header("elapsed_s") == "time (s)"
    text = label({"qat": False, "config": "hwo8/nulling", "series": "upper bound", "bits": None})
    assert text == "no QAT, hwo8 + nulling, upper bound, no bits"
    assert label({"qat": True, "ebn0_db": 2.0}) == "QAT, Eb/N0 2 dB"
    for bad in ("None", "True", "False", "=", "{"):
        assert bad not in text


# ----------------------------------------------------------------------------- plots
@pytest.fixture
def capture(monkeypatch):
    """The figures plots draw, kept open for inspection (nothing is written)."""
    figs = []

    def keep(fig, path):
        fig.canvas.draw()
        figs.append(fig)
        return Path(path)

    monkeypatch.setattr(plots, "_save", keep)
    yield figs
    import matplotlib.pyplot as plt

    for f in figs:
        plt.close(f)


def _series_lines(ax):
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]


def test_series_styles_distinct_for_hundreds_of_series():
    styles = {tuple(plots.series_style(i).values()) for i in range(plots.STYLE_PERIOD)}
    assert len(styles) == plots.STYLE_PERIOD == 360
    # the twelve storage configurations used to repeat orange: colour+marker now differ
    assert len({(s["color"], s["marker"]) for s in map(plots.series_style, range(12))}) == 12


def test_twelve_series_all_distinct_and_reference_lines_in_legend(capture, tmp_path):
    rows = [
        {"ber": b, "acc": 0.9 - i / 10, "config": f"c{k}/none"}
        for k in range(12)
        for i, b in enumerate((1e-4, 1e-3))
    ]
    plots.line_plot(
        rows, "ber", "acc", tmp_path / "a.png", hue="config", logx=True, hlines={"clean": 0.9}
    )
    ax = capture[0].axes[0]
    lines = _series_lines(ax)
    combos = {(ln.get_color(), ln.get_marker(), ln.get_linestyle()) for ln in lines}
    assert len(combos) == len(lines) == 13  # 12 series + the reference line
    assert not ax.texts  # reference labels live in the legend, they cannot overlap
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "c0 + none" in legend and "clean" in legend


def test_categorical_cases_are_markers_not_joined(capture, tmp_path):
    rows = [
        {"case": (a, b, 1), "rate": 1 / (a + b), "series": s}
        for a in (1, 2)
        for b in (1, 3)
        for s in ("construction", "upper bound")
    ]
    plots.line_plot(rows, "case", "rate", tmp_path / "c.png", hue="series")
    ax = capture[0].axes[0]
    assert all(ln.get_linestyle() == "None" for ln in _series_lines(ax))
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "(1, 1, 1)",
        "(1, 3, 1)",
        "(2, 1, 1)",
        "(2, 3, 1)",
    ]


def test_integer_axis_gets_integer_ticks(capture, tmp_path):
    rows = [{"epoch": e, "val_acc": 0.5 + e / 10} for e in range(1, 5)]
    plots.line_plot(rows, "epoch", "val_acc", tmp_path / "e.png")
    ax = capture[0].axes[0]
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "val. accuracy"


def test_zero_error_point_is_an_upper_bound_arrow_not_a_vanished_point(capture, tmp_path):
    rows = [
        {"ebn0_db": 1.0, "fer": 0.1, "lo": 0.08, "hi": 0.12},
        {"ebn0_db": 2.0, "fer": 0.0, "lo": 0.0, "hi": 0.003},
    ]
    plots.line_plot(rows, "ebn0_db", "fer", tmp_path / "z.png", logy=True, band=("lo", "hi"))
    ax = capture[0].axes[0]
    arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == 1
    start, end = arrows[0].xyann, arrows[0].xy
    assert start == (2.0, 0.003) and end[1] < start[1]  # from the CI's upper end, downwards
    assert ax.get_ylim()[0] <= end[1]  # the arrow is inside the axes
    # no sentinel: nothing is drawn at a made-up small value
    ys = np.concatenate([ln.get_ydata() for ln in _series_lines(ax)])
    assert ys.min() >= 0.003


def test_zero_without_band_is_marked_below_the_axis(capture, tmp_path):
    rows = [{"bits": 8, "tol": 1e-3, "f": "a"}, {"bits": 16, "tol": 0.0, "f": "b"}]
    plots.line_plot(rows, "bits", "tol", tmp_path / "t.png", hue="f", logy=True)
    legend = [t.get_text() for t in capture[0].axes[0].get_legend().get_texts()]
    assert "zero (below the log axis)" in legend


def test_every_figure_has_an_svg_beside_a_larger_png(tmp_path):
    import matplotlib.image as mpimg

    png = plots.line_plot([{"x": 1, "y": 2}, {"x": 2, "y": 3}], "x", "y", tmp_path / "p.png")
    assert png.with_suffix(".svg").read_text().lstrip().startswith("<?xml")
    assert mpimg.imread(png).shape[1] >= 1000  # was 700 px
    bar = plots.bar_plot(["a", "b"], [1.0, 2.0], tmp_path / "b.png")
    heat = plots.heatmap(np.eye(3), tmp_path / "h.png")
    assert bar.with_suffix(".svg").is_file() and heat.with_suffix(".svg").is_file()


# ----------------------------------------------------------------------------- report page
def _demo_like(tmp_path: Path) -> Report:
    rep = Report("noisyhw demo", meta={"command": "noisyhw demo --fast", "seed": 0})
    ok = rep.section("Storage")
    ok.text("An MLP stored in several formats.")
    ok.table([{"config": "hwo8/nulling", "qat": True, "gain": None, "ber": 1e-5}] * 3)
    ok.table([{"i": i} for i in range(180)], title="campaign rows")
    ok.image(plots.bar_plot(["a"], [1.0], tmp_path / "s.png"), "a plot")
    annotate(ok, "storage", "ok", [{"config": "float32/nulling", "gain": 10.6}])
    bad = rep.section("polar")  # failed before it set its title
    annotate(bad, "polar", "failed: DataError: no numba", [])
    return rep


def test_report_answers_did_it_work_first(tmp_path):
    rep = _demo_like(tmp_path)
    page = rep.render(tmp_path)
    order = [page.index(s) for s in ("Contents", "failed or were", "id='summary'", "<h2 id='s-")]
    assert order == sorted(order)
    # the failed section comes first, with its reason, in the list, the summary and the body
    assert page.index("id='s-polar-codes-polar'") < page.index("id='s-storage'")
    assert "DataError: no numba" in page
    assert ">Polar codes (polar)</a>" in page  # a name for people, not the raw id alone
    summary = page[page.index("id='summary'") : page.index("<h2 id='s-")]
    assert "arXiv 1709.06173" in summary and "reproduced" in summary and "10.6" in summary
    # long tables fold; short ones do not; labels are for people
    assert page.count("<details>") == 1 and "180 rows" in page and FOLD_ROWS < 180
    assert not re.search(r"<td>(None|True|False)</td>", page)
    assert "<td>yes</td>" in page and "<td>–</td>" in page
    assert "href='s.svg'" in page


def test_report_without_claims_has_no_empty_summary(tmp_path):
    rep = Report("noisyhw train")
    rep.section("Model").text("trained")
    assert "id='summary'" not in rep.render(tmp_path)


# ----------------------------------------------------------------------------- claims
def test_registry_holds_the_eight_papers_and_their_claims():
    assert len(C.PAPERS) == 8
    assert {c.arxiv for c in C.CLAIMS.values() if c.arxiv} == set(C.PAPERS)
    for c in C.CLAIMS.values():
        assert c.units is not None and c.statement and c.where and c.section


def test_readme_and_docs_cite_only_registered_papers():
    """The README and the docs cannot drift from the registry: every arXiv id they cite is
    a registered paper, and the README names all eight."""
    readme = (ROOT / "README.md").read_text()
    cited = set(re.findall(r"\b(\d{4}\.\d{4,5})\b", readme))
    assert set(C.PAPERS) <= cited
    for doc in (ROOT / "docs").glob("*.md"):
        for arxiv in re.findall(r"arXiv[: ]+(\d{4}\.\d{4,5})", doc.read_text()):
            assert arxiv in C.PAPERS, (doc.name, arxiv)


@pytest.mark.parametrize(
    ("key", "measured", "low", "high", "verdict"),
    [
        ("nvm-4bit", 0.5, None, None, C.REPRODUCED),  # at most 1 point lost
        ("nvm-4bit", 1.5, 1.2, 1.8, C.NOT_REPRODUCED),
        ("nvm-4bit", 1.5, 0.9, 2.1, C.REPRODUCED),  # not significantly worse
        ("jscc-gain", 0.3, 0.1, 0.5, C.NOT_REPRODUCED),
        ("analog-rnn", 3.0, -1.0, 7.0, C.NOT_REPRODUCED),  # a gain must be really there
        ("analog-rnn", 3.0, 1.0, 5.0, C.REPRODUCED),
        ("polar-sc-1024", 0.11, 0.095, 0.125, C.REPRODUCED),
        ("polar-sc-1024", 0.2, 0.15, 0.25, C.NOT_REPRODUCED),
        ("pcm-bound", 0.0, None, None, C.NOT_REPRODUCED),
        ("storage-detection", None, None, None, C.NOT_COMPARABLE),
    ],
)
def test_judge(key, measured, low, high, verdict):
    assert C.judge(C.CLAIMS[key], measured, low, high).verdict == verdict


def test_judge_not_comparable_setting_wins():
    f = C.judge(C.CLAIMS["freq-gain"], 5.0, comparable=False, setting="digits")
    assert f.verdict == C.NOT_COMPARABLE and f.measured_text() == "5 top-1 points gained"


def test_findings_from_demo_rows():
    pcm = findings("pcm", [{"rate": 0.5, "upper": 0.69}, {"rate": 0.44, "upper": 0.55}])
    assert pcm[0].verdict == C.REPRODUCED and pcm[0].measured_text() == "holds"
    over = findings("pcm", [{"rate": 0.7, "upper": 0.69}])
    assert over[0].verdict == C.NOT_REPRODUCED
    nvm = findings(
        "nvm",
        [
            {"stage": "float", "accuracy": 0.88},
            {"stage": "bits", "bits": 4, "qat": True, "accuracy": 0.875},
        ],
    )
    assert nvm[0].verdict == C.REPRODUCED and abs(nvm[0].measured - 0.5) < 1e-9
    # the closed form inside every family-wise interval: holds; far outside one: fails
    good = [
        {"errors": 100, "frames": 1000, "theory": 0.1},
        {"errors": 50, "frames": 1000, "theory": 0.05},
    ]
    assert findings("scale", good)[0].verdict == C.REPRODUCED
    bad = [{"errors": 100, "frames": 1000, "theory": 0.2}]
    assert findings("scale", bad)[0].verdict == C.NOT_REPRODUCED
    # rows that lack what a claim needs: not measured, and the note says why
    jscc = findings("jscc", [{"scheme": "cascl", "ebn0_db": 1.0, "fer": 0.1}])
    assert jscc[0].verdict == C.NOT_COMPARABLE and jscc[0].note.startswith("not measured")
    assert findings("classifier", [{"x": 1}]) == []


def test_docs_claims_table_is_the_registry():
    """docs/claims.md holds the registry's table as generated (python -m noisyhw.claims)."""
    text = (ROOT / "docs" / "claims.md").read_text()
    start = text.index("<!-- claims:start -->\n") + len("<!-- claims:start -->\n")
    assert text[start : text.index("<!-- claims:end -->")] == C.markdown_table()


def test_polar_text_gains_read_as_words():
    from noisyhw.experiments.jscc import gains_text

    row = {"scheme": "joint", "where": "target", "target_fer": 0.01}
    gains = {
        "joint_vs_cascl_db@fer=0.01": dict(row, gain_db=0.61, ci_low=0.42, ci_high=0.8),
        "adaptive_vs_cascl_db@fer=0.01": dict(
            row, scheme="adaptive", gain_db=None, ci_low=None, ci_high=None
        ),
        "joint_vs_cascl_db@max": dict(
            row, where="max", target_fer=0.03, gain_db=0.7, ci_low=None, ci_high=None
        ),
    }
    text = gains_text(gains, 0.01)
    assert "joint +0.61 [0.42, 0.80] at FER 0.01" in text
    assert "adaptive n/a at FER 0.01" in text
    assert "joint +0.70 (interval unresolved) largest FER 0.03" in text
    assert "{" not in text and "None" not in text


def test_verdict_on_a_point_estimate_says_so():
    point = C.judge(C.CLAIMS["nvm-4bit"], 0.5)
    assert point.verdict == C.REPRODUCED and point.note.startswith("point estimate, no interval")
    assert C.judge(C.CLAIMS["nvm-4bit"], 0.5, 0.1, 0.9).note == ""
