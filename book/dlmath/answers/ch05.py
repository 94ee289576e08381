"""Chapter 05, sharp and wide minima."""

import math
from collections.abc import Callable
from typing import Any

import torch
from torch.func import grad

from dlmath.check import Verdict, close, key, number


@key("ex-sw-wide-step", leaks=("2 / f2_w", "2/f2_w", "1.99999"))
def wide_step(answer: Any, *, f: Callable[[torch.Tensor], torch.Tensor], theta_w: float,
              theta_s: float) -> Verdict:
    """The linear stability limit of the wide minimum, 2/f''(θ_w), with f'' by autograd."""
    eta = number(answer, "your step size")
    if isinstance(eta, Verdict):
        return eta
    curvature = {name: float(grad(grad(f))(torch.tensor(theta, dtype=torch.float64)))
                 for name, theta in (("wide", theta_w), ("sharp", theta_s))}
    expected = 2 / curvature["wide"]
    if math.isclose(eta, 1 / curvature["wide"], rel_tol=1e-4):
        return Verdict(False, "half the limit: q = 1 − ηf'' reaches −1, not 0, at the limit")
    if math.isclose(eta, 2 / curvature["sharp"], rel_tol=1e-4):
        return Verdict(False, "that is the limit of the sharp minimum; use f'' at θ_w")
    return close(eta, expected, name="your step size", rtol=1e-4)


@key("ex-sw-fraction", leaks=("(theta_m + 5) / 25", "theta_m + 5", "0.327"))
def sharp_fraction(answer: Any, *, theta0: torch.Tensor, df: Callable[..., torch.Tensor],
                   classify: Callable[..., torch.Tensor]) -> Verdict:
    """The fraction of the starts that GD with η = 0.05 (500 steps) takes to the sharp minimum."""
    predicted = number(answer, "your prediction")
    if isinstance(predicted, Verdict):
        return predicted
    if not 0 <= predicted <= 1:
        return Verdict(False, "a fraction lies between 0 and 1")
    theta = theta0.clone()
    for _ in range(500):
        theta = theta - 0.05 * df(theta)
    simulated = float((classify(theta) == 0).double().mean())
    n = theta0.numel()
    tol = 4 * math.sqrt(simulated * (1 - simulated) / n)             # binomial 4σ
    if predicted < simulated - tol and predicted < 0.05:
        return Verdict(False, "η = 0.05 is still below 2/f''(θ_s) ≈ 0.0995: the sharp minimum "
                              "is stable (q_s ≈ −0.005), so runs can end there")
    verdict = close(predicted, simulated, name="your prediction", rtol=1e-12, atol=tol)
    if verdict:
        return Verdict(True, f"{verdict.message}, within the binomial 4σ = {tol:.4f} of the "
                             f"simulated {simulated:.4f}")
    return Verdict(False, f"the simulation gives {simulated:.4f} ± {tol:.4f} (binomial 4σ): which "
                          "starts can reach the sharp minimum, on which side of θ_m?")


@key("ex-sw-sam", leaks=("2.262", "2.26"))
def sam_radius(answer: Any, *, sam_gap: Callable[[float], float]) -> Verdict:
    """The radius where SAM's preference flips, the root of sam_gap in (2, 2.6), to 10⁻³."""
    rho = number(answer, "your radius")
    if isinstance(rho, Verdict):
        return rho
    lo, hi = 2.0, 2.6
    for _ in range(14):                                       # bisection to 0.6/2¹⁴ ≈ 4e-5
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sam_gap(mid) < 0 else (lo, mid)
    rho_star = (lo + hi) / 2
    if abs(rho - rho_star) <= 1e-3:
        return Verdict(True, "your radius is within 10⁻³ of the sign change of sam_gap")
    if abs(rho - math.sqrt(50 / 9.5)) < 1e-3:
        return Verdict(False, "that is the estimate of the pure parabolas; the sharp valley "
                              "rises faster than 10θ² on its right side, so the gap changes sign "
                              "earlier")
    if not 0 < rho < 3:
        return Verdict(False, "sam_gap is valid for 0 < ρ < 3 only")
    gap = sam_gap(rho)
    side = "negative: SAM still prefers the sharp minimum, increase ρ" if gap < 0 else (
        "positive: SAM already prefers the wide minimum, decrease ρ")
    return Verdict(False, f"sam_gap({rho:g}) = {gap:.3f} is {side}")
