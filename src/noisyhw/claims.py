"""The research claims noisyhw reproduces: one registry that the README, the docs and the reports
read, so that they cannot drift apart.

Each :class:`Claim` is one published number (or a published statement with a number attached):
the paper, its arXiv id, where in the paper it stands, the value and its units, and the test a
measurement has to pass to count as *reproduced*. A :class:`Finding` is what a run measured for
a claim, with its 95% interval and the setting that differs from the paper's;
:func:`judge` turns the two into a verdict.

>>> c = CLAIMS["nvm-4bit"]
>>> c.arxiv, c.units
('2002.10636', 'accuracy points lost')
>>> judge(c, measured=0.3, low=-0.4, high=1.0).verdict
'reproduced'

The papers' full texts were not available to the project (see the research notes); where the
location in the paper is unknown, ``where`` says which public text the number comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

__all__ = [
    "CLAIMS",
    "NOT_COMPARABLE",
    "NOT_REPRODUCED",
    "PAPERS",
    "REPRODUCED",
    "Claim",
    "Finding",
    "Paper",
    "claims_for",
    "judge",
]

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_COMPARABLE = "not comparable"
Verdict = Literal["reproduced", "not reproduced", "not comparable"]


@dataclass(frozen=True)
class Paper:
    """A paper whose results noisyhw reproduces."""

    arxiv: str
    topic: str  # what it is about, in the words of its abstract
    venue: str
    area: str  # the docs page (docs/<area>.md) and README row

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv}"


@dataclass(frozen=True)
class Claim:
    """One published number and the test that a measurement of it must pass.

    ``test``: ``at_least`` (the interval's upper end reaches ``value``: not significantly below),
    ``within`` (the interval holds ``value``: a reference curve matched),
    ``at_most`` (the interval's lower end is at most ``value``), ``positive`` (the interval lies
    above 0: a gain that is really there), ``holds`` (a statement checked exactly, measured as 1
    when it holds for every case and 0 otherwise).
    """

    key: str
    arxiv: str | None  # None: a public reference, not one of the papers
    source: str  # the paper's short name, or the reference's
    where: str  # figure / table / abstract; "abstract" where the body was not available
    statement: str  # the claim in words, with its number
    value: float
    units: str
    test: Literal["at_least", "within", "at_most", "positive", "holds"]
    paper_setting: str  # the setting the paper measured it in
    section: str  # the demo section that measures it

    @property
    def reference(self) -> str:
        """``<source>, arXiv <id> (<where>)``: where the number comes from."""
        if self.arxiv:
            return f"{self.source}, arXiv {self.arxiv} ({self.where})"
        return f"{self.source} ({self.where})"

    def describe(self) -> str:
        """``<source> (arXiv <id>, <where>): <statement>`` for tables and docs."""
        ref = f"arXiv {self.arxiv}, {self.where}" if self.arxiv else self.where
        return f"{self.source} ({ref}): {self.statement}"


@dataclass(frozen=True)
class Finding:
    """What a run measured for a claim: the value with its 95% interval, in the claim's units."""

    claim: Claim
    measured: float | None
    low: float | None = None
    high: float | None = None
    setting: str = ""  # what differs from the paper's setting
    verdict: Verdict = NOT_COMPARABLE
    note: str = ""

    def measured_text(self) -> str:
        """``0.3 [-0.4, 1] accuracy points lost``; ``holds`` / ``fails`` for a statement
        checked exactly; ``not measured``."""
        if self.measured is None or (
            isinstance(self.measured, float) and math.isnan(self.measured)
        ):
            return "not measured"
        if self.claim.test == "holds":
            return "holds" if self.measured >= self.claim.value else "fails"
        text = _num(self.measured)
        if self.low is not None and self.high is not None:
            text += f" [{_num(self.low)}, {_num(self.high)}]"
        return f"{text} {self.claim.units}"


def _num(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}"


def judge(
    claim: Claim,
    measured: float | None,
    low: float | None = None,
    high: float | None = None,
    *,
    setting: str = "",
    comparable: bool = True,
    note: str = "",
) -> Finding:
    """The verdict on ``claim`` of a measurement with 95% interval ``[low, high]`` (the point
    itself where no interval is given). ``comparable=False`` (the setting differs in a way that
    decides the number, e.g. ImageNet vs 8x8 digits) or no measurement gives *not comparable*.
    A verdict on a point estimate without an interval says so in its note."""
    f = Finding(claim, measured, low, high, setting, NOT_COMPARABLE, note)
    if measured is None or not comparable or math.isnan(measured):
        return f
    lo = measured if low is None else low
    hi = measured if high is None else high
    ok = {
        "at_least": hi >= claim.value,
        "at_most": lo <= claim.value,
        "within": lo <= claim.value <= hi,
        "positive": lo > 0,
        "holds": measured >= claim.value,
    }[claim.test]
    if claim.test != "holds" and (low is None or high is None):  # say how weak the basis is
        note = "; ".join(t for t in ("point estimate, no interval", note) if t)
    return replace(f, verdict=REPRODUCED if ok else NOT_REPRODUCED, note=note)


PAPERS: dict[str, Paper] = {
    p.arxiv: p
    for p in (
        Paper(
            "1811.10649",
            "noisy computations during inference: noise-injected training, voting, noisy defence",
            "arXiv 2018",
            "analog",
        ),
        Paper(
            "1807.06555",
            "deep noise injection training of RNNs and LSTMs for noisy computation",
            "arXiv 2018",
            "analog",
        ),
        Paper(
            "2002.10636",
            "NVM-array based quantization- and noise-resilient LSTM networks",
            "IEEE ICRC 2019",
            "nvm",
        ),
        Paper(
            "1709.06173",
            "neural networks stored in noisy media with ECC turned off",
            "arXiv 2017 (JOIG 2018)",
            "storage",
        ),
        Paper(
            "2004.05531",
            "unified DNN weight pruning with dynamically reweighted regularization",
            "arXiv 2020",
            "prune",
        ),
        Paper("2002.12416", "learning in the frequency domain", "CVPR 2020", "freq"),
        Paper(
            "1601.06184",
            "joint source-channel decoding of polar codes for language-based sources",
            "IEEE GLOBECOM 2016",
            "jscc",
        ),
        Paper(
            "1207.4530",
            "time-space constrained codes for phase-change memory",
            "IEEE GLOBECOM 2011 / Trans. IT 2013",
            "pcm",
        ),
    )
}


def _claims(*items: Claim) -> dict[str, Claim]:
    return {c.key: c for c in items}


CLAIMS: dict[str, Claim] = _claims(
    Claim(
        "analog-voting",
        "1811.10649",
        "Noisy inference",
        "abstract",
        "noise-injected training + voting: 21.1% -> 99.5% accuracy at 0 dB SNR (MNIST)",
        99.5,
        "% accuracy at 0 dB",
        "at_least",
        "MNIST, LeNet-size CNN, 0 dB SNR on every matrix-vector product",
        "analog",
    ),
    Claim(
        "analog-rnn",
        "1807.06555",
        "Deep noise injection",
        "abstract",
        "noise-trained RNNs keep their accuracy over a wide range of inference noise "
        "(gain over the clean-trained LSTM at 0 dB > 0)",
        0.0,
        "accuracy points gained at 0 dB",
        "positive",
        "MNIST stroke sequences, vanilla RNN / LSTM",
        "analog",
    ),
    Claim(
        "nvm-4bit",
        "2002.10636",
        "NVM-quantized LSTM",
        "abstract",
        "4-bit NVM weights + 4-bit DAC/ADC match the float LSTM (at most 1 point lost)",
        1.0,
        "accuracy points lost",
        "at_most",
        "LSTM on sequence tasks with quantization-aware training",
        "nvm",
    ),
    Claim(
        "storage-detection",
        "1709.06173",
        "Noisy-media storage",
        "abstract",
        "weight nulling raises the tolerable bit error rate at least 2x (up to orders of "
        "magnitude)",
        2.0,
        "x tolerable BER of float32",
        "at_least",
        "MNIST / CIFAR-10 networks, float32 weights, i.i.d. bit flips, ECC off",
        "storage",
    ),
    Claim(
        "storage-ecc",
        "1709.06173",
        "Noisy-media storage",
        "abstract (argued from ECC's storage and bandwidth cost; no ECC measured)",
        "at equal storage, cheap detection (weight nulling, range checks) tolerates a higher "
        "raw bit error rate than an error-correcting code",
        0.0,
        "log10 tolerable-BER ratio detection / ECC at equal bits per parameter",
        "positive",
        "MNIST / CIFAR-10 networks with ECC turned off (ECC overhead 10-20%)",
        "storage",
    ),
    Claim(
        "prune-reweighted",
        "2004.05531",
        "Reweighted pruning",
        "abstract and journal version",
        "reweighted regularization prunes to the target sparsity with no accuracy loss "
        "(at most 1 point lost)",
        1.0,
        "accuracy points lost",
        "at_most",
        "LeNet-5 / AlexNet / ResNet-50 on MNIST and ImageNet, long retraining",
        "prune",
    ),
    Claim(
        "freq-gain",
        "2002.12416",
        "Frequency-domain learning",
        "abstract; repo README table",
        "DCT inputs beat RGB at equal input size by +1.41 top-1 points (ResNet-50, ImageNet)",
        1.41,
        "top-1 points gained",
        "at_least",
        "ImageNet 448x448 -> 192x56x56 DCT, ResNet-50, 24 selected channels",
        "freq",
    ),
    Claim(
        "jscc-gain",
        "1601.06184",
        "Joint source-channel polar decoding",
        "abstract",
        "dictionary-aided joint decoding beats CRC-aided SCL by over 0.6 dB",
        0.6,
        "dB gained at equal FER",
        "at_least",
        "English text, polar code with CA-SCL, list size 8 (setup not published in the abstract)",
        "jscc",
    ),
    Claim(
        "pcm-bound",
        "1207.4530",
        "Time-space constrained PCM codes",
        "abstract (theorems)",
        "constrained codes exist for every (alpha, beta, p), with rates below the general "
        "upper bound",
        1.0,
        "",
        "holds",
        "theorems; the paper's constructions (ours are reconstructions)",
        "pcm",
    ),
    Claim(
        "polar-sc-1024",
        None,
        "Polar codes, public reference curve",
        "5G NR construction, (1024,512) SC, BPSK-AWGN",
        "FER 0.102 at Eb/N0 2.0 dB",
        0.102,
        "FER at 2.0 dB",
        "within",
        "(1024,512) polar code, 5G reliability sequence, SC decoding",
        "polar",
    ),
    Claim(
        "bpsk-closed-form",
        None,
        "Uncoded BPSK",
        "closed form Q(sqrt(2 Eb/N0))",
        "the Monte-Carlo FER intervals hold Q(sqrt(2 Eb/N0)) at every point",
        1.0,
        "",
        "holds",
        "uncoded BPSK over AWGN",
        "scale",
    ),
)


def claims_for(section: str) -> list[Claim]:
    """The claims a demo section measures, in registry order."""
    return [c for c in CLAIMS.values() if c.section == section]


def markdown_table() -> str:
    """The registry as a Markdown table (docs/claims.md holds it; a test keeps them equal).
    Regenerate with ``python -m noisyhw.claims``."""
    lines = [
        "| claim | paper | where | claimed | units | test | demo section |",
        "|---|---|---|---|---|---|---|",
    ]
    tests = {
        "at_least": "measured interval reaches it",
        "within": "measured interval holds it",
        "at_most": "measured interval starts at or below it",
        "positive": "measured interval above 0",
        "holds": "holds in every case",
    }
    for c in CLAIMS.values():
        paper = f"[arXiv {c.arxiv}](https://arxiv.org/abs/{c.arxiv})" if c.arxiv else c.source
        value = "–" if c.test == "holds" else f"{c.value:g}"
        lines.append(
            f"| {c.statement} | {paper} | {c.where} | {value} | {c.units or '–'} | "
            f"{tests[c.test]} | `{c.section}` |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table(), end="")
