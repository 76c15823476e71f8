"""The one call into HiGHS: a sparse column-wise programme in; status, objective, gap, values out.

Every model writes its programme as a :class:`Program` (built with :func:`build_program` from
row / column / value triplets) and hands it to :func:`solve_program`, which passes it to HiGHS
in one ``passModel`` call with numpy arrays, so a model with a million pairs is built in a
fraction of a second.  highspy is imported there, on the first solve.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse

from ..errors import DataError, OptimizationError

__all__ = ["Program", "build_program", "solve_program"]


@dataclass(frozen=True)
class Program:
    """A linear (mixed-integer) programme in column-wise sparse form."""

    maximise: bool
    column_cost: np.ndarray
    column_lower: np.ndarray
    column_upper: np.ndarray
    integer: np.ndarray  # bool per column
    matrix: sparse.csc_array  # rows × columns
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float = 0.0
    start: np.ndarray | None = None  # a feasible point handed to HiGHS as its first incumbent


def build_program(
    *,
    maximise,
    column_cost,
    column_lower,
    column_upper,
    integer,
    rows,
    columns,
    values,
    n_rows,
    row_lower,
    row_upper,
    offset=0.0,
    start=None,
) -> Program:
    """A :class:`Program` whose constraint matrix has ``values`` at ``(rows, columns)`` (summed)."""
    matrix = sparse.csc_array(
        (
            np.asarray(values, dtype=float),
            (np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64)),
        ),
        shape=(n_rows, len(column_cost)),
    )
    matrix.sum_duplicates()
    return Program(
        maximise,
        np.asarray(column_cost, float),
        np.asarray(column_lower, float),
        np.asarray(column_upper, float),
        np.asarray(integer, bool),
        matrix,
        np.asarray(row_lower, float),
        np.asarray(row_upper, float),
        float(offset),
        None if start is None else np.asarray(start, float),
    )


@contextlib.contextmanager
def _quiet_stdout():
    # HiGHS prints its banner from C++ the first time a solver is created in a process; that
    # would corrupt JSON a CLI writes to stdout, so the file descriptor is silenced around it.
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout (some embedded hosts): nothing to protect
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _solver(highspy, *, time_limit: float | None, mip_gap: float, node_limit: int | None):
    with _quiet_stdout():
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", float(mip_gap))
    # A fixed seed and thread count keep repeated solves of one model identical.
    highs.setOptionValue("random_seed", 0)
    if time_limit is not None:
        if time_limit <= 0:
            raise DataError(
                f"The time limit must be positive, not {time_limit!r}.", fix="Pass seconds > 0."
            )
        highs.setOptionValue("time_limit", float(time_limit))
    if node_limit is not None:
        highs.setOptionValue("mip_max_nodes", int(node_limit))
    return highs


def _pass_model(highspy, highs, program: Program, name: str) -> None:
    matrix = program.matrix
    n_rows, n_columns = matrix.shape
    status = highs.passModel(
        int(n_columns),
        int(n_rows),
        int(matrix.nnz),
        1,  # 1: column-wise
        -1 if program.maximise else 1,
        float(program.offset),
        np.ascontiguousarray(program.column_cost, dtype=np.float64),
        np.ascontiguousarray(program.column_lower, dtype=np.float64),
        np.ascontiguousarray(program.column_upper, dtype=np.float64),
        np.ascontiguousarray(program.row_lower, dtype=np.float64),
        np.ascontiguousarray(program.row_upper, dtype=np.float64),
        np.ascontiguousarray(matrix.indptr, dtype=np.int32),
        np.ascontiguousarray(matrix.indices, dtype=np.int32),
        np.ascontiguousarray(matrix.data, dtype=np.float64),
        program.integer.astype(np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise OptimizationError(
            f"HiGHS refused the {name} model.", fix="Report this with the inputs."
        )
    if program.start is not None:
        # A good incumbent from the start lets HiGHS stop as soon as its bound proves it.
        highs.setSolution(
            int(n_columns),
            np.arange(n_columns, dtype=np.int32),
            np.ascontiguousarray(program.start, dtype=np.float64),
        )


def _status_text(highspy, highs, *, has_solution: bool, node_limit: int | None, name: str) -> str:
    model_status = highs.getModelStatus()
    statuses = highspy.HighsModelStatus
    if model_status == statuses.kOptimal:
        return "optimal"
    if model_status == statuses.kTimeLimit and has_solution:
        return "time_limit"
    if node_limit is not None and model_status == statuses.kSolutionLimit and has_solution:
        return "node_limit"
    if model_status == statuses.kInfeasible:
        raise OptimizationError(
            f"The {name} model has no feasible solution.",
            fix="Allow more facilities, a larger max_cost or a lower coverage target.",
        )
    if model_status == statuses.kTimeLimit:
        raise OptimizationError(
            f"No feasible {name} solution was found within the time limit.",
            fix="Raise the time limit.",
        )
    raise OptimizationError(
        f"HiGHS stopped with status '{highs.modelStatusToString(model_status)}'.",
        fix="Check the inputs; report this if they look right.",
    )


def solve_program(
    program: Program,
    *,
    time_limit: float | None,
    mip_gap: float,
    name: str,
    node_limit: int | None = None,
) -> tuple[str, float, float, np.ndarray]:
    """Solve a programme with HiGHS.

    Parameters
    ----------
    program
        The programme (see :func:`build_program`).
    time_limit
        Seconds before HiGHS stops with its best solution (``None``: no limit).
    mip_gap
        Relative optimality gap at which HiGHS may stop.
    name
        The model's name, for error messages.
    node_limit
        Cap on branch-and-bound nodes (a limit that, unlike time, gives the same answer on every
        run); stopping there with a solution reports ``"node_limit"``.

    Returns
    -------
    tuple
        ``(status, objective, gap, column values)``; status is ``"optimal"``, ``"time_limit"``
        or ``"node_limit"``; the gap is 0 for a programme without integer columns.

    Raises
    ------
    OptimizationError
        HiGHS refused the model, it is infeasible, or no solution was found within the limit.
    """
    import highspy  # heavy: imported on the first solve, not with the package

    highs = _solver(highspy, time_limit=time_limit, mip_gap=mip_gap, node_limit=node_limit)
    _pass_model(highspy, highs, program, name)
    highs.run()
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    status_text = _status_text(
        highspy, highs, has_solution=has_solution, node_limit=node_limit, name=name
    )
    values = np.asarray(highs.getSolution().col_value, dtype=float)
    gap = float(info.mip_gap) if program.integer.any() else 0.0
    if not np.isfinite(gap) or status_text == "optimal" and gap < 0:
        gap = 0.0
    return status_text, float(info.objective_function_value), gap, values
