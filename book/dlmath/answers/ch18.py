"""Chapter 18, Jacobian features."""

import math

import torch

from dlmath import features
from dlmath.check import Verdict, close, key, number


@key("ex-count-features", leaks=("energy_rank", "cumsum("))
def count_features(answer: int, *, sig: torch.Tensor) -> Verdict:
    """The smallest k with σ₁² + … + σ_k² ≥ 0.9 Σσ², from `features.energy_rank`."""
    expected = features.energy_rank(sig, 0.9)
    count = number(answer, "your count")
    if isinstance(count, Verdict):
        return count
    if count == expected:
        return Verdict(True, f"{expected} singular values carry 90 % of ‖J‖_F²")
    s = sig.double()
    if count == int((s > 0.1 * s[0]).sum()):
        return Verdict(False, "that counts the singular values above 10 % of the largest: how "
                              "many features are individually large, not how many hold 90 % "
                              "of the energy Σσ²")
    if count == expected - 1:
        return Verdict(False, "one short: the prefixes still below 90 % do not reach it, the "
                              "next singular value does (add one)")
    if count == int((s.cumsum(0) / s.sum() < 0.9).sum()) + 1:
        return Verdict(False, "that shares out Σσ, not the energy Σσ² = ‖J‖_F²: square first")
    return Verdict(False, f"your count {count:g} is not the number of singular values that "
                          "carry 90 % of Σσ²")


@key("ex-constant-feature", leaks=("sqrt(n_grid)", "n_grid**0.5", "sqrt(200)"))
def constant_feature(answer: float, *, n_grid: int) -> Verdict:
    """σ₁ ≈ √N: the read-out bias's column of J is N ones, of norm √N."""
    expected = math.sqrt(n_grid)
    value = number(answer, "your sigma_1")
    if isinstance(value, Verdict):
        return value
    if math.isclose(value, 1.0):
        return Verdict(False, "1 is each entry of the bias's column of J (∂f/∂b = 1 at every "
                              "input); σ₁ is at least the norm of that column")
    if math.isclose(value, n_grid, rel_tol=1e-3):
        return Verdict(False, f"N = {n_grid} is the squared norm of the bias column, σ₁²: "
                              "take the square root")
    if (math.isclose(value, expected, rel_tol=0.05)
            and not math.isclose(value, expected, rel_tol=1e-3)):
        return Verdict(False, "close to the measured σ₁, but the prediction from the bias alone "
                              "is exact: the norm of a column of N ones")
    # rtol 1e-3: the prediction is a closed form, typed to four digits or more
    return close(value, expected, name="your sigma_1", rtol=1e-3)
