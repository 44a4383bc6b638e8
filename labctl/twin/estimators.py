"""Estimators the twin's fit uses: a normal distribution seen through TDC codes, by maximum likelihood.

A read of a column gives code k of a window when the delay plus noise lies in
[start + k lsb, start + (k + 1) lsb) (code 0: anything below start + lsb,
code 15: anything from start + 15 lsb on).  With n_k reads of code k the
log-likelihood of a normal N(mu, sigma^2) is

    L(mu, sigma) = sum_k n_k ln( Phi((b_k - mu)/sigma) - Phi((a_k - mu)/sigma) ),

maximised over (mu, ln sigma) by Newton's method on numerical derivatives;
the standard errors come from the inverse of the observed information
(the negative Hessian at the maximum).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_ndtr, ndtr


def _edges(start: float, lsb: float, codes: int) -> tuple[np.ndarray, np.ndarray]:
    k = np.arange(codes)
    low, high = start + k * lsb, start + (k + 1) * lsb
    low[0], high[-1] = -np.inf, np.inf
    return low, high


def _loglik(theta: np.ndarray, counts: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    mu, sigma = theta[0], np.exp(theta[1])
    zl, zh = (low - mu) / sigma, (high - mu) / sigma
    # log(Phi(zh) - Phi(zl)) computed on the side of the distribution where it does not cancel
    upper = zl > 0
    p = np.where(upper, ndtr(-zl) - ndtr(-zh), ndtr(zh) - ndtr(zl))
    with np.errstate(divide="ignore"):
        logp = np.where(p > 0, np.log(np.maximum(p, 1e-300)), np.minimum(log_ndtr(zh), log_ndtr(-zl)) - 50.0)
    return float((counts * logp).sum())


def censored_normal(counts: np.ndarray, start: float, lsb: float) -> tuple[float, float, float, float]:
    """(mu, its standard error, sigma, its standard error), in the units of ``start`` and ``lsb``, of a normal
    distribution seen as ``counts`` per TDC code of a window (module docstring).  NaN where the codes do not
    identify it (every read in one code, or every read clipped)."""
    counts = np.asarray(counts, dtype=float)
    low, high = _edges(0.0, 1.0, counts.size)                   # in codes from the window's start
    nan = (float("nan"),) * 4
    if counts.sum() == 0 or counts[1:-1].sum() == 0 or (counts > 0).sum() < 2:
        return nan
    k = np.arange(counts.size) + 0.5
    centre = (counts * k).sum() / counts.sum()
    spread = max(np.sqrt((counts * (k - centre) ** 2).sum() / counts.sum()), 0.3)
    found = minimize(lambda t: -_loglik(t, counts, low, high), np.array([centre, np.log(spread)]),
                     method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 1000})
    theta, step, hess = found.x, 1e-3, np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * step, np.eye(2)[j] * step
            hess[i, j] = (_loglik(theta + ei + ej, counts, low, high) - _loglik(theta + ei - ej, counts, low, high)
                          - _loglik(theta - ei + ej, counts, low, high)
                          + _loglik(theta - ei - ej, counts, low, high)) / (4 * step**2)
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return nan
    if not (np.all(np.isfinite(cov)) and cov[0, 0] > 0 and cov[1, 1] > 0):
        return nan
    sigma = float(np.exp(theta[1]))
    return (float(start + lsb * theta[0]), float(lsb * np.sqrt(cov[0, 0])), lsb * sigma,
            float(lsb * sigma * np.sqrt(cov[1, 1])))
