"""Chapter 13, memorisation."""

from typing import Any

import numpy as np
import torch

from dlmath.check import Verdict, close, key, number


@key("ex-sine-attractor", leaks=("torch.cos(u)*u", "u*torch.cos(u)",
                                 "attractor_eigenvalue(torch.sin,torch.cos"))
def sine_attractor(answer: Any, *, B0: torch.Tensor, z: torch.Tensor) -> Verdict:
    """λ = ∇s(z)ᵀz for s(x) = sin(B₀x)ᵀh/‖h‖², h = sin(B₀z), by autograd in float64."""
    B, x = B0.double(), z.double().clone().requires_grad_(True)
    h = torch.sin(B @ z.double())
    (grad,) = torch.autograd.grad(torch.sin(B @ x) @ h / (h @ h), x)
    expected = float(grad @ z.double())
    value = number(answer, "your λ")
    if isinstance(value, Verdict):
        return value
    u = B @ z.double()
    without_u = float((torch.sin(u) * torch.cos(u)).sum() / (h @ h))
    tanh_value = float((torch.tanh(u) * (1 - torch.tanh(u) ** 2) * u).sum()
                       / (torch.tanh(u) ** 2).sum())
    # float32 data: the reader's λ is a ratio of sums of 1024 float32 terms
    verdict = close(value, expected, name="your λ", rtol=1e-4, atol=1e-6)
    if not verdict:
        if np.isclose(value, without_u, rtol=1e-4):
            return Verdict(False, "that is Σ sin(uᵢ)cos(uᵢ) / Σ sin²(uᵢ): each term needs the "
                                  "factor uᵢ, λ = Σ φ(uᵢ)φ'(uᵢ)uᵢ / Σ φ(uᵢ)²")
        if np.isclose(value, tanh_value, rtol=1e-4):
            return Verdict(False, "that is λ for tanh: put φ = sin and φ' = cos in the formula")
    return verdict


@key("ex-negative-images", leaks=("-z1[None]", "(-z1)[None]"))
def negative_images(answer: Any, *, A2: torch.Tensor, B2: torch.Tensor,
                    z1: torch.Tensor) -> Verdict:
    """ρ(J(−z₁)) = ρ(J(z₁)), from the eigenvalues of D B A (k × k) in float64 at z₁."""
    A, B, x = A2.double(), B2.double(), z1.double()
    D = 1 - torch.tanh(B @ x) ** 2                       # tanh' is even: the same at −z₁
    rho = float(torch.linalg.eigvals((D[:, None] * B) @ A).abs().max())
    rho_zero = float(torch.linalg.eigvals(B @ A).abs().max())    # at 0: J(0) = AB
    value = number(answer, "your ρ(J(−z₁))")
    if isinstance(value, Verdict):
        return value
    # the chapter's power iteration (60 float32 steps) converges like |λ₂/λ₁|^60 with
    # |λ₂/λ₁| ≈ 0.6 for the trained networks, so to float32 rounding: a few 1e-7 relative
    verdict = close(value, rho, name="your ρ(J(−z₁))", rtol=1e-5, atol=0)
    if not verdict:
        if np.isclose(-value, rho, rtol=1e-5):
            return Verdict(False, "ρ is a modulus: take the absolute value of the eigenvalue")
        if np.isclose(value, rho_zero, rtol=1e-5):
            return Verdict(False, "that is the spectral radius at 0, where J(0) = AB: "
                                  "evaluate J at −z₁")
    return verdict
