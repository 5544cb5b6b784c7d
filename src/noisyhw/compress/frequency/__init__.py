"""Learning in the frequency domain (Xu et al., CVPR 2020, arXiv 2002.12416).

Feed networks JPEG-style block-DCT coefficients instead of pixels, learn per input which of the
192 frequency channels matter (a Gumbel-softmax gate with a channel-count penalty) and keep a
static low-frequency subset (24-64 channels) for cheap, smaller inputs.

>>> from noisyhw.compress import frequency as fq
>>> coeffs = fq.dct_channels(images)                      # (N, 3, 448, 448) -> (N, 192, 56, 56)  # doctest: +SKIP
>>> x = fq.select_channels(coeffs, fq.preset_channels(24))                          # doctest: +SKIP
>>> net = fq.to_frequency(torchvision.models.resnet50(), channels=24)             # doctest: +SKIP

See docs/freq.md for the convention, the studies and their numbers.
"""

from .adapters import load_pretrained, refit_in_channels, to_frequency
from .augment import random_flip, random_resized_crop, resize_aligned
from .gate import FrequencyGate, GatePenalty, find_gates, top_k_channels
from .jpeg import jpeg_available, read_jpeg_dct
from .pipeline import FrequencyInput, frequency_model
from .select import (
    PRESET_COUNTS,
    ChannelSelect,
    low_frequency_order,
    preset_channels,
    resolve_channels,
    select_channels,
    subset_by_component,
)
from .stats import ChannelNormalize, ChannelStats
from .transform import (
    CHROMA,
    COMPONENTS,
    SIZE_POLICIES,
    BlockDCT,
    channel_grid,
    channel_index,
    channel_names,
    dct_channels,
    dct_matrix,
    fit_size,
    idct_channels,
    rgb_to_ycbcr,
    ycbcr_to_rgb,
)

__all__ = [
    "CHROMA",
    "COMPONENTS",
    "PRESET_COUNTS",
    "SIZE_POLICIES",
    "BlockDCT",
    "ChannelNormalize",
    "ChannelSelect",
    "ChannelStats",
    "FrequencyGate",
    "FrequencyInput",
    "GatePenalty",
    "channel_grid",
    "channel_index",
    "channel_names",
    "dct_channels",
    "dct_matrix",
    "find_gates",
    "fit_size",
    "frequency_model",
    "idct_channels",
    "jpeg_available",
    "load_pretrained",
    "low_frequency_order",
    "preset_channels",
    "random_flip",
    "random_resized_crop",
    "read_jpeg_dct",
    "refit_in_channels",
    "resize_aligned",
    "resolve_channels",
    "rgb_to_ycbcr",
    "select_channels",
    "subset_by_component",
    "to_frequency",
    "top_k_channels",
    "ycbcr_to_rgb",
]
