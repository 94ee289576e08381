"""Exercise checkers: each returns a :class:`Verdict` that says right or wrong, and why.

A reader checks an exercise by its label, e.g. ``check.exercise("ex-cos-price", your_dual,
xi=xi)``, and sees at once whether the answer matches, and if not, the most likely reason (a
transpose, a sign, a missing factor ½, a wrong shape). The answer keys are kept in
:mod:`dlmath.answers`, out of the page. They compare with the functions here: :func:`close` for
numbers, :func:`gradient` for a hand-derived gradient against autograd, :func:`expression` for
sympy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import sympy as sp
import torch

from dlmath._validate import finite, positive, positive_int, to_numpy
from dlmath.symbolic import is_zero


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``ok`` and a message that explains it. Truthy iff ``ok``."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return ("✔ Correct: " if self.ok else "✘ Not yet: ") + self.message

    def __repr__(self) -> str:
        return str(self)


#: An answer key: the reader's answer and the exercise's data (by name) to a verdict.
Key = Callable[..., Verdict]
#: The answer keys by exercise label, filled in by :mod:`dlmath.answers` through :func:`key`.
KEYS: dict[str, Key] = {}
#: For each label, text that would give the answer away if it appeared in the exercise's cell.
LEAKS: dict[str, tuple[str, ...]] = {}


def key(label: str, *, leaks: Sequence[str] = ()) -> Callable[[Key], Key]:
    """Register the decorated function as the answer key of the exercise ``label``.

    ``leaks`` are the forms of the expected answer (code, as a reader would type it) that the
    cell a reader edits must not contain; the tests check it.
    """
    def register(function: Key) -> Key:
        if label in KEYS:
            raise ValueError(f"the exercise {label!r} has an answer key already")
        KEYS[label], LEAKS[label] = function, tuple(leaks)
        return function
    return register


def call(function: Any, *args: Any) -> tuple[Any, Verdict | None]:
    """``(function(*args), None)``, or ``(None, verdict)`` with a negative verdict that says why
    when ``function`` is not a function or raises: a key reports the reader's error, never
    raises it."""
    if not callable(function):
        return None, Verdict(False, f"your answer must be a function, got "
                                    f"{type(function).__name__}")
    try:
        return function(*args), None
    except Exception as error:  # the reader's code: report, don't crash
        return None, Verdict(False, f"your function raised {type(error).__name__}: {error}")


def number(answer: Any, name: str = "your answer") -> float | Verdict:
    """``answer`` as a finite float, or a negative verdict that says why it is not one."""
    try:
        value = float(answer)
    except (TypeError, ValueError, RuntimeError):  # RuntimeError: torch, on some tensors
        return Verdict(False, f"{name} must be a number, got {type(answer).__name__}")
    return value if math.isfinite(value) else Verdict(False, f"{name} is not finite")


def exercise(label: str, answer: Any, /, **given: Any) -> Verdict:
    """Check ``answer`` to the exercise labelled ``label`` in the book.

    ``given`` are the exercise's data that the answer is checked on, by the names the exercise
    uses (its matrices, symbols, seed); the exercise's cell shows which. An answer still ``...``
    is "not yet".
    """
    from dlmath import answers  # noqa: F401  (the keys use this module, so they load on use)

    if label not in KEYS:
        raise KeyError(f"no exercise is labelled {label!r}; the labels are {sorted(KEYS)}")
    if answer is Ellipsis:
        return Verdict(False, "replace `...` by your answer")
    return KEYS[label](answer, **given)


class Tolerance(TypedDict):
    """The tolerances of :func:`close`, to pass as ``**tolerance``."""

    rtol: float
    atol: float


def _factor_hint(c: float) -> str:
    for ratio, hint in ((2.0, " (an extra factor 2?)"), (0.5, " (a missing factor 2, or "
                        "an extra ½?)"), (-1.0, " (the sign is flipped)")):
        if np.isclose(c, ratio):
            return hint
    return ""


def close(answer: Any, expected: Any, *, name: str = "your answer", rtol: float = 1e-8,
          atol: float = 1e-10) -> Verdict:
    """Compare a numeric ``answer`` with the ``expected`` value, entry by entry.

    ``expected`` must be finite and numeric (``ValueError``/``TypeError`` otherwise); a
    malformed ``answer`` gives a negative verdict that says what is wrong with it.
    """
    expected = finite(to_numpy(expected, "expected"), "expected")
    rtol = positive(rtol, "rtol", allow_zero=True)
    atol = positive(atol, "atol", allow_zero=True)
    if rtol == atol == 0:
        raise ValueError("rtol and atol cannot both be 0: give a tolerance for rounding")
    if answer is None:
        return Verdict(False, f"{name} is None: did the function forget to `return` a value?")
    try:
        answer = to_numpy(answer, name)
    except TypeError as error:
        return Verdict(False, str(error))
    if answer.shape != expected.shape:
        if answer.shape == expected.T.shape and np.allclose(answer.T, expected, rtol, atol):
            return Verdict(False, f"{name} is the transpose of the expected {expected.shape} "
                                  "array (check the layout convention)")
        return Verdict(False, f"{name} has shape {answer.shape}, expected {expected.shape}")
    if not np.all(np.isfinite(answer)):
        return Verdict(False, f"{name} contains NaN or infinite entries")
    if np.allclose(answer, expected, rtol, atol):
        tolerance = " and ".join(f"{k}={v:g}" for k, v in (("rtol", rtol), ("atol", atol)) if v)
        return Verdict(True, f"{name} matches to {tolerance}")
    if np.allclose(answer, 0, rtol, atol):
        return Verdict(False, f"{name} is zero everywhere")
    norm_sq = float(np.vdot(expected, expected))
    if norm_sq > 0:
        c = float(np.vdot(answer, expected)) / norm_sq
        if abs(c - 1) > 1e-3 and np.allclose(answer, c * expected, rtol, atol):
            return Verdict(False, f"{name} is {c:.4g} times the expected value{_factor_hint(c)}")
    if answer.ndim == 2 and answer.shape[0] == answer.shape[1] and np.allclose(
            answer.T, expected, rtol, atol):
        return Verdict(False, f"{name} is the transpose of the expected matrix")
    worst = np.unravel_index(np.argmax(np.abs(answer - expected)), answer.shape)
    return Verdict(False, f"{name} differs from the expected value; the largest difference is "
                          f"at index {tuple(int(i) for i in worst)}: {answer[worst]:.6g} instead "
                          f"of {expected[worst]:.6g}")


def gradient(candidate: Callable[..., Any], loss: Callable[..., torch.Tensor],
             args: Sequence[Any], *, wrt: int = 0, trials: int = 3, seed: int = 0,
             rtol: float = 1e-8) -> Verdict:
    """Check a hand-derived gradient ``candidate(*args)`` against autograd of ``loss(*args)``.

    Each tensor or array in ``args`` is redrawn from N(0, 1) in float64 with its shape at every
    trial; numbers are passed unchanged. ``wrt`` picks the argument to differentiate by.
    """
    if not callable(candidate) or not callable(loss):
        raise TypeError("candidate and loss must be functions")
    if not 0 <= wrt < len(args):
        raise ValueError(f"wrt={wrt} does not index one of the {len(args)} arguments")
    if not hasattr(args[wrt], "shape"):
        raise TypeError(f"argument {wrt} must be a tensor or array to differentiate by it")
    positive_int(trials, "trials")
    generator = torch.Generator().manual_seed(seed)
    for trial in range(1, trials + 1):
        point = [torch.randn(tuple(a.shape), generator=generator, dtype=torch.float64)
                 if hasattr(a, "shape") else a for a in args]
        variable = point[wrt].requires_grad_(True)
        (expected,) = torch.autograd.grad(loss(*point), variable)
        variable.requires_grad_(False)
        answer, failed = call(candidate, *point)
        if failed is not None:
            return failed
        verdict = close(answer, expected, name="your gradient", rtol=rtol)
        if not verdict:
            return Verdict(False, f"at random point {trial}: {verdict.message}")
    return Verdict(True, f"your gradient matches autograd at {trials} random points "
                         f"(rtol={rtol:g})")


def expression(answer: Any, expected: Any, *, name: str = "your expression") -> Verdict:
    """Compare a sympy ``answer`` with the ``expected`` expression or matrix exactly."""
    if not isinstance(expected, (sp.Expr, sp.MatrixBase)):
        raise TypeError(f"expected must be a sympy expression or Matrix, "
                        f"got {type(expected).__name__}")
    if not isinstance(answer, (sp.Expr, sp.MatrixBase)):
        return Verdict(False, f"{name} must be a sympy expression or Matrix, "
                              f"got {type(answer).__name__}")
    if isinstance(answer, sp.MatrixBase) != isinstance(expected, sp.MatrixBase):
        kind = "a matrix" if isinstance(expected, sp.MatrixBase) else "a scalar"
        return Verdict(False, f"{name} should be {kind}")
    if isinstance(expected, sp.MatrixBase) and answer.shape != expected.shape:
        if answer.shape == expected.T.shape and is_zero(answer.T - expected):
            return Verdict(False, f"{name} is the transpose of what was asked "
                                  "(check the layout convention)")
        return Verdict(False, f"{name} has shape {answer.shape}, expected {expected.shape}")
    if is_zero(answer - expected):
        return Verdict(True, f"{name} equals the closed form")
    if is_zero(answer + expected):
        return Verdict(False, f"{name} has the wrong sign")
    for c, hint in ((2, "an extra factor 2"), (sp.Rational(1, 2), "a missing factor 2")):
        if is_zero(answer - c * expected):
            return Verdict(False, f"{name} is {c} times the expected one ({hint}?)")
    if isinstance(expected, sp.MatrixBase) and expected.is_square and is_zero(answer.T - expected):
        return Verdict(False, f"{name} is the transpose of the expected matrix")
    return Verdict(False, f"{name} differs from the expected one by "
                          f"{sp.simplify(answer - expected)}")
