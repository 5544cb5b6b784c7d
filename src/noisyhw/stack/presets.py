"""Named hardware profiles, each with the source of its numbers (``Profile.source``).

>>> sorted(PRESETS)[:2]
['float', 'reram-4bit-analog']
>>> preset("sram-8bit-lowvolt").store.raw_ber
0.01

The raw bit error rates are the media table of :data:`noisyhw.storage.campaign.MEDIA_BER` (one
place for those numbers; orders of magnitude from ``/work/shared/research/storage.md``). The
crossbar figures follow arXiv 2002.10636 (4-bit NVM weights with 4-bit DAC/ADC match the float
LSTM) and the energy model's ISAAC parameters (``noisyhw/resources/nvm_energy.toml``). Device
noise levels are the middle of the ranges ``docs/nvm.md`` sweeps (programming error 0-0.2 of
the conductance range, read noise 0-0.2 of G): a stated assumption, not a measured device.
"""

from __future__ import annotations

from ..errors import ParameterError
from .profile import ComputeStage, Profile, QuantizeStage, StoreStage

__all__ = ["PRESETS", "preset"]

_NVM = (
    "arXiv 2002.10636 (ICRC 2019): 4-bit NVM weights, 4-bit DAC/ADC; energy from ISAAC (ISCA "
    "2016) component figures in nvm_energy.toml"
)
_NOISE = "device noise 0.05 (programming) / 0.05 (read): mid-range of docs/nvm.md's sweeps, assumed"

PRESETS: dict[str, Profile] = {
    "float": Profile(
        name="float",
        source="every stage off: the float32 model as trained (the reference)",
    ),
    "reram-4bit-analog": Profile(
        name="reram-4bit-analog",
        source=f"{_NVM}; {_NOISE}; weights read error-free (fresh SLC NAND, raw BER 1e-8)",
        quantize=QuantizeStage(weight_bits=4, dac_bits=4, adc_bits=4, prog_noise=0.05),
        store=StoreStage("float32", "none", media="fresh-slc-nand"),
        compute=ComputeStage(kind="nvm", read_noise=0.05),
    ),
    "reram-4bit-worn-tlc": Profile(
        name="reram-4bit-worn-tlc",
        source=(
            f"{_NVM}; {_NOISE}; weights stored as fixed8 in worn TLC NAND at raw BER 1e-3 "
            "(MEDIA_BER; research notes: worn TLC/QLC 1e-3..1e-2), with weight nulling "
            "(arXiv 1709.06173)"
        ),
        quantize=QuantizeStage(weight_bits=4, dac_bits=4, adc_bits=4, prog_noise=0.05),
        store=StoreStage("fixed8", "nulling", media="worn-tlc-nand"),
        compute=ComputeStage(kind="nvm", read_noise=0.05),
    ),
    "sram-8bit-lowvolt": Profile(
        name="sram-8bit-lowvolt",
        source=(
            "8-bit fixed-point weights in SRAM at reduced voltage: random bit errors at p = 1e-2 "
            "(MEDIA_BER), the rate Stutz et al., 'Bit Error Robustness for Energy-Efficient DNN "
            "Accelerators', MLSys 2021 (arXiv 2006.13977) study for ~20-30% energy saved; "
            "digital compute"
        ),
        store=StoreStage("fixed8", "none", media="low-voltage-sram"),
    ),
    "sram-8bit-lowvolt-range": Profile(
        name="sram-8bit-lowvolt-range",
        source=(
            "sram-8bit-lowvolt with range detection (decoded weights outside the trained range "
            "+10% are zeroed; arXiv 1709.06173's companion check), no extra stored bits"
        ),
        store=StoreStage("fixed8", "range", media="low-voltage-sram"),
    ),
    "analog-0db-votes": Profile(
        name="analog-0db-votes",
        source=(
            "arXiv 1811.10649: analog products at SNR 0 dB with a noise floor calibrated on the "
            "clean model (fixed mode), 15 votes averaged (softmax mean)"
        ),
        compute=ComputeStage(kind="analog", snr_db=0.0, mode="fixed", votes=15),
    ),
}


def preset(name: str) -> Profile:
    """The preset called ``name`` (see :data:`PRESETS`)."""
    if name not in PRESETS:
        raise ParameterError("profile", f"must be one of {', '.join(PRESETS)} or a TOML file", name)
    return PRESETS[name]
