"""One model through the whole imperfect-hardware stack: prune -> quantize onto NVM crossbars
-> store in noisy memory -> compute with analog noise and votes (issue 21).

>>> from noisyhw.stack import Profile, StoreStage, evaluate, preset
>>> profile = preset("reram-4bit-worn-tlc")                                  # or Profile.from_toml(path)
>>> result = evaluate(model, test_ds, profile, trials=20, calib_data=train_ds)  # doctest: +SKIP
>>> for row in result.rows(): print(row["stage"], row["accuracy"])           # doctest: +SKIP

* :mod:`.profile` — :class:`Profile` and its stages (validated; TOML / dict round trip).
* :mod:`.presets` — named profiles with their sources.
* :mod:`.evaluate` — :func:`evaluate` and the pieces the sweep pipeline runs
  (:func:`prepare`, :func:`run_trial`, :func:`stack_trial`, :func:`summarize`).

A layer between ``experiments`` and the methods packages: it imports analog, compress,
storage, codes, sweep, train and the primitives, never cli or experiments. See docs/stack.md.
"""

from .evaluate import (
    Prepared,
    StackResult,
    StageResult,
    evaluate,
    prepare,
    run_trial,
    stack_trial,
    summarize,
    trial_seeds,
)
from .presets import PRESETS, preset
from .profile import (
    MEDIA,
    STAGES,
    ComputeStage,
    Profile,
    PruneStage,
    QuantizeStage,
    StoreStage,
)

__all__ = [
    "MEDIA",
    "PRESETS",
    "STAGES",
    "ComputeStage",
    "Prepared",
    "Profile",
    "PruneStage",
    "QuantizeStage",
    "StackResult",
    "StageResult",
    "StoreStage",
    "evaluate",
    "prepare",
    "preset",
    "run_trial",
    "stack_trial",
    "summarize",
    "trial_seeds",
]
