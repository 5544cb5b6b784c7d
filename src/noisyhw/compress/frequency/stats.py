"""Streaming per-channel mean / standard deviation of coefficient maps, saved and reused.

DCT channels differ in scale by five orders of magnitude (Y's DC has a standard deviation of a
few hundred, high-frequency chroma ~0.01), so per-channel normalisation is what makes DCT inputs
train. :class:`ChannelStats` accumulates exact float64 sums batch by batch (Chan et al.'s
parallel update of mean and M2, so the order of batches does not matter), writes them to JSON
and builds a :class:`ChannelNormalize` layer from them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ...errors import DataError, ParameterError
from ...io import write_json

__all__ = ["ChannelNormalize", "ChannelStats"]


class ChannelStats:
    """Running per-channel count, mean and M2 over (N, C, h, w) batches (every position counts).

    >>> s = ChannelStats()
    >>> for x in batches: s.update(dct_channels(x))          # doctest: +SKIP
    >>> s.save("dct_stats.json"); ChannelStats.load("dct_stats.json").std   # doctest: +SKIP
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.count = 0
        self._mean: np.ndarray | None = None
        self._m2: np.ndarray | None = None
        self.config: dict[str, Any] = dict(config or {})

    @property
    def channels(self) -> int:
        return 0 if self._mean is None else int(self._mean.size)

    def update(self, x: torch.Tensor | np.ndarray) -> ChannelStats:
        """Add a batch (N, C, h, w); returns self."""
        a = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        if a.ndim != 4:
            raise ParameterError("x", "must be (N, C, h, w)", a.shape)
        if self._mean is not None and a.shape[1] != self._mean.size:
            raise ParameterError("x", f"must have {self._mean.size} channels", a.shape)
        flat = a.astype(np.float64).transpose(1, 0, 2, 3).reshape(a.shape[1], -1)
        n = flat.shape[1]
        if n == 0:
            return self
        mean = flat.mean(axis=1)
        m2 = ((flat - mean[:, None]) ** 2).sum(axis=1)
        if self._mean is None or self._m2 is None:
            self.count, self._mean, self._m2 = n, mean, m2
            return self
        total = self.count + n
        delta = mean - self._mean
        self._mean = self._mean + delta * (n / total)
        self._m2 = self._m2 + m2 + delta**2 * (self.count * n / total)
        self.count = total
        return self

    def update_all(self, batches: Iterable[torch.Tensor | np.ndarray]) -> ChannelStats:
        for b in batches:
            self.update(b)
        return self

    @property
    def mean(self) -> np.ndarray:
        """(C,) float64 per-channel mean."""
        self._require()
        return self._mean.copy()  # type: ignore[union-attr]

    @property
    def std(self) -> np.ndarray:
        """(C,) float64 per-channel population standard deviation."""
        self._require()
        return np.sqrt(self._m2 / self.count)  # type: ignore[operator]

    def _require(self) -> None:
        if self._mean is None:
            raise ParameterError("stats", "no data yet: call update() first")

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        self._require()
        return {
            "format": "noisyhw.freq.stats/1",
            "count": self.count,
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "m2": self._m2.tolist(),  # type: ignore[union-attr]
            "config": self.config,
        }

    def save(self, path: str | Path) -> Path:
        """Atomically write the stats as JSON (reloadable with :meth:`load`, resumable)."""
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> ChannelStats:
        path = Path(path)
        try:
            d = json.loads(path.read_text())
            s = cls(d.get("config"))
            s.count = int(d["count"])
            s._mean = np.asarray(d["mean"], dtype=np.float64)
            s._m2 = np.asarray(d["m2"], dtype=np.float64)
        except FileNotFoundError:
            raise DataError(f"stats: no such file {path}") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise DataError(f"stats: {path} is not a noisyhw stats file ({exc})") from None
        if s._mean.shape != s._m2.shape or s.count < 1:
            raise DataError(f"stats: {path} is inconsistent")
        return s

    def normalizer(self, channels: list[int] | None = None, eps: float = 1e-6) -> ChannelNormalize:
        """A :class:`ChannelNormalize` layer for all channels or the ``channels`` subset."""
        mean, std = self.mean, self.std
        if channels is not None:
            mean, std = mean[channels], std[channels]
        return ChannelNormalize(mean, std, eps)


class ChannelNormalize(nn.Module):
    """``(x - mean[c]) / (std[c] + eps)`` per channel of (N, C, h, w); stats stored as buffers."""

    def __init__(self, mean: Any, std: Any, eps: float = 1e-6) -> None:
        super().__init__()
        m = torch.as_tensor(np.asarray(mean), dtype=torch.float32).reshape(1, -1, 1, 1)
        s = torch.as_tensor(np.asarray(std), dtype=torch.float32).reshape(1, -1, 1, 1)
        if m.shape != s.shape:
            raise ParameterError("std", f"must match mean's shape {tuple(m.shape)}", tuple(s.shape))
        self.register_buffer("mean", m)
        self.register_buffer("scale", 1.0 / (s + eps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.mean.shape[1]:
            raise ParameterError("x", f"must have {self.mean.shape[1]} channels", tuple(x.shape))
        return (x - self.mean) * self.scale
