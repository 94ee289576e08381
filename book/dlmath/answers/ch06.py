"""Chapter 06, operators."""

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from dlmath.check import Verdict, call, close, key
from dlmath.operators import Convolution1d, huber_grad


@key("ex-strided", leaks=("conv_transpose1d", "up[::stride] = y", "[::stride].T @ y"))
def strided_transpose(answer: Callable[..., Any], *, y: torch.Tensor, k: torch.Tensor, n: int,
                      stride: int) -> Verdict:
    """A_sᵀy, where A_s keeps every stride-th row of the n-input cross-correlation with k."""
    A_full = Convolution1d(k, n)
    expected = A_full.to_dense()[::stride].T @ y
    value, failed = call(answer, y, k, n, stride)
    if failed is not None:
        return failed
    full = np.convolve(y.cpu().numpy(), k.cpu().numpy(), "full")
    if close(value, full, rtol=1e-12):
        return Verdict(False, f"that is the full convolution of y with k (length "
                              f"{full.size}, not n = {n}): it forgets the stride. A_s = PA, so "
                              "first put stride − 1 zeros between the entries of y (Pᵀy)")
    padded = torch.zeros(A_full.shape[0], dtype=y.dtype, device=y.device)
    padded[:y.numel()] = y
    if close(value, A_full.T @ padded, rtol=1e-12):
        return Verdict(False, "the zeros of Pᵀy go between the entries of y (y_i sits at "
                              "position stride·(i − 1) + 1), not after them")
    return close(value, expected, name="your A_sᵀy", rtol=1e-12, atol=1e-12)


@key("ex-moreau", leaks=("r.abs() - delta", "abs(r) - delta", "softshrink"))
def soft_threshold(answer: Callable[..., Any], *, r: torch.Tensor, delta: float) -> Verdict:
    """The minimiser S_δ(r) = r − h_δ'(r) of ½(r − z)² + δ|z|, entry by entry."""
    value, failed = call(answer, r, delta)
    if failed is not None:
        return failed
    if close(value, r):
        return Verdict(False, "z = r does not minimise ½(r − z)² + δ|z|: moving z towards 0 "
                              "lowers δ|z| faster than ½(r − z)² grows, until z has shrunk by "
                              "δ or reached 0")
    if close(value, huber_grad(r, delta)):
        return Verdict(False, "that is h_δ'(r) = clip(r, −δ, δ), the derivative of the Huber "
                              "loss: the minimiser is r minus it")
    if close(value, torch.where(r.abs() > delta, r, 0 * r)):
        return Verdict(False, "right to set |r| ≤ δ to 0, but outside the minimiser is r − δ "
                              "sign(r): shrink by δ as well")
    return close(value, r - huber_grad(r, delta), name="your S_δ(r)", rtol=1e-12, atol=1e-15)


@key("ex-normal", leaks=("self.lam * x", "x * self.lam", "+ self.lam"))
def normal_operator(answer: Any, *, A: Any, lam: float, v: torch.Tensor) -> Verdict:
    """An operator whose `@` and `.T @` give (AᵀA + λI)v, with shape (n, n)."""
    n = A.shape[1]
    dense = A @ torch.eye(n, dtype=v.dtype, device=v.device)               # (m, n), A I
    expected = dense.T @ (dense @ v) + lam * v
    N, failed = call(answer, A, lam)
    if failed is not None:
        return failed
    if tuple(getattr(N, "shape", ())) != (n, n):
        return Verdict(False, f"its shape should be ({n}, {n}), got {getattr(N, 'shape', None)}")
    for name, apply in (("N @ v", lambda: N @ v), ("N.T @ v", lambda: N.T @ v)):
        value, failed = call(apply)
        if failed is not None:
            return failed
        if close(value, dense.T @ (dense @ v), rtol=1e-10, atol=1e-12):
            return Verdict(False, f"{name} is AᵀAv: the λI part is missing, (AᵀA + λI)v = "
                                  "Aᵀ(Av) + λv; power iteration would estimate ‖A‖², not L")
        verdict = close(value, expected, name=f"your {name}", rtol=1e-10, atol=1e-12)
        if not verdict:
            return verdict
    return Verdict(True, "N @ v and N.T @ v match (AᵀA + λI)v to rtol=1e-10")
