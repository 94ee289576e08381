"""Tests of dlmath.check: the verdicts and the diagnoses they give."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dlmath import check, symbolic

E = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (2, 3)
Q = np.array([[1.0, 2.0], [3.0, 4.0]])            # square, not symmetric


def not_yet(verdict: check.Verdict, *reasons: str) -> None:
    """Assert a negative verdict whose message names every one of ``reasons``."""
    assert not verdict and verdict.ok is False
    assert str(verdict).startswith("✘ Not yet: ")
    for reason in reasons:
        assert reason in verdict.message, verdict.message


def correct(verdict: check.Verdict, *reasons: str) -> None:
    assert verdict and verdict.ok is True
    assert str(verdict).startswith("✔ Correct: ")
    for reason in reasons:
        assert reason in verdict.message, verdict.message


# --- Verdict -------------------------------------------------------------------------------

@pytest.mark.parametrize(("ok", "prefix"), [(True, "✔ Correct: "), (False, "✘ Not yet: ")])
def test_verdict_is_truthy_iff_ok_and_prints_its_reason(ok: bool, prefix: str) -> None:
    verdict = check.Verdict(ok, "because")
    assert bool(verdict) is ok
    assert str(verdict) == repr(verdict) == prefix + "because"
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.ok = not ok  # type: ignore[misc]


# --- close ---------------------------------------------------------------------------------

@pytest.mark.parametrize("answer", [E, E.tolist(), torch.tensor(E), torch.tensor(E).float(),
                                    E + 1e-12])
def test_close_says_correct_for_a_match(answer: object) -> None:
    correct(check.close(answer, E), "your answer matches to rtol=1e-08 and atol=1e-10")


def test_close_names_only_the_tolerances_in_use() -> None:
    assert str(check.close(E + 0.1, E, rtol=0, atol=0.15)).endswith("matches to atol=0.15")


@pytest.mark.parametrize(("answer", "expected", "reasons"), [
    (E.T, E, ["is the transpose of the expected (2, 3) array", "layout convention"]),
    (Q.T, Q, ["is the transpose of the expected matrix"]),
    (-E, E, ["is -1 times the expected value", "the sign is flipped"]),
    (2 * E, E, ["is 2 times the expected value", "an extra factor 2"]),
    (E / 2, E, ["is 0.5 times the expected value", "a missing factor 2"]),
    (3 * E, E, ["is 3 times the expected value"]),
    (E[:, :2], E, ["has shape (2, 2), expected (2, 3)"]),
    (E.ravel(), E, ["has shape (6,), expected (2, 3)"]),
    (np.ones((3, 1)), np.ones(3), ["has shape (3, 1), expected (3,)"]),
    (np.array([1.0, np.nan]), np.ones(2), ["contains NaN or infinite entries"]),
    (np.array([np.inf, 1.0]), np.ones(2), ["contains NaN or infinite entries"]),
    ("1, 2", np.ones(2), ["must be numeric, got str"]),
    ([1, [2, 3]], np.ones(2), ["must be numeric, got list"]),
    (np.array([True, False]), np.ones(2), ["must be numeric, got ndarray of bool"]),
    (np.array([1 + 2j, 1]), np.ones(2), ["must be real, got complex"]),
    (E + [[0, 0, 0], [0, 1, 0]], E, ["differs from the expected value",
                                     "at index (1, 1): 6 instead of 5"]),
    (np.ones(2), np.zeros(2), ["at index (0,): 1 instead of 0"]),
    (3.0, 2.0, ["is 1.5 times the expected value"]),
])
def test_close_names_the_likely_mistake(answer: object, expected: np.ndarray,
                                        reasons: list[str]) -> None:
    not_yet(check.close(answer, expected), *reasons)


def test_close_gives_no_hint_for_other_factors() -> None:
    assert "(" not in check.close(3 * E, E).message


def test_close_uses_the_given_name_and_tolerances() -> None:
    not_yet(check.close(2 * E, E, name="∇f"), "∇f is 2 times")
    slightly_off = E * (1 + 1e-6) + [[0, 1e-6, 0], [0, 0, 0]]
    not_yet(check.close(slightly_off, E), "differs")
    correct(check.close(slightly_off, E, rtol=1e-5), "rtol=1e-05")
    correct(check.close([1e-9], [0.0], atol=1e-8))


small_ints = st.integers(-9, 9).map(float)


@settings(max_examples=20, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3)), elements=small_ints),
       st.sampled_from([(2.0, "an extra factor 2"), (0.5, "a missing factor 2"),
                        (-1.0, "the sign is flipped")]))
def test_close_recognises_factors_of_any_matrix(expected: np.ndarray, factor: tuple) -> None:
    assume(expected.any())
    c, hint = factor
    correct(check.close(expected.copy(), expected))
    not_yet(check.close(c * expected, expected), f"is {c:g} times", hint)


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 4).flatmap(lambda n: arrays(np.float64, (n, n), elements=small_ints)))
def test_close_recognises_the_transpose_of_any_square_matrix(expected: np.ndarray) -> None:
    # Aᵀ = cA forces c = ±1: symmetric (a match) or antisymmetric (a sign flip).
    assume(not np.array_equal(expected.T, expected) and not np.array_equal(expected.T, -expected))
    not_yet(check.close(expected.T, expected), "is the transpose of the expected matrix")


def test_close_accepts_one_zero_tolerance() -> None:
    assert check.close([1.0], [1.0 + 1e-12], rtol=0, atol=1e-11)
    assert not check.close([1.0], [1.0 + 1e-12], rtol=1e-13, atol=0)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"expected": [1.0, np.nan]}, ValueError,
     "expected must be finite, but 1 of its 2 entries are NaN or infinite"),
    ({"expected": [np.inf]}, ValueError, "expected must be finite"),
    ({"expected": "abc"}, TypeError, "expected must be numeric, got str"),
    ({"expected": [1j]}, TypeError, "expected must be real, got complex"),
    ({"rtol": 0, "atol": 0}, ValueError, "rtol and atol cannot both be 0"),
    ({"rtol": -1e-8}, ValueError, "rtol must be a finite number >= 0"),
    ({"atol": np.nan}, ValueError, "atol must be a finite number >= 0, got nan"),
    ({"atol": "1e-8"}, TypeError, "atol must be a real number, got str"),
])
def test_close_rejects_a_bad_expected_value_or_tolerance(kwargs: dict, error: type[Exception],
                                                         message: str) -> None:
    arguments = {"answer": [1.0], "expected": [1.0]} | kwargs
    with pytest.raises(error, match=message):
        check.close(**arguments)


# --- gradient ------------------------------------------------------------------------------

def least_squares(A: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """½‖Ax − b‖²."""
    return 0.5 * ((A @ x - b) ** 2).sum()


ARGS = [torch.zeros(4, 3), torch.zeros(4), torch.zeros(3)]  # only the shapes matter


def grad_x(A: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return A.T @ (A @ x - b)


def grad_A(A: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.outer(A @ x - b, x)


@pytest.mark.parametrize(("candidate", "wrt"), [
    (grad_x, 2),
    (lambda A, b, x: (A @ x - b) @ A, 2),       # the same, written as a row times a matrix
    (lambda A, b, x: grad_x(A, b, x).numpy(), 2),  # NumPy answers are fine
    (grad_A, 0),
    (lambda A, b, x: b - A @ x, 1),
])
def test_gradient_accepts_a_correct_gradient(candidate, wrt: int) -> None:
    correct(check.gradient(candidate, least_squares, ARGS, wrt=wrt),
            "your gradient matches autograd at 3 random points (rtol=1e-08)")


@pytest.mark.parametrize(("candidate", "wrt", "reasons"), [
    (lambda A, b, x: -grad_x(A, b, x), 2, ["the sign is flipped"]),
    (lambda A, b, x: 2 * grad_x(A, b, x), 2, ["an extra factor 2"]),
    (lambda A, b, x: grad_x(A, b, x) / 2, 2, ["a missing factor 2"]),
    (lambda A, b, x: grad_A(A, b, x).T, 0, ["transpose of the expected (4, 3) array"]),
    (lambda A, b, x: grad_x(A, b, x)[:, None], 2, ["has shape (3, 1), expected (3,)"]),
    (lambda A, b, x: A.T @ (A @ x + b), 2, ["differs from the expected value"]),
    (lambda A, b, x: grad_x(A, b, x) * torch.nan, 2, ["NaN"]),
    (lambda A, b, x: "A.T @ (A @ x - b)", 2, ["your gradient must be numeric"]),
])
def test_gradient_rejects_a_wrong_gradient_with_a_diagnosis(candidate, wrt: int,
                                                            reasons: list[str]) -> None:
    not_yet(check.gradient(candidate, least_squares, ARGS, wrt=wrt), "at random point 1: ",
            *reasons)


@pytest.mark.parametrize(("candidate", "reason"), [
    (lambda A, b, x: 1 / 0, "your function raised ZeroDivisionError: division by zero"),
    (lambda A, b, x: A @ A, "your function raised RuntimeError: "),
    (lambda A, x: x, "your function raised TypeError: "),
])
def test_gradient_reports_a_candidate_that_raises(candidate, reason: str) -> None:
    not_yet(check.gradient(candidate, least_squares, ARGS, wrt=2), reason)


def test_gradient_finds_a_mistake_that_shows_only_at_some_points() -> None:
    """|x| is the gradient of ½‖x‖² wherever x ≥ 0, so some random point must expose it."""
    verdict = check.gradient(lambda x: x.abs(), lambda x: 0.5 * (x**2).sum(), [torch.zeros(6)],
                             trials=5)
    not_yet(verdict, "at random point ")


def test_gradient_draws_reproducible_float64_points_and_keeps_numbers() -> None:
    seen: list[tuple[torch.Tensor, float]] = []

    def candidate(x: torch.Tensor, lam: float) -> torch.Tensor:
        seen.append((x.clone(), lam))
        return lam * x

    def ridge(x: torch.Tensor, lam: float) -> torch.Tensor:
        return lam / 2 * (x**2).sum()

    for seed in (3, 3, 4):
        correct(check.gradient(candidate, ridge, [np.zeros((2, 2)), 0.1], trials=2, seed=seed))
    assert len(seen) == 6
    assert all(x.dtype == torch.float64 and x.shape == (2, 2) and lam == 0.1 for x, lam in seen)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(seen[:2], seen[2:4], strict=True))
    assert not torch.equal(seen[0][0], seen[1][0])  # a new point at every trial
    assert not torch.equal(seen[0][0], seen[4][0])  # another seed, other points


def test_gradient_passes_its_tolerance_on() -> None:
    def off(x: torch.Tensor) -> torch.Tensor:
        return x * (1 + 1e-6 * torch.sign(x))

    def half_square(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x**2).sum()

    not_yet(check.gradient(off, half_square, [torch.zeros(3)]))
    correct(check.gradient(off, half_square, [torch.zeros(3)], rtol=1e-5), "rtol=1e-05")


@pytest.mark.parametrize(("candidate", "args", "kwargs", "error", "message"), [
    (grad_x, ARGS, {"wrt": 3}, ValueError, "wrt=3 does not index one of the 3 arguments"),
    (grad_x, ARGS, {"wrt": -1}, ValueError, "wrt=-1 does not index one of the 3 arguments"),
    (grad_x, [torch.zeros(2), 1.0], {"wrt": 1}, TypeError,
     "argument 1 must be a tensor or array to differentiate by it"),
    ("A.T @ (A @ x - b)", ARGS, {}, TypeError, "candidate and loss must be functions"),
    (grad_x, ARGS, {"trials": 0}, ValueError, "trials must be >= 1, got 0"),
    (grad_x, ARGS, {"trials": 2.0}, TypeError, "trials must be an integer, got float"),
    (grad_x, ARGS, {"wrt": 2, "rtol": -1.0}, ValueError, "rtol must be a finite number >= 0"),
])
def test_gradient_rejects_bad_arguments(candidate, args: list, kwargs: dict,
                                        error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        check.gradient(candidate, least_squares, args, **kwargs)


# --- expression ----------------------------------------------------------------------------

x, b = symbolic.vector("x", 2), symbolic.vector("b", 3)
W = symbolic.matrix("W", 3, 2)
t = sp.Symbol("t", real=True)
LOSS = symbolic.frobenius_sq(W * x - b) / 2
GRAD_X = W.T * (W * x - b)      # (2, 1)
GRAD_W = (W * x - b) * x.T      # (3, 2)
HESS = W.T * W                  # (2, 2), symmetric
M = sp.Matrix([[1, t], [0, 1]])  # (2, 2), not symmetric


@pytest.mark.parametrize(("answer", "expected"), [
    (GRAD_X, GRAD_X),
    (symbolic.gradient(LOSS, x), GRAD_X),
    (symbolic.matrix_gradient(LOSS, W), GRAD_W),
    (symbolic.hessian(LOSS, x), HESS),
    (sp.sin(t) ** 2, 1 - sp.cos(t) ** 2),
    (sp.Integer(0), sp.Integer(0)),
])
def test_expression_says_correct_for_equal_closed_forms(answer: sp.Basic,
                                                        expected: sp.Basic) -> None:
    correct(check.expression(answer, expected), "your expression equals the closed form")


@pytest.mark.parametrize(("answer", "expected", "reasons"), [
    (-GRAD_X, GRAD_X, ["has the wrong sign"]),
    (2 * GRAD_X, GRAD_X, ["is 2 times the expected one (an extra factor 2?)"]),
    (GRAD_X / 2, GRAD_X, ["is 1/2 times the expected one (a missing factor 2?)"]),
    (2 * t**2, t**2, ["is 2 times"]),
    (GRAD_W.T, GRAD_W, ["is the transpose of what was asked", "layout convention"]),
    (GRAD_X.T, GRAD_X, ["is the transpose of what was asked"]),
    (M.T, M, ["is the transpose of the expected matrix"]),
    (W.T * (W * x + b), GRAD_X, ["differs from the expected one by Matrix([[2*W_11*b_1"]),
    (GRAD_X + sp.Matrix([0, 1]), GRAD_X, ["differs from the expected one by Matrix([[0], [1]])"]),
    (t + 1, t, ["differs from the expected one by 1"]),
    (sp.Matrix([1, 2, 3]), GRAD_X, ["has shape (3, 1), expected (2, 1)"]),
    (LOSS, GRAD_X, ["should be a matrix"]),
    (GRAD_X, LOSS, ["should be a scalar"]),
    (3, t, ["must be a sympy expression or Matrix, got int"]),
    ("W.T * (W * x - b)", GRAD_X, ["must be a sympy expression or Matrix, got str"]),
])
def test_expression_names_the_likely_mistake(answer: object, expected: sp.Basic,
                                             reasons: list[str]) -> None:
    not_yet(check.expression(answer, expected), *reasons)


def test_expression_uses_the_given_name() -> None:
    not_yet(check.expression(-t, t, name="∂f/∂t"), "∂f/∂t has the wrong sign")


@pytest.mark.parametrize("expected", [3, "t", np.eye(2), None])
def test_expression_rejects_an_expected_value_that_is_not_sympy(expected: object) -> None:
    with pytest.raises(TypeError, match="expected must be a sympy expression or Matrix, got"):
        check.expression(t, expected)


def test_exercise_asks_the_key_of_its_label_with_the_given_data() -> None:
    xi = sp.Symbol("xi")
    assert check.exercise("ex-cos-price", sp.exp(-1) * sp.cosh(xi), xi=xi)
    verdict = check.exercise("ex-cubic-dual", 15 * xi**3, xi=xi)
    assert not verdict and "He₁" in verdict.message


def test_exercise_says_not_yet_to_the_placeholder() -> None:
    verdict = check.exercise("ex-cos-price", ..., xi=sp.Symbol("xi"))
    assert not verdict and "`...`" in verdict.message


def test_exercise_rejects_an_unknown_label() -> None:
    with pytest.raises(KeyError, match="ex-cos-price"):
        check.exercise("ex-no-such-exercise", 1.0)


def test_a_label_has_one_key() -> None:
    check.exercise("ex-cos-price", ..., xi=sp.Symbol("xi"))  # the keys are loaded
    with pytest.raises(ValueError, match="already"):
        check.key("ex-cos-price")(lambda answer: check.Verdict(True, ""))


def test_call_reports_what_the_readers_function_did() -> None:
    assert check.call(lambda x: 2 * x, 3) == (6, None)
    value, failed = check.call(lambda x: 1 / x, 0)
    assert value is None and not failed and "ZeroDivisionError" in failed.message
    value, failed = check.call(None, 0)
    assert value is None and not failed and "NoneType" in failed.message


@pytest.mark.parametrize(("answer", "reason"), [(None, "NoneType"), ("x", "str"),
                                                 (float("nan"), "not finite")])
def test_number_says_why_an_answer_is_not_a_number(answer, reason) -> None:
    verdict = check.number(answer, "your step")
    assert not verdict and reason in verdict.message and "your step" in verdict.message


def test_number_accepts_numbers_of_any_kind() -> None:
    assert check.number(np.float32(0.5)) == 0.5 and check.number(torch.tensor(2)) == 2.0
