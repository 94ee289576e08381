"""Numerical checks of derivatives: central differences and relative errors."""

from __future__ import annotations

from collections.abc import Callable

import torch

from dlmath._validate import float_tensor, positive


def central_difference(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                       h: float = 1e-6) -> torch.Tensor:
    """Gradient of a scalar function ``f`` at ``x`` by central differences.

    Entry ``i`` is ``(f(x + h eᵢ) − f(x − h eᵢ)) / (2h)``, an approximation with error
    ``O(h²)`` from truncation plus ``O(ε/h)`` from round-off (ε the machine epsilon).
    ``x`` may have any shape; the result has the same shape. Use float64.
    """
    x = float_tensor(x, "x")
    h = positive(h, "h")
    flat = x.detach().reshape(-1)
    grad = torch.empty_like(flat)
    for i in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[i] = h
        f_plus = torch.as_tensor(f((flat + step).reshape(x.shape)))
        f_minus = torch.as_tensor(f((flat - step).reshape(x.shape)))
        if f_plus.numel() != 1:
            raise ValueError(f"f must return a scalar, got a tensor of shape {tuple(f_plus.shape)}")
        grad[i] = (f_plus - f_minus).reshape(()) / (2 * h)
    return grad.reshape(x.shape)


def relative_error(approx: torch.Tensor, exact: torch.Tensor) -> float:
    """``‖approx − exact‖ / ‖exact‖`` (Frobenius norms); the absolute error when exact = 0."""
    approx = float_tensor(approx, "approx")
    exact = float_tensor(exact, "exact")
    if approx.shape != exact.shape:
        raise ValueError(f"shapes differ: approx {tuple(approx.shape)}, exact {tuple(exact.shape)}")
    scale = torch.linalg.norm(exact)
    error = torch.linalg.norm(approx - exact)
    return float(error / scale) if scale > 0 else float(error)
