"""A sweep driver run as a subprocess by the kill-and-resume test:
``python sweep_driver_script.py OUT RAY_ADDRESS``."""

import sys

import scale_trials as st

from noisyhw.sweep import Run
from noisyhw.sweep.ray_executor import RayExecutor

TRIALS = [{"x": x, "sleep": 0.3} for x in range(10)]

if __name__ == "__main__":
    import time

    t0 = time.monotonic()
    out, address = sys.argv[1], sys.argv[2]
    run = Run("toy ray", {"n": len(TRIALS)}, out=out, seed=0)
    print("start", time.monotonic() - t0, flush=True)
    run.sweep(st.slow_square, TRIALS, executor=RayExecutor(address=address, workers=2))
    print("finished")
