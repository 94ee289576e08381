"""Tests of dlmath.operators: the convolution operator, the Huber loss, power iteration."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dlmath.operators import Convolution1d, huber, huber_grad, power_iteration

EPS = np.finfo(np.float64).eps
SETTINGS = settings(max_examples=25, deadline=None)


def dense(kernel: np.ndarray, n: int) -> np.ndarray:
    """The (n − q + 1) × n matrix with rows (0, …, 0, k_1, …, k_q, 0, …, 0), built by indices."""
    q = len(kernel)
    m = n - q + 1
    D = np.zeros((m, n))
    rows = np.arange(m)[:, None]
    D[rows, rows + np.arange(q)] = kernel
    return D


def floats(*shape: int) -> st.SearchStrategy[np.ndarray]:
    """Entries 0 or of magnitude in [1e-3, 10]: no underflow in products of two of them."""
    entry = st.one_of(st.just(0.0), st.floats(1e-3, 10), st.floats(-10, -1e-3))
    return arrays(np.float64, shape, elements=entry)


@st.composite
def problems(draw: st.DrawFn, max_q: int = 6, max_n: int = 30):
    """A kernel k (length q), a length n >= q, and x ∈ R^n, y ∈ R^(n−q+1)."""
    q = draw(st.integers(1, max_q))
    n = draw(st.integers(q, max_n))
    k = draw(floats(q))
    return k, n, draw(floats(n)), draw(floats(n - q + 1))


# --- Convolution1d ---------------------------------------------------------------------------

@SETTINGS
@given(problems())
def test_adjoint_identity(problem) -> None:
    """⟨Ax, y⟩ = ⟨x, Aᵀy⟩ up to rounding: |gap| ≤ 4(n + q)ε ‖k‖₁‖x‖‖y‖.

    The scale ‖k‖₁‖x‖‖y‖ bounds both sides (‖A‖₂ ≤ ‖k‖₁); each side is a sum of about n + q
    rounded products.
    """
    k, n, x, y = problem
    A = Convolution1d(k, n)
    gap = abs(np.dot(A @ x, y) - np.dot(x, A.T @ y))
    scale = np.abs(k).sum() * np.linalg.norm(x) * np.linalg.norm(y)
    assert gap <= 4 * (n + len(k)) * EPS * scale + 1e-300


@SETTINGS
@given(problems())
def test_equals_dense_matrix_and_numpy(problem) -> None:
    k, n, x, y = problem
    A = Convolution1d(k, n)
    D = dense(k, n)
    assert A.shape == D.shape == (n - len(k) + 1, n)
    np.testing.assert_array_equal(A.to_dense().numpy(), D)   # A e_j is a copy of k's entries
    tol = {"rtol": 1e-12, "atol": 1e-12 * (1 + np.abs(k).sum() * np.abs(x).max(initial=0)
                                            + np.abs(k).sum() * np.abs(y).max(initial=0))}
    np.testing.assert_allclose(A @ x, D @ x, **tol)
    np.testing.assert_allclose(A.T @ y, D.T @ y, **tol)
    np.testing.assert_allclose(A @ x, np.correlate(x, k, "valid"), **tol)
    np.testing.assert_allclose(A.T @ y, np.convolve(y, k, "full"), **tol)
    np.testing.assert_allclose(y @ A, y @ D, **tol)            # y @ A is (Aᵀy)ᵀ


@SETTINGS
@given(problems(), st.integers(1, 3), st.integers(1, 2))
def test_columns_and_batches_like_a_matrix(problem, p: int, batch: int) -> None:
    """A @ X treats the columns of X (n, p), or of a batch (B, n, p), as a matrix would."""
    k, n, _, _ = problem
    A = Convolution1d(k, n)
    D = torch.from_numpy(dense(k, n))
    X = torch.randn(batch, n, p, dtype=torch.float64)
    Y = torch.randn(batch, n - len(k) + 1, p, dtype=torch.float64)
    for ours, matrix in ((A @ X[0], D @ X[0]), (A @ X, D @ X), (A.T @ Y, D.T @ Y),
                         (Y.transpose(-1, -2) @ A, Y.transpose(-1, -2) @ D)):
        assert ours.shape == matrix.shape
        np.testing.assert_allclose(ours.numpy(), matrix.numpy(), rtol=1e-12, atol=1e-9)


def test_transpose_shape_types_and_conv1d() -> None:
    k = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    A = Convolution1d(k, 8)
    assert A.shape == (6, 8) and A.T.shape == (8, 6) and A.T.T is A
    assert (A.n, A.q, A.ndim) == (8, 3, 2)
    assert "q=3" in repr(A) and repr(A.T).endswith(".T")
    x = torch.randn(8, dtype=torch.float64)
    assert isinstance(A @ x, torch.Tensor) and isinstance(A @ x.numpy(), np.ndarray)
    assert isinstance(x.numpy()[:6] @ A, np.ndarray)
    # torch's conv1d is the same cross-correlation
    conv = torch.nn.functional.conv1d(x.view(1, 1, -1), k.view(1, 1, -1)).view(-1)
    np.testing.assert_allclose((A @ x).numpy(), conv.numpy(), rtol=1e-14, atol=1e-14)
    # integer and float32 inputs: computed in their own (or float64) precision
    assert (A @ torch.arange(8)).dtype == torch.float64
    assert (A @ x.float()).dtype == torch.float32
    assert A.T.to_dense().shape == (8, 6)
    np.testing.assert_array_equal(A.T.to_dense().numpy(), A.to_dense().T.numpy())


def test_kernel_as_list_and_numpy() -> None:
    x = np.arange(5.0)
    np.testing.assert_allclose(Convolution1d([1, 2], 5) @ x, np.correlate(x, [1, 2], "valid"))
    np.testing.assert_allclose(Convolution1d(np.array([3.0]), 5) @ x, 3 * x)


@pytest.mark.parametrize(("kernel", "n", "error", "match"), [
    (np.ones((2, 2)), 5, ValueError, "1-D"),
    ([], 5, ValueError, "at least one entry"),
    ([1.0, np.nan], 5, ValueError, "finite"),
    ([1.0, np.inf], 5, ValueError, "finite"),
    (["a", "b"], 5, TypeError, "numeric"),
    (np.array([1 + 1j]), 5, TypeError, "real"),
    (torch.tensor([1 + 1j]), 5, TypeError, "real"),
    ([1.0, 2.0, 3.0], 2, ValueError, r"n must be >= the kernel length q = 3, got n = 2"),
    ([1.0], 0, ValueError, ">= 1"),
    ([1.0], 2.5, TypeError, "integer"),
])
def test_constructor_errors(kernel, n, error, match) -> None:
    with pytest.raises(error, match=match):
        Convolution1d(kernel, n)


def test_matmul_errors() -> None:
    A = Convolution1d([1.0, 2.0], 5)
    with pytest.raises(ValueError, match=r"x must have shape \(5,\); got \(4,\)"):
        A @ np.ones(4)
    with pytest.raises(ValueError, match=r"\(\.\.\., 5, p\); got \(3, 5\)"):
        A @ torch.ones(5, 3).T
    with pytest.raises(ValueError, match="scalar"):
        A @ torch.tensor(1.0)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        A.T @ np.ones(5)
    with pytest.raises(TypeError, match="tensor or a NumPy array"):
        A @ "abc"
    with pytest.raises(TypeError, match="real"):
        A @ torch.ones(5, dtype=torch.complex128)
    with pytest.raises(TypeError):
        A @ A   # operators do not compose with @ here


# --- Huber loss ------------------------------------------------------------------------------

deltas = st.floats(1e-3, 10, allow_subnormal=False)


@SETTINGS
@given(arrays(np.float64, st.integers(1, 20),
              elements=st.floats(-20, 20, allow_subnormal=False)), deltas)
def test_huber_grad_equals_autograd(r: np.ndarray, delta: float) -> None:
    t = torch.tensor(r, requires_grad=True)
    (autograd,) = torch.autograd.grad(huber(t, delta), t)
    np.testing.assert_array_equal(huber_grad(t.detach(), delta).numpy(), autograd.numpy())
    np.testing.assert_array_equal(huber_grad(r, delta), autograd.numpy())


@SETTINGS
@given(deltas)
def test_huber_values_and_continuity(delta: float) -> None:
    at = torch.tensor([delta, -delta, 2 * delta, 0.0], dtype=torch.float64)
    per_entry = [float(huber(v.view(1), delta)) for v in at]
    assert per_entry == pytest.approx([delta**2 / 2, delta**2 / 2, 1.5 * delta**2, 0.0],
                                      rel=1e-14)
    # value and slope continuous across |r| = δ: both branches agree there
    just_out = torch.tensor([delta * (1 + 1e-9)], dtype=torch.float64)
    assert float(huber(just_out, delta)) == pytest.approx(delta**2 / 2, rel=1e-8)
    assert float(huber_grad(just_out, delta)) == delta


def test_huber_with_infinite_delta_is_least_squares() -> None:
    r = torch.linspace(-5, 5, 11, dtype=torch.float64)
    assert float(huber(r, math.inf)) == pytest.approx(0.5 * float(r @ r))
    np.testing.assert_array_equal(huber_grad(r, math.inf).numpy(), r.numpy())


@pytest.mark.parametrize(("delta", "error"), [(0.0, ValueError), (-1.0, ValueError),
                                              (math.nan, ValueError), ("1", TypeError),
                                              (True, TypeError), (None, TypeError)])
def test_huber_delta_errors(delta, error) -> None:
    with pytest.raises(error, match="delta"):
        huber(torch.ones(3), delta)
    with pytest.raises(error, match="delta"):
        huber_grad(torch.ones(3), delta)


def test_huber_input_type_errors() -> None:
    with pytest.raises(TypeError, match="torch tensor"):
        huber([1.0, 2.0])
    with pytest.raises(TypeError, match="torch tensor or a NumPy array"):
        huber_grad([1.0, 2.0])


# --- power iteration -------------------------------------------------------------------------

def _rate_bound(D: np.ndarray, seed: int, n_iter: int) -> tuple[float, float]:
    """σ₁ and the bound σ₁² − σ̂² ≤ σ₁² · (Σ_{i≥2} cᵢ²/c₁²) · (σ₂/σ₁)^(4t) for the seeded start."""
    _, s, Vt = np.linalg.svd(D)
    if s[0] == 0:                     # A = 0: every estimate is exactly 0
        return 0.0, 0.0
    v0 = torch.randn(D.shape[1], generator=torch.Generator().manual_seed(seed),
                     dtype=torch.float64).numpy()
    c = np.zeros(D.shape[1])
    c[: len(s)] = Vt[: len(s)] @ v0
    mu = np.zeros(D.shape[1])
    mu[: len(s)] = s**2
    if c[0] == 0:
        return float(s[0]), math.inf
    ratio = mu[1] / mu[0] if len(mu) > 1 else 0.0
    tail = (np.sum(c**2) - c[0] ** 2) / c[0] ** 2
    return float(s[0]), float(mu[0] * tail * ratio ** (2 * n_iter))


@SETTINGS
@given(problems(max_q=5, max_n=16), st.integers(0, 2**16))
def test_power_iteration_converges_to_top_singular_value(problem, seed: int) -> None:
    """Monotone from below, within the classical rate bound of σ₁ of the dense matrix."""
    k, n, _, _ = problem
    A = Convolution1d(k, n)
    n_iter = 60
    result = power_iteration(A, n_iter, seed=seed)
    sigma1, bound = _rate_bound(dense(k, n), seed, n_iter)
    slack = 1e-12 * sigma1**2 + 1e-300
    assert np.all(np.diff(result.history) >= -1e-12 * sigma1)
    assert result.sigma <= sigma1 * (1 + 1e-12) + 1e-300
    assert sigma1**2 - result.sigma**2 <= bound * (1 + 1e-9) + slack


def test_power_iteration_same_on_operator_tensor_and_array() -> None:
    """Only @ and .T are used, so the three representations give the same estimates."""
    k = np.random.default_rng(0).standard_normal(5)
    A = Convolution1d(k, 40)
    D = A.to_dense()
    runs = [power_iteration(matrix, 200, seed=3) for matrix in (A, D, D.numpy())]
    for run in runs[1:]:
        np.testing.assert_allclose(run.history, runs[0].history, rtol=1e-12, atol=0)
    sigma1, bound = _rate_bound(D.numpy(), 3, 200)
    assert 0 <= sigma1**2 - runs[0].sigma ** 2 <= bound * (1 + 1e-9) + 1e-12


def test_power_iteration_converges_fast_with_a_gap() -> None:
    rng = np.random.default_rng(1)
    M = np.diag([3.0, 1.0, 0.5]) @ np.linalg.qr(rng.standard_normal((3, 3)))[0]
    assert power_iteration(M, 40).sigma == pytest.approx(3.0, rel=1e-14)
    v0 = torch.ones(3, dtype=torch.float64)
    assert power_iteration(torch.from_numpy(M), 40, v0=v0).sigma == pytest.approx(3.0, rel=1e-14)


def test_power_iteration_on_zero_matrix_and_errors() -> None:
    assert power_iteration(torch.zeros(3, 4, dtype=torch.float64), 5).sigma == 0.0
    with pytest.raises(TypeError, match="matrix-like"):
        power_iteration([[1.0, 2.0]], 5)
    with pytest.raises(ValueError, match=">= 1"):
        power_iteration(np.eye(2), 0)
    with pytest.raises(ValueError, match=r"v0 must have shape \(2,\)"):
        power_iteration(np.eye(2), 3, v0=np.ones(3))
    with pytest.raises(ValueError, match="non-zero"):
        power_iteration(np.eye(2), 3, v0=np.zeros(2))
    with pytest.raises(TypeError, match="v0 must be a torch tensor"):
        power_iteration(np.eye(2), 3, v0=[1.0, 0.0])
