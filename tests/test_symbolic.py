"""Tests of dlmath.symbolic: symbols, derivatives in numerator layout, checks, evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dlmath import symbolic

x = symbolic.vector("x", 2)
b = symbolic.vector("b", 2)
A = symbolic.matrix("A", 2, 2)
t = sp.Symbol("t", real=True)


def int_matrices(rows: int, cols: int) -> st.SearchStrategy[sp.Matrix]:
    """Matrices with small integer entries, so that sympy's answers are exact."""
    entries = st.lists(st.integers(-5, 5), min_size=rows * cols, max_size=rows * cols)
    return entries.map(lambda values: sp.Matrix(rows, cols, values))


@st.composite
def quadratic_forms(draw: st.DrawFn) -> tuple[sp.Matrix, sp.Matrix]:
    """``(A, c)`` for the quadratic form xᵀAx + cᵀx in n ≤ 3 variables."""
    n = draw(st.integers(1, 3))
    return draw(int_matrices(n, n)), draw(int_matrices(n, 1))


def expands_to_zero(expr: sp.Matrix) -> bool:
    """An oracle independent of symbolic.is_zero, enough for polynomials."""
    return all(sp.expand(entry) == 0 for entry in expr)


# --- vector and matrix ---------------------------------------------------------------------

def test_vector_is_a_column_of_named_real_symbols() -> None:
    v = symbolic.vector("w", 3)
    assert v.shape == (3, 1)
    assert [str(s) for s in v] == ["w_1", "w_2", "w_3"]
    assert all(s.is_real for s in v)


@pytest.mark.parametrize("symmetric", [False, True])
def test_matrix_has_named_real_entries(symmetric: bool) -> None:
    M = symbolic.matrix("M", 2, 2, symmetric=symmetric)
    assert M.shape == (2, 2)
    assert str(M[0, 1]) == "M_12"
    assert all(s.is_real for s in M)
    assert (M[1, 0] == M[0, 1]) is symmetric
    assert len(M.free_symbols) == (3 if symmetric else 4)


def test_rectangular_matrix_has_the_asked_shape() -> None:
    assert symbolic.matrix("W", 2, 3).shape == (2, 3)


def test_symbolic_vectors_and_matrices_can_be_keys_of_evaluate() -> None:
    values = {x: [1, 2], A: np.eye(2)}  # needs hashable (immutable) matrices
    assert symbolic.evaluate((x.T * A * x)[0], values) == 5.0


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: symbolic.vector("x", 0), ValueError, "n must be >= 1, got 0"),
    (lambda: symbolic.vector("x", 2.0), TypeError, "n must be an integer, got float"),
    (lambda: symbolic.matrix("A", 0, 2), ValueError, "rows must be >= 1, got 0"),
    (lambda: symbolic.matrix("A", 2, "3"), TypeError, "cols must be an integer, got str"),
    (lambda: symbolic.matrix("A", 2, 3, symmetric=True), ValueError,
     "a symmetric matrix must be square, got 2×3"),
])
def test_vector_and_matrix_reject_bad_sizes(make, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()


# --- derivative, gradient, hessian, matrix_gradient ---------------------------------------

@settings(max_examples=15, deadline=None)
@given(quadratic_forms())
def test_gradient_and_hessian_of_a_quadratic_form(form: tuple[sp.Matrix, sp.Matrix]) -> None:
    """∇(xᵀAx + cᵀx) = (A + Aᵀ)x + c and ∇² = A + Aᵀ."""
    M, c = form
    v = symbolic.vector("v", M.rows)
    f = (v.T * M * v)[0] + (c.T * v)[0]
    gradient, hessian = symbolic.gradient(f, v), symbolic.hessian(f, v)
    assert gradient.shape == (M.rows, 1)
    assert expands_to_zero(gradient - ((M + M.T) * v + c))
    assert hessian == M + M.T


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 3).flatmap(lambda m: st.tuples(int_matrices(m, 2), int_matrices(m, 1))))
def test_derivative_of_an_affine_map_is_its_matrix(affine: tuple[sp.Matrix, sp.Matrix]) -> None:
    """∂(Mx + c)/∂x = M: the Jacobian is m×n (numerator layout)."""
    M, c = affine
    assert symbolic.derivative(M * x + c, x) == M


def test_derivative_of_a_scalar_is_a_row_and_the_gradient_its_transpose() -> None:
    f = x[0] ** 2 * x[1]
    row = symbolic.derivative(f, x)
    assert row == sp.Matrix([[2 * x[0] * x[1], x[0] ** 2]])
    assert symbolic.gradient(f, x) == row.T
    assert symbolic.derivative(sp.Matrix([[f]]), x) == row


def test_hessian_of_a_non_polynomial_function() -> None:
    f = sp.exp(x[0]) * sp.sin(x[1])
    expected = sp.Matrix([[f, sp.exp(x[0]) * sp.cos(x[1])],
                          [sp.exp(x[0]) * sp.cos(x[1]), -f]])
    assert expands_to_zero(symbolic.hessian(f, x) - expected)


