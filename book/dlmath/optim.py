"""Gradient descent on quadratics, vectorised over step sizes and starting points.

A quadratic is ``f(θ) = ½ θᵀHθ − bᵀθ`` with ``H`` symmetric. Its gradient is ``Hθ − b``, so
gradient descent with step size ``η`` is the affine map ``θ ↦ (I − ηH)θ + ηb``, and the error
``θ_t − θ*`` is multiplied by ``I − ηH`` at every step. Least squares ``½‖Xθ − Y‖²`` is the case
``H = XᵀX``, ``b = XᵀY`` (:func:`least_squares`). Everything about the step size is decided by
the eigenvalues ``λ₁ ≥ … ≥ λ_d`` of ``H`` (chapter *Step sizes and stability*):

- the error contracts per step by :func:`rate` ``= ρ(I − ηH) = maxᵢ |1 − ηλᵢ|``;
- GD converges from every start iff ``0 < η < 2/λ₁`` (:func:`critical_step`);
- the constant step that minimises the rate is ``2/(λ_d + λ₁)``, with rate
  ``(λ₁ − λ_d)/(λ₁ + λ_d)`` (:func:`best_step`).

:func:`gradient_descent` runs many step sizes from many starting points as one tensor.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from dlmath import env
from dlmath._validate import TensorLike, as_tensor, nonneg_int, real, symmetric

__all__ = ["best_step", "critical_step", "gradient_descent", "iterations", "least_squares",
           "rate", "spectrum"]


# --- input checks (at the boundary; the inner functions trust their callers) ----------------

def _eigenvalues(eigenvalues: TensorLike, name: str = "eigenvalues") -> torch.Tensor:
    """A 1-D tensor of eigenvalues; a 2-D argument is taken as the symmetric matrix itself."""
    if isinstance(eigenvalues, (torch.Tensor, np.ndarray)) and eigenvalues.ndim == 2:
        return torch.linalg.eigvalsh(symmetric(eigenvalues, name))
    lam = as_tensor(eigenvalues, name)
    if lam.ndim == 0:
        lam = lam.reshape(1)
    if lam.ndim != 1 or lam.numel() == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence (or a symmetric matrix), "
                         f"got shape {tuple(lam.shape)}")
    return lam


def _step_sizes(eta: TensorLike, *, dtype: torch.dtype | None = None,
                device: torch.device | None = None) -> torch.Tensor:
    """``eta`` as a 0-D or 1-D tensor of finite step sizes > 0."""
    eta = as_tensor(eta, "eta", dtype=dtype, device=device)
    if eta.ndim > 1:
        raise ValueError(f"eta must be a number or a 1-D sequence, got shape {tuple(eta.shape)}")
    if eta.numel() == 0:
        raise ValueError("eta must hold at least one step size, got an empty sequence")
    if (eta <= 0).any():
        bad = float(eta.reshape(-1)[(eta.reshape(-1) <= 0).nonzero()[0, 0]])
        raise ValueError(f"every step size eta must be > 0, got {bad!r}")
    return eta


# --- spectra, thresholds and rates -----------------------------------------------------------

def least_squares(X: TensorLike, Y: TensorLike) -> tuple[torch.Tensor, torch.Tensor]:
    """``(H, b) = (XᵀX, XᵀY)``: ``½‖Xθ − Y‖²`` is ``½θᵀHθ − bᵀθ`` plus the constant ``½‖Y‖²``.

    ``X`` is ``(m, d)`` (samples as rows), ``Y`` is ``(m,)``.
    """
    X = as_tensor(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D (m, d) matrix, got shape {tuple(X.shape)}")
    Y = as_tensor(Y, "Y", dtype=X.dtype, device=X.device)
    if Y.shape != (X.shape[0],):
        raise ValueError(f"Y must have shape ({X.shape[0]},) to match X of shape "
                         f"{tuple(X.shape)}, got {tuple(Y.shape)}")
    return X.T @ X, X.T @ Y


def spectrum(H: TensorLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues ``λ₁ ≥ … ≥ λ_d`` of the symmetric ``H`` (decreasing) and unit eigenvectors
    ``v₁, …, v_d`` as the columns of an orthogonal matrix ``V``, so ``H = V diag(λ) Vᵀ``."""
    lam, V = torch.linalg.eigh(symmetric(H, "H"))
    return lam.flip(0), V.flip(1)


def rate(eta: TensorLike, eigenvalues: TensorLike) -> torch.Tensor:
    """The contraction factor per step, ``ρ(I − ηH) = maxᵢ |1 − ηλᵢ|``, for each step size.

    ``eta`` is a number or a 1-D sequence; the result has its shape. ``eigenvalues`` are those
    of ``H`` (a 1-D sequence), or ``H`` itself as a 2-D symmetric matrix. Since ``I − ηH`` is
    symmetric, ``‖θ_t − θ*‖ ≤ rate^t ‖θ₀ − θ*‖`` with equality along the worst eigenvector.
    """
    lam = _eigenvalues(eigenvalues)
    eta = _step_sizes(eta, dtype=lam.dtype, device=lam.device)
    return (1 - eta[..., None] * lam).abs().amax(-1)


def critical_step(H: TensorLike) -> float:
    """``2/λ₁``, the edge of stability: GD on ``½θᵀHθ − bᵀθ`` converges from every start iff
    ``0 < η < 2/λ₁`` (with ``H`` positive definite) and diverges from almost every start when
    ``η > 2/λ₁``. ``H`` is a symmetric matrix or a 1-D sequence of its eigenvalues."""
    lam_max = float(_eigenvalues(H, "H").max())
    if lam_max <= 0:
        raise ValueError(f"the largest eigenvalue must be > 0 for a stable step to exist, "
                         f"got {lam_max!r}")
    return 2 / lam_max


