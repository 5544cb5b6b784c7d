"""Sweeps: grids of independent trials, executors, a resumable SQLite store, plots, reports,
run tracking (MLflow, TensorBoard)."""

from .executors import Executor, LocalExecutor, TrialError, make_executor
from .grid import grid, trial_key
from .montecarlo import StopRule, chunk_rng, simulate
from .plots import bar_plot, heatmap, line_plot
from .report import Report, Section
from .run import Run, default_out, versions
from .store import ResultStore
from .track import track_run, tracking

__all__ = [
    "Executor",
    "LocalExecutor",
    "Report",
    "ResultStore",
    "Run",
    "Section",
    "StopRule",
    "TrialError",
    "bar_plot",
    "chunk_rng",
    "default_out",
    "grid",
    "heatmap",
    "line_plot",
    "make_executor",
    "simulate",
    "track_run",
    "tracking",
    "trial_key",
    "versions",
]
