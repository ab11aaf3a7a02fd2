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
    n, m = len(b.lower), len(b.cols)
    starts, rows, values = b.columns()
    highs = solver()
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = n, m
    model.col_cost_ = np.asarray(cost, dtype=float)
    model.col_lower_ = np.asarray(b.lower, dtype=float)
    model.col_upper_ = np.asarray(b.upper, dtype=float)
    model.row_lower_ = np.asarray(b.row_lo, dtype=float)
    model.row_upper_ = np.asarray(b.row_hi, dtype=float)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = starts
    model.a_matrix_.index_ = rows
    model.a_matrix_.value_ = values
    if any(b.integer):
        model.integrality_ = [_INTEGER if flag else _CONTINUOUS for flag in b.integer]
    highs.passModel(model)
    return highs


def optimum(highs: highspy.Highs) -> np.ndarray | None:
    """The solution of the last run, or None when it did not end optimal."""
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.array(highs.getSolution().col_value)


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
