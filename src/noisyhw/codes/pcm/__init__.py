"""Time-space constrained codes for phase-change memory (Qin, Yaakobi, Siegel; arXiv 1207.4530).

An (alpha, beta, p) constraint allows at most p cell changes in any alpha consecutive rewrites
and any beta contiguous cells. This package checks histories against it (:func:`check`), bounds
its capacity (:func:`capacity_bounds`, exact :func:`capacity` in 1-D, :func:`finite_n_bound`),
and builds zero-error rewrite codes (:mod:`.base` holds their contract; one module per
construction: :mod:`.syndrome`, :mod:`.residue`, :mod:`.timeshare`, :mod:`.staggered`;
:func:`constructions`, :func:`best_code`) with exact rates (:func:`rate_table`).
"""

from .base import Encoder, PCMCode
from .capacity import (
    Bounds,
    capacity,
    capacity_1d,
    capacity_1d_p1,
    capacity_bounds,
    finite_n_bound,
    max_messages,
    spectral_bracket,
    strip_matrix,
)
from .check import Violation, change_array, check, max_window_cost
from .construct import best_code, constructions, rate_row, rate_table
from .game import search_block_code, solve_game, solve_wom
from .params import Constraint, constraint
from .residue import ResidueCode
from .simulate import SOURCES, SimulationResult, simulate
from .staggered import StaggeredWOMCode, staggered_wom
from .syndrome import SyndromeCode, round_robin
from .timeshare import TimeSharedCode

__all__ = [
    "SOURCES",
    "Bounds",
    "Constraint",
    "Encoder",
    "PCMCode",
    "ResidueCode",
    "SimulationResult",
    "StaggeredWOMCode",
    "SyndromeCode",
    "TimeSharedCode",
    "Violation",
    "best_code",
    "capacity",
    "capacity_1d",
    "capacity_1d_p1",
    "capacity_bounds",
    "change_array",
    "check",
    "constraint",
    "constructions",
    "finite_n_bound",
    "max_messages",
    "max_window_cost",
    "rate_row",
    "rate_table",
    "round_robin",
    "search_block_code",
    "simulate",
    "solve_game",
    "solve_wom",
    "spectral_bracket",
    "staggered_wom",
    "strip_matrix",
]
