"""The one training / evaluation loop every experiment uses.

>>> from noisyhw import data, models, train
>>> ds, val = data.load("digits", "train"), data.load("digits", "test")
>>> model = models.create("mlp", ds.input_shape, ds.num_classes)
>>> history = train.fit(model, ds, val, train.TrainConfig(epochs=5, seed=0))   # doctest: +SKIP

Extensions (pruning regularisers, noise curricula, gates, masks) plug in as :class:`Callback`
objects instead of copies of the loop. Checkpoints (``checkpoint=path``) are written atomically
after every epoch with everything needed to resume bit for bit (model, optimizer, scheduler,
random generators, callback state); a rerun with the same path resumes after the last finished
epoch.

Distributed data parallel: under ``torchrun`` (``WORLD_SIZE`` > 1) or with a process group already
initialised, :func:`fit` wraps the model in DistributedDataParallel (gloo on CPU, nccl on CUDA:
each process takes ``cuda:$LOCAL_RANK``). ``batch_size`` stays the **global** batch: every
process draws the same shuffled order and takes a strided share of each batch, and the task loss
is weighted so that the averaged gradient equals the single-process gradient of that batch (also
for an uneven last batch). History, checkpoint contents and the trained weights are those of a
single-process run up to floating-point summation order (BatchNorm statistics are per process,
as with any DDP). Only rank 0 writes checkpoints and draws progress bars; every rank returns the
same history::

    torchrun --nproc_per_node 4 my_train.py      # my_train.py calls fit(...) as usual
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, IterableDataset

from .data.datasets import ArrayDataset
from .errors import (
    BATCH_MAX,
    EPOCHS_MAX,
    ParameterError,
    check_choice,
    check_float,
    check_int,
    check_seed,
)
from .io import load_checkpoint, save_checkpoint
from .progress import progress_bar
from .seeding import seed_everything

__all__ = [
    "Callback",
    "History",
    "TrainConfig",
    "confusion_matrix",
    "evaluate",
    "fit",
    "input_batches",
    "is_batches",
    "is_main_process",
    "iterate_batches",
    "predict",
    "rank_and_world",
]

History = list[dict[str, float]]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class TrainConfig:
    """Training hyperparameters (validated on creation).

    ``lr`` is the initial learning rate; ``scheduler="cosine"`` anneals it to 0 over the epochs,
    ``"step"`` divides it by 10 at 50% and 75% of them. ``grad_clip`` clips the global gradient
    norm. ``max_batches`` caps batches per epoch (quick runs and tests).
    """

    epochs: int = 5
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    scheduler: str | None = None
    seed: int = 0
    device: str = "cpu"
    grad_clip: float | None = None
    max_batches: int | None = None
    eval_batch_size: int = 1024

    def __post_init__(self) -> None:
        # upper bounds too: a size or a count is a promise of memory and time
        check_int("epochs", self.epochs, 1, EPOCHS_MAX)
        check_int("batch_size", self.batch_size, 1, BATCH_MAX)
        check_float("lr", self.lr, 0.0, 100.0, lo_open=True)
        check_choice("optimizer", self.optimizer, ("adam", "adamw", "sgd"))
        check_float("momentum", self.momentum, 0.0, 1.0, hi_open=True)
        check_float("weight_decay", self.weight_decay, 0.0, 100.0)
        check_choice("scheduler", self.scheduler, (None, "cosine", "step"))
        check_seed("seed", self.seed)
        if self.grad_clip is not None:
            check_float("grad_clip", self.grad_clip, 0.0, lo_open=True)
        if self.max_batches is not None:
            check_int("max_batches", self.max_batches, 1)
        check_int("eval_batch_size", self.eval_batch_size, 1, BATCH_MAX)


class Callback:
    """Hooks into :func:`fit`. Override what you need; every hook defaults to doing nothing."""

    def on_train_begin(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """Called once, after the optimizer exists (and after a resume restored state)."""

    def extra_loss(self, model: nn.Module) -> torch.Tensor | None:
        """A term added to the task loss of every batch (regularisers, penalties)."""
        return None

    def on_after_backward(self, model: nn.Module) -> None:
        """After ``loss.backward()``, before the optimizer step (edit gradients, e.g. masks)."""

    def on_step_end(self, model: nn.Module) -> None:
        """After ``optimizer.step()`` (re-apply masks, projections)."""

    def on_epoch_end(self, epoch: int, model: nn.Module, metrics: dict[str, float]) -> None:
        """After an epoch's evaluation; may add entries to ``metrics``."""

    def state_dict(self) -> dict[str, Any]:
        """State to checkpoint (tensors and plain values only)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


# --------------------------------------------------------------------------- distributed
def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)`` of this process: ``(0, 1)`` unless torch.distributed is running
    (or ``torchrun`` set ``RANK`` / ``WORLD_SIZE`` and :func:`fit` has not started it yet)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """True on rank 0 (and in a plain single-process run): the process that writes files."""
    return rank_and_world()[0] == 0


@dataclass(frozen=True)
class _Dist:
    """This process's place in a data-parallel run (``world == 1``: not distributed)."""

    rank: int = 0
    world: int = 1
    owned: bool = False  # fit() created the process group and destroys it at the end

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def all_sum(self, values: list[float], device: torch.device) -> list[float]:
        """Sum ``values`` over all processes (float64)."""
        if not self.active:
            return values
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(t)
        return t.tolist()

    def barrier(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.barrier()


def _setup_distributed(device: str) -> _Dist:
    import torch.distributed as dist

    if not dist.is_available():
        return _Dist()
    if dist.is_initialized():
        return _Dist(dist.get_rank(), dist.get_world_size(), owned=False)
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return _Dist()
    dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return _Dist(dist.get_rank(), dist.get_world_size(), owned=True)


@contextmanager
def _no_bar(description: str, total: int | None) -> Iterator[Callable[..., None]]:
    yield lambda n=1, **_: None


# --------------------------------------------------------------------------- batching
def is_batches(data: Any) -> bool:
    """True for data that is already batched: a :class:`DataLoader`, or any iterable of (x, y)
    batches that is not a :class:`Dataset` (a list of batches); False for a map-style or
    iterable :class:`Dataset`, whose examples :func:`iterate_batches` batches itself."""
    if isinstance(data, DataLoader):
        return True
    return not isinstance(data, Dataset) and isinstance(data, Iterable)


def _check_batches(name: str, data: Any) -> None:
    """Batched data :func:`fit` goes through once per epoch must be re-iterable (a DataLoader
    or a list), not a one-shot iterator, which would be empty from the second epoch on."""
    if is_batches(data) and iter(data) is data:
        raise ParameterError(
            name, "must be a Dataset, a DataLoader or a list of (x, y) batches, not an iterator"
        )


def _loader_generators(data: Any) -> list[torch.Generator]:
    """The generators that order a DataLoader's batches (its own, its sampler's, its batch
    sampler's sampler's), each once: their state goes into a checkpoint so that a resumed
    training draws the same order as an uninterrupted one. None for other data."""
    if not isinstance(data, DataLoader):
        return []
    found = [
        data.generator,
        getattr(data.sampler, "generator", None),
        getattr(getattr(data.batch_sampler, "sampler", None), "generator", None),
    ]
    out: list[torch.Generator] = []
    for g in found:
        if isinstance(g, torch.Generator) and all(g is not h for h in out):
            out.append(g)
    return out


def iterate_batches(
    ds: Dataset,
    batch_size: int,
    *,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    rank: int = 0,
    world: int = 1,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(x, y) batches of a dataset; in-memory :class:`ArrayDataset` is sliced directly (fast).

    ``ds`` may also be a re-iterable of (x, y) batches (a :class:`DataLoader`, a list of
    batches; see :func:`is_batches`): it is iterated as it is, and ``batch_size``, ``shuffle``,
    ``generator``, ``rank`` and ``world`` do not apply (the loader batches, orders and shards).

    With ``world > 1`` every process must pass the same ``generator`` state: each global batch
    of ``batch_size`` examples is drawn from the same order and process ``rank`` gets its
    examples ``rank, rank + world, ...`` (a DistributedSampler that keeps the global batch; the
    shares of a short last batch may differ in size by one, or be empty).
    """
    if is_batches(ds):  # a DataLoader or list of batches: its own batching, order and shards
        yield from ds  # type: ignore[misc]
        return
    if world > 1:
        yield from _sharded_batches(ds, batch_size, shuffle, generator, rank, world)
        return
    if isinstance(ds, ArrayDataset):
        n = len(ds)
        order = torch.randperm(n, generator=generator) if shuffle else None
        for i in range(0, n, batch_size):
            if order is None:
                yield ds.x[i : i + batch_size], ds.y[i : i + batch_size]
            else:
                idx = order[i : i + batch_size]
                yield ds.x[idx], ds.y[idx]
        return
    yield from DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=generator)


def input_batches(
    data: Any, batch_size: int, max_batches: int | None = None
) -> Iterator[torch.Tensor]:
    """Model inputs (B, ...) for calibration and probing, at most ``max_batches`` batches.

    ``data`` is an input tensor (N, ...) (split along dim 0), an object with an input tensor
    ``.x`` (:class:`ArrayDataset`), a map-style :class:`Dataset` (``batch_size`` examples per
    batch, in order), or an iterable of batches (an :class:`IterableDataset` too), each an input
    tensor or a tuple/list whose first element is the input.
    """
    if isinstance(data, torch.Tensor):
        items: Any = data.split(batch_size)
    elif isinstance(getattr(data, "x", None), torch.Tensor):
        items = data.x.split(batch_size)
    elif isinstance(data, Dataset) and not isinstance(data, IterableDataset):
        items = iterate_batches(data, batch_size)
    else:
        items = data
    for i, b in enumerate(items):
        if max_batches is not None and i >= max_batches:
            break
        yield b[0] if isinstance(b, tuple | list) else b


def _sharded_batches(
    ds: Dataset,
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None,
    rank: int,
    world: int,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    from torch.utils.data import default_collate

    n = len(ds)  # type: ignore[arg-type]
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for i in range(0, n, batch_size):
        idx = order[i : i + batch_size][rank::world]
        if isinstance(ds, ArrayDataset):
            yield ds.x[idx], ds.y[idx]
        elif len(idx):
            yield default_collate([ds[int(j)] for j in idx])
        else:
            x0, y0 = default_collate([ds[int(order[i])]])
            yield x0[:0], y0[:0]


def _num_batches(ds: Any, batch_size: int, cap: int | None) -> int | None:
    """Batches per epoch, at most ``cap``; None for batched data without a length (an
    iterable-style DataLoader)."""
    if is_batches(ds):
        try:
            n = len(ds)
        except TypeError:
            return cap
    else:
        n = math.ceil(len(ds) / batch_size)
    return min(n, cap) if cap else n


def _task_loss(logits: torch.Tensor, y: torch.Tensor, loss_fn: LossFn | None) -> torch.Tensor:
    if loss_fn is not None:
        return loss_fn(logits, y)
    if logits.dim() == 3:  # sequence outputs (N, T, V) against targets (N, T)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    return nn.functional.cross_entropy(logits, y)


def _correct(logits: torch.Tensor, y: torch.Tensor) -> tuple[int, int]:
    pred = logits.argmax(dim=-1)
    return int((pred == y).sum()), int(y.numel())


# --------------------------------------------------------------------------- evaluation
@torch.no_grad()
def predict(
    model: nn.Module, ds: Dataset | Iterable[Any], device: str = "cpu", batch_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N, classes) — or (N, T, V) for sequence outputs — and labels, on the CPU.

    ``ds``: a dataset (``batch_size`` examples per batch) or a DataLoader / list of (x, y)
    batches (its own batches)."""
    was_training = model.training
    model.eval()
    logits, labels = [], []
    try:
        for x, y in iterate_batches(ds, batch_size):
            logits.append(model(x.to(device)).float().cpu())
            labels.append(y)
    finally:
        model.train(was_training)
    return torch.cat(logits), torch.cat(labels)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    ds: Dataset | Iterable[Any],
    device: str = "cpu",
    batch_size: int = 1024,
    loss_fn: LossFn | None = None,
) -> dict[str, float]:
    """Mean loss and accuracy (token accuracy for sequence outputs); adds ``perplexity`` for
    sequence outputs (``exp`` of the mean cross-entropy in nats)."""
    logits, labels = predict(model, ds, device, batch_size)
    loss = float(_task_loss(logits, labels, loss_fn))
    correct, total = _correct(logits, labels)
    out = {"loss": loss, "accuracy": correct / max(total, 1)}
    if logits.dim() == 3:
        out["perplexity"] = math.exp(min(loss, 50.0))
    return out


def confusion_matrix(pred: torch.Tensor, labels: torch.Tensor, num_classes: int) -> np.ndarray:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    idx = labels.long() * num_classes + pred.long()
    return torch.bincount(idx, minlength=num_classes**2).reshape(num_classes, num_classes).numpy()


# --------------------------------------------------------------------------- training
def _make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ParameterError("model", "has no trainable parameters")
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def _make_scheduler(
    opt: torch.optim.Optimizer, cfg: TrainConfig
) -> torch.optim.lr_scheduler.LRScheduler | None:
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    if cfg.scheduler == "step":
        milestones = sorted({max(1, cfg.epochs // 2), max(1, (3 * cfg.epochs) // 4)})
        return torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.1)
    return None


def fit(
    model: nn.Module,
    train: Dataset | Iterable[tuple[torch.Tensor, torch.Tensor]],
    val: Dataset | Iterable[tuple[torch.Tensor, torch.Tensor]] | None = None,
    config: TrainConfig | None = None,
    *,
    callbacks: Sequence[Callback] = (),
    checkpoint: str | Path | None = None,
    loss_fn: LossFn | None = None,
    description: str = "train",
) -> History:
    """Train ``model`` in place; return the per-epoch history.

    Each history entry has ``epoch``, ``train_loss``, ``train_acc``, ``lr``, ``time_s`` and, with
    ``val``, ``val_loss`` / ``val_acc`` (plus whatever callbacks add). With the same seed, data and
    model initialisation the resulting weights are identical (CPU; deterministic kernels asked for).

    ``train`` and ``val`` are map-style datasets (batched by ``config.batch_size``, shuffled with
    ``config.seed``), or your own :class:`DataLoader` (or a list of (x, y) batches), used as it
    is: its batch size, order, workers and sampler hold, not re-wrapped. A checkpoint then also
    holds the state of the loader's generator (``DataLoader(generator=g)``; without one the
    loader draws its order from torch's global generator, which the checkpoint holds anyway),
    so that a resumed training sees the same batches as an uninterrupted one. Under
    distributed data parallel a loader shards itself (e.g. with a ``DistributedSampler``) and
    each process's mean loss counts alike.
    """
    cfg = config or TrainConfig()
    _check_batches("train", train)
    if val is not None:
        _check_batches("val", val)
    loader_gens = _loader_generators(train)
    batched = is_batches(train)
    ddp = _setup_distributed(cfg.device)
    device = torch.device(cfg.device)
    if ddp.active and device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    model.to(device)
    seed_everything(cfg.seed)
    shuffle_gen = torch.Generator().manual_seed(cfg.seed)
    opt = _make_optimizer(model, cfg)
    sched = _make_scheduler(opt, cfg)
    history: History = []
    start_epoch = 0
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt is not None and ckpt.is_file():
        state = load_checkpoint(ckpt, map_location=device)
        if _same_run(state.get("config")) != _same_run(asdict(cfg)):
            raise ParameterError(
                "checkpoint", f"{ckpt} was written with a different training configuration"
            )
        _check_extension(ckpt, state, cfg)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if sched is not None and state.get("scheduler") is not None:
            sched.load_state_dict(state["scheduler"])
        for cb, cb_state in zip(callbacks, state.get("callbacks", []), strict=False):
            cb.load_state_dict(cb_state)
        shuffle_gen.set_state(state["shuffle_rng"])
        for g, g_state in zip(loader_gens, state.get("loader_rng", []), strict=False):
            g.set_state(g_state)
        torch.set_rng_state(state["torch_rng"])
        np.random.set_state(_np_state_from(state["numpy_rng"]))
        random.seed(int(state["python_seed"]))
        history = [dict(h) for h in state["history"]]
        start_epoch = int(state["epoch"])
    for cb in callbacks:
        cb.on_train_begin(model, opt)
    net: nn.Module = model
    if ddp.active:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    bar = progress_bar if ddp.main else _no_bar

    n_batches = _num_batches(train, cfg.batch_size, cfg.max_batches)
    n_train = 0 if batched else len(train)  # type: ignore[arg-type]
    shared = ddp.active and not batched  # fit shards the batches: weight each share
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        t0 = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        with bar(f"{description} epoch {epoch + 1}/{cfg.epochs}", n_batches) as advance:
            batches = iterate_batches(
                train,
                cfg.batch_size,
                shuffle=True,
                generator=shuffle_gen,
                rank=ddp.rank,
                world=ddp.world,
            )
            for b, (x, y) in enumerate(batches):
                if n_batches is not None and b >= n_batches:
                    break
                weight = 1.0
                if shared:  # this share's weight in the global batch's mean loss
                    global_n = min(cfg.batch_size, n_train - b * cfg.batch_size)
                    weight = len(y) * ddp.world / global_n
                    if len(y) == 0:  # no share of a short last batch: take part with weight 0
                        x, y = train[0][0].unsqueeze(0), torch.as_tensor([train[0][1]])
                        weight = 0.0
                x, y = x.to(device), y.to(device)
                logits = net(x)
                loss = _task_loss(logits, y, loss_fn)
                total = loss * weight if shared else loss
                for cb in callbacks:
                    extra = cb.extra_loss(model)
                    if extra is not None:
                        total = total + extra
                opt.zero_grad(set_to_none=True)
                total.backward()
                for cb in callbacks:
                    cb.on_after_backward(model)
                if cfg.grad_clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                opt.step()
                for cb in callbacks:
                    cb.on_step_end(model)
                if weight:
                    c, t = _correct(logits.detach(), y)
                    loss_sum += float(loss.detach()) * t
                    correct += c
                    seen += t
                advance(info=f"loss {loss_sum / max(seen, 1):.4f}")
        loss_sum, correct, seen = ddp.all_sum([loss_sum, correct, seen], device)
        metrics: dict[str, float] = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / max(seen, 1),
            "train_acc": correct / max(seen, 1),
            "lr": opt.param_groups[0]["lr"],
        }
        if sched is not None:
            sched.step()
        if val is not None:
            ev = _evaluate_shared(model, val, device, cfg.eval_batch_size, loss_fn, ddp)
            metrics["val_loss"], metrics["val_acc"] = ev["loss"], ev["accuracy"]
            if "perplexity" in ev:
                metrics["val_perplexity"] = ev["perplexity"]
        for cb in callbacks:
            cb.on_epoch_end(epoch + 1, model, metrics)
        metrics["time_s"] = time.perf_counter() - t0
        history.append(metrics)
        if ckpt is not None:
            python_seed = random.randrange(2**31)
            random.seed(python_seed)
        if ckpt is not None and ddp.main:
            save_checkpoint(
                ckpt,
                {
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict() if sched is not None else None,
                    "callbacks": [cb.state_dict() for cb in callbacks],
                    "epoch": epoch + 1,
                    "history": history,
                    "config": asdict(cfg),
                    "shuffle_rng": shuffle_gen.get_state(),
                    "loader_rng": [g.get_state() for g in loader_gens],
                    "torch_rng": torch.get_rng_state(),
                    "numpy_rng": _np_state_to(np.random.get_state()),
                    "python_seed": python_seed,
                },
            )
        if ckpt is not None:
            ddp.barrier()  # the checkpoint is complete before any rank goes on
    if ddp.owned:
        import torch.distributed as dist

        dist.destroy_process_group()
    return history


def _same_run(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """A checkpoint's config without the keys that may change on resume: where it runs (as a
    run folder's runtime keys: a CPU-started training can resume on a GPU) and ``epochs`` (a
    larger value extends the training, :func:`_check_extension`)."""
    if config is None:
        return None
    return {k: v for k, v in config.items() if k not in ("device", "epochs")}


def _check_extension(ckpt: Path, state: dict[str, Any], cfg: TrainConfig) -> None:
    """Resuming with other ``epochs``: only more, and only without a schedule tied to them."""
    done = int(state["epoch"])
    saved = (state.get("config") or {}).get("epochs", cfg.epochs)
    if cfg.epochs < done:
        raise ParameterError("epochs", f"{ckpt} already holds {done} epochs", cfg.epochs)
    if cfg.epochs != saved and cfg.scheduler is not None:
        raise ParameterError(
            "epochs",
            f"{ckpt} was trained for {saved} epochs with a {cfg.scheduler} schedule, which "
            "depends on the epochs; only a run without --scheduler can be extended",
            cfg.epochs,
        )


def _evaluate_shared(
    model: nn.Module,
    ds: Dataset,
    device: torch.device,
    batch_size: int,
    loss_fn: LossFn | None,
    ddp: _Dist,
) -> dict[str, float]:
    """:func:`evaluate`, each process taking every ``world``-th example when distributed (a
    DataLoader or list of batches is evaluated whole by every process)."""
    if not ddp.active or is_batches(ds):
        return evaluate(model, ds, str(device), batch_size, loss_fn)
    n = len(ds)  # type: ignore[arg-type]
    share = list(range(ddp.rank, n, ddp.world))
    loss_sum, correct, total, seq = 0.0, 0, 0, 0
    if share:
        if isinstance(ds, ArrayDataset):
            part: Dataset = ArrayDataset(ds.x[share], ds.y[share], ds.classes, ds.name)
        else:
            part = torch.utils.data.Subset(ds, share)
        logits, labels = predict(model, part, str(device), batch_size)
        correct, total = _correct(logits, labels)
        loss_sum = float(_task_loss(logits, labels, loss_fn)) * total
        seq = int(logits.dim() == 3)
    loss_sum, correct, total, seq = ddp.all_sum([loss_sum, correct, total, seq], device)
    loss = loss_sum / max(total, 1)
    out = {"loss": loss, "accuracy": correct / max(total, 1)}
    if seq:
        out["perplexity"] = math.exp(min(loss, 50.0))
    return out


def _np_state_to(state: tuple) -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = state
    return {
        "name": name,
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached": float(cached),
    }


def _np_state_from(d: dict[str, Any]) -> tuple:
    return (d["name"], d["keys"].numpy().astype(np.uint32), d["pos"], d["has_gauss"], d["cached"])
