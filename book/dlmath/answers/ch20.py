"""Chapter 20, NNGP regression."""

import math
from typing import Any

import sympy as sp

from dlmath.check import Verdict, close, expression, key, number
from dlmath.symbolic import is_zero


@key("ex-label-size", leaks=("1 / d**2", "d**-2", "2.5e-5"))
def label_size(answer: float, *, d: int) -> Verdict:
    """E f(x)² ≈ 1ᵀ(I/d)1 / d² = 1/d² for f = (1/d) Σ sin xᵢ on the unit sphere of ℝ^d."""
    expected = 1 / d**2
    value = number(answer, "your E f(x)^2")
    if isinstance(value, Verdict):
        return value
    if math.isclose(value, (1 - math.exp(-2)) / (2 * d), rel_tol=0.01):
        return Verdict(False, "that is E f² for the raw Gaussian inputs, E sin²z / d: on the "
                              "unit sphere each coordinate has E xᵢ² = 1/d, not 1")
    if math.isclose(value, 1 / d, rel_tol=0.01):
        return Verdict(False, "1/d is d times too large: E[xxᵀ] = I/d, so 1ᵀE[xxᵀ]1 = 1, and "
                              "the prefactor 1/d² is still there")
    # rtol 2/d: the cubic term of sin changes E f² by a relative 1/(d + 2), so the linear
    # prediction and a more careful one both pass; every wrong one above is off by a factor
    return close(value, expected, name="your E f(x)^2", rtol=2 / d)


@key("ex-laplace-xi", leaks=("sqrt(2 - 2 * xi)", "sqrt(2*(1 - xi))", "sqrt(2 * (1 - xi))"))
def laplace_xi(answer: sp.Expr, *, xi: sp.Symbol, L: sp.Symbol) -> Verdict:
    """e^{−L√(2 − 2ξ)}: on the unit sphere ‖x − x′‖² = 2 − 2ξ."""
    expected = sp.exp(-L * sp.sqrt(2 - 2 * xi))
    tempting: dict[str, Any] = {
        "that is the Gaussian kernel e^{−L‖x − x′‖²}: the Laplace kernel takes the distance, "
        "the square root of 2 − 2ξ": sp.exp(-L * (2 - 2 * xi)),
        "‖x − x′‖² = ‖x‖² + ‖x′‖² − 2xᵀx′ = 2 − 2ξ: a factor 2 is missing under the root":
            sp.exp(-L * sp.sqrt(1 - xi)),
        "the sign of ξ: ‖x − x′‖² = 2 − 2ξ, small when x and x′ are close (ξ near 1)":
            sp.exp(-L * sp.sqrt(2 + 2 * xi)),
    }
    if isinstance(answer, sp.Expr):
        for hint, wrong in tempting.items():
            if is_zero(answer - wrong):
                return Verdict(False, hint)
    return expression(answer, expected, name="your kernel")
