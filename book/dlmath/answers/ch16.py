"""Chapter 16, deep leaky-ReLU networks."""

from collections.abc import Callable
from typing import Any

import torch

from dlmath import nets
from dlmath.check import Verdict, call, close, key, number


@key("ex-he-max-depth", leaks=("your_depth = 10", "math.log(3) / math.log(1.25)",
                               "log(3)/log(1.25)"))
def he_max_depth(answer: Any, *, alpha: float, bound: float) -> Verdict:
    """The largest whole L with (1 + α²)^((L − 1)/2) ≤ bound, counted layer by layer."""
    factor = lambda depth: (1 + alpha**2) ** ((depth - 1) / 2)   # noqa: E731
    expected = 1
    while factor(expected + 1) <= bound:
        expected += 1
    value = number(answer, "your depth")
    if isinstance(value, Verdict):
        return value
    verdict = close(value, expected, name="your depth", rtol=0, atol=1e-9)
    if verdict:
        return verdict
    if value != round(value):
        return Verdict(False, "a depth is a whole number: take the largest one that satisfies "
                              "the bound (round down)")
    if value > expected:
        return Verdict(False, f"at L = {value:g} the factor is {factor(value):.3g}, above "
                              f"{bound:g}")
    if (1 + alpha**2) ** ((value + 1) / 2) <= bound < (1 + alpha**2) ** ((value + 2) / 2):
        return Verdict(False, "the exponent is (L − 1)/2, not (L + 1)/2: the step factor "
                              "counts L − 1 of the L + 1 layers")
    return Verdict(False, f"at L = {value:g} the factor is {factor(value):.3g}; a deeper "
                          f"network still stays within {bound:g}")


@key("ex-he-rescue-step", leaks=("2**4.5", "2**(9/2)", "/22.6", "**((10-1)/2)",
                                 "**((depth-1)/2)"))
def he_rescue_step(answer: Any, *,
                   train_draws: Callable[..., tuple[torch.Tensor, torch.Tensor]],
                   eta: float, alpha: float, depth: int) -> Verdict:
    """A step near η/(1 + α²)^((L − 1)/2), checked by training He networks with it."""
    factor = (1 + alpha**2) ** ((depth - 1) / 2)
    step = number(answer, "your step size")
    if isinstance(step, Verdict):
        return step
    if step <= 0:
        return Verdict(False, "the step size must be a positive number")
    trained, failed = call(train_draws, nets.he(), alpha, depth, step)
    if failed is not None:
        return Verdict(False, f"train_draws failed with your step: {failed.message}")
    _, acc = trained
    median = float(acc.median())
    shown = f"test accuracies {[round(a, 3) for a in acc.tolist()]}"
    verdict = close(median, 1.0, name="the median test accuracy", rtol=0, atol=0.05)
    if verdict:
        return Verdict(True, f"with η = {step:.3g} the He networks train: {shown}")
    if step * factor > 2 * eta:
        return Verdict(False, f"{shown}: this He network moves like a leaky-He network at the "
                              f"step {step * factor:.3g}, {step * factor / eta:.3g} times η; "
                              "divide by the factor of the proposition")
    return Verdict(False, f"{shown}: with so small a step the runs do not get far within the "
                          "budget")
