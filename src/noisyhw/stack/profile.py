"""A hardware profile: the ordered, optional stages one model goes through on imperfect hardware.

>>> p = Profile(quantize=QuantizeStage(weight_bits=4), store=StoreStage("fixed8", ber=1e-3))
>>> [name for name, _ in p.stages]
['quantize', 'store']
>>> Profile.from_dict({"store": {"representation": "fixed8", "bre": 1e-3}})
...                                      # doctest: +ELLIPSIS
Traceback (most recent call last):
ParameterError: store.bre: must be one of ... (got 'bre'); did you mean 'ber'?

Stages, in this order (each ``None`` = off):

``prune``     :class:`PruneStage` -> :func:`noisyhw.compress.prune.prune_` (a
              :class:`~noisyhw.compress.prune.PruneSpec`); one-shot magnitude without training
              data, any method with it.
``quantize``  :class:`QuantizeStage` -> :func:`noisyhw.analog.nvm.quantize_` (a
              :class:`~noisyhw.analog.nvm.QuantSpec`): weights / DAC / ADC bits of the crossbar
              arrays and the programming error drawn when the arrays are written.
``store``     :class:`StoreStage` -> :func:`noisyhw.storage.corrupt_`: the weights' memory image in
              a representation with a protection, every stored bit flipped at a raw BER (given,
              or a media preset); an optional PCM time-space constrained code's rate sets the
              cells per stored bit.
``compute``   :class:`ComputeStage`: analog output noise (:func:`noisyhw.analog.inject_noise_`,
              ``kind="analog"``) or the crossbar's read / ADC noise (``kind="nvm"``, needs the
              quantize stage), and K-vote classification (:func:`noisyhw.analog.vote`).

Every field is checked when the profile is built; a bad one raises
:class:`~noisyhw.errors.ParameterError` naming its path (``store.ber``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..errors import DataError, ParameterError, check_choice, check_float, check_int

__all__ = [
    "MEDIA",
    "STAGES",
    "ComputeStage",
    "Profile",
    "PruneStage",
    "QuantizeStage",
    "StoreStage",
]

#: the stage names, in the order a model goes through them
STAGES = ("prune", "quantize", "store", "compute")

#: media presets of the store stage -> the raw-BER table they read
#: (:data:`noisyhw.storage.campaign.MEDIA_BER`, the one place those numbers live)
MEDIA: dict[str, str] = {
    "fresh-slc-nand": "fresh SLC NAND",
    "fresh-tlc-nand": "fresh TLC NAND",
    "worn-tlc-nand": "worn TLC NAND",
    "worn-qlc-nand": "worn QLC NAND / long retention",
    "low-voltage-sram": "low-voltage SRAM (~30% energy saved)",
}

#: the most votes a compute stage takes (each vote is a full forward pass)
VOTES_MAX = 1000


def _within(stage: str, exc: ParameterError) -> ParameterError:
    """``exc`` re-raised under the stage's path (``quantize.weight_bits``)."""
    name = exc.name if exc.name.startswith(f"{stage}.") else f"{stage}.{exc.name}"
    return ParameterError(name, exc.allowed, exc.got)


def _typed(stage: Any, prefix: str) -> None:
    """Refuse a value of the wrong kind in a number field (a string, a bool, 2.5 for an int) and
    store numbers as their field's type, so equal profiles compare and serialise equal."""
    for f in fields(stage):
        value, kind = getattr(stage, f.name), str(f.type)
        if value is None or not (kind.startswith("float") or kind.startswith("int")):
            continue
        path = f"{prefix}.{f.name}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(path, f"must be a number ({kind})", value)
        if kind.startswith("int"):
            if float(value) != int(value):
                raise ParameterError(path, "must be a whole number", value)
            object.__setattr__(stage, f.name, int(value))
        else:
            object.__setattr__(stage, f.name, float(value))


def _optional_bits(path: str, value: Any, lo: int) -> int | None:
    return None if value is None else check_int(path, value, lo, 16)


