"""Like-for-like energy comparison: the crossbar against a digital twin of the same scope."""

import dataclasses

import pytest

from noisyhw.analog.nvm.energy import (
    DigitalParams,
    EnergyParams,
    LayerShape,
    estimate,
    estimate_digital,
    like_for_like,
)
from noisyhw.errors import ParameterError


def test_digital_twin_hand_computed():
    p = EnergyParams(periphery_energy_pj=10.0)  # 128 x 128 arrays, differential pairs
    d = DigitalParams(mult_8b_fj=200.0, add_32b_fj=100.0, sram_fj_per_bit=150.0)
    shapes = [LayerShape("a", 100, 80, 3)]
    out = estimate_digital(shapes, p, d, weight_bits=4, act_bits=4)
    # acc = 4 + 4 + 7 = 15 bits; per MAC 200 * 16 / 64 + 100 * 15 / 32 = 96.875 fJ
    mac = 3 * 100 * 80 * 96.875e-15
    weights = 3 * 100 * 80 * 4 * 150e-15
    # 80 outputs on 64 weight columns per array: 2 column blocks, 1 row block
    inputs = 3 * 100 * 2 * 4 * 150e-15
    periphery = 3 * 2 * 10e-12
    assert out["mac_j"] == pytest.approx(mac)
    assert out["weights_j"] == pytest.approx(weights)
    assert out["inputs_j"] == pytest.approx(inputs)
    assert out["periphery_j"] == pytest.approx(periphery)
    assert out["full_j"] == pytest.approx(mac + weights + inputs + periphery)
    assert out["ops"] == 2 * 100 * 80 * 3


def test_like_for_like_scopes_agree_with_the_crossbar_estimate():
    shapes = [LayerShape("ih", 28, 512, 28), LayerShape("hh", 128, 512, 28)]
    p = EnergyParams.from_toml()
    rows = {r["scope"]: r for r in like_for_like(shapes, p)}
    rep = estimate(shapes, p)
    assert rows["with periphery"]["nvm_ops_per_j"] == pytest.approx(rep.ops_per_j)
    dig = estimate_digital(shapes, p)
    assert rows["core"]["digital_ops_per_j"] == pytest.approx(dig["ops"] / dig["core_j"])
    # the periphery term is shared, so it pulls the two sides together
    assert 1 < rows["with periphery"]["nvm_gain"] < rows["core"]["nvm_gain"]
    for r in rows.values():
        assert r["nvm_gain"] == pytest.approx(r["nvm_ops_per_j"] / r["digital_ops_per_j"])


def test_digital_params_from_file_and_bad_values(tmp_path):
    assert DigitalParams.from_toml() == DigitalParams()
    f = tmp_path / "p.toml"
    f.write_text("[digital_twin]\nmult_8b_fj = 100.0\n")
    assert DigitalParams.from_toml(f).mult_8b_fj == 100.0
    f.write_text("[digital_twin]\nmul = 1.0\n")
    with pytest.raises(ParameterError):
        DigitalParams.from_toml(f)
    with pytest.raises(ParameterError):
        DigitalParams(sram_fj_per_bit=-1.0)
    with pytest.raises(ParameterError):
        estimate_digital([], EnergyParams())


def test_like_for_like_adds_the_same_periphery_on_both_sides():
    """With an energy overhead the twin got the periphery without it: not the same term."""
    shapes = [LayerShape("ih", 28, 512, 28), LayerShape("hh", 128, 512, 28)]
    p = dataclasses.replace(EnergyParams.from_toml(), energy_overhead=0.2)
    rows = {r["scope"]: r for r in like_for_like(shapes, p)}
    rep, dig = estimate(shapes, p), estimate_digital(shapes, p)

    def joules(row, side):
        return (rep.ops if side == "nvm" else dig["ops"]) / row[f"{side}_ops_per_j"]

    added = {
        s: joules(rows["with periphery"], s) - joules(rows["core"], s) for s in ("nvm", "digital")
    }
    assert added["digital"] == pytest.approx(added["nvm"], rel=1e-9)
    assert added["nvm"] > 0
