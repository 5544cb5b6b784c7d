"""Noisy analog computation: SNR-parameterised noise on every matrix-vector product.

>>> from noisyhw.analog import NoiseSpec, inject_noise_, calibrate, measure_snr, vote
>>> inject_noise_(model, NoiseSpec(snr_db=0.0, mode="fixed"), seed=0)  # doctest: +SKIP
>>> calibrate(model, train_ds)                                         # doctest: +SKIP
>>> vote(model, x, votes=15, method="mean").pred                       # doctest: +SKIP

* :mod:`.noise` — :class:`NoiseSpec` (relative / fixed / fullscale SNR; layer / sample / output
  signal power), :class:`NoisePoint` per-layer state and :func:`apply_noise`, the one function
  that noises a product output (reused by the NVM crossbar in :mod:`noisyhw.analog.nvm`).
* :mod:`.inject` — :func:`inject_noise_` (in place), :func:`inject_noise` (a copy),
  :func:`remove_noise`, :func:`set_noise`, :func:`calibrate`, :func:`measure_snr`, :func:`noise_disabled`.
* :mod:`.recurrent` — :class:`NoisyRNN`, :class:`NoisyLSTM`, :class:`NoisyGRU` (deep noise
  injection at every time step; equal to torch's modules with noise off).
* :mod:`.vote` — :func:`vote` (majority / mean over K batched noisy passes), :func:`noisy_accuracy`.
* :mod:`.training` — :class:`NoiseTraining` callback (one SNR, a range, or a curriculum).
* :mod:`.attack` — black-box transfer attack (FGSM / PGD), adversarial training loss,
  robustness under inference noise.
"""

from .attack import (
    AdversarialLoss,
    fgsm,
    label_with,
    perturb,
    pgd,
    robust_accuracy,
    train_substitute,
    transfer_attack,
)
from .inject import (
    NoiseContext,
    calibrate,
    get_noise,
    inject_noise,
    inject_noise_,
    load_noise_state_dict,
    measure_snr,
    noise_disabled,
    noise_state_dict,
    remove_noise,
    set_noise,
)
from .noise import GRANULARITIES, MODES, NoisePoint, NoiseSpec, apply_noise
from .recurrent import NoisyGRU, NoisyLSTM, NoisyRecurrent, NoisyRNN, to_noisy_recurrent
from .training import NoiseTraining
from .vote import VoteResult, noisy_accuracy, vote

__all__ = [
    "GRANULARITIES",
    "MODES",
    "AdversarialLoss",
    "NoiseContext",
    "NoisePoint",
    "NoiseSpec",
    "NoiseTraining",
    "NoisyGRU",
    "NoisyLSTM",
    "NoisyRNN",
    "NoisyRecurrent",
    "VoteResult",
    "apply_noise",
    "calibrate",
    "fgsm",
    "get_noise",
    "inject_noise",
    "inject_noise_",
    "label_with",
    "load_noise_state_dict",
    "measure_snr",
    "noise_disabled",
    "noise_state_dict",
    "noisy_accuracy",
    "perturb",
    "pgd",
    "remove_noise",
    "robust_accuracy",
    "set_noise",
    "to_noisy_recurrent",
    "train_substitute",
    "transfer_attack",
    "vote",
]
