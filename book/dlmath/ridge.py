"""Ridge regression three ways, and gradient descent with noise injected into the inputs.

For data ``X`` of shape ``(m, d)`` (samples as rows) and targets ``y`` of shape ``(m,)``, ridge
(Tikhonov) regression minimises ``½‖Xw − y‖² + ½‖Γw‖²`` with ``Γ`` of shape ``(k, d)``; the
usual ridge penalty ``(λ/2)‖w‖²`` is ``Γ = √λ I``. The minimiser has two closed forms
(chapter *Ridge regression three ways*):

- the *primal* form :func:`ridge_primal`, ``(XᵀX + ΓᵀΓ)⁻¹Xᵀy``: a ``d×d`` solve;
- the *kernel* form :func:`ridge_kernel`, ``Xᵀ(XXᵀ + λI_m)⁻¹y``: an ``m×m`` solve that needs
  only the inner products of the samples (the Gram matrix ``XXᵀ``).

:func:`augmented` builds the least-squares problem ``[X; Γ] w ≈ [y; 0]`` whose solution is the
same. :func:`noisy_gd` runs gradient descent on ``(1/2m)‖X̃w − y‖²`` with fresh Gaussian noise
``X̃ = X + N`` at every step, many runs as one tensor, and :func:`expected_gd` iterates the
recurrence that the average of those runs follows (chapter *Noise injection is ridge*).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from dlmath import env
from dlmath._validate import TensorLike, as_tensor, nonneg_int, positive, positive_int, spd_solve

__all__ = ["NoisyRuns", "augmented", "expected_gd", "noisy_gd", "ridge_kernel", "ridge_primal"]


# --- input checks (at the boundary) ------------------------------------------------------------

def _data(X: TensorLike, y: TensorLike) -> tuple[torch.Tensor, torch.Tensor]:
    """``X`` as a finite ``(m, d)`` tensor and ``y`` as ``(m,)`` or ``(m, p)`` in its dtype."""
    X = as_tensor(X, "X")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a 2-D (m, d) matrix with m, d ≥ 1, got shape "
                         f"{tuple(X.shape)}")
    y = as_tensor(y, "y", dtype=X.dtype, device=X.device)
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},) or ({X.shape[0]}, p) to match X of "
                         f"shape {tuple(X.shape)}, got {tuple(y.shape)}")
    return X, y


def _gamma(Gamma: TensorLike, X: torch.Tensor) -> torch.Tensor:
    """``Gamma`` as a finite ``(k, d)`` tensor, ``d`` the number of columns of ``X``."""
    Gamma = as_tensor(Gamma, "Gamma", dtype=X.dtype, device=X.device)
    d = X.shape[1]
    if Gamma.ndim != 2 or Gamma.shape[1] != d or Gamma.shape[0] == 0:
        raise ValueError(f"Gamma must be a 2-D (k, {d}) matrix (d = {d} columns, like X), got "
                         f"shape {tuple(Gamma.shape)}")
    return Gamma


# --- the three forms -------------------------------------------------------------------------

def augmented(X: TensorLike, y: TensorLike, Gamma: TensorLike) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X̂, ŷ) = ([X; Γ], [y; 0])``: ``‖X̂w − ŷ‖² = ‖Xw − y‖² + ‖Γw‖²`` for every ``w``.

    ``X`` is ``(m, d)``, ``y`` is ``(m,)`` or ``(m, p)``, ``Γ`` is ``(k, d)``; ``X̂`` is
    ``(m + k, d)`` and ``ŷ`` has ``k`` zero rows appended.
    """
    X, y = _data(X, y)
    Gamma = _gamma(Gamma, X)
    zeros = y.new_zeros((Gamma.shape[0],) + tuple(y.shape[1:]))
    return torch.cat([X, Gamma]), torch.cat([y, zeros])