@dataclass(frozen=True)
class PruneStage:
    """Prune the weights: ``structure`` (a :data:`~noisyhw.compress.prune.STRUCTURES` name),
    ``sparsity`` in [0, 1), ``method`` (``magnitude`` needs no data; the others train with
    ``train_data`` for ``epochs`` epochs at learning rate ``lr``)."""

    structure: str = "irregular"
    sparsity: float = 0.5
    method: str = "magnitude"
    epochs: int = 2
    lr: float = 1e-3

    def __post_init__(self) -> None:
        _typed(self, "prune")
        check_int("prune.epochs", self.epochs, 1, 10_000)
        check_float("prune.lr", self.lr, 0.0, 1.0, lo_open=True)
        self.spec()

    def spec(self) -> Any:
        """The :class:`~noisyhw.compress.prune.PruneSpec` this stage runs."""
        from ..compress.prune import PruneSpec

        try:
            return PruneSpec(structure=self.structure, sparsity=self.sparsity, method=self.method)
        except ParameterError as exc:
            raise _within("prune", exc) from None


@dataclass(frozen=True)
class QuantizeStage:
    """Map Linear / LSTM / GRU layers onto NVM crossbars (convolutions stay digital).

    ``weight_bits`` / ``dac_bits`` / ``adc_bits``: converter resolutions (None = float);
    ``weight_granularity``: one weight range per ``layer`` or output ``channel``;
    ``on_off_ratio``: G_max / G_min of a device; ``prog_noise``: programming error, std as a
    fraction of the conductance range, drawn per trial when the arrays are written;
    ``calib_batches``: batches of calibration data that set the DAC / ADC ranges.
    """

    weight_bits: int | None = 4
    dac_bits: int | None = 4
    adc_bits: int | None = 4
    weight_granularity: str = "channel"
    on_off_ratio: float = 100.0
    prog_noise: float = 0.0
    calib_batches: int = 8

    def __post_init__(self) -> None:
        _typed(self, "quantize")
        object.__setattr__(
            self, "weight_bits", _optional_bits("quantize.weight_bits", self.weight_bits, 1)
        )
        object.__setattr__(self, "dac_bits", _optional_bits("quantize.dac_bits", self.dac_bits, 1))
        object.__setattr__(self, "adc_bits", _optional_bits("quantize.adc_bits", self.adc_bits, 1))
        check_int("quantize.calib_batches", self.calib_batches, 1, 10_000)
        self.spec()

    def spec(self, seed: int = 0, read_noise: float = 0.0, adc_noise: float = 0.0) -> Any:
        """The :class:`~noisyhw.analog.nvm.QuantSpec` of this stage (plus compute-time noise)."""
        from ..analog.nvm import QuantSpec

        try:
            return QuantSpec(
                weight_bits=self.weight_bits,
                dac_bits=self.dac_bits,
                adc_bits=self.adc_bits,
                weight_granularity=self.weight_granularity,  # type: ignore[arg-type]
                on_off_ratio=self.on_off_ratio,
                prog_noise=self.prog_noise,
                read_noise=read_noise,
                adc_noise=adc_noise,
                seed=seed,
            )
        except ParameterError as exc:
            raise _within("quantize", exc) from None

    @property
    def stochastic(self) -> bool:
        return self.prog_noise > 0


@dataclass(frozen=True)
class StoreStage:
    """Keep the weights in noisy memory, read them back.

    ``representation``: ``float32``, ``float16``, ``bfloat16``, ``fixed<n>``, ``hwo<n>``;
    ``protection``: a :func:`noisyhw.storage.protection` name (``none``, ``nulling``,
    ``range``, ... or any protection that function accepts); ``ber``: raw bit error rate, or
    ``media``: one of :data:`MEDIA` (exactly one of the two); ``pcm``: an ``(alpha, beta, p)``
    time-space constraint of phase-change memory whose best code's rate sets the cells per
    stored bit (``1 / rate``); ``buffers``: also store BatchNorm statistics.
    """

    representation: str = "float32"
    protection: str = "none"
    ber: float | None = None
    media: str | None = None
    pcm: tuple[int, int, int] | None = None
    buffers: bool = False

    def __post_init__(self) -> None:
        _typed(self, "store")
        from ..storage import protection, representation

        for key, parse in (("representation", representation), ("protection", protection)):
            value = getattr(self, key)
            if not isinstance(value, str):
                raise ParameterError(f"store.{key}", "must be a name", value)
            try:
                parse(value)
            except ParameterError as exc:
                raise ParameterError(f"store.{key}", exc.allowed, exc.got) from None
        if (self.ber is None) == (self.media is None):
            raise ParameterError(
                "store.ber", "give exactly one of store.ber and store.media", (self.ber, self.media)
            )
        if self.ber is not None:
            check_float("store.ber", self.ber, 0.0, 0.5)
        if self.media is not None:
            check_choice("store.media", self.media, MEDIA)
        if self.pcm is not None:
            from ..codes.pcm import constraint

            if not isinstance(self.pcm, list | tuple) or len(self.pcm) != 3:
                raise ParameterError("store.pcm", "must be [alpha, beta, p]", self.pcm)
            triple = tuple(self.pcm)
            try:
                constraint(*triple)
            except ParameterError as exc:
                raise ParameterError(f"store.pcm.{exc.name}", exc.allowed, exc.got) from None
            object.__setattr__(self, "pcm", tuple(int(v) for v in triple))
        if not isinstance(self.buffers, bool):
            raise ParameterError("store.buffers", "true or false", self.buffers)

    @property
    def raw_ber(self) -> float:
        """The bit error rate: ``ber``, or the media preset's."""
        if self.ber is not None:
            return float(self.ber)
        from ..storage.campaign import MEDIA_BER

        return MEDIA_BER[MEDIA[str(self.media)]]

    @property
    def stochastic(self) -> bool:
        return self.raw_ber > 0