def test_matrix_gradient_of_least_squares() -> None:
    """∇_A ½‖Ax − b‖² = (Ax − b)xᵀ, with the shape of A (also for a non-square A)."""
    W = symbolic.matrix("W", 3, 2)
    c = symbolic.vector("c", 3)
    f = symbolic.frobenius_sq(W * x - c) / 2
    gradient = symbolic.matrix_gradient(f, W)
    assert gradient.shape == W.shape
    assert expands_to_zero(gradient - (W * x - c) * x.T)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: symbolic.gradient(x, x), ValueError, r"f must be a scalar, got a matrix of shape"),
    (lambda: symbolic.gradient("x_1", x), TypeError, "f must be a sympy expression, got str"),
    (lambda: symbolic.gradient(3, x), TypeError, "f must be a sympy expression, got int"),
    (lambda: symbolic.gradient(x[0], [x[0], x[1]]), TypeError,
     "x must be a sympy Matrix of symbols, got list"),
    (lambda: symbolic.gradient(x[0], x.T), ValueError,
     r"x must be a column vector \(n×1\), got shape \(1, 2\)"),
    (lambda: symbolic.gradient(x[0], 2 * x), ValueError, "every entry of x must be a sympy Symbol"),
    (lambda: symbolic.derivative(x.T, x), ValueError,
     r"y must be a scalar or a column vector, got shape \(1, 2\)"),
    (lambda: symbolic.hessian(A, x), ValueError, "f must be a scalar"),
    (lambda: symbolic.matrix_gradient(x, A), ValueError, "f must be a scalar"),
    (lambda: symbolic.matrix_gradient(x[0], np.eye(2)), TypeError,
     "A must be a sympy Matrix of symbols, got ndarray"),
    (lambda: symbolic.matrix_gradient(x[0], A + A.T), ValueError,
     "every entry of A must be a sympy Symbol"),
])
def test_derivatives_reject_bad_arguments(call, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


# --- frobenius_sq, is_zero, assert_equal ---------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(st.tuples(st.integers(1, 3), st.integers(1, 3)).flatmap(lambda s: int_matrices(*s)))
def test_frobenius_sq_is_the_sum_of_squares(M: sp.Matrix) -> None:
    assert symbolic.frobenius_sq(M) == int((np.array(M, dtype=np.int64) ** 2).sum())
    assert symbolic.frobenius_sq(M) == (M.T * M).trace()


def test_frobenius_sq_of_a_symbolic_matrix() -> None:
    assert symbolic.frobenius_sq(A) == A[0, 0]**2 + A[0, 1]**2 + A[1, 0]**2 + A[1, 1]**2


@pytest.mark.parametrize(("expr", "zero"), [
    (sp.sin(t) ** 2 + sp.cos(t) ** 2 - 1, True),
    ((t + 1) ** 2 - t**2 - 2 * t - 1, True),
    (sp.zeros(2, 3), True),
    (sp.Matrix([sp.exp(sp.log(t + 2)) - t - 2, 0]), True),
    (t, False),
    (sp.sin(t) ** 2 - 1, False),
    (sp.Matrix([0, 0, t]), False),
])
def test_is_zero(expr: sp.Basic, zero: bool) -> None:
    assert symbolic.is_zero(expr) is zero


def test_assert_equal_accepts_equal_expressions_and_matrices() -> None:
    symbolic.assert_equal(sp.sin(t) ** 2, 1 - sp.cos(t) ** 2)
    symbolic.assert_equal(symbolic.gradient((x.T * A * x)[0], x), (A + A.T) * x)


@pytest.mark.parametrize(("computed", "closed_form", "message"), [
    (A * x, A.T * x, r"grad: 2 entries differ from the closed form \(computed − closed form = "
                     r"\[0,0\]: "),
    (sp.Matrix([t, 0]), sp.zeros(2, 1), r"grad: 1 entries differ .*\[0,0\]: t\)$"),
    (sp.Matrix([1, 2, 3, 4]), sp.zeros(4, 1), r"grad: 4 entries differ .*\[2,0\]: 3 …\)$"),
    (x, x.T, r"grad: shapes differ, \(2, 1\) vs \(1, 2\)"),
    (x, x[0], "grad: one side is a matrix and the other is not"),
    (t + 1, t, r"grad: 1 entries differ .*\[0,0\]: 1\)"),
])
def test_assert_equal_says_what_differs(computed: sp.Basic, closed_form: sp.Basic,
                                        message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        symbolic.assert_equal(computed, closed_form, "grad")


# --- evaluate ------------------------------------------------------------------------------

def f_sympy(v: sp.Matrix, M: sp.Matrix) -> sp.Expr:
    """½ vᵀMv + Σ log(1 + vᵢ²) + log(1 + exp(Σ vᵢ)): smooth, not polynomial."""
    return ((v.T * M * v)[0] / 2 + sum(sp.log(1 + e**2) for e in v)
            + sp.log(1 + sp.exp(sum(v))))


def f_torch(v: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
    return v @ M @ v / 2 + torch.log1p(v**2).sum() + torch.nn.functional.softplus(v.sum())


@st.composite
def points(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 3))
    floats = st.floats(-3, 3, allow_subnormal=False)
    return draw(arrays(np.float64, n, elements=floats)), draw(arrays(np.float64, (n, n),
                                                                     elements=floats))


@settings(max_examples=10, deadline=None)
@given(points())
def test_evaluated_gradients_agree_with_autograd(point: tuple[np.ndarray, np.ndarray]) -> None:
    """Both sides are float64 evaluations of the same formula: they agree to round-off.

    atol covers entries that cancel to about zero; the entries themselves are O(10).
    """
    x0, M0 = point
    v, M = symbolic.vector("v", len(x0)), symbolic.matrix("M", len(x0), len(x0))
    f = f_sympy(v, M)
    grad_v, grad_M = symbolic.gradient(f, v), symbolic.matrix_gradient(f, M)
    values = {v: x0, M: M0}

    vt, Mt = (torch.tensor(a, requires_grad=True) for a in (x0, M0))
    auto_v, auto_M = torch.autograd.grad(f_torch(vt, Mt), (vt, Mt))

    def same(computed: np.ndarray, expected: torch.Tensor) -> None:
        torch.testing.assert_close(torch.from_numpy(computed), expected, rtol=1e-12, atol=1e-12)

    same(symbolic.evaluate(f, values), f_torch(vt, Mt).detach())
    same(symbolic.evaluate(grad_v, values), auto_v.reshape(-1, 1))
    same(symbolic.evaluate(grad_M, values), auto_M)


def test_evaluate_returns_float64_arrays_of_the_shape_of_the_expression() -> None:
    scalar = symbolic.evaluate(x[0] * x[1], {x: [2, 3]})
    assert scalar.shape == () and scalar.dtype == np.float64 and scalar == 6.0
    matrix = symbolic.evaluate(A * x, {A: [[1, 2], [3, 4]], x: np.array([[1.0], [1.0]])})
    assert matrix.shape == (2, 1) and matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix, [[3.0], [7.0]])


@pytest.mark.parametrize("value", [[1.0, 2.0], np.array([[1.0], [2.0]]),
                                   torch.tensor([1.0, 2.0]), (1, 2)])
def test_evaluate_accepts_arrays_tensors_and_lists(value: object) -> None:
    assert symbolic.evaluate(x[0] + 10 * x[1], {x: value}) == 21.0


def test_evaluate_accepts_single_symbols_and_symmetric_matrices() -> None:
    assert symbolic.evaluate(sp.sin(t) ** 2, {t: np.float32(0.0)}) == 0.0
    S = symbolic.matrix("S", 2, 2, symmetric=True)
    np.testing.assert_array_equal(symbolic.evaluate(S, {S: [[1, 2], [2, 5]]}), [[1, 2], [2, 5]])


@pytest.mark.parametrize(("values", "error", "message"), [
    ({x: [1, 2, 3], A: np.eye(2)}, ValueError,
     r"a symbolic 2×1 matrix must have shape \(2, 1\), got \(3,\)"),
    ({x: [1, 2], A: np.eye(3)}, ValueError, r"must have shape \(2, 2\), got \(3, 3\)"),
    ({x: [[1, 2]], A: np.eye(2)}, ValueError, r"must have shape \(2, 1\), got \(1, 2\)"),
    ({x: [1, np.nan], A: np.eye(2)}, ValueError,
     "must be finite, but 1 of its 2 entries are NaN or infinite"),
    ({x: [np.inf, -np.inf], A: np.eye(2)}, ValueError, "2 of its 2 entries are NaN or infinite"),
    ({x: ["a", "b"], A: np.eye(2)}, TypeError, "must be numeric"),
    ({x: [1, 2j], A: np.eye(2)}, TypeError, "must be real, got complex"),
    ({x: [1, 2]}, ValueError, "no value given for the symbols A_11, A_12, A_21, A_22"),
    ({x[0]: [1, 2], x[1]: 1, A: np.eye(2)}, ValueError, r"symbol x_1 needs a single number, "
                                                          r"got shape \(2,\)"),
    ({x: [1, 2], "A": np.eye(2)}, TypeError, "every key of values must be a sympy Matrix"),
    ({x: [1, 2], 2 * A: np.eye(2)}, ValueError, "every entry of every key of values must be a "
                                                "sympy Symbol"),
])
def test_evaluate_rejects_bad_values(values: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        symbolic.evaluate((x.T * A * x)[0], values)


def test_evaluate_rejects_a_non_symmetric_value_for_a_symmetric_matrix() -> None:
    S = symbolic.matrix("S", 2, 2, symmetric=True)
    with pytest.raises(ValueError, match="symbol S_12 is given two values, 2.0 and 3.0"):
        symbolic.evaluate(S, {S: [[1, 2], [3, 4]]})