def ridge_primal(X: TensorLike, y: TensorLike, lam: float | None = None, *,
                 Gamma: TensorLike | None = None) -> torch.Tensor:
    """The ridge solution in primal form, ``(XᵀX + ΓᵀΓ)⁻¹Xᵀy`` (a ``d×d`` system).

    Give exactly one of ``lam`` (``λ ≥ 0``, meaning ``ΓᵀΓ = λI``) and ``Gamma`` (``(k, d)``).
    It minimises ``½‖Xw − y‖² + ½‖Γw‖²``. Raises ``ValueError`` for ``λ < 0``, mismatched
    shapes, or a singular ``XᵀX + ΓᵀΓ`` (e.g. ``λ = 0`` and ``rank X < d``). Checks its
    arguments, builds ``ΓᵀΓ`` and calls :func:`_ridge_primal`.
    """
    X, y = _data(X, y)
    if (lam is None) == (Gamma is None):
        raise TypeError("give exactly one of lam (a number ≥ 0) and Gamma (a (k, d) matrix)")
    if Gamma is None:
        lam = positive(lam, "lam", allow_zero=True)
        penalty = lam * torch.eye(X.shape[1], dtype=X.dtype, device=X.device)
        what = f"XᵀX + λI (d = {X.shape[1]}, λ = {lam:g})"
        hint = "with λ = 0 this happens when rank X < d, e.g. m < d"
    else:
        Gamma = _gamma(Gamma, X)
        penalty = Gamma.mT @ Gamma
        what = f"XᵀX + ΓᵀΓ (d = {X.shape[1]})"
        hint = "some direction w ≠ 0 has Xw = 0 and Γw = 0: the stacked [X; Γ] needs rank d"
    return _ridge_primal(X, y, penalty, what, hint)


def _ridge_primal(X: torch.Tensor, y: torch.Tensor, penalty: torch.Tensor, what: str,
                  hint: str) -> torch.Tensor:
    """``(XᵀX + ΓᵀΓ)⁻¹Xᵀy`` with ``penalty = ΓᵀΓ`` (``(d, d)``), by Cholesky; ``spd_solve``
    raises, naming the matrix (``what``) and why it may be singular (``hint``)."""
    A = X.mT @ X + penalty                                     # (d, d), symmetric PSD
    return spd_solve(A, X.mT @ y, what, hint)


def ridge_kernel(X: TensorLike, y: TensorLike, lam: float) -> torch.Tensor:
    """The ridge solution in kernel form, ``Xᵀ(XXᵀ + λI_m)⁻¹y`` (an ``m×m`` system).

    Equal to ``ridge_primal(X, y, lam)`` for ``λ > 0`` (push-through identity); it uses the
    data only through the Gram matrix ``XXᵀ`` of inner products ``x_iᵀx_j``. With ``λ = 0`` and
    ``rank X = m`` it is the minimum-norm interpolant ``X⁺y``. Raises ``ValueError`` for
    ``λ < 0``, mismatched shapes, or a singular ``XXᵀ + λI`` (``λ = 0`` and ``rank X < m``).
    """
    X, y = _data(X, y)
    lam = positive(lam, "lam", allow_zero=True)
    K = X @ X.mT + lam * torch.eye(X.shape[0], dtype=X.dtype, device=X.device)   # (m, m)
    return X.mT @ spd_solve(K, y, f"XXᵀ + λI (m = {X.shape[0]}, λ = {lam:g})",
                            "with λ = 0 this happens when rank X < m, e.g. m > d")


# --- gradient descent with noisy inputs -------------------------------------------------------

class NoisyRuns(NamedTuple):
    """Summary of many noisy gradient-descent runs (``T`` = steps, ``R`` = runs)."""

    mean: torch.Tensor    #: ``(T + 1, d)``: the average of ``w_t`` over the runs
    sem: torch.Tensor     #: ``(T + 1, d)``: its standard error, std over runs / √R
    paths: torch.Tensor   #: ``(T + 1, n_paths, d)``: the first ``n_paths`` runs in full
    final: torch.Tensor   #: ``(R, d)``: every run's last iterate ``w_T``


def _gd_args(X: TensorLike, y: TensorLike, sigma: float, eta: float, steps: int,
             w0: TensorLike | None
             ) -> tuple[torch.Tensor, torch.Tensor, float, float, int, torch.Tensor]:
    X, y = _data(X, y)
    if y.ndim != 1:
        raise ValueError(f"y must be a vector of shape ({X.shape[0]},), got {tuple(y.shape)}")
    sigma = positive(sigma, "sigma", allow_zero=True)
    eta = positive(eta, "eta")
    steps = nonneg_int(steps, "steps")
    d = X.shape[1]
    if w0 is None:
        w0 = torch.zeros(d, dtype=X.dtype, device=X.device)
    w0 = as_tensor(w0, "w0", dtype=X.dtype, device=X.device)
    if w0.shape != (d,):
        raise ValueError(f"w0 must have shape ({d},), got {tuple(w0.shape)}")
    return X, y, sigma, eta, steps, w0


