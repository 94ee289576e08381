"""Over-parameterised least squares: gradient flow, gradient descent and their limit.

The data are ``m`` samples ``x_i ∈ R^d``, the rows of ``X ∈ R^{m×d}``, with targets ``Y ∈ R^m``,
and the loss is the mean squared error

    L(w) = 1/(2m) ‖Xw − Y‖²,   ∇L(w) = Xᵀ(Xw − Y)/m.

With more features than samples (``d > m``) and linearly independent samples, infinitely many
``w`` interpolate (``Xw = Y``). Gradient flow ``ẇ = −∇L(w)`` and gradient descent move only
inside the span of the samples, so from ``w₀`` they converge to ``w* + (I − P)w₀``, where
``w* = Xᵀ(XXᵀ)⁻¹Y = X⁺Y`` is the minimum-norm interpolant and ``P = X⁺X`` projects onto the span
(chapter *The implicit bias of gradient descent*). The residual ``r = Xw − Y`` obeys the linear
ODE ``ṙ = −Kr`` with the constant kernel ``K = XXᵀ/m``.

Many texts store the samples as columns, ``X_col = Xᵀ ∈ R^{d×m}``; every formula here becomes
the same one with ``X`` replaced by ``X_colᵀ``.
"""

from __future__ import annotations

import torch

from dlmath import optim
from dlmath._validate import TensorLike, as_tensor

__all__ = ["critical_step", "distance_to_span", "gradient_descent", "gradient_flow", "kernel",
           "loss", "loss_bound", "min_norm_interpolant", "span_projector"]


# --- input checks (at the boundary) ----------------------------------------------------------

def _matrix(X: TensorLike) -> torch.Tensor:
    """``X`` as a finite floating-point ``(m, d)`` matrix with ``m, d ≥ 1``."""
    X = as_tensor(X, "X")
    if X.ndim != 2 or 0 in X.shape:
        raise ValueError(f"X must be a 2-D (m, d) matrix with the samples as rows, got shape "
                         f"{tuple(X.shape)}")
    return X


def _targets(X: torch.Tensor, Y: TensorLike) -> torch.Tensor:
    Y = as_tensor(Y, "Y", dtype=X.dtype, device=X.device)
    if Y.shape != (X.shape[0],):
        raise ValueError(f"Y must have shape ({X.shape[0]},), one target per row of X "
                         f"(shape {tuple(X.shape)}), got {tuple(Y.shape)}")
    return Y


def _weights(X: torch.Tensor, w: TensorLike, name: str) -> torch.Tensor:
    w = as_tensor(w, name, dtype=X.dtype, device=X.device)
    if w.ndim == 0 or w.shape[-1] != X.shape[1]:
        raise ValueError(f"{name} must have shape (d,) or (n_starts, d) with d = {X.shape[1]} "
                         f"(the columns of X), got {tuple(w.shape)}")
    return w


def _overparameterised(X: torch.Tensor) -> None:
    m, d = X.shape
    if d <= m:
        raise ValueError(f"this needs more features than samples (d > m), got X of shape "
                         f"({m}, {d}) with d = {d} ≤ m = {m}")


def _independent(X: torch.Tensor) -> None:
    """Raise unless the rows of ``X`` are linearly independent (numerically: σ_min > tol)."""
    sigma = torch.linalg.svdvals(X)
    tol = max(X.shape) * torch.finfo(X.dtype).eps * float(sigma[0])
    rank = int((sigma > tol).sum())
    if rank < X.shape[0]:
        raise ValueError(f"the m = {X.shape[0]} samples (rows of X) must be linearly "
                         f"independent, but X has rank {rank} (smallest singular value "
                         f"{float(sigma[-1]):.3g} ≤ tolerance {tol:.3g})")


# --- the objects of the chapter --------------------------------------------------------------

def kernel(X: TensorLike) -> torch.Tensor:
    """``K = XXᵀ/m``, the ``(m, m)`` matrix of inner products of the samples divided by ``m``.

    The residual of gradient flow obeys ``ṙ = −Kr``; ``K`` does not change during training.
    """
    X = _matrix(X)
    return X @ X.T / X.shape[0]


def loss(X: TensorLike, Y: TensorLike, w: TensorLike) -> torch.Tensor:
    """``L(w) = ‖Xw − Y‖²/(2m)`` for one ``w`` of shape ``(d,)`` or a batch ``(..., d)``."""
    X = _matrix(X)
    Y = _targets(X, Y)
    w = _weights(X, w, "w")
    return ((w @ X.T - Y) ** 2).sum(-1) / (2 * X.shape[0])


def min_norm_interpolant(X: TensorLike, Y: TensorLike) -> torch.Tensor:
    """``w* = Xᵀ(XXᵀ)⁻¹Y = X⁺Y``: among all ``w`` with ``Xw = Y`` the one of least norm.

    Needs ``d > m`` and linearly independent samples (then an interpolant exists for every
    ``Y``, and ``XXᵀ`` is invertible).
    """
    X = _matrix(X)
    Y = _targets(X, Y)
    _overparameterised(X)
    _independent(X)
    return X.T @ torch.linalg.solve(X @ X.T, Y)


def span_projector(X: TensorLike) -> torch.Tensor:
    """``P = X⁺X``, the ``(d, d)`` orthogonal projector onto ``span{x₁, …, x_m}``.

    Symmetric, ``P² = P``, ``PXᵀ = Xᵀ``; equal to ``Xᵀ(XXᵀ)⁻¹X`` when the samples are
    independent. Works for any ``X`` (the pseudo-inverse handles dependent samples).
    """
    X = _matrix(X)
    P = torch.linalg.pinv(X) @ X
    return (P + P.T) / 2


