"""Chapter 10, the top eigenvector as a landscape."""

from collections.abc import Callable
from typing import Any

import torch

from dlmath import landscape
from dlmath.check import Verdict, call, close, key


def _top(M: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The eigenvalues of M, largest first, and its eigenvectors as columns in that order."""
    lam, V = torch.linalg.eigh(M)
    return lam.flip(0), V.flip(1)


@key("ex-values", leaks=("lam[i] ** 2", "lam[i] * lam[i]", "- lam[i]**2"))
def stationary_value(answer: Callable[..., Any], *, M: torch.Tensor) -> Verdict:
    """f at the origin and at √λᵢ vᵢ for every λᵢ > 0, from `landscape.objective`."""
    lam, V = _top(M)
    keep = [i for i in range(lam.numel()) if lam[i] > 1e-8 * lam[0]]
    lam_list = lam.tolist()
    values = []
    for i in [None, *keep]:
        value, failed = call(answer, lam_list, i)
        if failed is not None:
            return failed
        values.append(value)
    expected = [float(landscape.objective(M, torch.zeros_like(lam)))] + [
        float(landscape.objective(M, lam[i].sqrt() * V[:, i])) for i in keep]
    first_attempt = [expected[0]] + [expected[0] - lam_list[i] / 4 for i in keep]
    if close(values, first_attempt):
        return Verdict(False, "right at the origin, but at x with ‖x‖² = λᵢ the term xᵀMx is "
                              "λᵢ‖x‖² = λᵢ², so subtract λᵢ², not λᵢ")
    return close(values, expected, name="your values (origin first, then λ₁, λ₂, …)")


@key("ex-step", leaks=("1 / lam1_M", "hessian_eigenvalues[-1]"))
def largest_step(answer: Any, *, M: torch.Tensor) -> Verdict:
    """2/λ_max of the Hessian ‖x‖²I + 2xxᵀ − M at the minimiser x = √λ₁ v₁ (it is 1/λ₁)."""
    lam, V = _top(M)
    H = landscape.hessian(M, lam[0].sqrt() * V[:, 0])
    expected = 2 / float(torch.linalg.eigvalsh(H)[-1])
    if close(answer, 2 / float(lam[0])):
        return Verdict(False, "2/λ₁ takes the curvature along v₁ to be λ₁; the Hessian there "
                              "has ‖x‖² + 2‖x‖² − λ₁ = 2λ₁ along x")
    return close(answer, expected, name="your eta_max")
