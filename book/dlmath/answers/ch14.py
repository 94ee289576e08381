"""Chapter 14, a first classifier."""

from typing import Any

import torch
import torch.nn.functional as F

from dlmath.check import Verdict, close, key, number


@key("ex-per-class", leaks=("C_ce.sum(1)", "C_ce.sum(dim=1)", "C_ce.sum(axis=1)",
                            "C_ce.sum(-1)", "C_ce.sum(dim=-1)"))
def per_class(answer: Any, *, C: torch.Tensor) -> Verdict:
    """The diagonal of the confusion matrix over its row sums (row i: the images of class i)."""
    C = C.double().cpu()
    expected = C.diag() / C.sum(1)
    if isinstance(answer, torch.Tensor):
        answer = answer.detach().double().cpu()
    # float32 quotients of integers are exact to a relative 6e-8
    verdict = close(answer, expected, name="per_class", rtol=1e-6, atol=0)
    if verdict or not isinstance(answer, torch.Tensor) or answer.shape != expected.shape:
        return verdict
    for wrong, why in ((C.diag() / C.sum(0), "divided by the column sums: column j counts the "
                       "images *predicted* as j, row i the images of class i"),
                       (C.diag() / C.sum(), "divided by the number of test images N: that is "
                       "each class's share of all images, not the fraction of its own")):
        if close(answer, wrong, rtol=1e-6, atol=0):
            return Verdict(False, why)
    return verdict


@key("ex-library-mse", leaks=("K / 2", "K/2", "5.0", "1 / (2 / K)", "0.5 * K", "0.5*K"))
def library_mse(answer: Any, *, K: int) -> Verdict:
    """K/2: autograd gives the library's MSE the gradient 2/K times that of ½‖z − e_y‖²."""
    z = torch.linspace(2, 3, K, dtype=torch.float64).requires_grad_(True)   # z ≠ e_y
    target = F.one_hot(torch.tensor(0), K).double()
    (g_library,) = torch.autograd.grad(F.mse_loss(z, target), z)
    (g_ours,) = torch.autograd.grad(0.5 * ((z - target) ** 2).sum(), z)
    expected = float((g_ours / g_library).mean())
    value = number(answer, "your factor")
    if isinstance(value, Verdict):
        return value
    verdict = close(value, expected, name="your factor", rtol=1e-9)
    if verdict:
        return verdict
    hints = {2.0: "2 is the missing ½ alone; the library also takes the mean over the K "
                  "outputs instead of their sum",
             float(K): "K is the mean over the outputs alone; the missing ½ doubles the "
                       "library's gradient, which gives half of that back",
             1 / expected: "that is the ratio of the gradients, library over ours; the step is "
                           "shorter by its inverse"}
    for wrong, why in hints.items():
        if abs(value - wrong) < 1e-9 * abs(wrong):
            return Verdict(False, why)
    return verdict
