"""Polar-coded weight storage (storage/ecc.py): exact at p = 0, every single error of the
(8, 4) code corrected, post-decoding error rates equal to the polar simulator's, store/corrupt
with ``protection="polar:..."``, and the equal-storage study (experiments/ecc.py, CLI)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from noisyhw import storage as S
from noisyhw.channels import bsc_inplace
from noisyhw.cli import main
from noisyhw.codes.polar.simulate import SimulationConfig, simulate
from noisyhw.errors import ParameterError
from noisyhw.experiments import ecc as X
from noisyhw.storage import campaign as C
from noisyhw.storage.ecc import CodedTensor, PolarECC, channel_llr


@pytest.mark.parametrize("spec", ["polar:0.5", "polar:0.5:scl4:n64", "polar:3/4:n128"])
@pytest.mark.parametrize("width", [3, 8, 16, 32])
def test_zero_errors_decode_exactly(spec, width):
    ecc = PolarECC.parse(spec)
    g = np.random.default_rng(width)
    words = g.integers(0, 2**width, 1000, dtype=np.uint64)
    packed = ecc.encode_words(words, width)
    assert packed.shape == (ecc.blocks(words.size, width), ecc.n // 8)
    assert np.array_equal(ecc.decode_words(packed, words.size, width), words)


def test_every_single_error_of_the_8_4_code_is_corrected():
    """Exhaustive: the (8, 4) polar code (5G set {3, 5, 6, 7}: the Reed-Muller RM(1, 3) code,
    d_min = 4) stores one 4-bit word per codeword; all 16 words x 8 flipped bits (and no
    flip) decode to the word, through the packed storage path, under SC and SCL."""
    for spec in ("polar:0.5:n8", "polar:0.5:scl2:n8"):
        ecc = PolarECC.parse(spec)
        assert (ecc.n, ecc.k, ecc.words_per_block(4)) == (8, 4, 1)
        words = np.arange(16, dtype=np.uint64)
        clean = ecc.encode_words(words, 4)  # (16, 1): one byte per codeword
        for bit in range(8):
            hit = clean ^ np.uint8(1 << bit)
            assert np.array_equal(ecc.decode_words(hit, 16, 4, 0.01, 0.01), words), (spec, bit)
        assert np.array_equal(ecc.decode_words(clean, 16, 4, 0.01, 0.01), words)
    # k = 5 on n = 8 has d_min = 2: some single errors must defeat it (the check can fail)
    ecc = PolarECC(rate=5 / 8, n=8)
    five = np.arange(32, dtype=np.uint64)
    packed = ecc.encode_words(five, 5)
    wrong = sum(
        int((ecc.decode_words(packed ^ np.uint8(1 << b), 32, 5) != five).sum()) for b in range(8)
    )
    assert wrong > 0


def _flipped(packed: np.ndarray, p: float, seed: int) -> np.ndarray:
    out = packed.copy()
    bsc_inplace(out, p, np.random.default_rng(seed))
    return out


def test_error_rates_match_the_polar_simulator():
    """The storage path (words -> packed codewords -> bsc_inplace -> decode) against
    ``codes.polar.simulate`` on the BSC for the same (256, 128) code and SC decoder, with
    independent draws. Frames are independent: FER by a two-proportion z-test, BER by a z-test
    on the per-frame bit error counts (variance from the storage side's frames, valid under the
    null of equal distributions); each fails with probability 0.1% when they agree
    (|z| < 3.29)."""
    p, frames = 0.07, 3000
    ecc = PolarECC.parse("polar:0.5:n256")
    width = 8
    wpb = ecc.words_per_block(width)
    g = np.random.default_rng(11)
    words = g.integers(0, 256, frames * wpb, dtype=np.uint64)
    noisy = _flipped(ecc.encode_words(words, width), p, 12)
    got = ecc.decode_words(noisy, words.size, width, p, p)
    diff = (got ^ words).reshape(frames, wpb)
    per_frame = np.bitwise_count(diff).sum(1).astype(np.float64)  # message bit errors
    fer1, ber1 = float((per_frame > 0).mean()), per_frame.sum() / (frames * ecc.k)
    sim = simulate(
        SimulationConfig(256, 128, channel="bsc", frames_per_chunk=1000, seed=5),
        [("sc", 1)],
        [p],
        min_errors=10**6,
        max_frames=frames,
    )[0]
    assert sim["frames"] == frames
    fer2, ber2 = sim["fer"], sim["ber"]
    assert 0.05 < fer1 < 0.95  # a point where the test has power
    pooled = (fer1 + fer2) / 2
    z_fer = (fer1 - fer2) / math.sqrt(pooled * (1 - pooled) * 2 / frames)
    sd = per_frame.std(ddof=1) / ecc.k
    z_ber = (ber1 - ber2) / (sd * math.sqrt(2 / frames))
    assert abs(z_fer) < 3.29, (fer1, fer2)
    assert abs(z_ber) < 3.29, (ber1, ber2)


def test_decisions_do_not_depend_on_the_known_p_on_a_bsc():
    """Min-sum SC and approximate SCL are scale invariant and every BSC LLR has the same
    magnitude: the decoder's knowledge of p changes no decision (only its sign convention)."""
    for spec in ("polar:0.5:n256", "polar:0.5:scl4:n256"):
        ecc = PolarECC.parse(spec)
        words = np.random.default_rng(3).integers(0, 256, 2000, dtype=np.uint64)
        noisy = _flipped(ecc.encode_words(words, 8), 0.05, 4)
        a = ecc.decode_words(noisy, words.size, 8, 0.05, 0.05)
        b = ecc.decode_words(noisy, words.size, 8, 0.3, 0.3)
        assert np.array_equal(a, b)
        assert not np.array_equal(a, words)  # some frames fail: the comparison means something


