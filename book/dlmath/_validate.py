"""The input policy of dlmath: every public function checks its arguments here, once.

Public entry points validate once, at the boundary, and say what they received and what they
expected (``TypeError`` for the wrong kind of thing, ``ValueError`` for a wrong value); inner
functions trust their callers. The rules, the same in every module:

- **Arrays.** A numeric array argument is :data:`TensorLike`: a tensor, a NumPy array, a
  (nested) list or tuple, or a Python number. It is converted once, by :func:`as_tensor`, to a
  finite real floating-point tensor: float64 unless a tensor brings its own floating dtype
  (then that dtype and device are kept). Results are tensors. Booleans, complex numbers,
  non-numeric objects, NaN and infinity are rejected. Where an entry-by-entry pass would cost
  as much as the computation's own maps (inputs of the Gram matrices, a Gram matrix passed to
  a solve), finiteness is checked on what the computation reads anyway: the rows' norms, the
  symmetry pass; the error is the same.
- **Model tensors.** What is fed to a ``torch.nn.Module`` or to autograd (network inputs,
  Jacobians, parameters) must already be a tensor, checked by :func:`float_tensor` and used as
  it is (no copy, so its dtype, device and gradients stay the caller's).
- **Scalars.** A scalar is a Python (or NumPy) real number, never a ``bool``: :func:`real`
  (any finite real), :func:`positive` (``> 0``, or ``>= 0`` with ``allow_zero``),
  :func:`positive_int` (``>= 1``), :func:`nonneg_int` (``>= 0``) and :func:`index` (an index
  into a sequence, negative ones counting from the end as in Python).
- **Counts of steps** may be 0: an iteration run for 0 steps returns its start.
- **Matrix-free operators** (``dlmath.operators``) follow the rules of ``@`` instead: a NumPy
  operand gives a NumPy result, a tensor a tensor.
- **Symmetric matrices** are checked by :func:`symmetric` with one relative tolerance,
  :func:`matrix_tol` ``= √ε · max|M|`` (``ε`` of the matrix's dtype), which also decides
  definiteness and equal eigenvalues; the symmetric part ``(M + Mᵀ)/2`` is returned.
- **Singular systems raise.** A symmetric positive (semi)definite system is solved by
  Cholesky in :func:`spd_solve`; when the matrix is singular to working precision it raises
  ``ValueError`` with the advice to add a ridge ``λ > 0``, never falls back to a pseudo-inverse
  without a word.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, TypeAlias, TypeGuard

import numpy as np
import torch

__all__ = ["TensorLike", "as_tensor", "finite", "finite_entries", "float_tensor", "index",
           "is_integer", "is_number", "matrix_tol", "nonneg_int", "positive", "positive_int",
           "real", "spd_solve", "symmetric", "to_numpy"]

#: What an array argument of a public function may be (see the module's docstring).
TensorLike: TypeAlias = torch.Tensor | np.ndarray | Sequence[Any] | float


# --- arrays ------------------------------------------------------------------------------------

def to_numpy(value: Any, name: str) -> np.ndarray:
    """Return ``value`` (tensor, array, list or number) as a float64 NumPy array.

    Raises ``TypeError`` when it is not numeric.
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged lists and the like
        raise TypeError(f"{name} must be numeric, got {type(value).__name__}") from error
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got {type(value).__name__} of {array.dtype}")
    if np.iscomplexobj(array):  # astype would drop the imaginary part without a word
        raise TypeError(f"{name} must be real, got complex values ({array.dtype})")
    return array.astype(np.float64)


def as_tensor(value: TensorLike, name: str, *, dtype: torch.dtype | None = None,
              device: torch.device | None = None, finite: bool = True) -> torch.Tensor:
    """``value`` (number, list, array or tensor) as a finite, real floating-point tensor.

    The dtype is ``dtype`` if given, else the tensor's own floating dtype, else float64.
    Raises ``TypeError`` for non-numeric, boolean or complex input and ``ValueError`` for NaN
    or infinite entries. ``finite=False`` leaves the entries unchecked, for a caller that
    checks finiteness on a smaller quantity it computes anyway (a pass over a large matrix
    costs about as much as a few of its elementwise maps): :func:`finite_entries` then says
    which entries were bad.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number or tensor, got bool")
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.dtype == torch.bool:
            raise TypeError(f"{name} must be real, got a tensor of dtype {value.dtype}")
        if dtype is None:
            dtype = value.dtype if value.is_floating_point() else torch.float64
        tensor = value.detach().to(dtype=dtype, device=device or value.device)
    else:
        tensor = torch.as_tensor(to_numpy(value, name), dtype=dtype or torch.float64,
                                 device=device)
    return finite_entries(tensor, name) if finite else tensor


def finite_entries(tensor: torch.Tensor, name: str) -> torch.Tensor:
    """``tensor`` itself if every entry is finite, else ``ValueError`` saying how many are not."""
    bad = ~torch.isfinite(tensor)
    if bad.any():
        if tensor.numel() == 1:
            raise ValueError(f"{name} must be finite, got {tensor.item()!r}")
        raise ValueError(f"{name} must be finite, but {int(bad.sum())} of its {tensor.numel()} "
                         "entries are NaN or infinite")
    return tensor


def float_tensor(value: object, name: str) -> torch.Tensor:
    """``value`` itself after checking that it is a finite floating-point ``torch.Tensor``.

    For what goes into a model or autograd: no conversion and no copy.
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if not torch.isfinite(value).all():
        raise ValueError(f"{name} must be finite, but it holds NaN or infinite entries")
    return value


