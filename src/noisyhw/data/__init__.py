"""Datasets available offline, one registry: ``load(name, split=..., root=None)``.

>>> from noisyhw import data
>>> train = data.load("digits", "train")        # ArrayDataset, x (1437, 1, 8, 8)
>>> rows = data.sequence_view(train)            # x (1437, 8, 8): 8 time steps of 8 features
"""

from .datasets import ArrayDataset, sequence_view
from .idx import read_idx, write_idx
from .registry import DATASETS, DatasetInfo, dataset_info, fetch, load, locate, search_paths
from .text import CharVocab, char_windows, load_corpus

__all__ = [
    "DATASETS",
    "ArrayDataset",
    "CharVocab",
    "DatasetInfo",
    "char_windows",
    "dataset_info",
    "fetch",
    "load",
    "load_corpus",
    "locate",
    "read_idx",
    "search_paths",
    "sequence_view",
    "write_idx",
]