def distance_to_span(X: TensorLike, w: TensorLike) -> torch.Tensor:
    """``‖(I − P)w‖``, the distance of ``w`` (shape ``(..., d)``) to the span of the samples."""
    X = _matrix(X)
    w = _weights(X, w, "w")
    P = span_projector(X)
    return torch.linalg.norm(w - w @ P, dim=-1)


def gradient_flow(X: TensorLike, Y: TensorLike, w0: TensorLike, t: TensorLike) -> torch.Tensor:
    """The exact solution ``w(t)`` of ``ẇ = −∇L(w)``, ``w(0) = w₀``, at the times ``t``.

    With ``r₀ = Xw₀ − Y`` and ``K = XXᵀ/m`` the residual is ``r(t) = e^{−tK}r₀`` and

        w(t) = w₀ − Xᵀ Φ(t) r₀ / m,   Φ(t) = ∫₀ᵗ e^{−sK} ds,

    which is ``K⁻¹(I − e^{−tK})`` when ``K`` is invertible.

    ``Φ(t)`` is read off one matrix exponential, ``exp([[−tK, tI], [0, 0]])``, whose top-right
    block it is (Van Loan's block trick), so no inverse is needed and dependent samples work.
    ``w0``: ``(d,)`` or ``(n_starts, d)``; ``t``: a number ``≥ 0`` or a 1-D sequence. Returns
    shape ``t.shape + w0.shape``. Checks its arguments and calls :func:`_gradient_flow`.
    """
    X = _matrix(X)
    Y = _targets(X, Y)
    w0 = _weights(X, w0, "w0")
    t = as_tensor(t, "t", dtype=X.dtype, device=X.device)
    if t.ndim > 1:
        raise ValueError(f"t must be a number or a 1-D sequence of times, got shape "
                         f"{tuple(t.shape)}")
    if (t < 0).any():
        raise ValueError(f"the times t must be ≥ 0, got {float(t.min())!r}")
    return _gradient_flow(X, Y, w0, t)


def _gradient_flow(X: torch.Tensor, Y: torch.Tensor, w0: torch.Tensor, t: torch.Tensor
                   ) -> torch.Tensor:
    """``w(t) = w₀ − Xᵀ Φ(t) r₀ / m`` with ``Φ(t)`` the top-right block of
    ``exp([[−tK, tI], [0, 0]])``, ``K = XXᵀ/m``, ``r₀ = Xw₀ − Y``."""
    m = X.shape[0]
    K = X @ X.T / m
    ts = t.reshape(-1, 1, 1)                                        # (n_t, 1, 1)
    eye = torch.eye(m, dtype=X.dtype, device=X.device)
    block = torch.zeros(ts.shape[0], 2 * m, 2 * m, dtype=X.dtype, device=X.device)
    block[:, :m, :m] = -ts * K
    block[:, :m, m:] = ts * eye
    Phi = torch.linalg.matrix_exp(block)[:, :m, m:]                  # (n_t, m, m)
    r0 = w0 @ X.T - Y                                               # (..., m)
    step = torch.einsum("tij,...j->t...i", Phi, r0) @ X / m          # (n_t, ..., d)
    w = w0 - step
    return w.reshape(t.shape + w0.shape)


def loss_bound(X: TensorLike, Y: TensorLike, w0: TensorLike, t: TensorLike) -> torch.Tensor:
    """``e^{−2λ_min(XXᵀ)t/m} L(w₀)``, the bound on the gradient-flow loss at the times ``t``.

    Informative only when the samples are independent (``λ_min(XXᵀ) > 0``); otherwise it is
    the trivial ``L(w(t)) ≤ L(w₀)``. Returns shape ``t.shape + w0.shape[:-1]``.
    """
    X = _matrix(X)
    L0 = loss(X, Y, w0)
    t = as_tensor(t, "t", dtype=X.dtype, device=X.device)
    if t.ndim > 1 or (t < 0).any():
        raise ValueError(f"t must be a number ≥ 0 or a 1-D sequence of them, got {t!r}")
    lam_min = max(float(torch.linalg.eigvalsh(X @ X.T)[0]), 0.0)
    decay = torch.exp(-2 * lam_min * t / X.shape[0])
    return decay.reshape(t.shape + (1,) * L0.ndim) * L0


def critical_step(X: TensorLike) -> float:
    """``2m/λ_max(XXᵀ)`` ``= 2/λ_max(K)``: gradient descent on ``L`` converges from every start
    for ``0 < η`` below it and diverges from almost every start above it."""
    X = _matrix(X)
    return optim.critical_step(X @ X.T / X.shape[0])


def gradient_descent(X: TensorLike, Y: TensorLike, w0: TensorLike, eta: TensorLike, steps: int, *,
                     trajectory: bool = False) -> torch.Tensor:
    """Gradient descent ``w ← w − η Xᵀ(Xw − Y)/m`` on ``L``, run by
    :func:`dlmath.optim.gradient_descent`.

    ``L`` is the quadratic ``½wᵀHw − bᵀw + const`` with ``H = XᵀX/m`` and ``b = XᵀY/m``.
    ``w0``: ``(d,)`` or ``(n_starts, d)``; ``eta``: a number or a 1-D sequence. The result has
    the shape documented there (``eta.shape + w0.shape``, with a leading time axis if
    ``trajectory``).
    """
    X = _matrix(X)
    Y = _targets(X, Y)
    w0 = _weights(X, w0, "w0")
    H, b = optim.least_squares(X, Y)
    m = X.shape[0]
    return optim.gradient_descent(H / m, b / m, w0, eta, steps, trajectory=trajectory)

