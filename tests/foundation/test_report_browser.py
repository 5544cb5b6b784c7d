"""A demo-sized report rendered in a real browser (headless Chromium, 1400x900).

Checks what a reader sees: no broken images, the summary table within the first screen, nothing
wider than the page. Skipped, with the reason, where no Chromium is installed (``.ci/run``
installs Debian's ``chromium``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from noisyhw.experiments.findings import annotate
from noisyhw.sweep import plots
from noisyhw.sweep.report import Report

WIDTH, HEIGHT = 1400, 900
BROWSER = next(
    (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no chromium: apt-get install chromium to run the browser test"
)

# run in the page after load; the verdict is written into the DOM for --dump-dom to print
_PROBE = """
<script>
window.addEventListener('load', () => {
  const W = window.innerWidth;
  const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
    .map(i => i.getAttribute('src'));
  const wide = [...document.body.querySelectorAll('*')]
    .filter(e => e.getBoundingClientRect().right > W + 1 && !e.closest('.scroll'))
    .map(e => e.tagName + (e.id ? '#' + e.id : ''));
  const summary = document.getElementById('summary');
  const out = {
    width: W, height: window.innerHeight,
    scrollWidth: document.documentElement.scrollWidth,
    images: document.images.length, broken: broken, wide: wide.slice(0, 10),
    summaryTop: summary ? summary.getBoundingClientRect().top : null,
    tableBottom: summary ? summary.nextElementSibling.querySelector('tr:nth-child(2)')
      .getBoundingClientRect().bottom : null,
  };
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _demo_sized_report(folder: Path) -> Path:
    """Ten sections like the demo's: a failed one, findings, long tables, many plots, a
    12-series plot with a wide legend, a traceback, long unbroken text."""
    rep = Report("noisyhw demo", meta={"command": "noisyhw demo --fast --out " + "x" * 150})
    failed = rep.section("Polar codes: SC vs SCL vs CA-SCL")
    failed.code("Traceback (most recent call last):\n" + "  File 'a.py', line 1, in " + "f" * 300)
    annotate(failed, "polar", "failed: DataError: numba missing", [])
    rows12 = [
        {"ber": b, "accuracy": 0.9 - i / 10 - k / 100, "config": f"format{k}/nulling"}
        for k in range(12)
        for i, b in enumerate((1e-5, 1e-4, 1e-3))
    ]
    for n, name in enumerate(("storage", "pcm", "nvm", "analog", "freq", "jscc", "prune", "scale")):
        sec = rep.section(f"Section {name}: a long title about what was measured here")
        sec.text("Words " * 80 + "a" * 400)
        sec.table([{"i": i, "value": i / 3, "flag": i % 2 == 0, "none": None} for i in range(180)])
        sec.table([{f"column_{j}": j * 1e-7 for j in range(40)}], title="a very wide table")
        png = plots.line_plot(
            rows12, "ber", "accuracy", folder / f"{name}.png", hue="config", logx=True
        )
        sec.image(png, f"{name}: accuracy vs BER, 12 configurations")
        sec.image(plots.bar_plot(list("abcdefgh"), range(8), folder / f"{name}_bar.png"), "bars")
        annotate(sec, name, "ok", [{"config": "float32/nulling", "gain": 3.0 + n}])
    return rep.write(folder / "report.html")


def _chromium(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                BROWSER,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                f"--window-size={WIDTH},{HEIGHT}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def test_report_in_headless_chromium(tmp_path):
    page = _demo_sized_report(tmp_path)
    shot = tmp_path / "first_screen.png"
    done = _chromium(f"--screenshot={shot}", page.as_uri())
    assert shot.is_file() and shot.stat().st_size > 10_000, done.stderr[-2000:]
    import matplotlib.image as mpimg

    assert mpimg.imread(shot).shape[:2] == (HEIGHT, WIDTH)

    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("</body>", _PROBE + "</body>"))
    dom = _chromium("--dump-dom", "--virtual-time-budget=5000", probed.as_uri()).stdout
    start = dom.index('<pre id="probe">') + len('<pre id="probe">')
    result = json.loads(dom[start : dom.index("</pre>", start)])
    assert result["width"] == WIDTH
    assert result["images"] == 16 and result["broken"] == [], result
    assert result["scrollWidth"] <= WIDTH and result["wide"] == [], result
    # the summary heading and its first row are within the first screen
    screen = min(HEIGHT, result["height"])  # the viewport without the window's own bars
    assert 0 < result["summaryTop"] < screen and result["tableBottom"] < screen, result


def test_probe_sees_a_broken_image(tmp_path):
    """The check can fail: a missing plot is reported as broken."""
    rep = Report("r")
    rep.section("s").image(tmp_path / "missing.png", "gone")
    page = rep.write(tmp_path / "report.html")
    page.write_text(page.read_text().replace("</body>", _PROBE + "</body>"))
    dom = _chromium("--dump-dom", "--virtual-time-budget=5000", page.as_uri()).stdout
    start = dom.index('<pre id="probe">') + len('<pre id="probe">')
    assert json.loads(dom[start : dom.index("</pre>", start)])["broken"] == ["missing.png"]
