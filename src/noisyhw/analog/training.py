"""Noise-injected training through the shared loop: a :class:`~noisyhw.train.Callback`.

>>> cb = NoiseTraining(NoiseSpec(snr_db=0.0, mode="fixed"), calibration=train_ds)  # doctest: +SKIP
>>> fit(model, train_ds, val_ds, TrainConfig(epochs=3), callbacks=[cb])           # doctest: +SKIP

Three schedules of the training SNR:

* constant: ``spec.snr_db`` for every batch;
* ``snr_range=(lo, hi)``: a fresh SNR drawn uniformly in [lo, hi] dB for every batch (seeded);
* ``curriculum=[s_1, s_2, ...]``: SNR ``s_e`` during epoch ``e`` (the last repeats), e.g.
  ``[20, 10, 5, 0]`` to anneal from mild to strong noise.

The callback injects the noise at the start of training (when the model is not noisy yet),
calibrates ``fixed`` mode on ``calibration`` data first if it was not calibrated, and leaves the
model noisy afterwards (``remove_noise`` undoes it). Validation inside ``fit`` sees the noise at
the current training SNR. Its state (schedule position, random generators) checkpoints with
``fit``'s, so a resumed run draws the same noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import ParameterError, check_float
from ..train import Callback
from .inject import calibrate, get_noise, inject_noise_, set_noise
from .noise import NoiseSpec

__all__ = ["NoiseTraining"]


class NoiseTraining(Callback):
    """Train with noise at one SNR, an SNR range per batch, or an SNR curriculum per epoch."""

    def __init__(
        self,
        spec: NoiseSpec,
        *,
        snr_range: tuple[float, float] | None = None,
        curriculum: Sequence[float] | None = None,
        calibration: Any = None,
        seed: int = 0,
    ) -> None:
        if not isinstance(spec, NoiseSpec):
            raise ParameterError("spec", "must be a NoiseSpec", type(spec).__name__)
        if snr_range is not None and curriculum is not None:
            raise ParameterError("snr_range", "give either snr_range or curriculum, not both")
        if snr_range is not None:
            lo, hi = (check_float("snr_range", v) for v in snr_range)
            if hi < lo:
                raise ParameterError("snr_range", "must be (low, high) with low <= high", snr_range)
            snr_range = (lo, hi)
        if curriculum is not None:
            curriculum = [check_float("curriculum", v, allow_inf=True) for v in curriculum]
            if not curriculum:
                raise ParameterError("curriculum", "needs at least one SNR")
        self.spec = spec
        self.snr_range = snr_range
        self.curriculum = curriculum
        self.calibration = calibration
        self.seed = seed
        self.epoch = 0
        self._rng = np.random.default_rng(seed)
        self._model: nn.Module | None = None
        self._gen_state: torch.Tensor | None = None
        self._refs: dict[str, dict[str, torch.Tensor]] | None = None
        self._current: float | None = None

    def snr_for_epoch(self, epoch: int) -> float:
        """The SNR of epoch ``epoch`` (0-based) under the curriculum (or the spec's)."""
        if self.curriculum is None:
            return self.spec.snr_db
        return self.curriculum[min(epoch, len(self.curriculum) - 1)]

    def _next_snr(self) -> float:
        if self.snr_range is not None:
            lo, hi = self.snr_range
            return float(self._rng.uniform(lo, hi))
        return self.snr_for_epoch(self.epoch)

    def on_train_begin(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self._model = model
        if get_noise(model) is None:
            inject_noise_(model, self.spec, seed=self.seed)
        else:
            set_noise(model, self.spec)
        ctx = get_noise(model)
        assert ctx is not None
        if self._refs is not None:  # resumed: the calibration of the original run
            for name, refs in self._refs.items():
                if name in ctx.points:
                    ctx.points[name].load_state_dict(refs)
        if self.spec.mode == "fixed" and any(not p.ref for p in ctx.points.values()):
            if self.calibration is None:
                raise ParameterError(
                    "calibration",
                    "fixed-mode training needs calibration data (or a calibrated model)",
                )
            calibrate(model, self.calibration)
        if self._gen_state is not None:
            gen = ctx.generator(_device(model))
            if gen is not None:
                gen.set_state(self._gen_state)
        resumed = self._current is not None
        set_noise(model, snr_db=self._current if resumed else self._next_snr())

    def on_step_end(self, model: nn.Module) -> None:
        if self.snr_range is not None:
            set_noise(model, snr_db=self._next_snr())

    def on_epoch_end(self, epoch: int, model: nn.Module, metrics: dict[str, float]) -> None:
        metrics["train_snr_db"] = (
            float(get_noise(model).spec.snr_db) if get_noise(model) else math.inf
        )
        self.epoch = epoch
        if self.curriculum is not None:
            set_noise(model, snr_db=self.snr_for_epoch(epoch))

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"epoch": self.epoch, "rng": repr(self._rng.bit_generator.state)}
        ctx = get_noise(self._model) if self._model is not None else None
        if ctx is not None:
            state["current_snr_db"] = float(ctx.spec.snr_db)
            state["refs"] = {name: p.state_dict() for name, p in ctx.points.items()}
        gen = ctx.generator(_device(self._model)) if ctx is not None else None
        if gen is not None:
            state["gen_state"] = gen.get_state()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import ast

        self.epoch = int(state["epoch"])
        self._rng.bit_generator.state = ast.literal_eval(state["rng"])
        self._gen_state = state.get("gen_state")
        self._refs = state.get("refs")
        self._current = state.get("current_snr_db")


def _device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")