@dataclass(frozen=True)
class ComputeStage:
    """Noisy inference. ``kind="analog"``: Gaussian noise on every matrix-product output at
    ``snr_db`` (``mode``: ``relative`` / ``fixed`` / ``fullscale``, see
    :class:`noisyhw.analog.NoiseSpec`); ``kind="nvm"``: the crossbars' device ``read_noise``
    (std, fraction of G) and ``adc_noise`` (ADC LSBs), needs the quantize stage. ``votes``
    passes combined by ``vote_method`` (``mean`` softmax or ``majority``)."""

    kind: str = "analog"
    snr_db: float = math.inf
    mode: str = "fixed"
    read_noise: float = 0.0
    adc_noise: float = 0.0
    votes: int = 1
    vote_method: str = "mean"

    def __post_init__(self) -> None:
        _typed(self, "compute")
        from ..analog.noise import MODES

        check_choice("compute.kind", self.kind, ("analog", "nvm"))
        check_float("compute.snr_db", self.snr_db, -100.0, allow_inf=True)
        check_choice("compute.mode", self.mode, MODES)
        check_float("compute.read_noise", self.read_noise, 0.0, 10.0)
        check_float("compute.adc_noise", self.adc_noise, 0.0, 1000.0)
        check_int("compute.votes", self.votes, 1, VOTES_MAX)
        check_choice("compute.vote_method", self.vote_method, ("mean", "majority"))
        if self.kind == "analog" and (self.read_noise or self.adc_noise):
            bad = "read_noise" if self.read_noise else "adc_noise"
            raise ParameterError(f"compute.{bad}", "is for kind = 'nvm'", getattr(self, bad))
        if self.kind == "nvm" and math.isfinite(self.snr_db):
            raise ParameterError("compute.snr_db", "is for kind = 'analog'", self.snr_db)

    def noise_spec(self) -> Any:
        """The :class:`~noisyhw.analog.NoiseSpec` of ``kind="analog"``."""
        from ..analog import NoiseSpec

        return NoiseSpec(snr_db=self.snr_db, mode=self.mode)

    @property
    def stochastic(self) -> bool:
        if self.kind == "analog":
            return math.isfinite(self.snr_db)
        return self.read_noise > 0 or self.adc_noise > 0


_STAGE_TYPES: dict[str, type] = {
    "prune": PruneStage,
    "quantize": QuantizeStage,
    "store": StoreStage,
    "compute": ComputeStage,
}