def finite(array: np.ndarray, name: str) -> np.ndarray:
    """Return ``array`` unchanged; raise ``ValueError`` if it holds NaN or infinity."""
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} must be finite, but {bad} of its {np.size(array)} entries are "
                         "NaN or infinite")
    return array


# --- scalars -----------------------------------------------------------------------------------

def is_number(value: object) -> TypeGuard[numbers.Real]:
    """Whether ``value`` is a real number (Python or NumPy scalar), not a ``bool``."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def real(value: object, name: str, *, allow_inf: bool = False) -> float:
    """``value`` as a float after checking that it is a real number, finite unless
    ``allow_inf`` (NaN is never allowed)."""
    if not is_number(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def positive(value: object, name: str, *, allow_zero: bool = False,
             allow_inf: bool = False) -> float:
    """Return ``value`` as a float after checking that it is a real number > 0 (or >= 0)."""
    if not is_number(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if math.isnan(number) or (math.isinf(number) and not allow_inf) or number < 0 or (
            number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        kind = "number" if allow_inf else "finite number"
        raise ValueError(f"{name} must be a {kind} {bound}, got {value!r}")
    return number


def is_integer(value: object) -> TypeGuard[numbers.Integral]:
    """Whether ``value`` is an integer (Python or NumPy), not a ``bool``."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _integer(value: object, name: str) -> int:
    if not is_integer(value):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    return int(value)


def positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int after checking that it is an integer >= 1."""
    number = _integer(value, name)
    if number < 1:
        raise ValueError(f"{name} must be >= 1, got {number}")
    return number


def nonneg_int(value: object, name: str) -> int:
    """Return ``value`` as an int after checking that it is an integer >= 0 (e.g. a number of
    steps: 0 steps return the start)."""
    number = _integer(value, name)
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {number}")
    return number


def index(value: object, name: str, size: int) -> int:
    """``value`` as an index in ``[0, size)``; as in Python, ``−size ≤ value < 0`` counts from
    the end."""
    number = _integer(value, name)
    if not -size <= number < size:
        raise ValueError(f"{name} must be an index into the {size} entries, in [0, {size}) "
                         f"(or [-{size}, 0) from the end), got {number}")
    return number % size


# --- matrices ----------------------------------------------------------------------------------

def matrix_tol(M: torch.Tensor) -> float:
    """The one tolerance for symmetry, definiteness and equal eigenvalues: ``√ε · max|M|``,
    ``ε`` the machine epsilon of ``M``'s dtype (``1.5e-8`` relative in float64)."""
    return math.sqrt(torch.finfo(M.dtype).eps) * max(float(M.abs().max()), 1e-300)


def symmetric(M: TensorLike, name: str) -> torch.Tensor:
    """``M`` as a finite, square, symmetric floating-point tensor: its symmetric part.

    Raises ``ValueError`` unless ``M`` is ``d×d`` (``d ≥ 1``) with ``max|M − Mᵀ|`` at most
    :func:`matrix_tol`; returns ``(M + Mᵀ)/2`` (a quadratic form only sees that part).
    """
    M = as_tensor(M, name)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"{name} must be a square d×d matrix with d ≥ 1, got shape "
                         f"{tuple(M.shape)}")
    asymmetry, tol = float((M - M.mT).abs().max()), matrix_tol(M)
    if asymmetry > tol:
        raise ValueError(f"{name} must be symmetric, but max|{name} − {name}ᵀ| = "
                         f"{asymmetry:.3g} exceeds {tol:.3g} (√ε · max|{name}|)")
    return (M + M.mT) / 2


def spd_solve(A: torch.Tensor, B: torch.Tensor, name: str, hint: str = "") -> torch.Tensor:
    """``A⁻¹B`` for a symmetric positive (semi)definite ``A`` (``B``: ``(n,)`` or ``(n, p)``),
    by Cholesky.

    Raises ``ValueError`` that names ``A`` (``name``), says why it may be singular (``hint``)
    and advises a ridge ``λ > 0`` when ``A`` is singular to working precision: Cholesky fails,
    or the squared ratio of its smallest to largest pivot (at least ``1/cond(A)``) is at most
    ``16·ε``: in an exactly singular matrix, rounding leaves a pivot² of a few ``ε`` times the
    largest when Cholesky does not fail outright (measured: 0.2–3 ``ε``). A constant growing
    with ``n`` would reject sound float32 systems: a Gram matrix of condition 10⁵ at n = 2000
    solves to about 1 % in float32, with a pivot ratio of 10⁻².
    """
    L, info = torch.linalg.cholesky_ex(A)
    pivots = L.diagonal().abs()
    eps = torch.finfo(A.dtype).eps
    if int(info) != 0 or float(pivots.min()) ** 2 <= 16 * eps * float(pivots.max()) ** 2:
        why = f" ({hint})" if hint else ""
        raise ValueError(f"{name} is singular to working precision{why}: add a ridge λ > 0 "
                         "(solve with A + λI)")
    return torch.cholesky_solve(B if B.ndim == 2 else B[:, None], L).reshape(B.shape)
