"""Chapter 09, implicit bias."""

from collections.abc import Callable
from typing import Any

import torch

from dlmath.check import Verdict, call, close, key


def _first_mistake(value: Any, mistakes: dict[str, torch.Tensor]) -> Verdict | None:
    """The negative verdict of the first known mistake that ``value`` equals, if any."""
    for hint, wrong in mistakes.items():
        if close(value, wrong):
            return Verdict(False, hint)
    return None


@key("ex-ridge-limit", leaks=("m_ * lam", "m * lam", "lam * m"))
def ridge_solution(answer: Callable[..., Any], *, X: torch.Tensor, Y: torch.Tensor,
                   lam: float) -> Verdict:
    """The zero of the gradient of (1/2m)‖Xw − Y‖² + (λ/2)‖w‖²: (XᵀX/m + λI)w = XᵀY/m."""
    m, d = X.shape
    eye = torch.eye(d, dtype=X.dtype, device=X.device)
    value, failed = call(answer, X, Y, lam)
    if failed is not None:
        return failed
    w_star = torch.linalg.pinv(X) @ Y
    wrong = _first_mistake(value, {
        "that minimises ½‖Xw − Y‖² + (λ/2)‖w‖²: the mean 1/m in the loss puts a factor m in "
        "front of λ, (XᵀX + mλI)w = XᵀY": torch.linalg.solve(X.T @ X + lam * eye, X.T @ Y),
        "the factor m multiplies λ, it does not divide it":
            torch.linalg.solve(X.T @ X + lam / m * eye, X.T @ Y),
        "that is w*, the limit λ → 0; at λ > 0 the penalty shrinks w": w_star,
    })
    if wrong is not None:
        return wrong
    expected = torch.linalg.solve(X.T @ X / m + lam * eye, X.T @ Y / m)
    return close(value, expected, name=f"your ridge solution at λ = {lam:g}")


@key("ex-reparam", leaks=("min_norm_interpolant(X * s", "s * least_squares", "pinv(X * s"))
def reparam_limit(answer: Callable[..., Any], *, X: torch.Tensor, Y: torch.Tensor,
                  s: torch.Tensor) -> Verdict:
    """w∞ = Dv∞ with v∞ = (XD)⁺Y, the limit of gradient descent in v from 0 (D = diag(s))."""
    value, failed = call(answer, X, Y, s)
    if failed is not None:
        return failed
    v_inf = torch.linalg.pinv(X * s) @ Y                              # ordinary GD on XD
    wrong = _first_mistake(value, {
        "that is w* = X⁺Y, the limit in the original variable; here gradient descent runs "
        "on v, with data matrix XD": torch.linalg.pinv(X) @ Y,
        "that is v∞ = (XD)⁺Y; the question asks for w∞ = Dv∞": v_inf,
        "D enters the other way round: w = Dv, so XD (not XD⁻¹) is the data matrix of v":
            torch.linalg.pinv(X / s) @ Y / s,
    })
    if wrong is not None:
        return wrong
    return close(value, s * v_inf, name="your limit")
