"""Tests of dlmath.optim: gradient descent on quadratics, stability thresholds and rates."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dlmath import optim

EPS = torch.finfo(torch.float64).eps
F64 = {"dtype": torch.float64}


def quadratic(seed: int, d: int, lam_min: float = 0.1, lam_max: float = 10.0):
    """A random symmetric positive definite H = Q diag(λ) Qᵀ (λ decreasing), b, Q and λ."""
    generator = torch.Generator().manual_seed(seed)
    lam = torch.empty(d, **F64).uniform_(lam_min, lam_max, generator=generator)
    lam = lam.sort(descending=True).values
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=generator, **F64))
    H = Q @ torch.diag(lam) @ Q.T
    H = (H + H.T) / 2
    b = torch.randn(d, generator=generator, **F64)
    return H, b, Q, lam


seeds = st.integers(0, 2**31 - 1)
dims = st.integers(1, 5)


# --- gradient_descent: the dynamics -------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(seed=seeds, d=dims, factor=st.one_of(st.floats(0.3, 0.95), st.floats(1.05, 1.6)))
def test_diverges_iff_step_exceeds_critical(seed: int, d: int, factor: float) -> None:
    """From a start with a top-mode component, GD diverges iff η > 2/λ_max."""
    H, b, Q, lam = quadratic(seed, d)
    assume(d == 1 or lam[0] - lam[1] > 0.05 * lam[0])   # a distinct top eigenvalue
    theta_star = torch.linalg.solve(H, b)
    generator = torch.Generator().manual_seed(seed + 1)
    z = torch.empty(d, **F64).uniform_(-1, 1, generator=generator)
    z[0] = 0.2 + 0.8 * abs(float(z[0]))                  # top-mode component ≥ 0.2
    e0 = Q @ z
    eta = factor * optim.critical_step(H)
    steps = 200
    final = optim.gradient_descent(H, b, theta_star + e0, eta, steps)
    error = float(torch.linalg.norm(final - theta_star))
    if factor > 1:
        # the top mode alone grows by |1 − ηλ₁| = 2·factor − 1 ≥ 1.1 per step
        assert error >= 0.2 * (2 * factor - 1) ** steps * (1 - 1e-6)
        assert error > 1e3 * float(torch.linalg.norm(e0))
    else:
        r = float(optim.rate(eta, lam))
        assert r < 1
        assert error <= r**steps * float(torch.linalg.norm(e0)) * (1 + 1e-9) + 1e-12


@settings(max_examples=40, deadline=None)
@given(seed=seeds, d=dims, factor=st.floats(0.05, 1.5), steps=st.integers(1, 60))
def test_rate_is_the_observed_contraction(seed: int, d: int, factor: float, steps: int) -> None:
    """‖e_t‖ = rate^t ‖e₀‖ along the worst eigenvector, and ≤ rate^t ‖e₀‖ from any start."""
    H, b, Q, lam = quadratic(seed, d)
    theta_star = torch.linalg.solve(H, b)
    eta = factor * optim.critical_step(H)
    r = float(optim.rate(eta, lam))
    worst = int((1 - eta * lam).abs().argmax())
    generator = torch.Generator().manual_seed(seed + 2)
    starts = theta_star + torch.stack([Q[:, worst], torch.randn(d, generator=generator, **F64)])
    final = optim.gradient_descent(H, b, starts, eta, steps)           # (2, d)
    errors = torch.linalg.norm(final - theta_star, dim=-1)
    e0 = torch.linalg.norm(starts - theta_star, dim=-1)
    # round-off: each step adds about ε(‖θ*‖ + 1), amplified by at most max(1, r) per step
    roundoff = 100 * steps * EPS * (float(theta_star.norm()) + 1) * max(1.0, r) ** steps
    assert abs(float(errors[0]) - r**steps) <= 1e-9 * r**steps + roundoff
    assert float(errors[1]) <= r**steps * float(e0[1]) * (1 + 1e-9) + 1e-12


@settings(max_examples=30, deadline=None)
@given(seed=seeds, d=dims, n_eta=st.integers(1, 4), n_starts=st.integers(1, 4),
       steps=st.integers(0, 25))
def test_vectorised_equals_a_plain_loop(seed: int, d: int, n_eta: int, n_starts: int,
                                        steps: int) -> None:
    H, b, _, _ = quadratic(seed, d)
    generator = torch.Generator().manual_seed(seed + 3)
    etas = torch.empty(n_eta, **F64).uniform_(0.01, 1.2, generator=generator)
    etas = etas * optim.critical_step(H)
    starts = torch.randn(n_starts, d, generator=generator, **F64)
    final = optim.gradient_descent(H, b, starts, etas, steps)
    path = optim.gradient_descent(H, b, starts, etas, steps, trajectory=True)
    assert final.shape == (n_eta, n_starts, d)
    assert path.shape == (steps + 1, n_eta, n_starts, d)
    torch.testing.assert_close(path[-1], final, rtol=0, atol=0)
    for i, eta in enumerate(etas.tolist()):
        for j in range(n_starts):
            theta = starts[j].clone()
            for t in range(steps):
                torch.testing.assert_close(path[t, i, j], theta, rtol=1e-12, atol=1e-12)
                theta = theta - eta * (H @ theta - b)
            torch.testing.assert_close(final[i, j], theta, rtol=1e-12, atol=1e-12)


def test_output_shapes_follow_eta_and_theta0() -> None:
    H, b = torch.eye(3, **F64), torch.zeros(3, **F64)
    assert optim.gradient_descent(H, b, torch.ones(3, **F64), 0.5, 4).shape == (3,)
    assert optim.gradient_descent(H, b, torch.ones(2, 3, **F64), 0.5, 4).shape == (2, 3)
    assert optim.gradient_descent(H, b, torch.ones(3, **F64), [0.5, 1.0], 4).shape == (2, 3)
    assert optim.gradient_descent(H, b, torch.ones(2, 3, **F64), [0.5], 4,
                                  trajectory=True).shape == (5, 1, 2, 3)
    start = torch.ones(3, **F64)
    torch.testing.assert_close(optim.gradient_descent(H, b, start, 0.5, 0), start)


def test_one_dimensional_closed_form() -> None:
    """f(θ) = θ²/2: θ_t = (1 − η)^t θ₀; at η = 2 it flips sign without growing."""
    path = optim.gradient_descent([[1.0]], [0.0], [1.0], [0.5, 2.0, 2.5], 10, trajectory=True)
    t = torch.arange(11, **F64)[:, None]
    torch.testing.assert_close(path[..., 0], (1 - torch.tensor([0.5, 2.0, 2.5], **F64)) ** t)
    assert torch.equal(path[:, 1, 0].abs(), torch.ones(11, **F64))


def test_least_squares_matches_its_gradient() -> None:
    generator = torch.Generator().manual_seed(0)
    X, Y = torch.randn(7, 3, generator=generator, **F64), torch.randn(7, generator=generator, **F64)
    H, b = optim.least_squares(X, Y)
    theta = torch.randn(3, generator=generator, **F64, requires_grad=True)
    (grad,) = torch.autograd.grad(0.5 * ((X @ theta - Y) ** 2).sum(), theta)
    torch.testing.assert_close(H @ theta.detach() - b, grad, rtol=1e-12, atol=1e-12)
    step = optim.gradient_descent(H, b, theta.detach(), 0.01, 1)
    torch.testing.assert_close(step, theta.detach() - 0.01 * grad, rtol=1e-12, atol=1e-12)


def test_dtype_and_inputs_kinds() -> None:
    H32 = torch.eye(2, dtype=torch.float32)
    out = optim.gradient_descent(H32, [1.0, 1.0], [0.0, 0.0], 0.5, 3)
    assert out.dtype == torch.float32
    out = optim.gradient_descent(np.eye(2), np.ones(2), [[0.0, 0.0]], np.array([0.5, 1.0]), 3)
    assert out.dtype == torch.float64 and out.shape == (2, 1, 2)
    torch.testing.assert_close(out[1, 0], torch.ones(2, **F64))   # η = 1/λ: one step


# --- spectra, thresholds and rates ------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(seed=seeds, d=dims)
def test_spectrum_is_decreasing_and_reconstructs_H(seed: int, d: int) -> None:
    H, _, _, lam_true = quadratic(seed, d)
    lam, V = optim.spectrum(H)
    assert bool((lam[:-1] >= lam[1:]).all())
    torch.testing.assert_close(lam, lam_true, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(V @ torch.diag(lam) @ V.T, H, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(V.T @ V, torch.eye(d, **F64), rtol=0, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(lam=st.lists(st.floats(0.01, 100), min_size=1, max_size=6))
def test_best_step_minimises_the_rate(lam: list[float]) -> None:
    eta_star, r_star = optim.best_step(lam)
    lo, hi = min(lam), max(lam)
    assert math.isclose(eta_star, 2 / (lo + hi), rel_tol=1e-14)
    assert math.isclose(r_star, (hi - lo) / (hi + lo), rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(float(optim.rate(eta_star, lam)), r_star, rel_tol=1e-9, abs_tol=1e-12)
    grid = torch.linspace(0.001, 1.0, 2001, **F64) * optim.critical_step(lam)
    assert float(optim.rate(grid, lam).min()) >= r_star - 1e-12
    # the rate crosses 1 exactly at the critical step
    r = optim.rate(grid, lam)
    crit = optim.critical_step(lam)
    assert bool((r[grid < crit * (1 - 1e-9)] < 1).all())


def test_rate_and_thresholds_on_a_diagonal_example() -> None:
    lam = [4.0, 1.0]
    assert optim.critical_step(torch.diag(torch.tensor(lam, **F64))) == 0.5
    assert optim.critical_step(lam) == 0.5
    assert optim.best_step(lam) == (0.4, 0.6)
    torch.testing.assert_close(optim.rate([0.1, 0.4, 0.5, 0.6], lam),
                               torch.tensor([0.9, 0.6, 1.0, 1.4], **F64))
    assert optim.rate(0.4, np.diag(lam)).shape == ()


@settings(max_examples=60, deadline=None)
@given(r=st.floats(0.0, 0.999), epsilon=st.floats(1e-12, 0.999))
def test_iterations_is_the_least_sufficient_count(r: float, epsilon: float) -> None:
    t = optim.iterations(r, epsilon)
    assert r**t <= epsilon
    assert t == 0 or r ** (t - 1) > epsilon


def test_iterations_examples() -> None:
    assert optim.iterations(0.9, 0.01) == 44
    assert optim.iterations(0.5, 0.25) == 2
    assert optim.iterations(0.0, 0.1) == 1
    assert optim.iterations(0.5, 1.0) == 0


# --- input validation -----------------------------------------------------------------------

H2, B2, T2 = torch.eye(2, **F64), torch.zeros(2, **F64), torch.ones(2, **F64)


@pytest.mark.parametrize("eta", [0.0, -0.1, [0.5, 0.0], float("nan"), float("inf"), [[0.5]], []])
def test_bad_step_sizes_raise_value_error(eta) -> None:
    with pytest.raises(ValueError, match="eta"):
        optim.gradient_descent(H2, B2, T2, eta, 3)
    with pytest.raises(ValueError, match="eta"):
        optim.rate(eta, [1.0, 2.0])


@pytest.mark.parametrize("H, message", [
    (torch.ones(2, 3, **F64), "square"),
    (torch.ones(2, **F64), "square"),
    (torch.tensor([[1.0, 2.0], [0.0, 1.0]], **F64), "symmetric"),
    (torch.tensor([[1.0, float("nan")], [float("nan"), 1.0]], **F64), "finite"),
    (torch.tensor([[float("inf"), 0.0], [0.0, 1.0]], **F64), "finite"),
])
def test_bad_hessians_raise_value_error(H, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.gradient_descent(H, B2, T2, 0.5, 3)
    with pytest.raises(ValueError, match=message):
        optim.spectrum(H)


def test_bad_shapes_and_types() -> None:
    with pytest.raises(ValueError, match=r"b must have shape \(2,\)"):
        optim.gradient_descent(H2, torch.zeros(3, **F64), T2, 0.5, 3)
    with pytest.raises(ValueError, match="theta0"):
        optim.gradient_descent(H2, B2, torch.ones(3, **F64), 0.5, 3)
    with pytest.raises(ValueError, match="theta0"):
        optim.gradient_descent(H2, B2, 1.0, 0.5, 3)
    with pytest.raises(ValueError, match="steps"):
        optim.gradient_descent(H2, B2, T2, 0.5, -1)
    with pytest.raises(TypeError, match="steps"):
        optim.gradient_descent(H2, B2, T2, 0.5, 2.5)
    with pytest.raises(TypeError, match="eta"):
        optim.gradient_descent(H2, B2, T2, True, 3)
    with pytest.raises(TypeError, match="H"):
        optim.gradient_descent("identity", B2, T2, 0.5, 3)
    with pytest.raises(TypeError, match="complex"):
        optim.spectrum(torch.eye(2, dtype=torch.complex128))
    with pytest.raises(ValueError, match="Y must have shape"):
        optim.least_squares(torch.ones(4, 2, **F64), torch.ones(3, **F64))
    with pytest.raises(ValueError, match="X must be a 2-D"):
        optim.least_squares(torch.ones(4, **F64), torch.ones(4, **F64))


def test_threshold_errors() -> None:
    with pytest.raises(ValueError, match="largest eigenvalue"):
        optim.critical_step([-1.0, 0.0])
    with pytest.raises(ValueError, match="positive eigenvalues"):
        optim.best_step([0.0, 1.0])
    with pytest.raises(ValueError, match="eigenvalues must be a non-empty"):
        optim.rate(0.1, [])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        optim.iterations(1.0, 0.1)
    with pytest.raises(ValueError, match="epsilon"):
        optim.iterations(0.5, 0.0)
    with pytest.raises(TypeError, match="r must be a real number"):
        optim.iterations("0.5", 0.1)


def test_thread_count_is_restored() -> None:
    threads = torch.get_num_threads()
    optim.gradient_descent(H2, B2, T2, 0.5, 3)
    assert torch.get_num_threads() == threads
