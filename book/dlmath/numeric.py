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
    ``x`` may have any shape; the result has the same shape. Use float64. Checks ``x``, ``h``
    and that ``f`` returns a scalar, and calls :func:`_central_difference`.
    """
    x = float_tensor(x, "x")
    h = positive(h, "h")

    def scalar_f(point: torch.Tensor) -> torch.Tensor:
        value = torch.as_tensor(f(point))
        if value.numel() != 1:
            raise ValueError(f"f must return a scalar, got a tensor of shape {tuple(value.shape)}")
        return value.reshape(())

    return _central_difference(scalar_f, x, h)


def _central_difference(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                        h: float) -> torch.Tensor:
    """``(f(x + h eᵢ) − f(x − h eᵢ)) / (2h)`` for every entry ``i`` of ``x`` (``f`` scalar)."""
    flat = x.detach().reshape(-1)
    grad = torch.empty_like(flat)
    for i in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[i] = h                                                    # h eᵢ
        grad[i] = (f((flat + step).reshape(x.shape)) - f((flat - step).reshape(x.shape))) / (2 * h)
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
