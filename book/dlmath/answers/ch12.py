"""Chapter 12, linear networks."""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from dlmath.check import Verdict, call, close, key, number


def _ae_step(A: torch.Tensor, B: torch.Tensor, z: torch.Tensor,
             eta: float) -> tuple[torch.Tensor, torch.Tensor]:
    # one gradient-descent step on ½‖z − ABz‖²
    R = z - A @ (B @ z)
    return A + eta * torch.outer(R, B @ z), B + eta * torch.outer(A.T @ R, z)


@key("ex-first-step", leaks=("eta_*beta_", "beta_*eta_", "eta_*beta_)**2"))
def first_step(answer: Callable[[float, float, float], float], *, z: torch.Tensor,
               B0: torch.Tensor, etas: Sequence[float]) -> Verdict:
    """L₁ = ½‖z‖²(1 − η‖B₀z‖²)², here the loss after one actual step from A₀ = 0 at each η."""
    s, beta = float(z @ z), float((B0 @ z) @ (B0 @ z))
    expected = []
    for eta in etas:
        A1, B1 = _ae_step(torch.zeros(len(z), len(B0), dtype=z.dtype, device=z.device), B0, z, eta)
        expected.append(0.5 * float(((z - A1 @ (B1 @ z)) ** 2).sum()))
    values = []
    for eta in etas:
        value, failed = call(answer, eta, s, beta)
        loss = number(value, f"first_loss({eta:g}, s, beta)") if failed is None else failed
        if isinstance(loss, Verdict):
            return loss
        values.append(loss)
    if np.allclose(values, [0.5 * s * (1 - eta * s) ** 2 for eta in etas], rtol=1e-9):
        return Verdict(False, "that uses ‖z‖² as the curvature of the first step: A₁ = "
                              "ηz(B₀z)ᵀ, so A₁B₀z = η‖B₀z‖²z and ‖B₀z‖² is what counts")
    return close(values, expected, name="your L₁ at the step sizes η", rtol=1e-9)


@key("ex-b-zero", leaks=("(1, 1)", "(1,1)"))
def b_zero(answer: Any, *, A0: torch.Tensor, z: torch.Tensor, x_test: torch.Tensor,
           eta: float, steps: int) -> Verdict:
    """(1, 1): B_t = b_t zᵀ has rank one, and every output is a multiple of A_t b_t ∥ f_t(z)."""
    A, B = A0, torch.zeros_like(A0.T)
    for _ in range(steps):
        A, B = _ae_step(A, B, z, eta)
    rank = int(torch.linalg.matrix_rank(B, rtol=1e-10))
    f_z, outputs = A @ (B @ z), A @ B @ x_test
    cosines = (f_z @ outputs).abs() / (torch.linalg.norm(outputs, dim=0) * torch.linalg.norm(f_z))
    parallel = int((1 - cosines).abs().max() < 1e-10)
    try:
        r, p = (int(v) for v in answer)
    except (TypeError, ValueError):
        return Verdict(False, "give a pair of two whole numbers: (rank of B_t, 1 or 0)")
    if r != rank:
        return Verdict(False, f"the rank of B_t is not {r}: the gradient of B, −AᵀRzᵀ, always "
                              "ends in zᵀ, so from B₀ = 0 every B_t is a multiple of (·)zᵀ")
    if p != parallel:
        return Verdict(False, "the rank is right, but with B_t = b_t zᵀ the output "
                              "f_t(x) = (zᵀx) A_t b_t is a multiple of one vector for every x")
    return Verdict(True, f"B_t has rank {rank} and all outputs are parallel to f_t(z) "
                         f"(checked on {x_test.shape[1]} test inputs after {steps} steps)")
