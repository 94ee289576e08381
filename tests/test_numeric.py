"""Tests of dlmath.numeric: central differences and relative errors."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dlmath import numeric

EPS = torch.finfo(torch.float64).eps


@dataclass(frozen=True)
class Smooth:
    """A smooth f on the box [-2, 2]^n (n ≤ 4) with bounds M0 ≥ |f| and M3 ≥ |∂³f/∂xᵢ³|."""

    name: str
    f: Callable[[torch.Tensor], torch.Tensor]
    M0: float
    M3: float


SMOOTH = [
    Smooth("sin + square", lambda x: (torch.sin(x) + x**2).sum(), M0=4 * (1 + 4), M3=1),
    Smooth("log-sum-exp", lambda x: torch.logsumexp(x, 0), M0=math.log(4) + 2, M3=1),
    Smooth("cube + product", lambda x: (x**3).sum() / 3 + x.prod(), M0=4 * 8 / 3 + 16, M3=2),
    Smooth("tanh of a mean", lambda x: torch.tanh(x.mean()) * x.norm() ** 2, M0=16, M3=20),
]


def bound(h: float, smooth: Smooth) -> float:
    """The error bound of a central difference: truncation h²/6·M3 plus round-off ε·M0/h.

    Round-off: f(x ± h) each carry an error of a few ε·|f|, divided by 2h; the factor 10 is
    the "few" (f's own evaluation takes a handful of rounded operations).
    """
    return h**2 / 6 * smooth.M3 + 10 * EPS * smooth.M0 / h


def float64(*shape: int) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, shape, elements=st.floats(-2, 2, allow_subnormal=False))


# --- central_difference --------------------------------------------------------------------

@pytest.mark.parametrize("smooth", SMOOTH, ids=lambda s: s.name)
@pytest.mark.parametrize("h", [1e-6, 1e-4])
@settings(max_examples=10, deadline=None)
@given(x0=st.integers(1, 4).flatmap(float64))
def test_central_difference_agrees_with_autograd(smooth: Smooth, h: float,
                                                 x0: np.ndarray) -> None:
    """Within the stated O(h²) + O(ε/h) bound, at random points of [-2, 2]^n."""
    x = torch.tensor(x0, requires_grad=True)
    (exact,) = torch.autograd.grad(smooth.f(x), x)
    approx = numeric.central_difference(smooth.f, x.detach(), h=h)
    assert (approx - exact).abs().max() <= bound(h, smooth)


def test_default_step_is_accurate_to_about_1e_9() -> None:
    x = torch.linspace(-1, 1, 5, dtype=torch.float64)
    approx = numeric.central_difference(lambda v: torch.exp(v).sum(), x)
    torch.testing.assert_close(approx, torch.exp(x), rtol=1e-9, atol=0)


@pytest.mark.parametrize("h", [1e-2, 1e-3])
def test_truncation_error_is_h_squared_over_6_times_the_third_derivative(h: float) -> None:
    """For sin at x0 the error is cos(x0)(1 − sin(h)/h) ≈ cos(x0) h²/6: the O(h²) term."""
    x0 = torch.tensor(0.7, dtype=torch.float64)
    approx = numeric.central_difference(torch.sin, x0, h=h)
    error = float(approx - torch.cos(x0))
    assert error / (-math.cos(0.7) * h**2 / 6) == pytest.approx(1, rel=1e-3)


@pytest.mark.parametrize("shape", [(), (1,), (2, 3), (2, 1, 2)])
def test_central_difference_keeps_the_shape_and_leaves_x_alone(shape: tuple[int, ...]) -> None:
    x = torch.arange(1, math.prod(shape) + 1, dtype=torch.float64).reshape(shape)
    before = x.clone()
    # A quadratic has no truncation error; round-off is about ε·|f|/h ≈ 1e-11 with |f| ≤ 50.
    approx = numeric.central_difference(lambda v: (v**2).sum() / 2, x, h=1e-3)
    assert approx.shape == x.shape and approx.dtype == torch.float64
    torch.testing.assert_close(approx, x, rtol=0, atol=1e-9)
    assert torch.equal(x, before)


@pytest.mark.parametrize(("f", "x", "h", "error", "message"), [
    (torch.sum, [1.0, 2.0], 1e-6, TypeError, "x must be a torch.Tensor, got list"),
    (torch.sum, np.ones(2), 1e-6, TypeError, "x must be a torch.Tensor, got ndarray"),
    (torch.sum, torch.tensor([1, 2]), 1e-6, TypeError,
     "x must be a floating-point tensor, got dtype torch.int64"),
    (torch.sum, torch.tensor([1.0, math.nan]), 1e-6, ValueError,
     "x must be finite, but it holds NaN or infinite entries"),
    (torch.sum, torch.tensor([math.inf]), 1e-6, ValueError, "x must be finite"),
    (torch.sum, torch.ones(2), 0, ValueError, "h must be a finite number > 0, got 0"),
    (torch.sum, torch.ones(2), -1e-6, ValueError, "h must be a finite number > 0, got -1e-06"),
    (torch.sum, torch.ones(2), math.inf, ValueError, "h must be a finite number > 0, got inf"),
    (torch.sum, torch.ones(2), math.nan, ValueError, "h must be a finite number > 0, got nan"),
    (torch.sum, torch.ones(2), "1e-6", TypeError, "h must be a real number, got str"),
    (torch.sum, torch.ones(2), True, TypeError, "h must be a real number, got bool"),
    (torch.exp, torch.ones(2), 1e-6, ValueError,
     r"f must return a scalar, got a tensor of shape \(2,\)"),
])
def test_central_difference_rejects_bad_input(f, x, h, error: type[Exception],
                                              message: str) -> None:
    with pytest.raises(error, match=message):
        numeric.central_difference(f, x, h=h)


# --- relative_error ------------------------------------------------------------------------

def dyadic(n: int) -> st.SearchStrategy[torch.Tensor]:
    """Tensors of multiples of 2⁻¹⁰ below 10³: scaling them by a power of 2 is exact."""
    ints = arrays(np.int64, n, elements=st.integers(-2**20, 2**20) | st.just(0))
    return ints.map(lambda a: torch.from_numpy(a.astype(np.float64) / 2**10))


pairs = st.integers(1, 5).flatmap(lambda n: st.tuples(dyadic(n), dyadic(n)))


@settings(max_examples=25, deadline=None)
@given(pairs)
def test_relative_error_is_zero_exactly_when_equal(pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    approx, exact = pair
    assert numeric.relative_error(exact, exact) == 0.0
    assert (numeric.relative_error(approx, exact) == 0.0) is torch.equal(approx, exact)
    assert numeric.relative_error(approx, exact) >= 0.0


@settings(max_examples=25, deadline=None)
@given(pairs, st.integers(-20, 20), st.sampled_from([1.0, -1.0]))
def test_relative_error_is_scale_invariant(pair: tuple[torch.Tensor, torch.Tensor], k: int,
                                           sign: float) -> None:
    """relative_error(c·a, c·e) = relative_error(a, e); for e = 0 it is |c| times (absolute)."""
    approx, exact = pair
    c = sign * 2.0**k
    factor = 1.0 if exact.any() else abs(c)
    assert numeric.relative_error(c * approx, c * exact) == pytest.approx(
        factor * numeric.relative_error(approx, exact), rel=1e-15, abs=0)


@pytest.mark.parametrize(("approx", "exact", "expected"), [
    ([3.0, 4.5], [3.0, 4.0], 0.1),        # ‖(0, 0.5)‖ / ‖(3, 4)‖
    ([[1.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]], 1 / math.sqrt(3)),  # Frobenius
    ([3.0, 4.0], [0.0, 0.0], 5.0),        # exact = 0: the absolute error
    ([-2.0], [2.0], 2.0),
])
def test_relative_error_values(approx: list, exact: list, expected: float) -> None:
    value = numeric.relative_error(torch.tensor(approx, dtype=torch.float64),
                                   torch.tensor(exact, dtype=torch.float64))
    assert isinstance(value, float)
    assert value == pytest.approx(expected, rel=1e-15)


def test_relative_error_is_relative_to_the_second_argument() -> None:
    a, b = torch.tensor([2.0]), torch.tensor([1.0])
    assert (numeric.relative_error(a, b), numeric.relative_error(b, a)) == (1.0, 0.5)


@pytest.mark.parametrize(("approx", "exact", "error", "message"), [
    (torch.ones(2), torch.ones(3), ValueError, r"shapes differ: approx \(2,\), exact \(3,\)"),
    (torch.ones(2, 1), torch.ones(2), ValueError, r"approx \(2, 1\), exact \(2,\)"),
    ([1.0], torch.ones(1), TypeError, "approx must be a torch.Tensor, got list"),
    (torch.ones(1), 1.0, TypeError, "exact must be a torch.Tensor, got float"),
    (torch.ones(1, dtype=torch.int32), torch.ones(1), TypeError,
     "approx must be a floating-point tensor, got dtype torch.int32"),
    (torch.tensor([math.nan]), torch.ones(1), ValueError, "approx must be finite"),
    (torch.ones(1), torch.tensor([-math.inf]), ValueError, "exact must be finite"),
])
def test_relative_error_rejects_bad_input(approx, exact, error: type[Exception],
                                          message: str) -> None:
    with pytest.raises(error, match=message):
        numeric.relative_error(approx, exact)