def test_channel_llr():
    llr = channel_llr(np.array([0, 1]), 0.1, 0.1)
    assert llr.dtype == np.float32
    assert llr.tolist() == pytest.approx([math.log(9), -math.log(9)])
    asym = channel_llr(np.array([0, 1]), 0.2, 0.0)  # a 1 never reads as 0: a read 0 is certain
    assert asym[0] == np.float32(1e12) and asym[1] == pytest.approx(math.log(0.2))


@pytest.mark.parametrize(
    ("spec", "name", "k"),
    [
        ("polar:0.5", "polar:0.5", 512),
        ("POLAR:1/2:SC", "polar:0.5", 512),
        ("polar:0.5:scl8", "polar:0.5:scl8", 512),
        ("polar:2/3:n256", "polar:171/256:n256", 171),
        ("polar:0.75:n1024:scl4", "polar:0.75:scl4", 768),
    ],
)
def test_parse(spec, name, k):
    ecc = PolarECC.parse(spec)
    assert ecc.name == name and ecc.k == k
    assert PolarECC.parse(ecc.name) == ecc


@pytest.mark.parametrize(
    "spec",
    [
        "polar",
        "polar:",
        "polar:0",
        "polar:1.5",
        "polar:x",
        "polar:0.5:n100",
        "polar:0.5:n2048",
        "polar:0.5:scl0",
        "polar:0.5:sc:scl8",
        "polar:0.5:bogus",
        "polar:0.5+polar:0.5",
        "none+polar:0.5",
    ],
)
def test_bad_specs_name_the_protection(spec):
    with pytest.raises(ParameterError) as e:
        S.protection(spec)
    assert e.value.name == "protection"


def test_protection_names_and_widths():
    p = S.protection("range+polar:0.5:scl8")
    assert p.name == "range+polar:0.5:scl8" and p.range_check and p.ecc.list_size == 8
    assert S.protection(p.name) == p
    assert p.width(S.representation("fixed8")) == 8  # the word, before the code
    with pytest.raises(ParameterError):
        PolarECC(rate=0.5, n=8).words_per_block(8)  # 4 message bits cannot hold a byte


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(20, 40)
        self.b = nn.Linear(40, 3)


def _state(m: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in m.state_dict().items()}


