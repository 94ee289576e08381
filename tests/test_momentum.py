"""Tests of dlmath.momentum: the 2×2 blocks, their spectra, stability and the iteration."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dlmath import momentum

F64 = {"dtype": torch.float64}
betas = st.floats(0.01, 1.0)
sigma2s = st.floats(1e-2, 1e2)
fractions = st.floats(0.02, 0.98)   # a position strictly inside an interval


def frac_of(low: float, high: float, u: float) -> float:
    return low + u * (high - low)


# --- the matrix against the update equations -----------------------------------------------

@settings(max_examples=30, deadline=None)
@given(beta=betas, sigma2=sigma2s, u=fractions, a=st.floats(-3, 3), e=st.floats(-3, 3))
def test_matrix_is_one_step_of_the_update(beta, sigma2, u, a, e):
    """On the scalar problem ½(y − σw)² with w* = y/σ, one step maps (z − 0, w − w*) by R."""
    eta = frac_of(0.0, momentum.stability_limit(beta, sigma2), u)
    sigma, y = math.sqrt(sigma2), 0.7
    w_star = y / sigma
    w, z = w_star + e, a
    g = sigma * (sigma * w - y)
    z_next = (1 - beta) * z + beta * g
    w_next = w - eta * z_next
    R = momentum.momentum_matrix(eta, beta, sigma2)
    expected = R @ torch.tensor([a, e], **F64)
    torch.testing.assert_close(torch.tensor([z_next, w_next - w_star], **F64), expected,
                               rtol=1e-10, atol=1e-10 * (1 + abs(g)))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), m=st.integers(3, 8), d=st.integers(1, 3), beta=betas,
       u=fractions, steps=st.integers(1, 30))
def test_two_by_two_recursion_reproduces_the_iteration(seed, m, d, beta, u, steps):
    """In the SVD basis, (Vᵀz_t, Vᵀ(w_t − w*)) evolves by R(σᵢ²) in every mode i."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(m, d, generator=generator, **F64)
    y = torch.randn(m, generator=generator, **F64)
    _, sigma, Vh = torch.linalg.svd(X, full_matrices=False)
    assume(float(sigma[-1]) > 1e-2)
    eta = frac_of(0.0, momentum.stability_limit(beta, float(sigma[0]) ** 2), u)
    w0, z0 = torch.randn(d, generator=generator, **F64), torch.randn(d, generator=generator, **F64)
    run = momentum.run_momentum(X, y, eta, beta, steps, w0, z0)
    w_star = torch.linalg.lstsq(X, y[:, None]).solution[:, 0]
    a, e = run.z @ Vh.T, (run.w - w_star) @ Vh.T                     # (steps + 1, d)
    R = momentum.momentum_matrix(eta, beta, sigma**2)                # (d, 2, 2)
    state0 = torch.stack([a[0], e[0]], dim=-1)                       # (d, 2)
    predicted = (torch.linalg.matrix_power(R, steps) @ state0[..., None])[..., 0]
    scale = 1 + float(state0.abs().max())
    torch.testing.assert_close(torch.stack([a[-1], e[-1]], dim=-1), predicted,
                               rtol=1e-9, atol=1e-9 * scale)


def test_beta_one_is_plain_gradient_descent():
    generator = torch.Generator().manual_seed(1)
    X, y = torch.randn(6, 3, generator=generator, **F64), torch.randn(6, generator=generator, **F64)
    eta = 0.8 / float(torch.linalg.matrix_norm(X, 2)) ** 2
    run = momentum.run_momentum(X, y, eta, 1.0, 20, torch.zeros(3, **F64))
    w = torch.zeros(3, **F64)
    for t in range(20):
        w = w - eta * X.T @ (X @ w - y)
        torch.testing.assert_close(run.w[t + 1], w, rtol=1e-12, atol=1e-14)
    assert momentum.stability_limit(1.0, 2.0) == 1.0                   # GD's 2/σ²
    assert momentum.eta_pm(1.0, 2.0) == (0.5, 0.5)                     # GD: 1 − ησ² = 0


def test_run_matches_torch_sgd_with_dampening():
    """torch.optim.SGD(momentum=1−β, dampening=1−β) is this method started from z0 = g(w0)."""
    generator = torch.Generator().manual_seed(2)
    X, y = torch.randn(7, 3, generator=generator, **F64), torch.randn(7, generator=generator, **F64)
    eta, beta, w0 = 0.1, 0.3, torch.randn(3, generator=generator, **F64)
    run = momentum.run_momentum(X, y, eta, beta, 15, w0, z0=X.T @ (X @ w0 - y))
    w = w0.clone().requires_grad_(True)
    sgd = torch.optim.SGD([w], lr=eta, momentum=1 - beta, dampening=1 - beta)
    for t in range(15):
        sgd.zero_grad()
        (0.5 * ((y - X @ w) ** 2).sum()).backward()
        sgd.step()
        torch.testing.assert_close(w.detach(), run.w[t + 1], rtol=1e-12, atol=1e-12)