def expected_gd(X: TensorLike, y: TensorLike, sigma: float, eta: float, steps: int, *,
                w0: TensorLike | None = None) -> torch.Tensor:
    """The recurrence for the mean of :func:`noisy_gd`, ``(steps + 1, d)``:

    ``E[w_{t+1}] = (I − η(XᵀX/m + σ²I)) E[w_t] + η Xᵀy/m``, from ``E[w_0] = w0`` (default 0).
    Scalar case (``m = d = 1``): ``E[w_{t+1}] = (1 − η(x² + σ²)) E[w_t] + ηxy``.
    """
    X, y, sigma, eta, steps, w = _gd_args(X, y, sigma, eta, steps, w0)
    m, d = X.shape
    M = torch.eye(d, dtype=X.dtype, device=X.device) - eta * (X.mT @ X / m + sigma**2 * torch.eye(
        d, dtype=X.dtype, device=X.device))
    c = eta * X.mT @ y / m
    path = [w]
    for _ in range(steps):
        w = M @ w + c
        path.append(w)
    return torch.stack(path)


def noisy_gd(X: TensorLike, y: TensorLike, sigma: float, eta: float, steps: int, runs: int, *,
             w0: TensorLike | None = None, n_paths: int = 0,
             generator: torch.Generator | None = None) -> NoisyRuns:
    """``runs`` independent runs of gradient descent on ``(1/2m)‖X̃_t w − y‖²``, as one tensor.

    At every step each run draws fresh noise ``X̃_t = X + N_t``, ``N_t`` with i.i.d.
    ``N(0, σ²)`` entries, and steps ``w ← w − η X̃_tᵀ(X̃_t w − y)/m``. All runs start at ``w0``
    (default 0). Returns the mean over runs and its standard error at every step, the first
    ``n_paths`` runs in full and every run's final iterate (:class:`NoisyRuns`). Computes in
    ``X``'s dtype on ``X``'s device; ``generator`` (on that device) makes the draws repeatable.
    Checks its arguments and calls :func:`_noisy_gd`.
    """
    X, y, sigma, eta, steps, w0 = _gd_args(X, y, sigma, eta, steps, w0)
    runs = positive_int(runs, "runs")
    n_paths = nonneg_int(n_paths, "n_paths")
    if n_paths > runs:
        raise ValueError(f"n_paths must lie in [0, runs = {runs}], got {n_paths}")
    w = w0.expand(runs, X.shape[1]).clone()                    # (R, d): one row per run
    # one thread for small work on a CPU (see dlmath.optim): waking a second costs more
    with env.one_thread(w.numel() * X.shape[0] < env.SMALL_WORK and X.device.type == "cpu"):
        return _noisy_gd(X, y, sigma, eta, steps, w, n_paths, generator)


def _noisy_gd(X: torch.Tensor, y: torch.Tensor, sigma: float, eta: float, steps: int,
              w: torch.Tensor, n_paths: int, generator: torch.Generator | None) -> NoisyRuns:
    """``w ← w − η X̃ᵀ(X̃w − y)/m`` with fresh noise ``X̃ = X + N`` for every row of ``w``
    (``(R, d)``, one run per row) at every step."""
    (runs, d), m = w.shape, X.shape[0]
    means, sems, paths = [w.mean(0)], [w.new_zeros(d)], [w[:n_paths]]
    for _ in range(steps):
        N = sigma * torch.randn((runs, m, d), dtype=X.dtype, device=X.device,
                                generator=generator)               # (R, m, d)
        # X̃ = X + N, written out: elementwise products beat R tiny batched matrix products
        residual = w @ X.mT + (N * w[:, None, :]).sum(-1) - y      # (R, m): X̃w − y per run
        w = w - eta / m * (residual @ X + (N * residual[:, :, None]).sum(1))  # X̃ᵀ(X̃w − y)
        means.append(w.mean(0))
        sems.append(w.std(0) / runs**0.5 if runs > 1 else w.new_full((d,), float("nan")))
        paths.append(w[:n_paths])
    return NoisyRuns(torch.stack(means), torch.stack(sems), torch.stack(paths), w)
