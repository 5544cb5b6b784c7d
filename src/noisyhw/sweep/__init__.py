"""Sweeps: grids of independent trials, executors, a resumable SQLite store, plots, reports."""

from .executors import Executor, LocalExecutor, TrialError, make_executor
from .grid import grid, trial_key
from .montecarlo import StopRule, chunk_rng, simulate
from .plots import bar_plot, heatmap, line_plot
from .report import Report, Section
from .run import Run, default_out, versions
from .store import ResultStore

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
    "trial_key",
    "versions",
]
