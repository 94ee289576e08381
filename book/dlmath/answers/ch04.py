"""Chapter 04, momentum."""

import math
from typing import Any

import sympy as sp
import torch

from dlmath import momentum
from dlmath.check import Verdict, close, expression, key
from dlmath.symbolic import is_zero


@key("ex-heavy-ball", leaks=("2 * (1 + mu) / h", "(2 + 2 * mu) / h", "2 * (mu + 1) / h",
                             "2*(1+mu)/h"))
def heavy_ball_limit(answer: Any, *, mu: sp.Symbol, h: sp.Symbol) -> Verdict:
    """The heavy-ball bound α < 2(1 + μ)/h: Jury's p(−1) > 0 for R, with α = ηβ, β = 1 − μ and
    the curvature h = σ² of ½‖y − Xw‖² (an eigenvalue of its Hessian XᵀX)."""
    eta, beta, s2 = sp.symbols("eta beta sigma2", positive=True)
    R = sp.Matrix([[1 - beta, beta * s2], [-eta * (1 - beta), 1 - eta * beta * s2]])
    p_minus_one = (-sp.eye(2) - R).det()                   # p(λ) = det(λI − R) at λ = −1
    (eta_max,) = sp.solve(p_minus_one, eta)
    expected = sp.simplify((beta * eta_max).subs({beta: 1 - mu, s2: h}))
    if isinstance(answer, sp.Expr):
        if answer.free_symbols - {mu, h}:
            return Verdict(False, f"write the bound in μ and h only, not in "
                                  f"{sorted(map(str, answer.free_symbols - {mu, h}))}")
        if is_zero(answer - 2 / h):
            return Verdict(False, "2/h is plain gradient descent's limit (μ = 0): momentum "
                                  "widens it by the factor 1 + μ")
        if is_zero(answer - expected / 2):
            return Verdict(False, "half the bound: (2 − β)/(βσ²) is the limit for the loss "
                                  "without the ½ (Hessian 2XᵀX); for ½‖y − Xw‖² it is "
                                  "2(2 − β)/(βσ²), with h = σ²")
        if is_zero(answer - 2 * expected):
            return Verdict(False, "twice the bound: the curvature of ½‖y − Xw‖² is h = σ², an "
                                  "eigenvalue of its Hessian XᵀX, not 2σ²")
        if is_zero(answer - expected / (1 - mu)):
            return Verdict(False, "that bounds η; the bound asked for is on α = ηβ = η(1 − μ)")
    return expression(answer, expected, name="your bound on α")


@key("ex-best-beta", leaks=("40 / 121", "40/121", "1 - (9 / 11) ** 2", "0.3305"))
def best_beta(answer: Any, *, sigma2: torch.Tensor) -> Verdict:
    """A (β, η) whose worst-case rate matches the best on a 1201 × 1201 grid, to rtol 10⁻³."""
    try:
        beta, eta = (float(v) for v in answer)
        rate = float(torch.as_tensor(momentum.spectral_radius(eta, beta, sigma2)).amax())
    except (TypeError, ValueError) as error:
        return Verdict(False, f"give a pair (β, η) with 0 < β ≤ 1 and η > 0 ({error})")
    eta_bf = 2 * torch.logspace(-2, 1, 1201, dtype=sigma2.dtype, device=sigma2.device)
    beta_bf = torch.linspace(0.001, 1, 1201, dtype=sigma2.dtype, device=sigma2.device)
    radii = torch.as_tensor(momentum.spectral_radius(eta_bf[None, :, None],
                                                     beta_bf[:, None, None], sigma2))
    best = float(radii.amax(-1).min())                                       # brute force
    name = "the worst-case rate of your (β, η)"
    if rate <= best * (1 + 1e-3):
        return close(rate, best, name=name, rtol=1e-3) if rate >= best else Verdict(
            True, f"{name}, {rate:.6f}, is at least as good as the best on the grid")
    if rate >= 1:
        return Verdict(False, f"{name} is {rate:.4g} ≥ 1: it diverges")
    floor = math.sqrt(1 - beta)
    if rate <= floor * (1 + 1e-9):
        return Verdict(False, f"{name} is the floor √(1 − β) = {floor:.4f} of this β, but not the "
                              f"best rate {best:.4f}: a larger β lowers the floor, as long as the "
                              "interval [η₋(σ²_min), η₊(σ²_max)] stays non-empty")
    return Verdict(False, f"{name} is {rate:.4f}, above the floor √(1 − β) = {floor:.4f}: η lies "
                          "outside [η₋(σ²_min), η₊(σ²_max)] for this β (or the interval is empty)")