def test_store_and_corrupt_round_trip():
    torch.manual_seed(0)
    net = _Net()
    plain = S.store(net, "fixed8", "none")
    coded = S.store(net, representation="fixed8", protection="polar:0.5")
    assert all(isinstance(t, CodedTensor) for t in coded.tensors.values())
    assert coded.num_values == plain.num_values == 20 * 40 + 40 + 40 * 3 + 3
    # 1024-bit codewords hold 64 bytes: 13 + 1 + 2 + 1 blocks for the four tensors
    assert coded.stored_bits == (13 + 1 + 2 + 1) * 1024
    assert coded.bits_per_param == pytest.approx((coded.stored_bits + 32 * 4) / coded.num_values)
    ref = _net_copy(net)
    S.load_stored(ref, plain)
    want = _state(ref)
    # clean: the coded image decodes to the very fixed8 values
    got = _net_copy(net)
    S.load_stored(got, coded)
    assert all(torch.equal(want[k], v) for k, v in _state(got).items())
    # p = 1e-2 on (1024, 512) codes: SC corrects every flip of this small image (FER ~ 1e-4)
    noisy, flips = coded.corrupted(1e-2, rng=1)
    assert flips > 50 and noisy.channel == (1e-2, 1e-2)
    S.load_stored(got, noisy)
    assert all(torch.equal(want[k], v) for k, v in _state(got).items())
    # the same flips without the code change many weights
    bad, _ = plain.corrupted(1e-2, rng=1)
    S.load_stored(got, bad)
    assert any(not torch.equal(want[k], v) for k, v in _state(got).items())
    # the one-call copy (model untouched), in place, and the bit mask that an ECC cannot take
    before = _state(net)
    out = S.corrupt(net, 1e-2, representation="fixed8", protection="polar:0.5", rng=2)
    assert out is not net and all(torch.equal(want[k], v) for k, v in _state(out).items())
    assert all(torch.equal(before[k], v) for k, v in _state(net).items())
    assert S.corrupt_(net, 1e-2, representation="fixed8", protection="polar:0.5", rng=2) is net
    assert all(torch.equal(want[k], v) for k, v in _state(net).items())
    with pytest.raises(ParameterError) as e:
        coded.corrupted(1e-2, rng=0, bit_mask=[7])
    assert e.value.name == "bit_mask"


def test_detections_run_after_the_decoder():
    """nulling + polar: the parity is computed on the words inside the code; a word the
    decoder gets wrong with odd parity is nulled (decoder failures at a high BER)."""
    torch.manual_seed(1)
    net = _Net()
    image = S.store(net, "fixed8", "nulling+polar:0.5:n64")
    noisy, _ = image.corrupted(0.12, rng=3)
    _, stats = noisy.decode()
    assert stats["nulled"] > 0


def _net_copy(net: nn.Module) -> nn.Module:
    out = _Net()
    out.load_state_dict(net.state_dict())
    return out


# ----------------------------------------------------------------------------- the study
def _point(config: str, ber: float, accs: list[float], bits: float) -> dict:
    rep, prot = config.split("/")
    return {
        "representation": rep,
        "protection": prot,
        "ber": ber,
        "trials": len(accs),
        **C.trial_counts(accs, 0.0),
        "flips": 0,
        "nulled": 0,
        "range_zeroed": 0,
        "bits_per_param": bits,
    }


def test_compare_picks_winners_from_intervals():
    """Synthetic campaign: the code is perfect up to 1e-2 then collapses; detection loses
    accuracy from 1e-3 on. Both are within the tolerance at 1e-4 (no winner), ECC wins at
    1e-3 and 1e-2 (intervals apart), detection at 1e-1, and the tolerable-BER ratio
    ECC / detection is the ratio of the interpolated crossings."""
    cfg = X.EccStudyConfig(budgets=(16,), bers=(1e-4, 1e-3, 1e-2, 1e-1), trials=40)
    ecc, det = cfg._pairs(16)[0], cfg._pairs(16)[1]
    g = np.random.default_rng(0)

    def accs(m: float) -> list[float]:
        return list(np.clip(m + 0.002 * g.standard_normal(40), 0, 1))

    curves = {ecc: (0.95, 0.95, 0.95, 0.1), det: (0.95, 0.90, 0.6, 0.3)}
    rows = [_point("float32/none", 0.0, [0.95], 32.0)]
    for pair, means in curves.items():
        name = "/".join(pair)
        rows.append(_point(name, 0.0, [0.95], 16.0))
        rows += [_point(name, b, accs(m), 16.0) for b, m in zip(cfg.bers, means, strict=True)]
    rows.append(_point("float32/none", 1e-4, accs(0.95), 32.0))
    summary = C.summarize(rows)
    tol = C.tolerable_ber(summary, 0.01)
    per_ber, per_budget = X.compare(summary, tol, cfg, n_boot=200)
    assert [r["winner"] for r in per_ber] == ["both ok", "ECC", "ECC", "detection"]
    (row,) = per_budget
    assert row["ecc"] == "/".join(ecc) and row["detection"] == "/".join(det)
    mean = {(r["config"], r["ber"]): r["mean"] for r in summary}

    def crossing(name: str, lo: float) -> float:  # log-linear crossing of 0.94 after BER lo
        m0, m1 = mean[(name, lo)], mean[(name, lo * 10)]
        return 10 ** (math.log10(lo) + (m0 - 0.94) / (m0 - m1))

    assert row["detection_tolerable_ber"] == pytest.approx(crossing(row["detection"], 1e-4))
    assert row["ecc_tolerable_ber"] == pytest.approx(crossing(row["ecc"], 1e-2))
    assert row["winner"] == "ECC" and row["ratio_lo"] > 1
    assert row["ecc_wins_at"] == "0.001..0.01" and row["detection_wins_at"] == "0.1"
    f = X.finding(per_budget, 16)
    assert f.verdict == "not reproduced" and f.measured < 0


