"""Tests of dlmath.least_squares: gradient flow and descent on over-parameterised least squares."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmath import least_squares as ls

F64 = {"dtype": torch.float64}
SETTINGS = settings(max_examples=30, deadline=None)


def data(seed: int, m: int, d: int, starts: int = 3):
    """Gaussian X (m, d), Y (m,), and a batch of starts (starts, d)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(m, d, generator=g, **F64)
    Y = torch.randn(m, generator=g, **F64)
    w0 = torch.randn(starts, d, generator=g, **F64)
    return X, Y, w0


@st.composite
def problems(draw: st.DrawFn):
    """Seed, m in [1, 5] and d in [m + 1, m + 8]: over-parameterised, a.s. independent rows."""
    m = draw(st.integers(1, 5))
    return draw(st.integers(0, 2**31 - 1)), m, draw(st.integers(m + 1, m + 8))


# --- the minimum-norm interpolant and the projector -----------------------------------------

@SETTINGS
@given(problems())
def test_min_norm_interpolant(problem) -> None:
    """Xw* = Y, w* = X⁺Y lies in the span, and every other interpolant is longer."""
    X, Y, w0 = data(*problem)
    w_star = ls.min_norm_interpolant(X, Y)
    P = ls.span_projector(X)
    torch.testing.assert_close(X @ w_star, Y, rtol=0, atol=1e-9 * (1 + Y.abs().max()))
    torch.testing.assert_close(w_star, torch.linalg.pinv(X) @ Y, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(P @ w_star, w_star, rtol=1e-8, atol=1e-10)
    others = w_star + w0 - w0 @ P                                    # other interpolants
    assert (torch.linalg.norm(others, dim=-1) >= torch.linalg.norm(w_star) - 1e-12).all()


@SETTINGS
@given(problems())
def test_projector_identities(problem) -> None:
    """P is symmetric and idempotent, PXᵀ = Xᵀ, and P = Xᵀ(XXᵀ)⁻¹X for independent samples."""
    X, _, _ = data(*problem)
    P = ls.span_projector(X)
    tol = {"rtol": 1e-8, "atol": 1e-9}
    torch.testing.assert_close(P, P.T, rtol=0, atol=0)
    torch.testing.assert_close(P @ P, P, **tol)
    torch.testing.assert_close(P @ X.T, X.T, **tol)
    torch.testing.assert_close(P, X.T @ torch.linalg.solve(X @ X.T, X), **tol)
    assert abs(float(torch.trace(P)) - X.shape[0]) < 1e-8               # rank m


def test_projector_and_flow_accept_dependent_samples() -> None:
    """Duplicated samples: P has rank 2, not 3, and the flow still runs (no inverse needed)."""
    X, Y, w0 = data(1, 2, 6)
    X = torch.cat([X, X[:1] + X[1:]])                                   # x₃ = x₁ + x₂
    Y = torch.cat([Y, torch.tensor([5.0], **F64)])                      # inconsistent target
    assert abs(float(torch.trace(ls.span_projector(X))) - 2) < 1e-9
    w = ls.gradient_flow(X, Y, w0[0], [0.0, 1e4])
    L = ls.loss(X, Y, w)
    best = torch.linalg.lstsq(X, Y, driver="gelsd").solution
    assert float(L[1]) > 0.1                                            # the loss plateaus
    assert abs(float(L[1]) - float(ls.loss(X, Y, best))) < 1e-9
    # with λ_min(XXᵀ) = 0 the bound is the trivial L(t) ≤ L(0)
    torch.testing.assert_close(ls.loss_bound(X, Y, w0[0], [1e4]), L[:1], rtol=1e-9, atol=0)


# --- gradient flow -----------------------------------------------------------------------------

@SETTINGS
@given(problems(), st.floats(0.0, 5.0))
def test_flow_solves_the_ode(problem, t: float) -> None:
    """w(0) = w₀; dw/dt = −∇L(w) (central difference in t); r(t) = e^{−tK} r₀."""
    X, Y, w0 = data(*problem)
    m = X.shape[0]
    h = 1e-5
    w = ls.gradient_flow(X, Y, w0, [0.0, t, t + h, t + 2 * h])          # (4, starts, d)
    torch.testing.assert_close(w[0], w0, rtol=0, atol=1e-14)
    derivative = (w[3] - w[1]) / (2 * h)
    gradient = (w[2] @ X.T - Y) @ X / m
    scale = 1 + float(gradient.abs().max())
    torch.testing.assert_close(derivative, -gradient, rtol=0, atol=1e-5 * scale)
    K = ls.kernel(X)
    r = torch.linalg.matrix_exp(-t * K) @ (w0 @ X.T - Y).T             # (m, starts)
    torch.testing.assert_close(w[1] @ X.T - Y, r.T, rtol=1e-9, atol=1e-10)


@SETTINGS
@given(problems())
def test_flow_limit_and_bound(problem) -> None:
    """L(t) ≤ e^{−2λ_min t/m} L(0), and w(∞) = w* + (I − P)w₀; the span component is constant."""
    X, Y, w0 = data(*problem)
    m = X.shape[0]
    lam = torch.linalg.eigvalsh(X @ X.T)
    t_end = 60 * m / float(lam[0])                                   # e^{−60} of the slowest mode
    t = torch.linspace(0, t_end, 7, **F64)
    w = ls.gradient_flow(X, Y, w0, t)                                   # (7, starts, d)
    L = ls.loss(X, Y, w)
    assert (L <= ls.loss_bound(X, Y, w0, t) * (1 + 1e-9) + 1e-14).all()
    P = ls.span_projector(X)
    limit = ls.min_norm_interpolant(X, Y) + w0 - w0 @ P
    scale = 1 + float(limit.abs().max())
    torch.testing.assert_close(w[-1], limit, rtol=0, atol=1e-8 * scale)
    torch.testing.assert_close(ls.distance_to_span(X, w), ls.distance_to_span(X, w0).expand(7, -1),
                               rtol=1e-9, atol=1e-10)


# --- gradient descent ----------------------------------------------------------------------

@settings(max_examples=12, deadline=None)
@given(problems())
def test_gradient_descent_threshold(problem) -> None:
    """Below 2m/λ_max(XXᵀ) GD converges to the same limit as the flow; above it diverges."""
    X, Y, w0 = data(*problem)
    eta_c = ls.critical_step(X)
    lam = torch.linalg.eigvalsh(X @ X.T)
    assert abs(eta_c - 2 * X.shape[0] / float(lam[-1])) <= 1e-12 * eta_c
    limit = ls.min_norm_interpolant(X, Y) + w0 - w0 @ ls.span_projector(X)
    # a step of 0.9 η_c contracts the slowest mode by max(|1 − 1.8|, 1 − ηλ_min) per step
    rate = max(0.8, 1 - 0.9 * eta_c * float(lam[0]) / X.shape[0])
    steps = int(min(5000, 40 / (1 - rate)))
    w = ls.gradient_descent(X, Y, w0, [0.9 * eta_c, 1.1 * eta_c], steps)   # (2, starts, d)
    scale = 1 + float(limit.abs().max())
    # what is left after the steps: at most rate^steps of the start's distance (the cap of 5000
    # steps leaves some when XXᵀ is ill-conditioned)
    left = rate**steps * (w0 - limit).norm(dim=-1)                              # (starts,)
    assert ((w[0] - limit).norm(dim=-1) <= left + 1e-7 * scale).all()
    residual = (w[1] @ X.T - Y).norm(dim=-1)                     # inf/nan once it overflows
    assert (~torch.isfinite(w[1]).all(-1) | (residual > 1e3)).all()


def test_gradient_descent_from_zero_stays_in_span() -> None:
    X, Y, _ = data(3, 4, 30)
    path = ls.gradient_descent(X, Y, torch.zeros(30, **F64), 0.5 * ls.critical_step(X), 200,
                               trajectory=True)                      # (201, 30)
    assert float(ls.distance_to_span(X, path).max()) < 1e-12


def test_shapes() -> None:
    X, Y, w0 = data(0, 3, 7, starts=4)
    assert ls.kernel(X).shape == (3, 3)
    assert ls.loss(X, Y, w0).shape == (4,)
    assert ls.gradient_flow(X, Y, w0, [0.0, 1.0]).shape == (2, 4, 7)
    assert ls.gradient_flow(X, Y, w0[0], 1.0).shape == (7,)
    assert ls.loss_bound(X, Y, w0, [0.0, 1.0, 2.0]).shape == (3, 4)
    assert ls.gradient_descent(X, Y, w0, [0.1, 0.2], 3).shape == (2, 4, 7)


# --- errors -------------------------------------------------------------------------------

def test_errors_say_what_was_wrong() -> None:
    X, Y, w0 = data(0, 3, 7)
    with pytest.raises(ValueError, match=r"d > m.*\(3, 3\)"):
        ls.min_norm_interpolant(X[:, :3], Y)
    with pytest.raises(ValueError, match=r"linearly independent.*rank 2"):
        ls.min_norm_interpolant(torch.cat([X[:2], X[:1] + X[1:2]]), Y)
    with pytest.raises(ValueError, match=r"Y must have shape \(3,\)"):
        ls.loss(X, Y[:2], w0)
    with pytest.raises(ValueError, match=r"w0 must have shape.*d = 7"):
        ls.gradient_flow(X, Y, w0[:, :5], 1.0)
    with pytest.raises(ValueError, match=r"2-D \(m, d\)"):
        ls.kernel(X[None])
    with pytest.raises(ValueError, match=r"t must be ≥ 0|times t must be"):
        ls.gradient_flow(X, Y, w0, -1.0)
    with pytest.raises(ValueError, match="finite"):
        ls.loss(X, Y, torch.full((7,), float("nan"), **F64))
    with pytest.raises(TypeError, match="numeric"):
        ls.kernel("not a matrix")
    with pytest.raises(ValueError, match="step size"):
        ls.gradient_descent(X, Y, w0, -0.1, 3)
