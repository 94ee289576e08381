"""Chapter 21, the neural tangent kernel."""

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from dlmath import kernels
from dlmath.check import Tolerance, Verdict, call, close, key


def _matches(value: Any, expected: Any, tol: Tolerance) -> bool:
    """Whether ``value`` is close to ``expected`` (False where a wrong recipe overflows)."""
    finite = np.all(np.isfinite(np.asarray(expected.cpu() if isinstance(expected, torch.Tensor)
                                           else expected)))
    return bool(finite and close(value, expected, **tol))


@key("ex-ntk-one-layer", leaks=("sqrt(1 - xi**2)", "sqrt(1 - xi * xi)", "dual_relu",
                                "nngp_gram"))
def theta_last(answer: Callable[[torch.Tensor], torch.Tensor]) -> Verdict:
    """Θ_a(ξ) = (√(1 − ξ²) + (π − arccos ξ)ξ)/(2π), the NNGP kernel (dual of relu)."""
    xi = torch.linspace(-1, 1, 201, dtype=torch.float64)
    value, failed = call(answer, xi)
    if failed is not None:
        return failed
    tol: Tolerance = {"rtol": 1e-10, "atol": 1e-12}  # float64 rounding of the closed form
    theta_w = xi * kernels.dual_step(xi)
    if _matches(value, theta_w, tol):
        return Verdict(False, "that is Θ_w, the kernel of the first layer's weights; with W "
                              "frozen only the gradients in the last layer's a move the output")
    if _matches(value, theta_w + kernels.dual_relu(xi), tol):
        return Verdict(False, "that is the full NTK Θ_w + Θ_a: with W frozen the first "
                              "layer's term drops out")
    verdict = close(value, kernels.dual_relu(xi), name="your kernel on a grid of ξ in [-1, 1]",
                    **tol)
    if not verdict and _matches(value, kernels.dual_relu(xi), {"rtol": 1e-6, "atol": 1e-7}):
        return Verdict(False, "right to float32 precision only: compute in float64, the dtype "
                              "of ξ (a float32 constant or tensor rounds it)")
    return verdict


@key("ex-ntk-time", leaks=("eigh(", "matrix_power", "** t"))
def kernel_gd(answer: Callable[[int], Any], *, K: torch.Tensor, K_test: torch.Tensor,
              y: torch.Tensor, eta: float, n: int) -> Verdict:
    """f_t(X_test) = Θ(X_test, X) K⁻¹(I − (I − ηK/n)ᵗ) y, checked at several t and t → ∞."""
    lam, V = torch.linalg.eigh(K.double())
    coefficients = V.T @ y.double()

    def expected(t: float, step: float = eta / n) -> np.ndarray:
        filt = (1 - (1 - step * lam) ** t) / lam
        return (K_test.double() @ (V @ (filt * coefficients))).cpu().numpy()

    limit = (K_test.double() @ (V @ (coefficients / lam))).cpu().numpy()
    tol: Tolerance = {"rtol": 1e-6, "atol": 1e-8}  # an eigen-solve of K: rounding × cond K
    for t in (1, 10, 10**6):
        value, failed = call(answer, t)
        if failed is not None:
            return failed
        if close(value, expected(t), **tol):
            continue
        if t < 10**6 and _matches(value, limit, tol):
            return Verdict(False, f"at t = {t} your predictions are the t → ∞ limit, NTK "
                                  "regression: after t steps the filter is (1 − (1 − ηλ/n)ᵗ)/λ")
        if _matches(value, expected(t, eta), tol):
            return Verdict(False, f"at t = {t}: the step in the residual's recursion is η/n "
                                  "(the loss has the factor 1/(2n)), not η")
        if _matches(value, expected(t + 1), tol) or (t > 1 and _matches(value, expected(t - 1),
                                                                            tol)):
            return Verdict(False, f"at t = {t} your predictions are those of one step more or "
                                  "less: the sum over s < t has t terms")
        return close(value, expected(t), name=f"kernel_gd({t})", **tol)
    return Verdict(True, "your predictions match kernel gradient descent at t = 1 and 10 and "
                         "NTK regression as t → ∞ (rtol=1e-06)")
