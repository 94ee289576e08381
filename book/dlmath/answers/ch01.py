"""Chapter 01, matrix calculus."""

from collections.abc import Callable
from typing import Any

import sympy as sp
import torch
from torch.func import hessian, jacrev

from dlmath import symbolic
from dlmath.check import Verdict, call, close, expression, gradient, key


def _ridge_loss(A: torch.Tensor, b: torch.Tensor, lam: float, x: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((A @ x - b) ** 2).sum() + 0.5 * lam * (x**2).sum()


@key("ex-ridge", leaks=("return A.T @ (A @ x - b) + lam * x", "A.T @ A + lam",
                        "lam * torch.eye"))
def ridge(answer: Any, *, A: torch.Tensor, b: torch.Tensor, lam: float, x: torch.Tensor,
          seed: int) -> Verdict:
    """The pair (∇g, ∇²g) = (x ↦ Aᵀ(Ax − b) + λx, A ↦ AᵀA + λI), against autograd."""
    if not (isinstance(answer, tuple) and len(answer) == 2 and all(map(callable, answer))):
        return Verdict(False, "give the pair of functions (ridge_grad, ridge_hessian)")
    ridge_grad, ridge_hessian = answer
    expected = jacrev(_ridge_loss, argnums=3)(A, b, lam, x)
    yours, _ = call(ridge_grad, A, b, lam, x)                 # `gradient` reports a failure
    if isinstance(yours, torch.Tensor) and yours.shape == expected.shape:
        if torch.allclose(yours, 2 * expected, rtol=1e-10):
            return Verdict(False, "your gradient is twice the right one: the ½ in front of each "
                                  "squared norm cancels the 2 of d‖v‖² = 2vᵀdv")
        if torch.allclose(yours, expected - lam * x, rtol=1e-10):
            return Verdict(False, "your gradient lacks the regulariser's part λx")
    verdict = gradient(ridge_grad, _ridge_loss, [A, b, lam, x], wrt=3, seed=seed, rtol=1e-10)
    if not verdict:
        return verdict
    H, failed = call(ridge_hessian, A, lam)
    if failed is not None:
        return Verdict(False, f"the gradient is right; ridge_hessian failed: {failed.message}")
    expected_H = hessian(_ridge_loss, argnums=3)(A, b, lam, x)
    if isinstance(H, torch.Tensor) and H.shape == expected_H.shape and torch.allclose(
            H, A.T @ A, rtol=1e-10):
        return Verdict(False, "the gradient is right; your Hessian lacks the λI of the "
                              "regulariser")
    verdict_H = close(H, expected_H, name="your Hessian", rtol=1e-10)
    if not verdict_H:
        return Verdict(False, f"the gradient is right; {verdict_H.message}")
    return Verdict(True, f"{verdict.message}; the Hessian matches autograd's too")


def _cross_entropy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return -(y * torch.log_softmax(z, dim=0)).sum()


@key("ex-softmax", leaks=("softmax(z, dim=0) - y", "softmax(z, 0) - y", "softmax(z) - y",
                          "exp(z) / torch.exp(z).sum() - y"))
def softmax_gradient(answer: Callable[..., Any], *, z: torch.Tensor, y: torch.Tensor) -> Verdict:
    """The gradient of cross-entropy in the logits, p − y, at (z, y) and at a one-hot target."""
    if not callable(answer):
        return Verdict(False, "give the function cross_entropy_grad itself (no call)")
    p = torch.softmax(z, dim=0)
    one_hot = torch.zeros_like(y)
    one_hot[int(torch.argmin(p))] = 1.0
    for target, where in ((y, "the given target"), (one_hot, "a one-hot target")):
        yours, failed = call(answer, z, target)
        if failed is not None:
            return failed
        expected = jacrev(_cross_entropy)(z, target)
        if isinstance(yours, torch.Tensor) and yours.shape == p.shape:
            if torch.allclose(yours, p, rtol=1e-10):
                return Verdict(False, "that is p alone: the term −y from −Σ yⱼ zⱼ is missing")
            if torch.allclose(yours, target - p, rtol=1e-10):
                return Verdict(False, "that is y − p: the sign is flipped (the loss has a minus)")
        verdict = close(yours, expected, name="your gradient", rtol=1e-10)
        if not verdict:
            return Verdict(False, f"at {where}: {verdict.message}")
    return Verdict(True, "your gradient matches autograd at the given and at a one-hot target "
                         "(rtol=1e-10)")


@key("ex-nonsymmetric", leaks=("M_gen + M_gen.T", "M_gen.T + M_gen", "M_gen.T"))
def nonsymmetric_hessian(answer: Any, *, x: sp.Matrix, M_gen: sp.Matrix) -> Verdict:
    """The Hessian of ¼‖xxᵀ − M‖²_F: 2xxᵀ + ‖x‖²I − (M + Mᵀ)/2, by sympy."""
    expected = symbolic.hessian(symbolic.frobenius_sq(x * x.T - M_gen) / 4, x)
    guess = 2 * x * x.T + (x.T * x)[0] * sp.eye(len(x)) - M_gen
    if isinstance(answer, sp.MatrixBase) and answer.shape == guess.shape and symbolic.is_zero(
            answer - guess):
        return Verdict(False, "a Hessian is symmetric, and this matrix is not when M is not: "
                              "only the symmetric part (M + Mᵀ)/2 of M enters f")
    return expression(answer, expected, name="your Hessian")