@dataclass(frozen=True)
class Profile:
    """A named hardware profile: ``prune`` -> ``quantize`` -> ``store`` -> ``compute``, each
    optional (``None`` = off). ``source`` says where its numbers come from."""

    name: str = "custom"
    source: str = ""
    prune: PruneStage | None = None
    quantize: QuantizeStage | None = None
    store: StoreStage | None = None
    compute: ComputeStage | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ParameterError("name", "must be a non-empty string", self.name)
        if not isinstance(self.source, str):
            raise ParameterError("source", "must be a string", self.source)
        for key, cls in _STAGE_TYPES.items():
            value = getattr(self, key)
            if isinstance(value, Mapping):  # Profile(store={...}) builds the stage
                object.__setattr__(self, key, _stage_from_dict(key, value))
            elif value is not None and not isinstance(value, cls):
                raise ParameterError(key, f"must be a {cls.__name__} or a table", value)
        c, q = self.compute, self.quantize
        if c is not None and c.kind == "nvm" and q is None:
            raise ParameterError("compute.kind", "'nvm' needs a quantize stage", c.kind)
        if c is not None and c.kind == "analog" and q is not None and math.isfinite(c.snr_db):
            raise ParameterError(
                "compute.kind",
                "with a quantize stage the crossbars' noise is kind = 'nvm' (read_noise, "
                "adc_noise); analog output noise is for float layers",
                c.kind,
            )
        if self.store is not None and self.store.buffers and q is not None:
            raise ParameterError(
                "store.buffers",
                "cannot be true with a quantize stage (the crossbars' buffers are simulator "
                "state, not stored weights)",
                True,
            )
        if c is not None and c.adc_noise > 0 and (q is None or q.adc_bits is None):
            raise ParameterError("compute.adc_noise", "is in ADC LSBs and needs quantize.adc_bits")

    @property
    def stages(self) -> list[tuple[str, Any]]:
        """The stages that are on, in order: ``[(name, stage), ...]``."""
        return [(k, getattr(self, k)) for k in STAGES if getattr(self, k) is not None]

    def with_(self, **changes: Any) -> Profile:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def asdict(self) -> dict[str, Any]:
        """Plain data: ``Profile.from_dict(p.asdict()) == p``; stages that are off are left out."""
        out: dict[str, Any] = {"name": self.name, "source": self.source}
        for key, stage in self.stages:
            out[key] = {
                k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(stage).items()
            }
        return out

    def to_toml(self) -> str:
        """The profile as TOML (a float converter, ``None`` bits, is written ``"off"``; other
        unset fields are left out)."""

        def value(v: Any) -> str:
            if v is None:
                return '"off"'
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, float) and math.isinf(v):
                return "inf" if v > 0 else "-inf"
            if isinstance(v, str):
                return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
            if isinstance(v, list | tuple):
                return "[" + ", ".join(value(x) for x in v) + "]"
            return repr(v)

        d = self.asdict()
        lines = [f"name = {value(d.pop('name'))}", f"source = {value(d.pop('source'))}"]
        for key, table in d.items():
            kept = {k: v for k, v in table.items() if v is not None or k.endswith("_bits")}
            lines += ["", f"[{key}]"] + [f"{k} = {value(v)}" for k, v in kept.items()]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Build from plain data (a parsed TOML file); unknown keys are refused by name."""
        if not isinstance(data, Mapping):
            raise ParameterError("profile", "must be a table of stages", type(data).__name__)
        allowed = ("name", "source", *STAGES)
        for key in data:
            if key not in allowed:
                raise ParameterError(
                    str(key), f"must be one of {', '.join(allowed)} (unknown key)", str(key)
                )
        kw: dict[str, Any] = {k: data[k] for k in ("name", "source") if k in data}
        for key in STAGES:
            if key in data:
                kw[key] = _stage_from_dict(key, data[key])
        return cls(**kw)

    @classmethod
    def from_toml(cls, path: str | Path) -> Profile:
        """Read a TOML profile file (see ``docs/stack.md`` for the schema)."""
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text())
        except FileNotFoundError:
            raise DataError(f"{p}: no such profile file") from None
        except IsADirectoryError:
            raise DataError(f"{p}: is a folder, not a TOML profile") from None
        except UnicodeDecodeError:
            raise DataError(f"{p}: not a text (TOML) file") from None
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"{p}: not valid TOML ({exc})") from None
        data.setdefault("name", p.stem)
        return cls.from_dict(data)


def _stage_from_dict(key: str, table: Any) -> Any:
    cls = _STAGE_TYPES[key]
    if not isinstance(table, Mapping):
        raise ParameterError(key, "must be a table of settings", table)
    names = [f.name for f in fields(cls)]
    kw = {}
    for k, v in table.items():
        if k not in names:
            raise ParameterError(
                f"{key}.{k}", f"must be one of {', '.join(names)} (unknown key)", str(k)
            )
        kw[k] = None if isinstance(v, str) and v == "off" and k.endswith("_bits") else v
    return cls(**kw)
