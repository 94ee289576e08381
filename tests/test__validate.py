"""Tests of dlmath._validate, the one input policy, and of modules that follow it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlmath import _validate as v
from dlmath import landscape, least_squares, momentum, optim, ridge

F64 = {"dtype": torch.float64}


# --- scalars -----------------------------------------------------------------------------------

@pytest.mark.parametrize("check", [v.real, v.positive, v.positive_int, v.nonneg_int])
def test_bool_is_not_a_number(check) -> None:
    for flag in (True, False, np.bool_(True)):
        with pytest.raises(TypeError, match="x must be a.*, got (bool|bool_)"):
            check(flag, "x")


def test_real() -> None:
    assert v.real(3, "x") == 3.0 and isinstance(v.real(3, "x"), float)
    assert v.real(np.float32(0.5), "x") == 0.5
    assert v.real(-2.5, "x") == -2.5
    assert v.real(math.inf, "x", allow_inf=True) == math.inf
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError, match="x must be a finite number"):
            v.real(bad, "x")
    with pytest.raises(ValueError, match="finite"):
        v.real(math.nan, "x", allow_inf=True)
    with pytest.raises(TypeError, match="x must be a real number, got str"):
        v.real("1", "x")
    with pytest.raises(TypeError, match="got complex"):
        v.real(1j, "x")


def test_positive() -> None:
    assert v.positive(2, "eta") == 2.0
    assert v.positive(0, "lam", allow_zero=True) == 0.0
    assert v.positive(math.inf, "delta", allow_inf=True) == math.inf
    with pytest.raises(ValueError, match="eta must be a finite number > 0, got 0"):
        v.positive(0, "eta")
    with pytest.raises(ValueError, match="lam must be a finite number >= 0, got -1"):
        v.positive(-1, "lam", allow_zero=True)
    with pytest.raises(ValueError, match="delta must be a number > 0, got -inf"):
        v.positive(-math.inf, "delta", allow_inf=True)
    with pytest.raises(ValueError, match="eta must be a finite number > 0, got inf"):
        v.positive(math.inf, "eta")


def test_integers() -> None:
    assert v.positive_int(np.int64(3), "n") == 3 and type(v.positive_int(np.int64(3), "n")) is int
    assert v.nonneg_int(0, "steps") == 0
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        v.positive_int(0, "n")
    with pytest.raises(ValueError, match="steps must be >= 0, got -1"):
        v.nonneg_int(-1, "steps")
    with pytest.raises(TypeError, match="steps must be an integer, got float"):
        v.nonneg_int(2.0, "steps")


def test_index_counts_from_the_end_as_python_does() -> None:
    assert [v.index(i, "i", 3) for i in (0, 2, -1, -3)] == [0, 2, 2, 0]
    for bad in (3, -4):
        with pytest.raises(ValueError, match=r"i must be an index into the 3 entries"):
            v.index(bad, "i", 3)
    with pytest.raises(TypeError, match="integer, got bool"):
        v.index(True, "i", 3)


# --- arrays ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [[[1, 2], [3, 4]], np.array([[1, 2], [3, 4]]),
                                   np.array([[1, 2], [3, 4]], dtype=np.float32),
                                   torch.tensor([[1, 2], [3, 4]]), ((1.0, 2.0), (3.0, 4.0))])
def test_as_tensor_makes_float64_from_anything_numeric(value) -> None:
    t = v.as_tensor(value, "A")
    assert t.dtype == torch.float64
    torch.testing.assert_close(t, torch.tensor([[1.0, 2.0], [3.0, 4.0]], **F64))


def test_as_tensor_keeps_a_tensors_floating_dtype() -> None:
    assert v.as_tensor(torch.ones(2, dtype=torch.float32), "x").dtype == torch.float32


def test_float_tensor_is_the_tensor_itself() -> None:
    x = torch.ones(2, requires_grad=True)
    assert v.float_tensor(x, "x") is x
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        v.float_tensor(np.ones(2), "x")
    with pytest.raises(TypeError, match="floating-point"):
        v.float_tensor(torch.ones(2, dtype=torch.int64), "x")
    with pytest.raises(ValueError, match="finite"):
        v.float_tensor(torch.tensor([math.nan]), "x")


# --- matrices ----------------------------------------------------------------------------------

def test_symmetric_returns_the_symmetric_part_within_one_tolerance() -> None:
    M = torch.tensor([[2.0, 1.0], [1.0, 3.0]], **F64)
    tol = v.matrix_tol(M)
    assert tol == pytest.approx(math.sqrt(torch.finfo(torch.float64).eps) * 3.0)
    nearly = M + torch.tensor([[0.0, 0.5 * tol], [0.0, 0.0]], **F64)
    torch.testing.assert_close(v.symmetric(nearly, "M"), (nearly + nearly.T) / 2)
    with pytest.raises(ValueError, match=r"M must be symmetric, but max\|M − Mᵀ\|"):
        v.symmetric(M + torch.tensor([[0.0, 2 * tol], [0.0, 0.0]], **F64), "M")
    with pytest.raises(ValueError, match=r"M must be a square d×d matrix .* \(2, 3\)"):
        v.symmetric(np.ones((2, 3)), "M")
    torch.testing.assert_close(v.symmetric([[1, 0], [0, 1]], "M"), torch.eye(2, **F64))


def test_optim_and_landscape_share_the_symmetry_rule() -> None:
    M = torch.tensor([[2.0, 1.0], [1.0, 3.0]], **F64)
    skew = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], **F64) * v.matrix_tol(M)
    for scale, ok in ((0.9, True), (1.1, False)):
        bent = M + scale * skew / 2              # max|B − Bᵀ| = scale · tol
        for call in (lambda B: optim.spectrum(B), lambda B: landscape.hessian(B, [1.0, 0.0])):
            if ok:
                call(bent)
            else:
                with pytest.raises(ValueError, match="must be symmetric"):
                    call(bent)


def test_spd_solve() -> None:
    A = torch.tensor([[4.0, 1.0], [1.0, 3.0]], **F64)
    b = torch.tensor([1.0, 2.0], **F64)
    torch.testing.assert_close(v.spd_solve(A, b, "A"), torch.linalg.solve(A, b))
    B = torch.stack([b, 2 * b], dim=1)
    torch.testing.assert_close(v.spd_solve(A, B, "A"), torch.linalg.solve(A, B))
    singular = torch.tensor([[1.0, 1.0], [1.0, 1.0]], **F64)
    with pytest.raises(ValueError, match=r"A is singular to working precision \(rank 1\): "
                                         r"add a ridge λ > 0"):
        v.spd_solve(singular, b, "A", "rank 1")


def test_ridge_singular_system_advises_a_ridge() -> None:
    X = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match="singular to working precision.*add a ridge λ > 0"):
        ridge.ridge_primal(X, np.ones(2), 0.0)


# --- one rule in every module ------------------------------------------------------------------

def test_numpy_and_lists_are_accepted_wherever_tensors_are() -> None:
    X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    y = np.array([1.0, 2.0, 0.5])
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)
    w0 = np.zeros(2)
    run_np = momentum.run_momentum(X, y.tolist(), 0.05, 0.5, 4, w0)
    run_t = momentum.run_momentum(tX, ty, 0.05, 0.5, 4, torch.zeros(2, **F64))
    torch.testing.assert_close(run_np.w, run_t.w, rtol=0, atol=0)
    torch.testing.assert_close(ridge.ridge_primal(X, y, 0.1), ridge.ridge_primal(tX, ty, 0.1),
                               rtol=0, atol=0)


def test_zero_steps_return_the_start_everywhere() -> None:
    X = torch.tensor([[1.0, 0.0, 1.0], [0.0, 2.0, 1.0]], **F64)
    y = torch.tensor([1.0, 2.0], **F64)
    w0 = torch.tensor([0.5, -0.5, 1.0], **F64)
    H, b = optim.least_squares(X, y)
    torch.testing.assert_close(optim.gradient_descent(H, b, w0, 0.1, 0), w0)
    run = momentum.run_momentum(X, y, 0.1, 0.5, 0, w0)
    torch.testing.assert_close(run.w, w0[None])
    torch.testing.assert_close(run.z, torch.zeros(1, 3, **F64))
    torch.testing.assert_close(least_squares.gradient_descent(X, y, w0, 0.1, 0), w0)
    torch.testing.assert_close(ridge.expected_gd(X, y, 0.1, 0.1, 0, w0=w0), w0[None])
    torch.testing.assert_close(ridge.noisy_gd(X, y, 0.1, 0.1, 0, 3, w0=w0).final,
                               w0.expand(3, 3))
    M = torch.eye(3, **F64)
    torch.testing.assert_close(landscape.gradient_descent(M, w0, 0.1, 0), w0)


@pytest.mark.parametrize("call", [
    lambda: optim.gradient_descent([[1.0]], [0.0], [1.0], 0.1, True),
    lambda: momentum.run_momentum([[1.0]], [1.0], 0.1, 0.5, True, [0.0]),
    lambda: ridge.expected_gd([[1.0]], [1.0], 0.0, 0.1, True),
    lambda: landscape.gradient_descent([[1.0]], [1.0], 0.1, True),
    lambda: landscape.gradient_descent([[1.0]], [1.0], True, 3),
    lambda: optim.iterations(True, 0.5),
    lambda: momentum.spectral_radius(0.1, True, 1.0),
])
def test_bool_is_rejected_everywhere(call) -> None:
    with pytest.raises(TypeError, match="bool"):
        call()


def test_digits_are_integers_not_bools() -> None:
    from dlmath import data

    assert data._check_digits([3, np.int64(8)]) == [3, 8]
    with pytest.raises(ValueError, match="digits must be at least two distinct integers"):
        data._check_digits([True, 2])
