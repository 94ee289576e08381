"""Gradient descent with momentum on least squares, and its 2×2 blocks.

The loss is ``L(w) = ½‖y − Xw‖²`` with gradient ``g = Xᵀ(Xw − y)`` and Hessian ``XᵀX``, and
momentum keeps an exponential average ``z`` of the gradients:

    z_{t+1} = (1 − β) z_t + β g_t,        w_{t+1} = w_t − η z_{t+1},        0 < β ≤ 1

(``β = 1`` is plain gradient descent). In the SVD basis of ``X`` the iteration splits into one
2×2 linear system per singular value ``σᵢ``, acting on ``(aᵢ, eᵢ)`` — the averaged gradient and
the error along the i-th right singular vector (chapter *Momentum on least squares*):

    Rᵢ = [[1 − β,       βσᵢ²       ],
          [−η(1 − β),   1 − ηβσᵢ²  ]],   det Rᵢ = 1 − β,   tr Rᵢ = 2 − β − ηβσᵢ².

- eigenvalues are complex iff ``η₋ < η < η₊`` with ``η± = (1 ± √(1−β))² / (βσᵢ²)``
  (:func:`eta_pm`), and then ``|λ| = √(1 − β)``;
- ``Rᵢ`` is stable iff ``0 < η < 2(2 − β)/(βσᵢ²)`` (:func:`stability_limit`, Jury's test).

Written for ``‖y − Xw‖²`` (without the ½) every step size above is halved.

:func:`spectral_radius` evaluates ``ρ(Rᵢ)`` in closed form on whole grids of ``(η, β, σ²)`` at
once; :func:`run_momentum` runs the iteration for many ``(η, β)`` pairs as one tensor.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from dlmath._validate import TensorLike, as_tensor, is_number, nonneg_int

__all__ = ["Trajectory", "eta_pm", "momentum_matrix", "run_momentum", "spectral_radius",
           "stability_limit"]


# --- input checks (at the boundary; the functions below them trust their callers) ----------

def _bad(tensor: torch.Tensor, mask: torch.Tensor) -> str:
    """Describe the entries of ``tensor`` that fail a check (``mask`` marks them)."""
    if tensor.numel() == 1:
        return repr(tensor.item())
    first, count, size = tensor[mask][0].item(), int(mask.sum()), tensor.numel()
    return (f"{first!r} (one of its {size} entries)" if count == 1 else
            f"{first!r} (and {count - 1} more of its {size} entries)")


def _check_eta(eta: torch.Tensor) -> torch.Tensor:
    bad = ~(eta > 0)
    if bad.any():
        raise ValueError(f"eta (the step size) must be > 0, got {_bad(eta, bad)}")
    return eta


def _check_beta(beta: torch.Tensor) -> torch.Tensor:
    bad = ~((beta > 0) & (beta <= 1))
    if bad.any():
        raise ValueError("beta (the weight of the new gradient in the average) must lie in "
                         f"(0, 1], got {_bad(beta, bad)}")
    return beta


def _check_sigma2(sigma2: torch.Tensor) -> torch.Tensor:
    bad = ~(sigma2 > 0)
    if bad.any():
        raise ValueError("sigma2 (a squared singular value of X) must be > 0, got "
                         f"{_bad(sigma2, bad)}")
    return sigma2


def _scalars(*values: TensorLike) -> bool:
    return all(is_number(v) for v in values)


def _device(*values: TensorLike) -> torch.device | None:
    return next((v.device for v in values if isinstance(v, torch.Tensor)), None)


def _parameters(eta: TensorLike, beta: TensorLike, sigma2: TensorLike) -> tuple[torch.Tensor, ...]:
    """Checked float64 tensors of ``eta``, ``beta``, ``sigma2``, broadcast to one shape."""
    device = _device(eta, beta, sigma2)
    checked = (_check_eta(as_tensor(eta, "eta", dtype=torch.float64, device=device)),
               _check_beta(as_tensor(beta, "beta", dtype=torch.float64, device=device)),
               _check_sigma2(as_tensor(sigma2, "sigma2", dtype=torch.float64, device=device)))
    try:
        return torch.broadcast_tensors(*(t.to(device) if device else t for t in checked))
    except RuntimeError as error:
        shapes = ", ".join(str(tuple(t.shape)) for t in checked)
        raise ValueError(f"eta, beta and sigma2 must broadcast to one shape, got {shapes}"
                         ) from error


def _result(value: torch.Tensor, scalar: bool) -> torch.Tensor | float:
    return value.item() if scalar else value


# --- the 2×2 blocks ------------------------------------------------------------------------

def momentum_matrix(eta: TensorLike, beta: TensorLike, sigma2: TensorLike) -> torch.Tensor:
    """The 2×2 matrix ``Rᵢ`` with ``(a_{t+1}, e_{t+1}) = Rᵢ (a_t, e_t)`` for one singular value.

    ``Rᵢ = [[1 − β, βσᵢ²], [−η(1 − β), 1 − ηβσᵢ²]]``. The arguments broadcast; the result has
    shape ``(*shape, 2, 2)``, float64.
    """
    eta, beta, sigma2 = _parameters(eta, beta, sigma2)
    row_a = torch.stack([1 - beta, beta * sigma2], dim=-1)
    row_e = torch.stack([-eta * (1 - beta), 1 - eta * beta * sigma2], dim=-1)
    return torch.stack([row_a, row_e], dim=-2)


def spectral_radius(eta: TensorLike, beta: TensorLike, sigma2: TensorLike) -> torch.Tensor | float:
    """``ρ(Rᵢ)``, the largest eigenvalue modulus, in closed form, for broadcastable arguments.

    The eigenvalues are ``τ ± √(τ² − (1 − β))`` with ``τ = tr Rᵢ / 2 = 1 − β/2 − ηβσᵢ²/2``: for
    ``τ² ≥ 1 − β`` they are real and ``ρ = |τ| + √(τ² − (1 − β))``; otherwise they are complex
    conjugates and ``ρ = √(1 − β)``. Elementwise tensor operations only, so a whole grid of
    ``(η, β)`` is one call. Returns a float when every argument is a Python number.
    """
    scalar = _scalars(eta, beta, sigma2)
    eta, beta, sigma2 = _parameters(eta, beta, sigma2)
    tau = 1 - beta / 2 - eta * beta * sigma2 / 2      # half the trace
    det = 1 - beta
    quarter_disc = tau**2 - det                       # (discriminant of the char. polynomial)/4
    real = tau.abs() + quarter_disc.clamp(min=0).sqrt()
    return _result(torch.where(quarter_disc >= 0, real, det.sqrt()), scalar)


def stability_limit(beta: TensorLike, sigma2: TensorLike) -> torch.Tensor | float:
    """The largest stable step, ``2(2 − β)/(βσ²)``: ``Rᵢ`` is stable iff ``0 < η`` is below it."""
    scalar = _scalars(beta, sigma2)
    _, beta, sigma2 = _parameters(1.0, beta, sigma2)
    return _result(2 * (2 - beta) / (beta * sigma2), scalar)


def eta_pm(beta: TensorLike, sigma2: TensorLike
           ) -> tuple[torch.Tensor | float, torch.Tensor | float]:
    """``(η₋, η₊)`` with ``η± = (1 ± √(1 − β))² / (βσ²)``: the eigenvalues of ``Rᵢ`` are
    repeated at ``η = η±``, complex (of modulus ``√(1 − β)``) strictly between, real outside."""
    scalar = _scalars(beta, sigma2)
    _, beta, sigma2 = _parameters(1.0, beta, sigma2)
    s = (1 - beta).sqrt()
    scale = beta * sigma2
    return _result((1 - s) ** 2 / scale, scalar), _result((1 + s) ** 2 / scale, scalar)


# --- the iteration -------------------------------------------------------------------------

class Trajectory(NamedTuple):
    """Iterates of :func:`run_momentum`: ``w[t]`` and ``z[t]`` for ``t = 0, …, steps``."""

    w: torch.Tensor  # (steps + 1, *batch, d)
    z: torch.Tensor  # (steps + 1, *batch, d)


def _data(X: TensorLike, y: TensorLike) -> tuple[torch.Tensor, torch.Tensor]:
    X = as_tensor(X, "X")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be an m×d matrix, got shape {tuple(X.shape)}")
    y = as_tensor(y, "y", dtype=X.dtype, device=X.device)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X of shape "
                         f"{tuple(X.shape)}, got {tuple(y.shape)}")
    return X, y


def _start(value: TensorLike, name: str, X: torch.Tensor) -> torch.Tensor:
    value = as_tensor(value, name, dtype=X.dtype, device=X.device)
    if value.ndim == 0 or value.shape[-1] != X.shape[1]:
        raise ValueError(f"{name} must have shape (..., {X.shape[1]}) (d = X.shape[1]), got "
                         f"{tuple(value.shape)}")
    return value


def run_momentum(X: TensorLike, y: TensorLike, eta: TensorLike, beta: TensorLike, steps: int,
                 w0: TensorLike, z0: TensorLike | None = None) -> Trajectory:
    """Run momentum on ``½‖y − Xw‖²`` for ``steps`` steps from ``w0`` (and ``z0``, default 0).

    ``eta`` and ``beta`` are numbers or tensors of a batch shape; ``w0`` (and ``z0``) have
    shape ``(d,)`` or ``(*batch, d)``. Every run is a row of one tensor; the result holds all
    iterates, shape ``(steps + 1, *batch, d)``, in the dtype and on the device of ``X``.
    Checks and broadcasts its arguments, then calls :func:`_momentum`.
    """
    X, y = _data(X, y)
    eta = as_tensor(eta, "eta", dtype=torch.float64, device=X.device)
    beta = as_tensor(beta, "beta", dtype=torch.float64, device=X.device)
    eta, beta = _check_eta(eta).to(X), _check_beta(beta).to(X)
    steps = nonneg_int(steps, "steps")
    w = _start(w0, "w0", X)
    z = torch.zeros_like(w) if z0 is None else _start(z0, "z0", X)
    try:
        batch = torch.broadcast_shapes(eta.shape, beta.shape, w.shape[:-1], z.shape[:-1])
    except RuntimeError as error:
        raise ValueError(f"the shapes of eta {tuple(eta.shape)}, beta {tuple(beta.shape)} and "
                         f"the batch dimensions of w0 {tuple(w.shape[:-1])} and z0 "
                         f"{tuple(z.shape[:-1])} do not broadcast") from error
    eta, beta = eta.expand(batch)[..., None], beta.expand(batch)[..., None]
    w, z = w.expand(*batch, X.shape[1]), z.expand(*batch, X.shape[1])
    return _momentum(X, y, eta, beta, steps, w, z)


def _momentum(X: torch.Tensor, y: torch.Tensor, eta: torch.Tensor, beta: torch.Tensor,
              steps: int, w: torch.Tensor, z: torch.Tensor) -> Trajectory:
    """``z ← (1 − β)z + βg``, ``w ← w − ηz`` with ``g = Xᵀ(Xw − y)``, on every row of ``w``
    and ``z`` (``(*batch, d)``) at once, with the ``eta`` and ``beta`` of its row
    (``(*batch, 1)``)."""
    H, b = X.T @ X, X.T @ y                # the gradient Xᵀ(Xw − y) is Hw − b
    ws, zs = [w], [z]
    for _ in range(steps):
        g = w @ H - b                      # one gradient per run (row); H is symmetric
        z = (1 - beta) * z + beta * g      # average the gradients
        w = w - eta * z                    # step along the average
        ws.append(w)
        zs.append(z)
    return Trajectory(torch.stack(ws), torch.stack(zs))