def test_batched_runs_equal_single_runs():
    generator = torch.Generator().manual_seed(3)
    X, y = torch.randn(5, 2, generator=generator, **F64), torch.randn(5, generator=generator, **F64)
    etas, betas_ = torch.tensor([0.01, 0.05, 0.1], **F64), torch.tensor([0.2, 0.5, 1.0], **F64)
    starts = torch.randn(3, 2, generator=generator, **F64)
    batch = momentum.run_momentum(X, y, etas, betas_, 10, starts)
    assert batch.w.shape == batch.z.shape == (11, 3, 2)
    for i in range(3):
        single = momentum.run_momentum(X, y, float(etas[i]), float(betas_[i]), 10, starts[i])
        torch.testing.assert_close(batch.w[:, i], single.w, rtol=1e-14, atol=1e-14)
    grid = momentum.run_momentum(X, y, etas[:, None], betas_[None, :], 4, torch.zeros(2, **F64))
    assert grid.w.shape == (5, 3, 3, 2)


# --- spectra and stability -----------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(beta=betas, sigma2=sigma2s, delta=st.sampled_from([1e-6, 1e-3, 1e-1]))
def test_stability_boundary_agrees_with_the_spectral_radius(beta, sigma2, delta):
    """ρ < 1 just below η = 2(2 − β)/(βσ²), ρ > 1 just above; ρ < 1 for tiny η > 0."""
    limit = momentum.stability_limit(beta, sigma2)
    assert limit == pytest.approx(2 * (2 - beta) / (beta * sigma2), rel=1e-15)
    assert momentum.spectral_radius(limit * (1 - delta), beta, sigma2) < 1
    assert momentum.spectral_radius(limit * (1 + delta), beta, sigma2) > 1
    assert momentum.spectral_radius(limit, beta, sigma2) == pytest.approx(1, abs=1e-12)
    assert momentum.spectral_radius(limit * delta, beta, sigma2) < 1


@settings(max_examples=50, deadline=None)
@given(beta=st.floats(0.01, 0.99), sigma2=sigma2s, u=fractions)
def test_complex_regime_has_modulus_sqrt_one_minus_beta(beta, sigma2, u):
    lo, hi = momentum.eta_pm(beta, sigma2)
    eta = frac_of(lo, hi, u)
    eigenvalues = torch.linalg.eigvals(momentum.momentum_matrix(eta, beta, sigma2))
    assert (eigenvalues.imag.abs() > 0).all()
    torch.testing.assert_close(eigenvalues.abs(), torch.full((2,), math.sqrt(1 - beta), **F64),
                               rtol=1e-9, atol=0)
    assert momentum.spectral_radius(eta, beta, sigma2) == pytest.approx(math.sqrt(1 - beta),
                                                                        rel=1e-15)


