"""The energy/area model against hand-computed small cases; parameter and reference files."""

import math

import pytest
import torch

from noisyhw.analog.nvm import QuantSpec, quantize
from noisyhw.analog.nvm.energy import (
    EnergyParams,
    LayerShape,
    estimate,
    layer_shapes,
    load_references,
    reference_table,
)
from noisyhw.errors import DataError, ParameterError
from noisyhw.models import create

SMALL = """
[array]
rows = 4
cols = 4
read_time_ns = 10.0
cell_read_energy_fj = 2.0
array_area_um2 = 50.0
devices_per_weight = 2
max_device_levels = 17

[dac]
bit_serial = false
energy_fj_per_bit = 10.0
area_um2_per_bit = 1.0

[adc]
energy_fj_per_level = 1.0
area_um2_per_level = 2.0
conversion_time_ns = 1.0
adcs_per_array = 1

[digital]
add_energy_fj = 3.0

[periphery]
area_um2_per_array = 100.0
energy_pj_per_array_mvm = 0.1

[overhead]
energy_fraction = 0.0
area_fraction = 0.0
"""


@pytest.fixture
def params(tmp_path):
    p = tmp_path / "small.toml"
    p.write_text(SMALL)
    return EnergyParams.from_toml(p)


def test_hand_computed_two_layer_case(params):
    # Worked by hand (4x4 arrays, differential pairs -> 2 weight columns per array):
    # A: 3x2, 5 MVMs: 1 array; DAC 3*1*(10*4)=120, cells 3*2*2*2=24, ADC 2*1*16=32, adds 2*3=6,
    #    periphery 100 fJ -> 282 fJ; 12 ns; area 50 + 2*16 + 4*1*4 + 100 = 198 um^2; util 12/16.
    # B: 5x3, 2 MVMs: 2x2 arrays; DAC 5*2*40=400, cells 60, ADC 3*2*16=96, adds 18,
    #    periphery 400 -> 974 fJ; 12 ns; area 792 um^2; util 30/64.
    shapes = [LayerShape("A", 3, 2, 5), LayerShape("B", 5, 3, 2)]
    r = estimate(shapes, params, weight_bits=4, dac_bits=4, adc_bits=4)
    a, b = r.layers
    assert (a.arrays, b.arrays) == (1, 4)
    assert math.isclose(a.energy_pj_per_mvm, 0.282) and math.isclose(b.energy_pj_per_mvm, 0.974)
    assert math.isclose(a.e_dac_pj, 0.120) and math.isclose(b.e_adc_pj, 0.096)
    assert math.isclose(a.latency_ns, 12.0) and math.isclose(b.latency_ns, 12.0)
    assert math.isclose(a.area_mm2, 198e-6) and math.isclose(b.area_mm2, 792e-6)
    assert math.isclose(a.utilisation, 0.75) and math.isclose(b.utilisation, 0.46875)
    assert r.ops == 120.0
    assert math.isclose(r.energy_j, 3358e-15)
    assert math.isclose(r.ops_per_j, 120 / 3358e-15)
    assert math.isclose(r.busy_s, 60e-9)
    assert math.isclose(r.ops_per_s_per_mm2, (120 / 60e-9) / 990e-6)
    assert math.isclose(r.utilisation, 42 / 80)


def test_bit_slicing_and_bit_serial(params):
    shapes = [LayerShape("A", 3, 2, 5)]
    # 8-bit weights need 129 levels per device; 17-level devices hold 4 bits -> 2 slices
    r8 = estimate(shapes, params, weight_bits=8, dac_bits=4, adc_bits=4).layers[0]
    assert r8.slices == 2 and r8.arrays == 2
    # DAC 3*2*40=240, cells 48, ADC 4*16=64, adds 12, periphery 200 -> 564 fJ
    assert math.isclose(r8.energy_pj_per_mvm, 0.564)
    from dataclasses import replace

    serial = replace(params, bit_serial=True)
    rs = estimate(shapes, serial, weight_bits=4, dac_bits=4, adc_bits=4).layers[0]
    # everything but the DAC paid 4 times: 120 + 4 * (24 + 32 + 6 + 100) = 768 fJ; 4 * 12 ns
    assert math.isclose(rs.energy_pj_per_mvm, 0.768) and math.isclose(rs.latency_ns, 48.0)


def test_more_adc_bits_cost_more_energy_and_area():
    shapes = [LayerShape("l", 128, 512, 28)]
    lo = estimate(shapes, weight_bits=4, dac_bits=4, adc_bits=4)
    hi = estimate(shapes, weight_bits=4, dac_bits=4, adc_bits=8)
    assert hi.energy_j > lo.energy_j and hi.area_mm2 > lo.area_mm2


def test_layer_shapes_of_an_lstm_classifier():
    m = quantize(create("lstm", (12, 20), 10, hidden=16), QuantSpec.float())
    shapes = layer_shapes(m, torch.zeros(3, 12, 20))
    assert [(s.rows, s.cols, s.mvms) for s in shapes] == [(20, 64, 12), (16, 64, 12), (16, 10, 1)]


def test_reference_table_and_custom_file(tmp_path):
    refs = load_references()
    assert {"GPU", "FPGA", "ASIC"} <= {d["kind"] for d in refs}
    assert all(d["source"] for d in refs)
    rows = reference_table(estimate([LayerShape("l", 64, 64, 1)]))
    assert rows[0]["kind"] == "NVM" and all("nvm_energy_gain" in r for r in rows[1:])
    f = tmp_path / "refs.toml"
    f.write_text(
        '[[device]]\nname="X"\nkind="GPU"\nops_per_s=2e12\npower_w=4.0\narea_mm2=100.0\n'
        'source="made up"\n'
    )
    (row,) = reference_table(path=f)
    assert math.isclose(row["ops_per_j"], 5e11) and math.isclose(row["ops_per_s_per_mm2"], 2e10)


@pytest.mark.parametrize(
    "text",
    [
        "[array]\nrows = 0\n",
        "[array]\ncell_read_energy_fj = -1.0\n",
        "[adc]\nenergy_fj_per_level = -2.0\n",
        "[array]\nbogus = 1\n",
        "[[device]]\nname='x'\n",
    ],
)
def test_bad_parameter_files(tmp_path, text):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ParameterError):
        if "device" in text:
            load_references(f)
        else:
            EnergyParams.from_toml(f)


def test_missing_or_invalid_toml(tmp_path):
    with pytest.raises(DataError):
        EnergyParams.from_toml(tmp_path / "nope.toml")
    bad = tmp_path / "x.toml"
    bad.write_text("[array\n")
    with pytest.raises(DataError):
        EnergyParams.from_toml(bad)
    with pytest.raises(ParameterError):
        estimate([LayerShape("a", 2, 2, 1)], weight_bits=0)
    with pytest.raises(ParameterError):
        estimate([])
