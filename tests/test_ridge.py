"""Tests of dlmath.ridge: the primal, kernel and augmented forms of ridge, and noisy GD."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmath import ridge

F64 = {"dtype": torch.float64}
seeds = st.integers(0, 2**31 - 1)
sizes = st.integers(1, 8)
lams = st.floats(1e-3, 1e3)


def data(seed: int, m: int, d: int, p: int | None = None):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(m, d, generator=generator, **F64)
    y = torch.randn((m,) if p is None else (m, p), generator=generator, **F64)
    return X, y, generator


def assert_minimises(X, y, Gamma, w) -> None:
    """The gradient of ½‖Xw − y‖² + ½‖Γw‖², Xᵀ(Xw − y) + ΓᵀΓw, vanishes at w (relative to its
    two terms)."""
    gradient = X.T @ (X @ w - y) + Gamma.T @ (Gamma @ w)
    scale = (X.T @ y).abs().max() + 1.0
    assert float(gradient.abs().max()) < 1e-9 * float(scale)


# --- the closed forms ---------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(seed=seeds, m=sizes, d=sizes, lam=lams)
def test_primal_equals_kernel_for_every_shape(seed: int, m: int, d: int, lam: float) -> None:
    """(XᵀX + λI)⁻¹Xᵀy = Xᵀ(XXᵀ + λI)⁻¹y for λ > 0, whether m < d, m = d or m > d."""
    X, y, _ = data(seed, m, d)
    primal, kernel = ridge.ridge_primal(X, y, lam), ridge.ridge_kernel(X, y, lam)
    assert primal.shape == kernel.shape == (d,)
    scale = float(primal.abs().max()) + 1e-3
    torch.testing.assert_close(primal, kernel, rtol=0, atol=1e-9 * scale)
    assert_minimises(X, y, lam**0.5 * torch.eye(d, **F64), primal)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, m=sizes, d=sizes, extra=st.integers(0, 3))
def test_augmented_least_squares_is_tikhonov(seed: int, m: int, d: int, extra: int) -> None:
    """lstsq on [X; Γ], [y; 0] gives (XᵀX + ΓᵀΓ)⁻¹Xᵀy, and so does QΓ for orthogonal Q.
    Γ has k = d + extra ≥ d rows (and is well conditioned), so [X; Γ] has full column rank."""
    k = d + extra
    X, y, generator = data(seed, m, d)
    Gamma = 0.3 * torch.randn(k, d, generator=generator, **F64) + 2 * torch.eye(k, d, **F64)
    X_hat, y_hat = ridge.augmented(X, y, Gamma)
    assert X_hat.shape == (m + k, d) and y_hat.shape == (m + k,)
    assert torch.equal(y_hat[m:], torch.zeros(k, **F64))
    w = ridge.ridge_primal(X, y, Gamma=Gamma)
    torch.testing.assert_close(torch.linalg.lstsq(X_hat, y_hat[:, None]).solution[:, 0], w,
                               rtol=1e-8, atol=1e-10)
    Q, _ = torch.linalg.qr(torch.randn(k, k, generator=generator, **F64))
    torch.testing.assert_close(ridge.ridge_primal(X, y, Gamma=Q @ Gamma), w, rtol=1e-8,
                               atol=1e-10)
    w_test = torch.randn(d, generator=generator, **F64)
    torch.testing.assert_close(((X_hat @ w_test - y_hat) ** 2).sum(),
                               ((X @ w_test - y) ** 2).sum() + ((Gamma @ w_test) ** 2).sum())


def test_lam_and_gamma_agree() -> None:
    X, y, _ = data(1, 7, 3)
    torch.testing.assert_close(ridge.ridge_primal(X, y, 0.4),
                               ridge.ridge_primal(X, y, Gamma=0.4**0.5 * torch.eye(3, **F64)))


def test_several_targets_are_columns() -> None:
    X, Y, _ = data(2, 6, 4, p=3)
    W = ridge.ridge_kernel(X, Y, 0.5)
    assert W.shape == (4, 3)
    torch.testing.assert_close(W, ridge.ridge_primal(X, Y, 0.5))
    torch.testing.assert_close(W[:, 1], ridge.ridge_primal(X, Y[:, 1], 0.5))


def test_lam_zero_gives_least_squares_and_min_norm() -> None:
    X_tall, y_tall, _ = data(3, 9, 4)      # full column rank: ordinary least squares
    torch.testing.assert_close(ridge.ridge_primal(X_tall, y_tall, 0.0),
                               torch.linalg.lstsq(X_tall, y_tall[:, None]).solution[:, 0])
    X_wide, y_wide, _ = data(4, 3, 7)      # full row rank: the minimum-norm interpolant
    torch.testing.assert_close(ridge.ridge_kernel(X_wide, y_wide, 0.0),
                               torch.linalg.pinv(X_wide) @ y_wide)


def test_lists_and_float32_are_accepted() -> None:
    w = ridge.ridge_primal([[1.0, 0.0], [0.0, 2.0]], [1.0, 2.0], 1.0)
    torch.testing.assert_close(w, torch.tensor([0.5, 0.8], **F64))
    X32 = torch.eye(2, dtype=torch.float32)
    assert ridge.ridge_kernel(X32, torch.ones(2), 1.0).dtype == torch.float32


# --- errors -----------------------------------------------------------------------------------

def test_negative_lam_is_rejected() -> None:
    X, y, _ = data(5, 4, 2)
    with pytest.raises(ValueError, match=r"lam must be a finite number >= 0, got -0.5"):
        ridge.ridge_primal(X, y, -0.5)
    with pytest.raises(ValueError, match="lam must be"):
        ridge.ridge_kernel(X, y, -1e-9)
    with pytest.raises(TypeError, match="lam must be a real number"):
        ridge.ridge_kernel(X, y, "1")


def test_singular_systems_are_reported() -> None:
    X = torch.tensor([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]], **F64)     # rank 1
    y = torch.ones(3, **F64)
    with pytest.raises(ValueError, match=r"XᵀX \+ λI \(d = 2, λ = 0\) is singular"):
        ridge.ridge_primal(X, y, 0.0)
    with pytest.raises(ValueError, match=r"XXᵀ \+ λI \(m = 3, λ = 0\) is singular"):
        ridge.ridge_kernel(X, y, 0.0)
    with pytest.raises(ValueError, match=r"XᵀX \+ ΓᵀΓ .* is singular"):
        ridge.ridge_primal(X, y, Gamma=torch.tensor([[1.0, 2.0]], **F64))  # Γ, X kill (2, −1)
    ridge.ridge_primal(X, y, 1e-3)                                        # λ > 0 is fine


def test_mismatched_shapes_are_reported() -> None:
    X, y, _ = data(6, 5, 3)
    with pytest.raises(ValueError, match=r"y must have shape \(5,\) or \(5, p\).*got \(4,\)"):
        ridge.ridge_primal(X, y[:4], 1.0)
    with pytest.raises(ValueError, match=r"X must be a 2-D \(m, d\) matrix"):
        ridge.ridge_kernel(X[0], y, 1.0)
    with pytest.raises(ValueError, match=r"Gamma must be a 2-D \(k, 3\) matrix.*\(3, 2\)"):
        ridge.ridge_primal(X, y, Gamma=torch.eye(3, 2, **F64))
    with pytest.raises(ValueError, match=r"Gamma must be"):
        ridge.augmented(X, y, torch.ones(3, **F64))
    with pytest.raises(TypeError, match="exactly one of lam"):
        ridge.ridge_primal(X, y)
    with pytest.raises(TypeError, match="exactly one of lam"):
        ridge.ridge_primal(X, y, 1.0, Gamma=torch.eye(3, **F64))
    with pytest.raises(ValueError, match="must be finite"):
        ridge.ridge_primal(X, y.clone().fill_(float("nan")), 1.0)


# --- noisy gradient descent ----------------------------------------------------------------

def test_expected_gd_scalar_recurrence() -> None:
    x, y, sigma, eta = 1.5, 0.7, 0.5, 0.2
    path = ridge.expected_gd([[x]], [y], sigma, eta, 3)
    a = 0.0
    for t in range(4):
        assert abs(float(path[t, 0]) - a) < 1e-15
        a = (1 - eta * (x**2 + sigma**2)) * a + eta * x * y
    limit = ridge.expected_gd([[x]], [y], sigma, eta, 400)[-1, 0]
    assert abs(float(limit) - x * y / (x**2 + sigma**2)) < 1e-14


def test_expected_gd_converges_to_ridge_with_lam_m_sigma_squared() -> None:
    X, y, _ = data(7, 12, 3)
    sigma = 0.6
    path = ridge.expected_gd(X, y, sigma, 0.3, 600)
    torch.testing.assert_close(path[-1], ridge.ridge_primal(X, y, 12 * sigma**2), rtol=1e-10,
                               atol=1e-12)


def test_noisy_gd_mean_tracks_recurrence_within_standard_errors() -> None:
    X, y, _ = data(8, 6, 2)
    generator = torch.Generator().manual_seed(0)
    runs = ridge.noisy_gd(X, y, 0.4, 0.2, 30, 1000, n_paths=3, generator=generator)
    assert runs.mean.shape == runs.sem.shape == (31, 2)
    assert runs.paths.shape == (31, 3, 2) and runs.final.shape == (1000, 2)
    torch.testing.assert_close(runs.final.mean(0), runs.mean[-1])
    assert torch.equal(runs.paths[-1], runs.final[:3])
    assert torch.equal(runs.paths[0], torch.zeros(3, 2, **F64))
    expected = ridge.expected_gd(X, y, 0.4, 0.2, 30)
    z = (runs.mean[1:] - expected[1:]).abs() / runs.sem[1:]
    assert float(z.max()) < 5       # 60 means, each within 5 standard errors


def test_noisy_gd_without_noise_is_plain_gd() -> None:
    X, y, _ = data(9, 5, 2)
    runs = ridge.noisy_gd(X, y, 0.0, 0.1, 30, 4, w0=torch.ones(2, **F64))
    expected = ridge.expected_gd(X, y, 0.0, 0.1, 30, w0=torch.ones(2, **F64))
    torch.testing.assert_close(runs.mean, expected, rtol=1e-12, atol=1e-12)
    assert float(runs.sem.max()) == 0


def test_noisy_gd_is_repeatable_with_a_generator() -> None:
    X, y, _ = data(10, 4, 2)
    a = ridge.noisy_gd(X, y, 0.3, 0.1, 5, 10, generator=torch.Generator().manual_seed(3))
    b = ridge.noisy_gd(X, y, 0.3, 0.1, 5, 10, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.final, b.final)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"sigma": -0.1}, ValueError, "sigma must be a finite number >= 0"),
    ({"eta": 0.0}, ValueError, "eta must be a finite number > 0"),
    ({"steps": -1}, ValueError, "steps must be >= 0"),
    ({"steps": 2.0}, TypeError, "steps must be an integer, got float"),
    ({"runs": 0}, ValueError, "runs must be >= 1"),
    ({"n_paths": 11}, ValueError, r"n_paths must lie in \[0, runs = 10\]"),
    ({"n_paths": False}, TypeError, "n_paths must be an integer, got bool"),
    ({"w0": [1.0, 2.0, 3.0]}, ValueError, r"w0 must have shape \(2,\)"),
    ({"y": torch.ones(4, 2)}, ValueError, "y must be a vector"),
])
def test_noisy_gd_rejects_bad_input(kwargs, error, message) -> None:
    X, y, _ = data(11, 4, 2)
    arguments = {"X": X, "y": y, "sigma": 0.1, "eta": 0.1, "steps": 3, "runs": 10} | kwargs
    with pytest.raises(error, match=message):
        ridge.noisy_gd(**arguments)
