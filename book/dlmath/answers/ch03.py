"""Chapter 03, early stopping."""

import math
from typing import Any

import torch

from dlmath import optim
from dlmath.check import Verdict, close, key, number


@key("ex-half", leaks=("277", "log1p(-eta", "log1p(-sigma", "log(1 - eta"))
def half_learned(answer: Any, *, sigma: float, eta: float) -> Verdict:
    """The first t with φ_t(σ) = 1 − (1 − ησ²)^t ≥ ½, from a run of GD on σw = 1 (σw_t = φ_t)."""
    t = number(answer, "your t")
    if isinstance(t, Verdict):
        return t
    steps = math.ceil(math.log(2) / -math.log1p(-eta * sigma**2)) + 10
    run = optim.gradient_descent([[sigma**2]], [sigma], [0.0], eta, steps, trajectory=True)[:, 0]
    expected = int((sigma * run >= 0.5).nonzero()[0])
    if t == expected:
        return Verdict(True, f"φ_t(σ) first reaches ½ at t = {expected} (run of gradient descent)")
    if abs(t - math.log(2) / (eta * sigma)) < 1:
        return Verdict(False, "the factor per step is 1 − ησ², with σ squared")
    if abs(t - 1 / (eta * sigma**2)) < 1:
        return Verdict(False, "1/(ησ²) is the time scale, where φ ≈ 1 − 1/e; half needs less")
    if t != round(t):
        return Verdict(False, "t counts steps, so it is an integer: the first one past the bound")
    if abs(t - expected) == 1:
        side = "early: φ_t(σ) is still below ½ there" if t < expected else (
            "late: φ_{t−1}(σ) is already at least ½")
        return Verdict(False, f"one step too {side}")
    return close(t, expected, name="your t", rtol=0, atol=0.5)


@key("ex-match", leaks=("math.exp((lo + hi) / 2)",))
def matching_ridge(answer: Any, *, sigma: torch.Tensor, V: torch.Tensor, y_rot: torch.Tensor,
                   eta: float, t: int) -> Verdict:
    """The λ whose ridge solution is closest to w_t, by a two-stage grid search over log λ."""
    lam = number(answer, "your λ")
    if isinstance(lam, Verdict):
        return lam
    if lam <= 0:
        return Verdict(False, "λ must be positive")
    x = eta * sigma**2
    w_t = (-torch.expm1(t * torch.log1p(-x)) / sigma * y_rot) @ V.T       # φ_t(σ), stably

    def distance(log_lam: torch.Tensor) -> torch.Tensor:
        # ‖w_λ − w_t‖ for each entry of log_lam
        phi = sigma**2 / (sigma**2 + log_lam.exp()[:, None])
        return torch.linalg.norm((phi / sigma * y_rot) @ V.T - w_t, dim=-1)

    coarse = torch.linspace(math.log(1e-8), math.log(1e2), 2001, dtype=sigma.dtype,
                            device=sigma.device)
    k = int(distance(coarse).argmin())
    fine = torch.linspace(float(coarse[max(k - 1, 0)]), float(coarse[min(k + 1, 2000)]), 2001,
                          dtype=sigma.dtype, device=sigma.device)
    expected = math.exp(float(fine[distance(fine).argmin()]))
    verdict = close(lam, expected, name="your λ", rtol=1e-4)
    if verdict:
        return verdict
    if math.isclose(lam, 1 / (eta * t), rel_tol=1e-6):
        return Verdict(False, "1/(ηt) is only where the two filters switch on alike; the closest "
                              "ridge solution has a smaller λ")
    mine, best = distance(torch.tensor([math.log(lam), math.log(expected)], dtype=sigma.dtype,
                                       device=sigma.device)).tolist()
    side = "large" if lam > expected else "small"
    return Verdict(False, f"your λ gives ‖w_λ − w_t‖ = {mine:.4g}, the best λ "
                          f"{best:.4g}: yours is too {side}")
