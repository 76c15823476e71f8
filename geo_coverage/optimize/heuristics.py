"""Maximal-coverage starts and reductions: merged demand rows, greedy, 1-swaps, exact re-solves.

All of them work on a demand × candidate reach matrix (scipy.sparse CSR, a 1 where the candidate
covers the demand) and a weight per demand row; every step is a sparse product, never a loop
over pairs.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sparse

from ..errors import OptimizationError
from .highs import build_program, solve_program

__all__ = ["merge_identical_rows", "greedy_cover", "improve_by_swaps", "improve_by_subproblems"]


def merge_identical_rows(demand: np.ndarray, candidate: np.ndarray, n_rows: int) -> np.ndarray:
    """Group rows (demand points) that are in reach of exactly the same candidates.

    Rows are keyed by two random 64-bit sums of their candidates and their length, then checked
    element by element, so a hash collision can never merge different rows.

    Parameters
    ----------
    demand, candidate
        Pairs sorted by row then candidate, every row ``0…n_rows-1`` having at least one.
    n_rows
        The number of rows.

    Returns
    -------
    numpy.ndarray
        The group of each row, groups numbered ``0…G-1`` in order of first row.
    """
    keys = (
        np.random.default_rng(0)
        .integers(0, np.iinfo(np.int64).max, size=(2, int(candidate.max()) + 1), dtype=np.int64)
        .astype(np.uint64)
    )
    first_hash = np.zeros(n_rows, dtype=np.uint64)
    second_hash = np.zeros(n_rows, dtype=np.uint64)
    np.add.at(first_hash, demand, keys[0][candidate])  # wraps modulo 2**64, as intended
    np.add.at(second_hash, demand, keys[1][candidate])
    length = np.bincount(demand, minlength=n_rows).astype(np.uint64)
    _, first_row, group = np.unique(
        np.stack([first_hash, second_hash, length], axis=1),
        axis=0,
        return_index=True,
        return_inverse=True,
    )
    group = group.ravel()
    representative = first_row[group]
    start = np.cumsum(length.astype(np.int64)) - length.astype(np.int64)
    sizes = length.astype(np.int64)
    offsets = np.arange(demand.size) - np.repeat(start, sizes)
    same = candidate == candidate[np.repeat(start[representative], sizes) + offsets]
    differs = np.bincount(demand[~same], minlength=n_rows) > 0
    if differs.any():  # a collision: such rows stay on their own
        group = group.copy()
        group[differs] = group.max() + 1 + np.arange(int(differs.sum()))
    # Renumber groups by first appearance so the merged problem keeps the rows' order.
    _, first_seen, renumbered = np.unique(group, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first_seen))
    return order[renumbered.ravel()]


def _members(by_candidate: sparse.csr_array, site) -> np.ndarray:
    """The demand rows candidate ``site`` reaches."""
    return by_candidate.indices[by_candidate.indptr[site] : by_candidate.indptr[site + 1]]


def _covered(matrix: sparse.csr_array, weights: np.ndarray, sites: np.ndarray) -> float:
    return float(weights[matrix @ sites.astype(float) > 0].sum())


def greedy_cover(
    matrix: sparse.csr_array,
    weights: np.ndarray,
    count: int,
    unavailable: np.ndarray,
    *,
    rounds: int = 20,
    seed: int = 0,
) -> np.ndarray:
    """A good maximal-coverage solution to start HiGHS from (iterated local search).

    Greedy (open the site covering the most uncovered weight, ``count`` times; within 1 − 1/e
    of the optimum), then 1-swaps until none helps, then ``rounds`` times: close a tenth of
    the open sites at random (seeded), refill greedily, swap again, keep the result if it
    covers more.  HiGHS then only has to prove the bound, which it does at the root when the
    start is within the requested gap.

    Parameters
    ----------
    matrix
        Demand × candidate reach (CSR).
    weights
        Weight per demand row.
    count
        Sites to open.
    unavailable
        Candidates that may not be chosen (e.g. already open).
    rounds, seed
        Perturbation rounds and the seed of their random choices.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the chosen candidates.
    """
    by_candidate = matrix.T.tocsr()

    def fill(chosen):
        uncovered = np.where(matrix @ chosen.astype(float) > 0, 0.0, weights.astype(float))
        for _ in range(count - int(chosen.sum())):
            gain = by_candidate @ uncovered
            gain[chosen | unavailable] = -1.0
            site = int(np.argmax(gain))
            chosen[site] = True
            uncovered[_members(by_candidate, site)] = 0.0
        return improve_by_swaps(matrix, by_candidate, weights, chosen, unavailable)

    best = fill(np.zeros(matrix.shape[1], dtype=bool))
    best_value = _covered(matrix, weights, best)
    random = np.random.default_rng(seed)
    for _ in range(rounds if count > 1 else 0):
        trial = best.copy()
        trial[random.choice(np.flatnonzero(trial), size=max(1, count // 10), replace=False)] = False
        trial = fill(trial)
        value = _covered(matrix, weights, trial)
        if value > best_value:
            best, best_value = trial, value
    return best


def improve_by_swaps(
    matrix, by_candidate, weights, chosen, unavailable, *, max_passes: int = 50
) -> np.ndarray:
    """Swap one open site for a closed one while that covers more weight (1-swap local search).

    Each pass tries, for every open site, closing it and opening the best closed site (one
    sparse product per open site); greedy starts are usually within 1 % of the optimum, and
    this closes most of what is left, so HiGHS starts from a near-optimal incumbent.

    Parameters
    ----------
    matrix, by_candidate
        Demand × candidate reach (CSR) and its transpose (CSR).
    weights
        Weight per demand row.
    chosen
        Boolean mask of the open candidates (not changed).
    unavailable
        Candidates that may not be opened.
    max_passes
        Passes over the open sites at most.

    Returns
    -------
    numpy.ndarray
        The improved mask (a copy).
    """
    chosen = chosen.copy()
    count = matrix @ chosen.astype(float)  # open sites in reach of each demand
    for _ in range(max_passes):
        improved = False
        for site in np.flatnonzero(chosen):
            reached = _members(by_candidate, site)
            loss = weights[reached][count[reached] == 1].sum()
            trial = count.copy()
            trial[reached] -= 1
            gain = by_candidate @ np.where(trial == 0, weights, 0.0)
            gain[chosen | unavailable] = -1.0
            best = int(np.argmax(gain))
            if gain[best] > loss * (1 + 1e-12) + 1e-9:
                chosen[site], chosen[best] = False, True
                trial[_members(by_candidate, best)] += 1
                count = trial
                improved = True
        if not improved:
            break
    return chosen


def _neighbourhood_choice(
    matrix, weights, chosen, free, *, deadline, node_limit
) -> np.ndarray | None:
    """Re-solve exactly which ``free`` candidates to open, the others fixed as in ``chosen``.

    A small MIP opens as many free sites as ``chosen`` has among them, covering the most of the
    demand the fixed sites leave uncovered; it starts from the current choice, so it never
    does worse.  Returns the new choice, or ``None`` when HiGHS finds nothing in time.
    """
    fixed = chosen & ~free
    open_inside = int((chosen & free).sum())
    # The demand the fixed sites leave uncovered and some free candidate reaches.
    left = (matrix @ fixed.astype(float) == 0) & (matrix @ free.astype(float) > 0)
    sub_rows = np.flatnonzero(left)
    sub_columns = np.flatnonzero(free)
    sub = matrix[sub_rows][:, sub_columns].tocoo()
    n_rows, n_free = sub_rows.size, sub_columns.size
    start_sites = chosen[sub_columns].astype(float)
    program = build_program(
        maximise=True,
        column_cost=np.concatenate([np.zeros(n_free), weights[sub_rows]]),
        column_lower=np.zeros(n_free + n_rows),
        column_upper=np.ones(n_free + n_rows),
        integer=np.concatenate([np.ones(n_free, bool), np.zeros(n_rows, bool)]),
        rows=np.concatenate([np.arange(n_rows), sub.row, np.full(n_free, n_rows)]),
        columns=np.concatenate([n_free + np.arange(n_rows), sub.col, np.arange(n_free)]),
        values=np.concatenate([np.ones(n_rows), -np.ones(sub.nnz), np.ones(n_free)]),
        n_rows=n_rows + 1,
        row_lower=np.concatenate([np.full(n_rows, -np.inf), [open_inside]]),
        row_upper=np.concatenate([np.zeros(n_rows), [open_inside]]),
        start=np.concatenate([start_sites, np.minimum(1.0, sub.tocsr() @ start_sites)]),
    )
    remaining = None if deadline is None else max(deadline - time.perf_counter(), 1e-3)
    try:
        _, _, _, values = solve_program(
            program, time_limit=remaining, mip_gap=0.0, name="neighbourhood", node_limit=node_limit
        )
    except OptimizationError:
        return None
    trial = fixed.copy()
    trial[sub_columns[values[:n_free] > 0.5]] = True
    return trial


def improve_by_subproblems(
    matrix: sparse.csr_array,
    weights: np.ndarray,
    chosen: np.ndarray,
    unavailable: np.ndarray,
    *,
    target: float = np.inf,
    deadline: float | None = None,
    node_limit: int = 500,
) -> np.ndarray:
    """Large-neighbourhood search: re-solve the choice exactly around one open site at a time.

    For an open site s the neighbourhood is every candidate sharing some demand with s (on a
    map: within two service radii of it).  Sites open outside it stay open; a small MIP chooses
    the same number of sites inside it to cover the most of the demand the fixed sites leave
    uncovered, started from the current choice, so a step never loses coverage.  1-swaps cannot
    leave the local optima of near-full-coverage instances (the last uncovered points need two
    or three sites moved together); these re-solves do, in a fraction of a second each.

    Parameters
    ----------
    matrix
        Demand × candidate reach (CSR).
    weights
        Weight per demand row.
    chosen
        Boolean mask of the open candidates (not changed).
    unavailable
        Candidates that may not be opened.
    target
        Stop once this much weight is covered.
    deadline
        Stop at this ``time.perf_counter()`` value (``None``: no deadline).
    node_limit
        Branch-and-bound nodes per sub-MIP (a cap that, unlike time, gives the same answer on
        every run).

    Returns
    -------
    numpy.ndarray
        The improved mask (a copy); the search stops when a whole round of visits to the open
        sites improves nothing, at ``target`` or at ``deadline``.
    """
    by_candidate = matrix.T.tocsr()
    chosen = chosen.copy()
    reachable = ~unavailable & (np.diff(by_candidate.indptr) > 0)
    value = _covered(matrix, weights, chosen)
    order, position, unimproved = np.flatnonzero(chosen), 0, 0
    while order.size and unimproved < order.size and value < target:
        if deadline is not None and time.perf_counter() > deadline:
            break
        site = order[position % order.size]
        position += 1
        unimproved += 1
        free = np.zeros(chosen.size, dtype=bool)
        free[matrix[_members(by_candidate, site)].indices] = True
        free &= reachable
        free[site] = True
        trial = _neighbourhood_choice(
            matrix, weights, chosen, free, deadline=deadline, node_limit=node_limit
        )
        if trial is None or int(trial.sum()) != int(chosen.sum()):
            continue
        if _covered(matrix, weights, trial) > value * (1 + 1e-12) + 1e-9:
            chosen = improve_by_swaps(matrix, by_candidate, weights, trial, unavailable)
            value = _covered(matrix, weights, chosen)
            order, unimproved = np.flatnonzero(chosen), 0
    return chosen
