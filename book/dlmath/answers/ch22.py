"""Chapter 22, the kernel benchmark."""

import math
from collections.abc import Callable
from typing import Any

import torch

from dlmath import kernels
from dlmath.check import Tolerance, Verdict, call, close, key, number


@key("ex-nngp-deep", leaks=('normalized_dual("relu"', "normalized_dual('relu'"))
def nngp_two_layers(answer: Callable[..., Any], *, X: torch.Tensor) -> Verdict:
    """K₂ = κ̌(κ̌(ξ)), the normalised ReLU dual applied to the one-layer normalised Gram matrix."""
    # atol 1e-3: float32 inputs round ξ, and near ξ = 1 the square root √(1 − ξ²) of the dual
    # keeps only half the digits (√eps₃₂/π ≈ 1e-4 per layer); the one-layer kernel is off by
    # 1/π at ξ = -1, the pairs of an image and its negative
    tol: Tolerance = {"rtol": 0.0, "atol": 1e-3}
    for args in ((X,), (X[: len(X) // 2], X)):
        first = kernels.nngp_gram(*(a.double() for a in args), normalize=True)
        value, failed = call(answer, *args)
        if failed is not None:
            return Verdict(False, f"with {len(args)} argument(s): {failed.message}")
        if close(value, first, **tol):
            return Verdict(False, "that is the one-layer kernel: the second layer applies the "
                                  "normalised dual once more to its entries")
        if close(value, kernels.dual_relu(first), **tol):
            return Verdict(False, "the second layer's dual is not normalised: κ̌ = 2σ̌ (the "
                                  "first layer's outputs have unit second moment)")
        block = "(X)" if len(args) == 1 else "(X[:m], X), a rectangular block,"
        verdict = close(value, kernels.normalized_dual("relu", first),
                        name=f"your Gram matrix {block}", **tol)
        if not verdict:
            return verdict
    return Verdict(True, "your Gram matrices, square and rectangular, match κ̌(κ̌(ξ)) "
                         "to atol=1e-3")


@key("ex-nngp-memory", leaks=("60_000**2*4", "4*60_000**2", "60000**2*4", "14.4"))
def memory_wall(answer: float, *, n: int) -> Verdict:
    """n² float32 entries of 4 bytes, in GB (10⁹ bytes)."""
    expected = n**2 * 4 / 1e9
    value = number(answer)
    if isinstance(value, Verdict):
        return value
    hints = {n**2 * 4: "that is in bytes: a GB is 10⁹ bytes",
             n**2 * 4 / 2**30: "that is in GiB (2³⁰ bytes); the question asks for GB (10⁹)",
             n**2 * 8 / 1e9: "8 bytes is float64; a float32 entry takes 4",
             n * (n + 1) / 2 * 4 / 1e9: "that stores one triangle; the solver takes the full "
                                        "n × n matrix",
             n**2 / 1e9: "that counts entries, not bytes: 4 bytes each"}
    for wrong, hint in hints.items():
        if math.isclose(value, wrong, rel_tol=1e-3):
            return Verdict(False, hint)
    return close(value, expected, name="your answer (GB)", rtol=1e-6)
