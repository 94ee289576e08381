"""Chapter 17, initialisation scale and optimisers."""

from typing import Any

import sympy as sp
import torch

from dlmath import nets
from dlmath.check import Verdict, call, close, expression, key
from dlmath.symbolic import is_zero


@key("ex-uniform-he", leaks=("sqrt(6/n_sym)", "sqrt(6)/sqrt(n_sym)", "6/n_sym"))
def uniform_he(answer: Any, *, n_sym: sp.Symbol) -> Verdict:
    """a = √(6/n): U[−a, a] has variance a²/3, and q = ½ n a²/3 = 1."""
    a, w = sp.symbols("a w", positive=True)
    variance = sp.integrate(w**2 / (2 * a), (w, -a, a))
    (expected,) = sp.solve(sp.Eq(n_sym * variance / 2, 1), a)
    if isinstance(answer, sp.Expr):
        for wrong, why in ((2 / n_sym, "2/n is He's *variance*; U[−a, a] has variance a²/3, "
                            "not a"),
                           (sp.sqrt(2 / n_sym), "√(2/n) is He's standard deviation; a uniform "
                            "law with that half-width has variance 2/(3n), three times too "
                            "small"),
                           (6 / n_sym, "6/n is a²: take the square root")):
            if is_zero(answer - wrong):
                return Verdict(False, why)
    return expression(answer, expected, name="your half-width a")


def _full_batch_losses(stack: nets.Stack, x: torch.Tensor, y: torch.Tensor, eta: float,
                       steps: int, rule: str) -> torch.Tensor:
    # the losses (half the mean squared error, the chapter's training loss) of a copy of the
    # stacked networks after `steps` full-batch steps of one update rule: "adam"
    # (torch.optim.Adam), "no-correction" (Adam without bias correction) or "gd"
    stack = stack.clone()
    params = stack.parameters()
    adam = torch.optim.Adam(params, lr=eta)
    m, v = [torch.zeros_like(p) for p in params], [torch.zeros_like(p) for p in params]
    for _ in range(steps):
        loss = 0.5 * ((stack(x) - y) ** 2).mean((-1, -2)).sum()
        if rule == "adam":
            adam.zero_grad()
            loss.backward()
            adam.step()
            continue
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g, m_p, v_p in zip(params, grads, m, v, strict=True):
                m_p.copy_(0.9 * m_p + 0.1 * g)
                v_p.copy_(0.999 * v_p + 0.001 * g**2)
                p -= eta * (g if rule == "gd" else m_p / (v_p.sqrt() + 1e-8))
    with torch.no_grad():
        return 0.5 * ((stack(x) - y) ** 2).mean((-1, -2))


@key("ex-adam-small", leaks=("beta2 * v", "beta2*v", "v.sqrt()", "v_p.sqrt()", "(1 - beta2 **"))
def adam_small(answer: Any, *, stack: nets.Stack, x_train: torch.Tensor, y_train: torch.Tensor,
               eta: float) -> Verdict:
    """Adam's losses after a few full-batch steps of a copy of the stacked networks, by
    torch.optim.Adam.

    A few steps only: over hundreds of steps, rounding differences between two correct
    implementations in float32 grow into different plateaus, so a final loss is no fair test.
    """
    steps = 10
    if not callable(answer):
        return Verdict(False, "give your training function, train_adam_full(stack, eta, steps)")
    start = _full_batch_losses(stack, x_train, y_train, eta, 0, "gd").double().cpu()
    expected = _full_batch_losses(stack, x_train, y_train, eta, steps, "adam")
    losses, failed = call(answer, stack, eta, steps)
    if failed is not None:
        return failed
    if not isinstance(losses, torch.Tensor) or losses.shape != expected.shape:
        return close(losses, expected.double().cpu(), name="your losses")
    # the change of each loss in those steps, which tells the update rules apart; atol: the
    # float32 losses (of size about 1) round to about 1e-7, and the change is one difference
    name = f"the change of your losses in {steps} steps"
    change = losses.detach().double().cpu() - start
    verdict = close(change, expected.double().cpu() - start, name=name, rtol=1e-3, atol=1e-6)
    if verdict:
        return verdict
    for rule, why in (("gd", "they are those of plain gradient descent: Adam steps by "
                             "η m̂/(√v̂ + ε), per coordinate"),
                      ("no-correction", "they are those of Adam without the bias correction "
                                        "m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)")):
        wrong = _full_batch_losses(stack, x_train, y_train, eta, steps, rule)
        if torch.isfinite(wrong).all() and close(change, wrong.double().cpu() - start,
                                                 rtol=1e-3, atol=1e-6):
            return Verdict(False, why)
    return verdict
