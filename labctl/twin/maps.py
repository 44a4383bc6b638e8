"""Per-cell resistance maps of a twin from array-map's margins and column sums.

array-map measures, per cell, two margins, m+ = B_R,AP - B_L,P (weights +1)
and m- = B_L,AP - B_R,P (weights -1), and per column the sums of the P
branches on each side; B is a branch's resistance (FET plus MTJ).  Four
branch values per cell, two margins: what the margins leave open (the two P
branches, within the column sums) is drawn from the population given the
margins (a Gaussian conditional draw, seeded), so every cell's margins are
those measured up to the SMU's read noise, each column's P sums are exactly
those measured, and the branches keep the population's spread and the
correlation of one MTJ's R_P and R_AP.  Unmapped columns and cells whose
MTJs did not hold both states are NaN (a die built from the map draws them
from its seed).  The FET is not separable from its MTJ (they are in series
in every reading): the map gives every FET the datasheet's mean and its MTJ
the rest of the branch.
"""

from __future__ import annotations

import numpy as np

from benchspec.mx64 import COLUMNS, ROWS
from sim_chip import ChipParameters

#: unknowns per cell, in this order: B_L,P, B_R,P, B_L,AP, B_R,AP
_H = np.array([[-1.0, 0.0, 0.0, 1.0],      # m+ = B_R,AP - B_L,P
               [0.0, -1.0, 1.0, 0.0]])     # m- = B_L,AP - B_R,P


def _prior(p: ChipParameters) -> tuple[np.ndarray, np.ndarray]:
    d = p.device
    f2, sp, sap = (d.r_fet_cv * d.r_fet_mean) ** 2, d.r_p_sigma, d.r_ap_sigma
    within = f2 + d.r_pa_correlation * sp * sap            # cov(B_P, B_AP) of one branch
    cov = np.diag([f2 + sp**2, f2 + sp**2, f2 + sap**2, f2 + sap**2])
    cov[0, 2] = cov[2, 0] = cov[1, 3] = cov[3, 1] = within
    mean = d.r_fet_mean + np.array([d.r_p_mean, d.r_p_mean, d.r_ap_mean, d.r_ap_mean])
    return mean, cov


def cell_maps(low: np.ndarray, margins: np.ndarray, p: ChipParameters, noise: np.ndarray, clean: np.ndarray,
              rng: np.random.Generator) -> dict[str, np.ndarray]:
    """r_p, r_ap, r_fet maps (64, 64, 2), ohm, NaN where not measured (module docstring).

    ``low`` (2, columns): each mapped column's sum of P branches with weights
    +1 (left side) and -1 (right side); ``margins`` (2, columns, 64);
    ``noise`` (columns,): each margin's read noise, ohm; ``clean``
    (columns,): columns whose every cell held both states.
    """
    mean, cov = _prior(p)
    maps = {name: np.full((ROWS, COLUMNS, 2), np.nan) for name in ("r_p", "r_ap", "r_fet")}
    fet = p.device.r_fet_mean
    total = margins[0] + margins[1]
    typical = float(np.median(total))
    for j in range(low.shape[1]):
        s = _H @ cov @ _H.T + noise[j] ** 2 * np.eye(2)
        gain = cov @ _H.T @ np.linalg.inv(s)
        post = cov - gain @ _H @ cov
        root = np.linalg.cholesky(post + 1e-9 * np.eye(4))
        m = np.column_stack([margins[0, j], margins[1, j]])                       # (rows, 2)
        branch = mean + (m - mean @ _H.T) @ gain.T + rng.standard_normal((ROWS, 4)) @ root.T
        for side, (p_col, ap_col) in enumerate(((0, 2), (1, 3))):
            shift = low[side, j] / ROWS - branch[:, p_col].mean()                # the measured P sums, exactly
            branch[:, p_col] += shift
            branch[:, ap_col] += shift
        held = (total[j] > 0.75 * typical) if not clean[j] else np.ones(ROWS, bool)
        valid = held & (branch[:, 2] > branch[:, 0] + 1.0) & (branch[:, 3] > branch[:, 1] + 1.0) \
            & (branch[:, :2] > fet).all(axis=1)
        for side, (p_col, ap_col) in enumerate(((0, 2), (1, 3))):
            maps["r_fet"][valid, j, side] = fet
            maps["r_p"][valid, j, side] = branch[valid, p_col] - fet
            maps["r_ap"][valid, j, side] = branch[valid, ap_col] - fet
    return maps
