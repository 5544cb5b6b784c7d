"""Trial and chunk functions for the scale tests (a plain module: worker processes import it)."""

import os
import time

import numpy as np


def noisy_mean(params, context):
    """A seeded trial with a big read-only context: the mean of context + seeded noise."""
    rng = np.random.default_rng(params["seed"])
    x = context["weights"] + params["scale"] * rng.standard_normal(context["weights"].shape)
    return {"mean": float(x.mean()), "pid": os.getpid(), "ctx": id(context)}


def slow_square(params, context):
    time.sleep(params.get("sleep", 0.0))
    if params.get("boom"):
        raise RuntimeError("simulated crash")
    return {"y": params["x"] ** 2}


def coin_chunk(params, rng, n, context):
    """n Bernoulli(p) frames; with ``jitter`` the chunk sleeps a random time (finish order)."""
    if params.get("jitter"):
        time.sleep(float(np.random.default_rng().uniform(0, params["jitter"])))
    errors = int((rng.random(n) < params["p"]).sum())
    return {"errors": errors, "weighted": errors * 0.5}


def thread_info(params, context):
    """The thread caps a worker process runs under (torch imported by the trial itself)."""
    import os

    import torch

    return {"torch": torch.get_num_threads(), "omp": os.environ.get("OMP_NUM_THREADS")}