def best_step(eigenvalues: TensorLike) -> tuple[float, float]:
    """``(η*, r*) = (2/(λ_d + λ₁), (λ₁ − λ_d)/(λ₁ + λ_d))``: the constant step size that
    minimises :func:`rate`, and that smallest rate (``(κ − 1)/(κ + 1)`` with ``κ = λ₁/λ_d``).

    Needs every eigenvalue > 0; for a singular ``H`` pass the eigenvalues on its range.
    """
    lam = _eigenvalues(eigenvalues)
    lam_min, lam_max = float(lam.min()), float(lam.max())
    if lam_min <= 0:
        raise ValueError(f"best_step needs positive eigenvalues, got λ_min = {lam_min!r} (for a "
                         "singular H pass only its positive eigenvalues)")
    return 2 / (lam_min + lam_max), (lam_max - lam_min) / (lam_max + lam_min)


def iterations(r: float, epsilon: float) -> int:
    """The least ``t ≥ 0`` with ``r^t ≤ ε``: steps for the error to shrink by the factor ``ε``
    at contraction rate ``r`` (``⌈log ε / log r⌉``). Checks ``0 ≤ r < 1`` and ``ε > 0`` and
    calls :func:`_iterations`."""
    r, epsilon = real(r, "r"), real(epsilon, "epsilon", allow_inf=True)
    if not 0 <= r < 1:
        raise ValueError(f"the rate r must lie in [0, 1) for the error to shrink, got {r!r}")
    if not 0 < epsilon:
        raise ValueError(f"epsilon must be > 0, got {epsilon!r}")
    return _iterations(r, epsilon)


def _iterations(r: float, epsilon: float) -> int:
    """The least ``t ≥ 0`` with ``r^t ≤ ε``, for ``0 ≤ r < 1`` and ``ε > 0``."""
    if epsilon >= 1:
        return 0
    if r == 0:
        return 1
    t = math.ceil(math.log(epsilon) / math.log(r))
    # guard the rounding of the quotient: return the least t with r**t <= epsilon
    while t > 0 and r ** (t - 1) <= epsilon:
        t -= 1
    while r**t > epsilon:
        t += 1
    return t


# --- gradient descent --------------------------------------------------------------------------

def _descend(H: torch.Tensor, b: torch.Tensor, theta: torch.Tensor, eta: torch.Tensor,
             steps: int, trajectory: bool) -> torch.Tensor:
    """Plain gradient descent θ ← θ − η(Hθ − b) on every row θᵀ of ``theta`` (shape ``(n, d)``)
    at once, row i with the step size ``eta[i]`` (shape ``(n, 1)``)."""
    path = [theta]
    for _ in range(steps):
        gradient = theta @ H - b           # (n, d): row i is (Hθᵢ − b)ᵀ, as H is symmetric
        theta = theta - eta * gradient
        if trajectory:
            path.append(theta)
    return torch.stack(path) if trajectory else theta


def gradient_descent(H: TensorLike, b: TensorLike, theta0: TensorLike, eta: TensorLike,
                     steps: int, *, trajectory: bool = False) -> torch.Tensor:
    """Run ``steps`` steps of gradient descent on ``f(θ) = ½θᵀHθ − bᵀθ`` for every step size in
    ``eta`` and every starting point in ``theta0``, as one tensor.

    - ``H``: symmetric ``(d, d)``; ``b``: ``(d,)`` (for least squares use :func:`least_squares`).
    - ``theta0``: one start ``(d,)`` or a batch ``(n_starts, d)`` (any leading shape works).
    - ``eta``: a number or a 1-D sequence of ``n_eta`` step sizes, all > 0.

    Returns the final iterates, of shape ``eta.shape + theta0.shape`` — ``(n_eta, n_starts, d)``
    for a batch of both — or with ``trajectory=True`` all iterates ``θ₀, …, θ_steps`` stacked in
    a leading axis of length ``steps + 1``. Computes in ``H``'s floating dtype (float64 for
    arrays and lists) on ``H``'s device. Diverging runs overflow to ``inf``/``nan`` eventually.
    """
    H = symmetric(H, "H")
    d = H.shape[0]
    b = as_tensor(b, "b", dtype=H.dtype, device=H.device)
    if b.shape != (d,):
        raise ValueError(f"b must have shape ({d},) to match H of shape {tuple(H.shape)}, "
                         f"got {tuple(b.shape)}")
    theta0 = as_tensor(theta0, "theta0", dtype=H.dtype, device=H.device)
    if theta0.ndim == 0 or theta0.shape[-1] != d:
        raise ValueError(f"theta0 must have shape (d,) or (n_starts, d) with d = {d}, got "
                         f"{tuple(theta0.shape)}")
    eta = _step_sizes(eta, dtype=H.dtype, device=H.device)
    steps = nonneg_int(steps, "steps")
    if not isinstance(trajectory, bool):
        raise TypeError(f"trajectory must be True or False, got {type(trajectory).__name__}")
    shape = eta.shape + theta0.shape                            # (n_eta, n_starts, d)
    # one row per (step size, start) pair: a single 2-D product per step, fast for small d
    theta = theta0.expand(shape).reshape(-1, d).clone()        # (n_eta · n_starts, d)
    eta = eta.reshape(eta.shape + (1,) * theta0.ndim).expand(shape[:-1] + (1,)).reshape(-1, 1)
    with env.one_thread(theta.numel() * d < env.SMALL_WORK and theta.device.type == "cpu"):
        path = _descend(H, b, theta, eta, steps, trajectory)
    return path.reshape((steps + 1,) + shape if trajectory else shape)
