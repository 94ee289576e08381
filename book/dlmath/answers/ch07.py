"""Chapter 07, ridge regression."""

from collections.abc import Callable
from typing import Any

import torch

from dlmath import ridge
from dlmath.check import Verdict, call, close, key


@key("ex-ridge-prior-kernel", leaks=("X @ Sigma @ X.T", "Sigma @ X.T @"))
def map_kernel_form(answer: Callable[..., Any], *, X: torch.Tensor, y: torch.Tensor,
                    Sigma: torch.Tensor, lam: float) -> Verdict:
    """The MAP estimate ΣXᵀ(XΣXᵀ + λI)⁻¹y, computed as Tikhonov regression with Γ = √λ L⁻¹."""
    value, failed = call(answer, X, y, Sigma, lam)
    if failed is not None:
        return failed
    Gamma = lam**0.5 * torch.linalg.inv(torch.linalg.cholesky(Sigma))
    expected = ridge.ridge_primal(X, y, Gamma=Gamma)
    eye = torch.eye(X.shape[0], dtype=X.dtype, device=X.device)
    mistakes = {
        "that is plain ridge (Σ = I): the prior covariance is missing from both places":
            ridge.ridge_kernel(X, y, lam),
        "Σ is in the Gram matrix but not in front: Σ_WY = E[WYᵀ] = ΣXᵀ":
            X.T @ torch.linalg.solve(X @ Sigma @ X.T + lam * eye, y),
        "Σ is in front but not in the Gram matrix: Σ_YY = XΣXᵀ + λI":
            Sigma @ X.T @ torch.linalg.solve(X @ X.T + lam * eye, y),
    }
    for hint, wrong in mistakes.items():
        if close(value, wrong):
            return Verdict(False, hint)
    return close(value, expected, name="your MAP estimate")


@key("ex-ridge-smooth", leaks=("torch.diff(", "eye(d_sm, **f64)[1:]", "ridge.augmented(X_sm"))
def smooth_estimate(answer: Any, *, X: torch.Tensor, y: torch.Tensor) -> Verdict:
    """The pair (D, w): the first-difference matrix and (XᵀX + DᵀD)⁻¹Xᵀy."""
    if not (isinstance(answer, tuple) and len(answer) == 2):
        return Verdict(False, "answer with the pair (D, w_smooth)")
    D, w = answer
    if D is Ellipsis or w is Ellipsis:
        return Verdict(False, "replace both `...` by your answers, D and w_smooth")
    eye = torch.eye(X.shape[1], dtype=X.dtype, device=X.device)
    expected_D = eye[1:] - eye[:-1]                                  # rows e_{i+1}ᵀ − e_iᵀ
    verdict = close(D, expected_D, name="your D", rtol=0, atol=1e-15)
    if not verdict:
        return verdict
    if close(w, torch.linalg.pinv(X) @ y):
        return Verdict(False, "that is least squares on X alone (the minimum-norm "
                              "interpolant): the augmented matrix stacks D under X, and y gets "
                              "d − 1 zeros")
    if close(w, ridge.ridge_primal(X, y, 1.0)):
        return Verdict(False, "that penalises ‖w‖² (Γ = I), not the differences ‖Dw‖²")
    return close(w, ridge.ridge_primal(X, y, Gamma=expected_D), name="your estimate")
