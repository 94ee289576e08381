"""Chapter 02, step size and stability."""

import math
from typing import Any

import numpy as np
import torch

from dlmath import optim
from dlmath.check import Verdict, close, key, number


@key("ex-ridge-steps", leaks=("2 / (sigma_max**2 + mu)", "sigma_min**2 + 2 * mu",
                              "sigma_max**2 + sigma_min**2 + 2*mu"))
def ridge_steps(answer: Any, *, sigma_max: float, sigma_min: float, mu: float) -> Verdict:
    """(critical step, best step, its rate) of the Hessian XᵀX + μI, eigenvalues σ² + μ."""
    shifted = [sigma_max**2 + mu, sigma_min**2 + mu]
    expected = [optim.critical_step(shifted), *optim.best_step(shifted)]
    plain = [optim.critical_step([sigma_max**2]),
             *optim.best_step([sigma_max**2, sigma_min**2])]
    name = "your (critical, best, rate)"
    if close(answer, plain, name=name, rtol=1e-12):
        return Verdict(False, "these are the values without the regulariser: the Hessian is "
                              "XᵀX + μI, so every eigenvalue σᵢ² moves up by μ")
    verdict = close(answer, expected, name=name, rtol=1e-12)
    if verdict or np.shape(answer) != (3,):
        return verdict
    values = [number(a) for a in answer]                         # non-numbers count as wrong
    wrong = [label for label, a, e in zip(("critical step", "best step", "rate"), values,
                                          expected, strict=True)
             if isinstance(a, Verdict) or not math.isclose(a, e, rel_tol=1e-12)]
    return Verdict(False, f"{', '.join(wrong)} wrong; {verdict.message}")


@key("ex-escape", leaks=("/ math.log(g)", "/ math.log(1.5)", "/math.log(g)"))
def escape_step(answer: Any, *, H: torch.Tensor, b: torch.Tensor, theta_on: torch.Tensor,
                v1: torch.Tensor, delta: float, eta: float) -> Verdict:
    """The first step at which GD from θ_on + δv₁ has an error above its initial one (a run)."""
    t_guess = number(answer, "your escape step")
    if isinstance(t_guess, Verdict):
        return t_guess
    theta_star = torch.linalg.solve(H, b)
    path = optim.gradient_descent(H, b, theta_on + delta * v1, eta, 400, trajectory=True)
    err = torch.linalg.norm(path - theta_star, dim=-1)
    t_escape = int((err > err[0]).nonzero()[0])
    lam_1 = float(v1 @ H @ v1)
    e0 = float(err[0])
    if abs(t_guess - math.log(e0 / delta) / math.log(eta * lam_1)) < 1.5:
        return Verdict(False, f"the top component grows by |1 − ηλ₁| = {abs(1 - eta * lam_1):g} "
                              f"per step, not by ηλ₁ = {eta * lam_1:g}")
    verdict = close(t_guess, t_escape, name="your escape step", rtol=0.05, atol=1)
    if verdict:
        return verdict
    side = "early" if t_guess < t_escape else "late"
    return Verdict(False, f"{verdict.message} (too {side}: the top component is δ|1 − ηλ₁|^t "
                          f"and the error starts at ‖e₀‖ = {e0:.3g})")


@key("ex-mirror", leaks=("2 / sigma**2 - eta", "2 / 2.0**2 - 0.1", "0.4"))
def mirror_step(answer: Any, *, sigma: float, eta: float, eps: float) -> Verdict:
    """The other step in (0, 2/σ²) with the same factor |1 − ησ²|, hence the same count."""
    eta_other = number(answer, "your step size")
    if isinstance(eta_other, Verdict):
        return eta_other
    factor = abs(1 - eta * sigma**2)
    roots = [(1 - factor) / sigma**2, (1 + factor) / sigma**2]
    expected = max(roots, key=lambda root: abs(root - eta))            # the root that is not η
    if math.isclose(eta_other, eta, rel_tol=1e-9):
        return Verdict(False, "that is the given step itself: find the other one")
    if not 0 < eta_other < 2 / sigma**2:
        return Verdict(False, f"the step must lie in (0, 2/σ²) = (0, {2 / sigma**2:g}): at "
                              "2/σ² the factor 1 − ησ² is −1 and the error never shrinks")
    verdict = close(eta_other, expected, name="your step size", rtol=1e-9)
    if verdict:
        return verdict
    counts = [optim.iterations(abs(1 - e * sigma**2), eps) for e in (eta, eta_other)]
    if counts[0] == counts[1]:
        return Verdict(False, f"it needs as many iterations ({counts[0]}): the count is an "
                              "integer, so a whole interval of steps does; the question asks "
                              "for the one with the same factor |1 − ησ²|")
    return Verdict(False, f"your step needs {counts[1]} iterations, the given one {counts[0]}: "
                          "the count depends on |1 − ησ²|, with the absolute value")
