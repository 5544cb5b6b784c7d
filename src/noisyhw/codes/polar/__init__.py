"""Polar codes: constructions (5G, GA, Bhattacharyya), encoders, SC/SCL/CA-SCL/adaptive SCL
decoders (numba, batched over frames) and a Monte-Carlo simulator."""

from .code import CONSTRUCTIONS, PolarCode, polar_transform
from .construction import bhattacharyya, gaussian_approximation, nr5g, nr5g_sequence
from .decoders import (
    DECODERS,
    DTYPES,
    METRICS,
    SC_DECODERS,
    AdaptiveSCLDecoder,
    CASCLDecoder,
    Decoder,
    ListOutput,
    SCDecoder,
    SCLDecoder,
    SourceModel,
    make_decoder,
)

__all__ = [
    "CONSTRUCTIONS",
    "DECODERS",
    "DTYPES",
    "METRICS",
    "SC_DECODERS",
    "AdaptiveSCLDecoder",
    "CASCLDecoder",
    "Decoder",
    "ListOutput",
    "PolarCode",
    "SCDecoder",
    "SCLDecoder",
    "SourceModel",
    "bhattacharyya",
    "gaussian_approximation",
    "make_decoder",
    "nr5g",
    "nr5g_sequence",
    "polar_transform",
]
