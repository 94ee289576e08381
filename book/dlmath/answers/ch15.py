"""Chapter 15, signal propagation."""

import math
from collections.abc import Sequence
from typing import Any

import sympy as sp

from dlmath import nets
from dlmath.check import Verdict, close, expression, key, number
from dlmath.symbolic import is_zero


@key("ex-leaky-piecewise", leaks=("a_s**2+b_s**2", "b_s**2+a_s**2", "2/(n*(a_s**2"))
def piecewise_variance(answer: Any, *, a_s: sp.Symbol, b_s: sp.Symbol,
                       n: sp.Symbol) -> Verdict:
    """σ_w² = 2/(n(a² + b²)), from E[σ(z)²] = (a² + b²)/2 for z ~ N(0, 1) by sympy."""
    z = sp.Symbol("z", real=True)
    density = sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)
    moment = (sp.integrate(a_s**2 * z**2 * density, (z, 0, sp.oo))
              + sp.integrate(b_s**2 * z**2 * density, (z, -sp.oo, 0)))
    expected = sp.simplify(1 / (n * moment))                      # n σ_w² E[σ(z)²] = 1
    if isinstance(answer, sp.Expr):
        for wrong, why in ((2 / (n * (a_s + b_s) ** 2), "that squares the sum of the slopes; "
                            "the two halves are squared first and then averaged"),
                           (2 / n, "that is He's rule, right only for a = 1, b = 0")):
            if is_zero(answer - wrong):
                return Verdict(False, why)
    return expression(answer, expected, name="your variance")


@key("ex-leaky-fan-out", leaks=("your_factor = 2",))
def fan_out_factor(answer: Any, *, sizes: Sequence[int], alpha: float) -> Verdict:
    """n_{l+1} σ²_{w,l+1} (1 + α²)/2 per layer backwards with fan-in leaky He: n_{l+1}/n_l."""
    logs = [math.log(n_out * nets.leaky_he(alpha).variance(n_in)
                     * nets.second_moment_factor(alpha))
            for n_in, n_out in zip(sizes[1:-1], sizes[2:], strict=True)]
    expected = math.exp(sum(logs) / len(logs))
    value = number(answer, "your factor")
    if isinstance(value, Verdict):
        return value
    verdict = close(value, expected, name="your factor", rtol=1e-9)
    if not verdict and abs(value - 1) < 1e-9:
        return Verdict(False, "1 is the forward factor, where the fan-in enters; backwards "
                              "δ_l collects n_{l+1} terms, one per unit of the next layer")
    if not verdict and abs(value * expected - 1) < 1e-9:
        return Verdict(False, "that is n_l/n_{l+1}, upside down: δ_l sums over the "
                              "n_{l+1} units of the layer above, weighted with variance 1/n_l")
    if not verdict and abs(value / expected - 1) < 0.1:
        return Verdict(False, "close: is it a measured factor? The prediction is a ratio of "
                              "widths, exactly")
    return verdict
