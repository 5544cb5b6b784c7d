"""NVM crossbar inference: n-bit weights as differential conductance pairs, n-bit DAC/ADC,
device and ADC noise, quantized LSTM/GRU, quantization-aware training and an energy/area model.

Implements the setting of arXiv 2002.10636 (NVM-array LSTMs with 4-bit weights and 4-bit
ADC/DAC). See ``docs/nvm.md``.
"""

from .converters import Converter
from .crossbar import Crossbar, CrossbarLinear, from_conductance, quantize_weight, to_conductance
from .rnn import CrossbarGRU, CrossbarLSTM
from .spec import QuantSpec
from .transform import (
    Recalibrate,
    calibrate,
    count_mvms,
    crossbars,
    program,
    quantize,
    quantize_,
    reseed,
    set_spec,
)

__all__ = [
    "Converter",
    "Crossbar",
    "CrossbarGRU",
    "CrossbarLSTM",
    "CrossbarLinear",
    "QuantSpec",
    "Recalibrate",
    "calibrate",
    "count_mvms",
    "crossbars",
    "from_conductance",
    "program",
    "quantize",
    "quantize_",
    "quantize_weight",
    "reseed",
    "set_spec",
    "to_conductance",
]