def test_ber_axis_refines_the_top_decade():
    axis = X.ber_axis(1e-6, 1e-1, 2, 1e-2, 8)
    assert set(C.ber_grid(1e-6, 1e-1, 2)) <= set(axis) and axis == sorted(axis)
    assert len([b for b in axis if b > 1e-2]) == 8 and axis[-1] == 0.1
    assert X.ber_axis(1e-6, 1e-1, 2, 1e-2, 0) == C.ber_grid(1e-6, 1e-1, 2)


def test_study_config_pairs_have_equal_storage():
    cfg = X.EccStudyConfig()
    for b in cfg.budgets:
        for rep, prot in cfg._pairs(b):
            r, p = S.representation(rep), S.protection(prot)
            bits = p.ecc.bits_per_value(p.width(r)) if p.ecc else p.width(r)
            assert abs(bits - b) <= 0.06 * b, (rep, prot, bits)
    assert ("fixed8", "polar:0.5") in cfg.configs()
    assert ("fixed8", "polar:0.5:scl8:n256") in X.EccStudyConfig(decoder="scl8", n=256).configs()


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--budgets", "10"], "--budgets"),
        (["--budgets", "8,8"], "--budgets"),
        (["--decoder", "ldpc"], "--decoder"),
        (["--decoder", "scl0"], "--decoder"),
        (["--n", "100"], "--n"),
        (["--n", "8"], "--n"),  # 4 message bits cannot hold a fixed6 word
        (["--trials", "0"], "--trials"),
        (["--trials", "5", "--min-failures", "6"], "--min-failures"),
        (["--bers", "1.5"], "--bers"),
        (["--ber-min", "0"], "--ber-min"),
        (["--fine-per-decade", "-1"], "--fine-per-decade"),
        (["--fine-from", "0"], "--fine-from"),
        (["--study", "nope"], "--study"),
        (["--epochs", "0"], "--epochs"),
        (["--tolerance", "2"], "--tolerance"),
    ],
)
def test_cli_bad_input_exits_2_and_writes_nothing(extra, option, tmp_path, capsys):
    out = tmp_path / "x"
    assert main(["storage", "ecc", "--out", str(out), "--quiet", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {option}"), err
    assert not out.exists()


def test_cli_small_study(tmp_path, capsys):
    out = tmp_path / "e"
    args = ["storage", "ecc", "--epochs", "3", "--budgets", "8", "--bers", "1e-3,0.05"]
    args += ["--trials", "1", "--min-failures", "0", "--n", "256"]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    (row,) = res["rows"]
    assert row["budget"] == 8 and row["ecc"] == "fixed6/polar:0.75:n256"
    assert row["winner"] in ("ECC", "detection", "tie")
    decode = {r["config"]: r for r in res["model"]["decode"]}
    assert decode["fixed6/polar:0.75:n256"]["decode_ms"] > 0
    assert (out / "ecc_budget_8.png").is_file()


@pytest.mark.parametrize("n", [16, 32, 64])
def test_a_code_too_short_for_equal_storage_is_refused(n):
    """Short codewords pack whole words only: at n <= 64 the 12-bit budget's codes store 12.8-16
    bits per value, so the comparison would no longer be at equal storage."""
    with pytest.raises(ParameterError) as info:
        X.EccStudyConfig(budgets=(12,), n=n)
    assert info.value.name == "n" and "equal storage" in str(info.value)


@pytest.mark.parametrize(("ratio", "verdict"), [(0.0, "reproduced"), (math.inf, "not reproduced")])
def test_finding_judges_the_decisive_ends(ratio, verdict):
    """ECC tolerating nothing (ratio 0) reproduces the claim; detection tolerating nothing
    (ratio inf) does not. Neither is 'not measured'."""
    row = {
        "budget": 16,
        "ratio": ratio,
        "ratio_lo": ratio,
        "ratio_hi": ratio,
        "detection": "float16/range",
        "ecc": "fixed8/polar:0.5",
        "censored": False,
    }
    f = X.finding([row], 16, model="mlp-digits")
    assert f.verdict == verdict and "mlp-digits" in f.setting
