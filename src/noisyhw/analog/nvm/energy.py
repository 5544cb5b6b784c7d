"""Energy / area / throughput model of a weight-stationary NVM crossbar accelerator.

Every crossbar of a model (:func:`layer_shapes`, measured from one forward pass) is tiled onto
``rows x cols`` arrays. Per matrix-vector product (MVM) of a layer with ``m`` inputs and ``k``
outputs, with ``s`` weight slices (bit slicing when a device cannot hold ``2**(n-1) + 1``
levels), ``d`` devices per weight (differential pair: 2), ``kw = cols // d`` weight columns
per array, ``rt = ceil(m / rows)`` and ``ct = ceil(k s / kw)`` arrays::

    E_DAC   = m ct  E_dac(b_dac)              one conversion per input per array column block
    E_cell  = m k s d  e_cell                 every device is read once
    E_ADC   = k s rt  E_adc(b_adc)            one conversion per weight column per row block
    E_dig   = k s rt  e_add                   partial sums, slices and bias combined digitally
    E_per   = rt ct  e_periphery              buffers, activations, network share per array
    E_MVM   = (E_DAC + E_cell + E_ADC + E_dig + E_per) (1 + energy_overhead)
    t_MVM   = read_time + ceil(min(kw, k s) / adcs_per_array) t_conv     (arrays run in parallel)

With ``dac.bit_serial = true`` (ISAAC style) the input is applied one bit per cycle with 1-bit
DACs: every term above except ``E_DAC`` (already ``per_bit * b``) and ``t_MVM`` is paid
``b_dac`` times.

    area    = rt ct (A_array + adcs_per_array A_adc(b_adc) + rows A_dac(b_dac) + A_periphery)
              (1 + area_overhead)
    utilisation = m k s d / (rt ct rows cols)

A model does ``mvms`` MVMs per layer per inference (an LSTM layer: 2 per time step). Ops are
``2 m k`` per MVM (multiply + add of the logical layer). ``ops/J = ops / E`` summed over layers;
throughput assumes the layers are pipelined over a stream of inputs (all weights resident), so
the busiest layer sets the rate: ``ops/s = ops / max_l(mvms_l t_l)``; area efficiency is that
over the total area. Converter costs follow ``per_level 2**b + per_bit b + fixed``.
Parameters come from a TOML file (default ``noisyhw/resources/nvm_energy.toml``), reference
GPU/FPGA/ASIC figures from ``nvm_reference.toml``; both are documented there with sources.

Like-for-like comparison (:func:`estimate_digital`, :func:`like_for_like`): the datasheet
references are whole chips at peak, a different scope from this model. The digital twin runs
the same layers at the same scope on a digital MAC datapath whose weights stream from local
SRAM (at batch 1 every weight is used once per MVM, so it is read every MVM), with the same
tiling, partial-sum adds and periphery as the crossbar::

    E_mac    = m k (E_mul8 (b_w b_a / 64) + E_add32 (acc / 32))     acc = b_w + b_a + log2(rows)
    E_weight = m k b_w e_sram                                       every weight read once
    E_input  = m ct b_a e_sram                                      inputs read per column block
    core     = E_mac + E_weight + E_input        (crossbar: E_DAC + E_cell + E_ADC + E_dig)
    full     = core + E_per                      (the crossbar's periphery term, identical)
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...errors import DataError, ParameterError, check_float, check_int
from .transform import count_mvms, crossbars

__all__ = [
    "ConverterCost",
    "DigitalParams",
    "EnergyParams",
    "EnergyReport",
    "LayerCost",
    "LayerShape",
    "estimate",
    "estimate_digital",
    "layer_shapes",
    "like_for_like",
    "load_references",
    "reference_table",
]


def _resource(name: str) -> str:
    return resources.files("noisyhw.resources").joinpath(name).read_text()


def _read_toml(path: str | Path | None, default: str) -> dict[str, Any]:
    try:
        if path is None:
            return tomllib.loads(_resource(default))
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a TOML file") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text (TOML) file") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path or default}: not valid TOML ({exc})") from None


@dataclass(frozen=True)
class ConverterCost:
    """``cost(bits) = per_level * 2**bits + per_bit * bits + fixed`` for energy (fJ per
    conversion) and area (um^2 per converter)."""

    energy_fj_per_level: float = 0.0
    energy_fj_per_bit: float = 0.0
    energy_fj_fixed: float = 0.0
    area_um2_per_level: float = 0.0
    area_um2_per_bit: float = 0.0
    area_um2_fixed: float = 0.0

    def __post_init__(self) -> None:
        for k, v in asdict(self).items():
            check_float(k, v, 0.0)

    def energy_fj(self, bits: int) -> float:
        return (
            self.energy_fj_per_level * 2**bits
            + self.energy_fj_per_bit * bits
            + self.energy_fj_fixed
        )

    def area_um2(self, bits: int) -> float:
        return (
            self.area_um2_per_level * 2**bits + self.area_um2_per_bit * bits + self.area_um2_fixed
        )


@dataclass(frozen=True)
class EnergyParams:
    """Accelerator parameters (see ``nvm_energy.toml`` for meaning, units and sources)."""

    rows: int = 128
    cols: int = 128
    read_time_ns: float = 100.0
    cell_read_energy_fj: float = 1.8
    array_area_um2: float = 25.0
    devices_per_weight: int = 2
    max_device_levels: int = 17
    dac: ConverterCost = field(default_factory=ConverterCost)
    adc: ConverterCost = field(default_factory=ConverterCost)
    adc_conversion_time_ns: float = 0.78
    adcs_per_array: int = 1
    bit_serial: bool = False
    add_energy_fj: float = 50.0
    periphery_area_um2: float = 4000.0
    periphery_energy_pj: float = 130.0
    energy_overhead: float = 0.0
    area_overhead: float = 0.0

    def __post_init__(self) -> None:
        check_int("array.rows", self.rows, 1)
        check_int("array.cols", self.cols, 1)
        check_int("array.devices_per_weight", self.devices_per_weight, 1, 2)
        if self.cols < self.devices_per_weight:
            raise ParameterError("array.cols", "must hold at least one weight column", self.cols)
        check_int("array.max_device_levels", self.max_device_levels, 2)
        check_int("adc.adcs_per_array", self.adcs_per_array, 1)
        for k in (
            "read_time_ns",
            "cell_read_energy_fj",
            "array_area_um2",
            "adc_conversion_time_ns",
            "add_energy_fj",
            "periphery_area_um2",
            "periphery_energy_pj",
            "energy_overhead",
            "area_overhead",
        ):
            check_float(k, getattr(self, k), 0.0)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnergyParams:
        try:
            a, dac, adc = d.get("array", {}), dict(d.get("dac", {})), dict(d.get("adc", {}))
            dig, ovh = d.get("digital", {}), d.get("overhead", {})
            per_ = d.get("periphery", {})
            serial = bool(dac.pop("bit_serial", False))
            conv_t = adc.pop("conversion_time_ns", 0.78)
            per = adc.pop("adcs_per_array", 1)
            return cls(
                **a,
                dac=ConverterCost(**dac),
                adc=ConverterCost(**adc),
                adc_conversion_time_ns=conv_t,
                adcs_per_array=per,
                bit_serial=serial,
                add_energy_fj=dig.get("add_energy_fj", 50.0),
                periphery_area_um2=per_.get("area_um2_per_array", 4000.0),
                periphery_energy_pj=per_.get("energy_pj_per_array_mvm", 130.0),
                energy_overhead=ovh.get("energy_fraction", 0.0),
                area_overhead=ovh.get("area_fraction", 0.0),
            )
        except TypeError as exc:
            raise ParameterError(
                "params", f"unknown or missing key in energy parameters ({exc})"
            ) from None

    @classmethod
    def from_toml(cls, path: str | Path | None = None) -> EnergyParams:
        """Load a parameter file (None: the packaged defaults)."""
        return cls.from_dict(_read_toml(path, "nvm_energy.toml"))

    def weight_slices(self, weight_bits: int) -> int:
        """Arrays a weight is split over when a device holds fewer than ``2**(n-1)+1`` levels
        (the levels a differential pair needs for ``2**n`` weight levels)."""
        if self.max_device_levels >= 2 ** (weight_bits - 1) + 1:
            return 1
        # magnitudes 0 .. 2**(n-1) need n bits; a device of L levels holds floor(log2 L) of them
        return math.ceil(weight_bits / math.floor(math.log2(self.max_device_levels)))


@dataclass(frozen=True)
class LayerShape:
    """One crossbar of a model: ``rows`` inputs, ``cols`` outputs, ``mvms`` per inference."""

    name: str
    rows: int
    cols: int
    mvms: int


@dataclass(frozen=True)
class LayerCost:
    name: str
    rows: int
    cols: int
    mvms: int
    slices: int
    arrays: int
    utilisation: float
    ops_per_mvm: int
    e_dac_pj: float
    e_cell_pj: float
    e_adc_pj: float
    e_digital_pj: float
    e_periphery_pj: float
    energy_pj_per_mvm: float
    latency_ns: float
    area_mm2: float


@dataclass(frozen=True)
class EnergyReport:
    layers: list[LayerCost]
    ops: float
    energy_j: float
    busy_s: float
    area_mm2: float
    utilisation: float

    @property
    def ops_per_j(self) -> float:
        return self.ops / self.energy_j if self.energy_j > 0 else math.inf

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.busy_s if self.busy_s > 0 else math.inf

    @property
    def ops_per_s_per_mm2(self) -> float:
        return self.ops_per_s / self.area_mm2 if self.area_mm2 > 0 else math.inf

    def summary(self) -> dict[str, float]:
        return {
            "ops_per_inference": self.ops,
            "energy_j_per_inference": self.energy_j,
            "area_mm2": self.area_mm2,
            "utilisation": self.utilisation,
            "ops_per_j": self.ops_per_j,
            "ops_per_s": self.ops_per_s,
            "ops_per_s_per_mm2": self.ops_per_s_per_mm2,
        }


def layer_shapes(model: nn.Module, example: torch.Tensor) -> list[LayerShape]:
    """Shapes and MVMs per inference of every crossbar of a quantized model, measured by running
    ``example`` (a batch; counts are divided by its size)."""
    counts = count_mvms(model, example)
    return [LayerShape(n, xb.in_features, xb.out_features, counts[n]) for n, xb in crossbars(model)]


def estimate(
    shapes: list[LayerShape],
    params: EnergyParams | None = None,
    *,
    weight_bits: int = 4,
    dac_bits: int = 4,
    adc_bits: int = 4,
) -> EnergyReport:
    """Energy, latency, area and utilisation of ``shapes`` on the accelerator (see module doc)."""
    p = params or EnergyParams.from_toml()
    check_int("weight_bits", weight_bits, 1, 16)
    check_int("dac_bits", dac_bits, 1, 16)
    check_int("adc_bits", adc_bits, 1, 16)
    if not shapes:
        raise ParameterError("shapes", "needs at least one crossbar layer")
    kw = p.cols // p.devices_per_weight
    e_dac, e_adc = p.dac.energy_fj(dac_bits), p.adc.energy_fj(adc_bits)
    tile_area = (
        p.array_area_um2
        + p.adcs_per_array * p.adc.area_um2(adc_bits)
        + p.rows * p.dac.area_um2(dac_bits)
        + p.periphery_area_um2
    )
    s = p.weight_slices(weight_bits)
    layers = []
    for sh in shapes:
        m, k = sh.rows, sh.cols
        rt, ct = math.ceil(m / p.rows), math.ceil(k * s / kw)
        arrays = rt * ct
        cycles = dac_bits if p.bit_serial else 1
        fj = {
            "dac": m * ct * e_dac,
            "cell": cycles * m * k * s * p.devices_per_weight * p.cell_read_energy_fj,
            "adc": cycles * k * s * rt * e_adc,
            "dig": cycles * k * s * rt * p.add_energy_fj,
            "per": cycles * arrays * p.periphery_energy_pj * 1e3,
        }
        total_pj = sum(fj.values()) * (1 + p.energy_overhead) / 1e3
        lat = cycles * (
            p.read_time_ns + math.ceil(min(kw, k * s) / p.adcs_per_array) * p.adc_conversion_time_ns
        )
        layers.append(
            LayerCost(
                sh.name,
                m,
                k,
                sh.mvms,
                s,
                arrays,
                m * k * s * p.devices_per_weight / (arrays * p.rows * p.cols),
                2 * m * k,
                fj["dac"] / 1e3,
                fj["cell"] / 1e3,
                fj["adc"] / 1e3,
                fj["dig"] / 1e3,
                fj["per"] / 1e3,
                total_pj,
                lat,
                arrays * tile_area * (1 + p.area_overhead) / 1e6,
            )
        )
    ops = float(sum(c.mvms * c.ops_per_mvm for c in layers))
    energy = sum(c.mvms * c.energy_pj_per_mvm for c in layers) * 1e-12
    busy = max(c.mvms * c.latency_ns for c in layers) * 1e-9
    used = sum(c.rows * c.cols * c.slices * p.devices_per_weight for c in layers)
    util = used / sum(c.arrays * p.rows * p.cols for c in layers)
    return EnergyReport(layers, ops, energy, busy, sum(c.area_mm2 for c in layers), util)


@dataclass(frozen=True)
class DigitalParams:
    """Digital MAC datapath of the twin (``[digital_twin]`` of ``nvm_energy.toml``): energies
    in fJ of an 8-bit integer multiply, a 32-bit integer add and one SRAM bit read; products
    scale as ``b_w b_a / 64``, adds as ``acc / 32`` (see the module docstring)."""

    mult_8b_fj: float = 200.0
    add_32b_fj: float = 100.0
    sram_fj_per_bit: float = 156.0

    def __post_init__(self) -> None:
        for k, v in asdict(self).items():
            check_float(f"digital_twin.{k}", v, 0.0)

    @classmethod
    def from_toml(cls, path: str | Path | None = None) -> DigitalParams:
        """The ``[digital_twin]`` table of a parameter file (None: the packaged defaults)."""
        d = dict(_read_toml(path, "nvm_energy.toml").get("digital_twin", {}))
        d.pop("source", None)
        try:
            return cls(**d)
        except TypeError as exc:
            raise ParameterError("params", f"unknown key in [digital_twin] ({exc})") from None


def estimate_digital(
    shapes: list[LayerShape],
    params: EnergyParams | None = None,
    digital: DigitalParams | None = None,
    *,
    weight_bits: int = 4,
    act_bits: int = 4,
) -> dict[str, float]:
    """Energy per inference (J) of ``shapes`` on the digital twin, by term: ``mac``,
    ``weights``, ``inputs`` (their sum is ``core_j``) and ``periphery`` (the crossbar model's
    per-array term for the same tiling; ``full_j`` = core + periphery), with ``ops``."""
    p = params or EnergyParams.from_toml()
    dp = digital or DigitalParams.from_toml()
    check_int("weight_bits", weight_bits, 1, 16)
    check_int("act_bits", act_bits, 1, 16)
    if not shapes:
        raise ParameterError("shapes", "needs at least one crossbar layer")
    kw = p.cols // p.devices_per_weight
    s = p.weight_slices(weight_bits)
    acc = weight_bits + act_bits + math.ceil(math.log2(p.rows))
    e_mac = dp.mult_8b_fj * weight_bits * act_bits / 64 + dp.add_32b_fj * acc / 32
    fj = {"mac": 0.0, "weights": 0.0, "inputs": 0.0, "periphery": 0.0}
    ops = 0.0
    for sh in shapes:
        m, k, n = sh.rows, sh.cols, sh.mvms
        rt, ct = math.ceil(m / p.rows), math.ceil(k * s / kw)
        cycles = weight_bits if p.bit_serial else 1
        fj["mac"] += n * m * k * e_mac
        fj["weights"] += n * m * k * weight_bits * dp.sram_fj_per_bit
        fj["inputs"] += n * m * ct * act_bits * dp.sram_fj_per_bit
        fj["periphery"] += n * cycles * rt * ct * p.periphery_energy_pj * 1e3
        ops += 2.0 * m * k * n
    out = {f"{k}_j": v * 1e-15 for k, v in fj.items()}
    out["core_j"] = out["mac_j"] + out["weights_j"] + out["inputs_j"]
    out["full_j"] = out["core_j"] + out["periphery_j"]
    out["ops"] = ops
    return out


def like_for_like(
    shapes: list[LayerShape],
    params: EnergyParams | None = None,
    digital: DigitalParams | None = None,
    *,
    weight_bits: int = 4,
    dac_bits: int = 4,
    adc_bits: int = 4,
) -> list[dict[str, Any]]:
    """ops/J of the crossbar and of its digital twin at two equal scopes, and their ratio:
    ``core`` (MVM datapath: converters + cells + partial sums vs MACs + SRAM weight and input
    reads) and ``with periphery`` (both plus the same per-array periphery term)."""
    p = params or EnergyParams.from_toml()
    rep = estimate(shapes, p, weight_bits=weight_bits, dac_bits=dac_bits, adc_bits=adc_bits)
    dig = estimate_digital(shapes, p, digital, weight_bits=weight_bits, act_bits=dac_bits)
    per = sum(c.mvms * c.e_periphery_pj for c in rep.layers) * 1e-12 * (1 + p.energy_overhead)
    nvm = {"core": rep.energy_j - per, "with periphery": rep.energy_j}
    # the very same periphery term on both sides (with the crossbar's overhead factor)
    twin = {"core": dig["core_j"], "with periphery": dig["core_j"] + per}
    rows = []
    for scope in ("core", "with periphery"):
        a, b = rep.ops / nvm[scope], dig["ops"] / twin[scope]
        rows.append({"scope": scope, "nvm_ops_per_j": a, "digital_ops_per_j": b, "nvm_gain": a / b})
    return rows


def load_references(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Reference accelerators (name, kind, precision, ops_per_s, power_w, area_mm2, source)."""
    data = _read_toml(path, "nvm_reference.toml")
    out = []
    for i, d in enumerate(data.get("device", [])):
        for key in ("name", "kind", "ops_per_s", "power_w", "source"):
            if key not in d:
                raise ParameterError(f"device[{i}].{key}", "is required in the reference file")
        check_float(f"device[{i}].ops_per_s", d["ops_per_s"], 0.0, lo_open=True)
        check_float(f"device[{i}].power_w", d["power_w"], 0.0, lo_open=True)
        out.append(dict(d))
    return out


def reference_table(
    report: EnergyReport | None = None,
    name: str = "this model on NVM crossbars",
    path: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Rows of ops/J and ops/s/mm^2 for the references (+ ``report`` first, with ratios)."""
    rows = []
    for d in load_references(path):
        area = d.get("area_mm2")
        rows.append(
            {
                "name": d["name"],
                "kind": d["kind"],
                "precision": d.get("precision", ""),
                "ops_per_j": d["ops_per_s"] / d["power_w"],
                "ops_per_s_per_mm2": d["ops_per_s"] / area if area else None,
                "source": d["source"],
            }
        )
    if report is not None:
        ours = {
            "name": name,
            "kind": "NVM",
            "precision": "see spec",
            "ops_per_j": report.ops_per_j,
            "ops_per_s_per_mm2": report.ops_per_s_per_mm2,
            "source": "noisyhw energy model (nvm_energy.toml)",
        }
        for r in rows:
            r["nvm_energy_gain"] = ours["ops_per_j"] / r["ops_per_j"]
            r["nvm_area_gain"] = (
                ours["ops_per_s_per_mm2"] / r["ops_per_s_per_mm2"]
                if r["ops_per_s_per_mm2"]
                else None
            )
        rows.insert(0, ours)
    return rows
