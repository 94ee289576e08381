"""Chapter 23, deep kernels and the edge of chaos."""

import sympy as sp

from dlmath.check import Verdict, expression, key
from dlmath.symbolic import is_zero


@key("ex-relu-fixed-point", leaks=("sb2 / (1 - sw2 / 2)", "2 * sb2 / (2 - sw2)",
                                   "-2 * sb2 / (sw2 - 2)", "sb2 / (1 - sw2 * 0.5)"))
def relu_fixed_point(answer: sp.Expr, *, sw2: sp.Symbol, sb2: sp.Symbol) -> Verdict:
    """q* = σ_b²/(1 − σ_w²/2), the fixed point of the affine length map q ↦ σ_b² + σ_w² q/2."""
    expected = sb2 / (1 - sw2 / 2)
    if isinstance(answer, sp.Expr):
        if is_zero(answer - sb2):
            return Verdict(False, "σ_b² is the variance one layer after q = 0; solve "
                                  "q = σ_b² + σ_w² q/2 for q")
        if is_zero(answer - sb2 / (1 - sw2)):
            return Verdict(False, "E[relu(√q z)²] is q/2, not q: the factor ½ is missing")
    return expression(answer, expected, name="your q*")


@key("ex-erf-critical", leaks=("pi / (4 * a**2)", "pi / 4 / a**2", "pi / (4 * a * a)",
                               "pi * a**-2 / 4"))
def erf_critical(answer: sp.Expr, *, a: sp.Symbol) -> Verdict:
    """σ_w² = π/(4a²): χ₁ = σ_w² φ′(0)² = σ_w² 4a²/π at q* = 0 equals 1."""
    expected = sp.pi / (4 * a**2)
    if isinstance(answer, sp.Expr):
        if is_zero(answer - sp.pi / 4):
            return Verdict(False, "π/4 is the edge for a = 1 only: φ′(0) = 2a/√π depends on a")
        if is_zero(answer - sp.pi / (4 * a)):
            return Verdict(False, "χ₁ involves φ′(0)², so a enters squared")
    return expression(answer, expected, name="your critical σ_w²")
