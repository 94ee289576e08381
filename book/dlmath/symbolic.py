"""sympy helpers: derivatives of scalar functions of vectors and matrices given in components.

Layout convention of the whole book (numerator layout): for a scalar ``f`` and a column vector
``x`` in R^n, the derivative ``∂f/∂x`` is the 1×n row and the gradient ``∇f = (∂f/∂x)ᵀ`` the
n×1 column; for ``y`` in R^m, ``∂y/∂x`` is the m×n Jacobian; the Hessian is ``∂(∇f)/∂x``.
For a scalar function of a matrix ``A``, ``∇_A f`` has the shape of ``A``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from dlmath._validate import finite, positive_int, to_numpy


def vector(name: str, n: int) -> sp.ImmutableMatrix:
    """Column vector of ``n`` real symbols ``name_1, …, name_n`` (immutable, so a dict key)."""
    positive_int(n, "n")
    return sp.ImmutableMatrix(n, 1, lambda i, _: sp.Symbol(f"{name}_{i + 1}", real=True))


def matrix(name: str, rows: int, cols: int, *, symmetric: bool = False) -> sp.ImmutableMatrix:
    """``rows``×``cols`` matrix of real symbols ``name_ij``; symmetric ones share ``name_ij``."""
    positive_int(rows, "rows")
    positive_int(cols, "cols")
    if symmetric and rows != cols:
        raise ValueError(f"a symmetric matrix must be square, got {rows}×{cols}")

    def entry(i: int, j: int) -> sp.Symbol:
        if symmetric:
            i, j = min(i, j), max(i, j)
        return sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True)

    return sp.ImmutableMatrix(rows, cols, entry)


def _variables(x: Any, name: str) -> sp.Matrix:
    if not isinstance(x, sp.MatrixBase):
        raise TypeError(f"{name} must be a sympy Matrix of symbols, got {type(x).__name__}")
    if not all(isinstance(entry, sp.Symbol) for entry in x):
        raise ValueError(f"every entry of {name} must be a sympy Symbol (use vector() or "
                         "matrix() to make one)")
    return x


def _column(x: Any) -> sp.Matrix:
    x = _variables(x, "x")
    if x.shape[1] != 1:
        raise ValueError(f"x must be a column vector (n×1), got shape {x.shape}")
    return x


def _scalar(f: Any) -> sp.Expr:
    if isinstance(f, sp.MatrixBase):
        if f.shape != (1, 1):
            raise ValueError(f"f must be a scalar, got a matrix of shape {f.shape}")
        return f[0, 0]
    if not isinstance(f, sp.Expr):
        raise TypeError(f"f must be a sympy expression, got {type(f).__name__}")
    return f


def derivative(y: Any, x: sp.Matrix) -> sp.Matrix:
    """``∂y/∂x`` in numerator layout: 1×n for a scalar ``y``, m×n for an m×1 column ``y``."""
    x = _column(x)
    if isinstance(y, sp.MatrixBase):
        if y.shape[1] != 1:
            raise ValueError(f"y must be a scalar or a column vector, got shape {y.shape}")
        return y.jacobian(x)
    return sp.Matrix([_scalar(y)]).jacobian(x)


def gradient(f: Any, x: sp.Matrix) -> sp.Matrix:
    """``∇f``: the n×1 column ``(∂f/∂x)ᵀ`` of a scalar ``f``."""
    return derivative(_scalar(f), x).T


def hessian(f: Any, x: sp.Matrix) -> sp.Matrix:
    """``∇²f = ∂(∇f)/∂x``, the n×n matrix of second partial derivatives of a scalar ``f``."""
    return derivative(gradient(f, x), x)


def matrix_gradient(f: Any, A: sp.Matrix) -> sp.Matrix:
    """``∇_A f``: the matrix of partial derivatives ``∂f/∂A_ij``, of the same shape as ``A``."""
    f = _scalar(f)
    A = _variables(A, "A")
    return A.applyfunc(lambda a: sp.diff(f, a))


def frobenius_sq(E: sp.Matrix) -> sp.Expr:
    """``‖E‖_F²``, the sum of the squared entries."""
    return sum((e**2 for e in E), sp.Integer(0))


def is_zero(expr: Any) -> bool:
    """Whether a sympy expression or matrix simplifies to zero."""
    entries = expr if isinstance(expr, sp.MatrixBase) else [expr]
    return all(sp.simplify(sp.expand(e)) == 0 for e in entries)


def assert_equal(computed: Any, closed_form: Any, what: str = "expression") -> None:
    """Raise ``AssertionError`` unless ``computed - closed_form`` simplifies to zero.

    The message shows the shapes or the entries that differ, so a failing check says why.
    """
    a_matrix = isinstance(computed, sp.MatrixBase)
    if a_matrix != isinstance(closed_form, sp.MatrixBase):
        raise AssertionError(f"{what}: one side is a matrix and the other is not")
    if a_matrix and computed.shape != closed_form.shape:
        raise AssertionError(f"{what}: shapes differ, {computed.shape} vs {closed_form.shape}")
    difference = sp.expand(computed - closed_form)
    if not a_matrix:
        difference = sp.Matrix([difference])
    wrong = [(index, sp.simplify(d)) for index, d in enumerate(difference)]
    wrong = [(index, d) for index, d in wrong if d != 0]
    if wrong:
        cols = difference.shape[1]
        shown = ", ".join(f"[{i // cols},{i % cols}]: {d}" for i, d in wrong[:3])
        raise AssertionError(f"{what}: {len(wrong)} entries differ from the closed form "
                             f"(computed − closed form = {shown}{' …' if len(wrong) > 3 else ''})")


def evaluate(expr: Any, values: Mapping[Any, Any]) -> np.ndarray:
    """Evaluate ``expr`` numerically, substituting arrays for matrices of symbols.

    ``values`` maps each symbolic matrix (or single symbol) to a number or array of its shape,
    e.g. ``evaluate(grad, {x: x0, A: A0})``. Returns a float64 array of the shape of ``expr``.
    """
    substitutions: dict[sp.Symbol, float] = {}
    for key, value in values.items():
        array = finite(to_numpy(value, f"the value of {key}"), f"the value of {key}")
        if isinstance(key, sp.Symbol):
            if array.size != 1:
                raise ValueError(f"symbol {key} needs a single number, got shape {array.shape}")
            substitutions[key] = float(array.reshape(()))
            continue
        key = _variables(key, "every key of values")
        shape = key.shape
        if array.shape not in (shape, (shape[0],) if shape[1] == 1 else shape):
            raise ValueError(f"the value for a symbolic {shape[0]}×{shape[1]} matrix must have "
                             f"shape {shape}, got {array.shape}")
        for symbol, number in zip(key, array.reshape(shape).ravel().tolist(), strict=True):
            given = substitutions.setdefault(symbol, number)
            if not math.isclose(given, number, rel_tol=1e-12):
                raise ValueError(f"symbol {symbol} is given two values, {given} and {number} "
                                 "(a symmetric matrix needs a symmetric value)")
    result = (expr if isinstance(expr, sp.MatrixBase) else sp.Matrix([expr])).subs(substitutions)
    free = result.free_symbols
    if free:
        names = ", ".join(sorted(map(str, free))[:5])
        raise ValueError(f"no value given for the symbols {names}")
    out = np.array(result.evalf(), dtype=np.float64)
    return out if isinstance(expr, sp.MatrixBase) else out.reshape(())
