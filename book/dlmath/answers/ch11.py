"""Chapter 11, ReLU elbows."""

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp
import torch

from dlmath._validate import to_numpy
from dlmath.check import Verdict, call, close, expression, key
from dlmath.symbolic import is_zero


@key("ex-any-residual", leaks=("eta_s * rho", "rho * eta_s", "w - eta_s * rho * x"))
def any_residual_shift(answer: Any, *, w: sp.Symbol, b: sp.Symbol, x: sp.Symbol,
                       eta_s: sp.Symbol, rho: sp.Symbol) -> Verdict:
    """e' − e after one SGD step on ½(wx + b − y)² of an active unit with residual ρ."""
    y = sp.Dummy("y", real=True)
    loss = (w * x + b - y) ** 2 / 2                                  # the active branch
    w_new, b_new = w - eta_s * sp.diff(loss, w), b - eta_s * sp.diff(loss, b)
    expected = sp.simplify((-b_new / w_new + b / w).subs(y, w * x + b - rho))   # φ(x) − y = ρ
    if isinstance(answer, sp.Expr):
        if is_zero(answer - expected.subs(rho, 1)):
            return Verdict(False, "that is the shift for residual 1: both gradients, ρx and ρ, "
                                  "carry the residual, so η becomes ηρ everywhere")
        if is_zero(answer - expected.subs(rho, -rho)):
            return Verdict(False, "the sign of ρ is flipped: ρ = φ(x) − y, and SGD subtracts "
                                  "ηρx and ηρ")
    return expression(answer, expected, name="your shift")


@key("ex-missing-row", leaks=("-1 / x_", "1 / x_.abs()", "1 / abs(x_)"))
def moves_left(answer: Callable[..., Any], *, w: torch.Tensor, b: torch.Tensor,
               x: torch.Tensor, eta: float) -> Verdict:
    """1.0 where the elbow −b/w moves left after one SGD step with residual 1, else 0.0."""
    value, failed = call(answer, w, b, x)
    if failed is not None:
        return failed
    w_new, b_new = w - eta * x, b - eta                              # gradients x and 1
    truth = (-b_new / w_new < -b / w).double()
    if isinstance(value, torch.Tensor) and value.dtype == torch.bool:
        value = value.double()
    verdict = close(value, truth, name="your prediction", rtol=0, atol=1e-12)
    if verdict:
        return Verdict(True, f"your prediction matches one SGD step on all {truth.numel()} units")
    if not close(value, truth, rtol=0, atol=2):                         # malformed
        return verdict
    mine, right = to_numpy(value, "your prediction"), truth.cpu().numpy()
    if np.array_equal(mine, 1 - right):
        return Verdict(False, "left and right are swapped everywhere: w' = w − ηx is "
                              "negative, which flips the sign of the shift")
    if np.all(mine == mine.flat[0]):
        return Verdict(False, "the same direction for every unit, but both occur: it depends "
                              "on the sign of 1 + ex")
    return Verdict(False, f"your prediction is wrong for {100 * np.mean(mine != right):.1f} % "
                          "of the units: the elbow moves by η(1 + ex)/(w − ηx)")