@settings(max_examples=60, deadline=None)
@given(beta=st.floats(0.01, 0.99), sigma2=sigma2s)
def test_eta_pm_give_repeated_eigenvalues(beta, sigma2):
    lo, hi = momentum.eta_pm(beta, sigma2)
    assert 0 < lo < hi < momentum.stability_limit(beta, sigma2)
    for eta, sign in ((lo, 1), (hi, -1)):
        R = momentum.momentum_matrix(eta, beta, sigma2)
        half_trace = float(R.diagonal().sum()) / 2
        assert half_trace == pytest.approx(sign * math.sqrt(1 - beta), rel=1e-12)
        assert float(torch.linalg.det(R)) == pytest.approx(1 - beta, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(eta=st.floats(1e-3, 50), beta=betas, sigma2=sigma2s)
def test_spectral_radius_agrees_with_eigvals(eta, beta, sigma2):
    closed = momentum.spectral_radius(eta, beta, sigma2)
    numeric = float(torch.linalg.eigvals(momentum.momentum_matrix(eta, beta, sigma2)).abs().max())
    # near a repeated eigenvalue eigvals is only accurate to about √ε times the scale
    assert closed == pytest.approx(numeric, rel=1e-6, abs=1e-6)
    assert closed >= math.sqrt(1 - beta) * (1 - 1e-12)
    assert (closed < 1) == (eta < momentum.stability_limit(beta, sigma2)) or math.isclose(
        eta, momentum.stability_limit(beta, sigma2), rel_tol=1e-9)


def test_grids_are_one_call_and_match_scalars():
    eta = torch.linspace(0.02, 8.0, 7, **F64)
    beta = torch.linspace(0.05, 1.0, 5, **F64)
    rho = momentum.spectral_radius(eta[None, :], beta[:, None], 1.0)
    assert isinstance(rho, torch.Tensor) and rho.shape == (5, 7)
    for i in range(5):
        for j in range(7):
            assert float(rho[i, j]) == momentum.spectral_radius(float(eta[j]), float(beta[i]), 1.0)
    assert momentum.momentum_matrix(eta[None, :], beta[:, None], 2.0).shape == (5, 7, 2, 2)
    lo, hi = momentum.eta_pm(beta, 1.0)
    assert lo.shape == hi.shape == (5,)
    assert isinstance(momentum.spectral_radius(1.0, 0.5, 1.0), float)


def test_the_tempting_criterion_has_counterexamples():
    """|1 − ηβσ²| < 1 rejects these stable steps."""
    for eta, beta in ((5.0, 0.5), (2.4, 0.9)):
        assert abs(1 - eta * beta) >= 1
        assert momentum.spectral_radius(eta, beta, 1.0) < 1
    assert momentum.spectral_radius(5.0, 0.5, 1.0) == pytest.approx(math.sqrt(0.5), rel=1e-15)


# --- input validation ----------------------------------------------------------------------

@pytest.mark.parametrize(("eta", "beta", "sigma2", "message"), [
    (0.0, 0.5, 1.0, r"eta \(the step size\) must be > 0, got 0\.0"),
    (-1.0, 0.5, 1.0, r"eta .* must be > 0, got -1\.0"),
    (1.0, 0.0, 1.0, r"beta .* must lie in \(0, 1\], got 0\.0"),
    (1.0, 1.5, 1.0, r"beta .* must lie in \(0, 1\], got 1\.5"),
    (1.0, -0.1, 1.0, r"beta .* must lie in \(0, 1\]"),
    (1.0, 0.5, 0.0, r"sigma2 .* must be > 0, got 0\.0"),
    (1.0, 0.5, -2.0, r"sigma2 .* must be > 0, got -2\.0"),
    (1.0, 0.5, math.inf, r"sigma2 must be finite, got inf"),
    (math.nan, 0.5, 1.0, r"eta must be finite, got nan"),
    (1.0, math.nan, 1.0, r"beta must be finite"),
    (torch.tensor([1.0, -1.0, -2.0]), 0.5, 1.0, r"got -1\.0 \(and 1 more of its 3 entries\)"),
])
def test_bad_parameters_raise(eta, beta, sigma2, message):
    for call in (lambda: momentum.spectral_radius(eta, beta, sigma2),
                 lambda: momentum.momentum_matrix(eta, beta, sigma2)):
        with pytest.raises(ValueError, match=message):
            call()


def test_bad_parameters_of_the_limits_raise():
    with pytest.raises(ValueError, match=r"beta .* \(0, 1\]"):
        momentum.stability_limit(1.2, 1.0)
    with pytest.raises(ValueError, match="sigma2 .* > 0"):
        momentum.eta_pm(0.5, 0.0)
    with pytest.raises(ValueError, match="broadcast"):
        momentum.spectral_radius(torch.ones(3), torch.full((2,), 0.5), 1.0)
    with pytest.raises(TypeError, match="real number or tensor, got bool"):
        momentum.spectral_radius(True, 0.5, 1.0)
    with pytest.raises(TypeError, match="must be numeric"):
        momentum.stability_limit("0.5", 1.0)


def test_bad_runs_raise():
    X, y, w0 = torch.ones(4, 2, **F64), torch.ones(4, **F64), torch.zeros(2, **F64)
    with pytest.raises(ValueError, match=r"eta .* > 0"):
        momentum.run_momentum(X, y, 0.0, 0.5, 5, w0)
    with pytest.raises(ValueError, match=r"beta .* \(0, 1\]"):
        momentum.run_momentum(X, y, 0.1, 2.0, 5, w0)
    with pytest.raises(ValueError, match="steps must be >= 0"):
        momentum.run_momentum(X, y, 0.1, 0.5, -1, w0)
    with pytest.raises(TypeError, match="steps must be an integer, got bool"):
        momentum.run_momentum(X, y, 0.1, 0.5, True, w0)
    with pytest.raises(ValueError, match=r"X must be an m×d matrix"):
        momentum.run_momentum(torch.ones(4, **F64), y, 0.1, 0.5, 5, w0)
    with pytest.raises(ValueError, match=r"y must have shape \(4,\)"):
        momentum.run_momentum(X, torch.ones(3, **F64), 0.1, 0.5, 5, w0)
    with pytest.raises(ValueError, match=r"w0 must have shape \(\.\.\., 2\)"):
        momentum.run_momentum(X, y, 0.1, 0.5, 5, torch.zeros(3, **F64))
    with pytest.raises(TypeError, match="X must be numeric"):
        momentum.run_momentum([["a", "b"]] * 4, y, 0.1, 0.5, 5, w0)
    with pytest.raises(TypeError, match="w0 must be a real number or tensor, got bool"):
        momentum.run_momentum(X, y, 0.1, 0.5, 5, True)
    with pytest.raises(ValueError, match="y must be finite"):
        momentum.run_momentum(X, torch.full((4,), math.nan, **F64), 0.1, 0.5, 5, w0)
    with pytest.raises(ValueError, match="do not broadcast"):
        momentum.run_momentum(X, y, torch.full((3,), 0.1), 0.5, 5, torch.zeros(2, 2, **F64))
