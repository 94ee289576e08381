"""Chapter 08, noise injection."""

from collections.abc import Callable
from typing import Any

import torch

from dlmath import ridge
from dlmath.check import Verdict, call, close, key


@key("ex-noise-second-moment", leaks=("3 * sigma**4", "x**4 + 6 * x**2", "3 * s0**4"))
def second_moment_threshold(answer: Callable[..., Any], *, x: float, sigma: float) -> Verdict:
    """η₂ = 2(x² + σ²)/E x̃⁴, the root η ≠ 0 of E(1 − ηx̃²)² = 1, at (x, σ) and nearby."""
    for x_, s_ in ((x, sigma), (2 * x, sigma), (x, 2 * sigma)):
        fourth = x_**4 + 6 * x_**2 * s_**2 + 3 * s_**4                   # E x̃⁴, x̃ ~ N(x, σ²)
        value, failed = call(answer, x_, s_)
        if failed is not None:
            return failed
        if close(value, 2 / (x_**2 + s_**2)):
            return Verdict(False, "2/(x² + σ²) is the threshold of the mean E[w_t]; the "
                                  "second moment contracts by E(1 − ηx̃²)², which needs E x̃⁴")
        verdict = close(value, 2 * (x_**2 + s_**2) / fourth, name=f"your η₂ at x = {x_:g}, "
                        f"σ = {s_:g}", rtol=1e-12)
        if not verdict:
            return verdict
    return Verdict(True, "your η₂ matches 2(x² + σ²)/E x̃⁴ at three (x, σ) (rtol=1e-12)")


@key("ex-noise-anisotropic", leaks=("m**0.5 * torch.diag(s_feat)", "math.sqrt(m) * torch.diag",
                                    "torch.diag(s_feat**2)"))
def anisotropic_limit(answer: Any, *, X: torch.Tensor, y: torch.Tensor,
                      s_feat: torch.Tensor) -> Verdict:
    """The zero of the expected gradient, (XᵀX/m + S²)⁻¹Xᵀy/m, S = diag(s_feat)."""
    m = X.shape[0]
    expected = torch.linalg.solve(X.T @ X / m + torch.diag(s_feat**2), X.T @ y / m)
    mistakes = {
        "Γ = S penalises m times too weakly: the unnormalised objective is m times the "
        "normalised one, so ΓᵀΓ = mS²": ridge.ridge_primal(X, y, Gamma=torch.diag(s_feat)),
        "Γ = S² gives ΓᵀΓ = S⁴; the penalty ‖Sw‖² needs ΓᵀΓ = mS²":
            ridge.ridge_primal(X, y, Gamma=m**0.5 * torch.diag(s_feat**2)),
        "Γ = mS gives ΓᵀΓ = m²S², m times too strong; you need ΓᵀΓ = mS²":
            ridge.ridge_primal(X, y, Gamma=m * torch.diag(s_feat)),
    }
    for hint, wrong in mistakes.items():
        if close(answer, wrong):
            return Verdict(False, hint)
    return close(answer, expected, name="your limit")
