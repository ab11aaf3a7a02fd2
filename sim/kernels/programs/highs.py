"""HiGHS through its own Python interface (``highspy``): one instance per thread, a built program
passed to it, solved, and the optimum read back. scipy's ``milp`` wrapper costs several milliseconds
per call in option checks alone."""

from __future__ import annotations

import threading

import highspy
import numpy as np

from sim.kernels.programs.builder import Builder

_INTEGER, _CONTINUOUS = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
_LOCAL = threading.local()


def solve(b: Builder, cost: np.ndarray) -> np.ndarray | None:
    """Optimal x for min cost·x, or None (infeasible)."""
    highs = load(b, cost)
    highs.run()
    return optimum(highs)


def load(b: Builder, cost: np.ndarray) -> highspy.Highs:
    """Pass the program to the process's HiGHS instance (to be run, or changed and re-run warm)."""
    highs = solver()
    highs.passModel(model(b, cost))
    return highs


def model(b: Builder, cost: np.ndarray) -> highspy.HighsLp:
    """The program as a HiGHS model."""
    n, m = len(b.lower), len(b.cols)
    starts, rows, values = b.columns()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.asarray(b.lower, dtype=float)
    lp.col_upper_ = np.asarray(b.upper, dtype=float)
    lp.row_lower_ = np.asarray(b.row_lo, dtype=float)
    lp.row_upper_ = np.asarray(b.row_hi, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = rows
    lp.a_matrix_.value_ = values
    if any(b.integer):
        lp.integrality_ = [_INTEGER if flag else _CONTINUOUS for flag in b.integer]
    return lp


def optimal(highs: highspy.Highs) -> bool:
    """Did the last run end optimal?"""
    return highs.getModelStatus() == highspy.HighsModelStatus.kOptimal


def optimum(highs: highspy.Highs) -> np.ndarray | None:
    """The solution of the last run, or None when it did not end optimal."""
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.array(highs.getSolution().col_value)


def hot_solver() -> highspy.Highs:
    """The thread's second HiGHS instance, for :func:`sim.kernels.programs.solvers.solve_hot`: presolve off
    (on these small programs it costs more than it saves) and devex pricing (cheaper per iteration at this
    size). The first instance (:func:`solver`) keeps its options, so every other program is solved as before."""
    highs = getattr(_LOCAL, "hot", None)
    if highs is None:
        highs = _LOCAL.hot = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("presolve", "off")
        highs.setOptionValue("simplex_dual_edge_weight_strategy", 1)  # devex
    return highs


def solver() -> highspy.Highs:
    """One HiGHS instance per thread, reused (making one costs more than solving a small program; the
    classroom app computes in more than one thread, and an instance must not be shared between them)."""
    highs = getattr(_LOCAL, "highs", None)
    if highs is None:
        highs = _LOCAL.highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("mip_rel_gap", 1e-9)
    return highs
