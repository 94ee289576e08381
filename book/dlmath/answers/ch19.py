"""Chapter 19, dual activations."""

import sympy as sp

from dlmath.check import Verdict, expression, key
from dlmath.symbolic import is_zero


@key("ex-cos-price", leaks=("cosh",))
def cos_dual(answer: sp.Expr, *, xi: sp.Symbol) -> Verdict:
    """The dual of cos, e^{-1} cosh ξ, as the derivative of the dual of sin."""
    expected = sp.exp(-1) * sp.cosh(xi)
    if isinstance(answer, sp.Expr) and is_zero(answer - sp.exp(-1) * sp.sinh(xi)):
        return Verdict(False, "that is the dual of sin: Price's theorem differentiates it")
    return expression(answer, expected, name="your dual of cos")


@key("ex-cubic-dual", leaks=("9 * xi", "6 * xi**3", "9*xi", "6*xi**3"))
def cubic_dual(answer: sp.Expr, *, xi: sp.Symbol) -> Verdict:
    """The dual of x³: with x³ = He₃ + 3He₁, the coefficients squared give 9ξ + 6ξ³."""
    expected = 9 * xi + 6 * xi**3
    if isinstance(answer, sp.Expr) and is_zero(answer - 15 * xi**3):
        return Verdict(False, "15ξ³ is right only at ξ = 1, where it is E u⁶: expand x³ in "
                              "Hermite polynomials, the He₁ term is missing")
    return expression(answer, expected, name="your dual of x^3")
