"""Matrix-free linear operators, the Huber loss, and power iteration using only ``@`` and ``.T``.

Gradient descent touches the matrix ``A`` of a least-squares-type objective only through the
products ``A @ x`` and ``A.T @ y``. Any object that provides these two products and a ``shape``
can stand in for a matrix ("duck typing"). :class:`Convolution1d` is such an object: it stores a
kernel of length ``q`` instead of an ``(n − q + 1) × n`` matrix.

Conventions: ``A @ x`` follows the rules of a matrix product. A vector of shape ``(n,)`` gives
``(m,)``; an array of shape ``(..., n, p)`` is ``p`` columns (times a batch) and gives
``(..., m, p)``, exactly as ``A_dense @ X`` would. Inputs may be torch tensors (the result is a
tensor on the same device) or NumPy arrays (the result is a NumPy array).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar, overload

import numpy as np
import torch

from dlmath._validate import TensorLike, as_tensor, positive, positive_int, to_numpy

__all__ = ["Convolution1d", "LinearOperator", "PowerIteration", "huber", "huber_grad",
           "power_iteration"]

#: A tensor or a NumPy array; :func:`huber_grad` returns the kind it is given.
ArrayT = TypeVar("ArrayT", torch.Tensor, np.ndarray)


class LinearOperator:
    """A linear map ``R^n → R^m`` given by its products, with the interface of a matrix.

    Subclasses set ``shape = (m, n)`` and implement ``_forward`` and ``_adjoint``, which map a
    batch of rows ``(B, n) → (B, m)`` and ``(B, m) → (B, n)``; inputs are already validated.
    """

    shape: tuple[int, int]
    __array_ufunc__ = None  # so that ``ndarray @ operator`` calls our __rmatmul__

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def T(self) -> LinearOperator:  # noqa: N802 -- the name of a matrix's transpose
        """The transpose (adjoint) operator, ``R^m → R^n``; ``A.T.T`` is ``A``."""
        return _Transposed(self)

    @property
    def ndim(self) -> int:
        return 2

    @overload
    def __matmul__(self, x: torch.Tensor) -> torch.Tensor: ...

    @overload
    def __matmul__(self, x: np.ndarray | Sequence[Any] | float) -> np.ndarray: ...

    def __matmul__(self, x: TensorLike) -> torch.Tensor | np.ndarray:
        """``A @ x`` for a vector ``(n,)`` or columns ``(..., n, p)``, tensor or NumPy array."""
        if isinstance(x, LinearOperator):
            return NotImplemented
        as_numpy = not isinstance(x, torch.Tensor)
        t = _as_tensor(x, "the right operand of A @ x")
        m, n = self.shape
        if t.ndim == 0:
            raise ValueError(f"A @ x needs x of shape ({n},) or (..., {n}, p); got a scalar")
        rows = t.shape[0] if t.ndim == 1 else t.shape[-2]
        if rows != n:
            expected = f"({n},)" if t.ndim == 1 else f"(..., {n}, p)"
            raise ValueError(f"A @ x: A has shape {self.shape}, so x must have shape "
                             f"{expected}; got {tuple(t.shape)}")
        if t.ndim == 1:
            out = self._forward(t.unsqueeze(0)).squeeze(0)
        else:  # columns: move them to the batch, apply, move them back
            cols = t.transpose(-1, -2)                                 # (..., p, n)
            out = self._forward(cols.reshape(-1, n)).reshape(*cols.shape[:-1], m)
            out = out.transpose(-1, -2)                                # (..., m, p)
        return out.cpu().numpy() if as_numpy else out

    @overload
    def __rmatmul__(self, y: torch.Tensor) -> torch.Tensor: ...

    @overload
    def __rmatmul__(self, y: np.ndarray | Sequence[Any] | float) -> np.ndarray: ...

    def __rmatmul__(self, y: TensorLike) -> torch.Tensor | np.ndarray:
        """``y @ A`` for a row ``(m,)`` or rows ``(..., p, m)``; it equals ``(A.T @ yᵀ)ᵀ``."""
        as_numpy = not isinstance(y, torch.Tensor)
        t = _as_tensor(y, "the left operand of y @ A")
        if t.ndim == 0:
            raise ValueError(f"y @ A needs y of shape ({self.shape[0]},) or "
                             f"(..., p, {self.shape[0]}); got a scalar")
        out = self.T @ (t if t.ndim == 1 else t.transpose(-1, -2))
        out = out if out.ndim == 1 else out.transpose(-1, -2)
        return out.cpu().numpy() if as_numpy else out

    def to_dense(self) -> torch.Tensor:
        """The ``m × n`` matrix, computed column by column as ``A @ I`` (uses ``m·n`` numbers)."""
        return self @ torch.eye(self.shape[1], dtype=self.dtype, device=self.device)

    @property
    def dtype(self) -> torch.dtype:
        return torch.float64

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape})"


class _Transposed(LinearOperator):
    """The transpose of a :class:`LinearOperator`: forward and adjoint swapped."""

    def __init__(self, parent: LinearOperator) -> None:
        self.parent = parent
        self.shape = (parent.shape[1], parent.shape[0])

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.parent._adjoint(x)

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self.parent._forward(y)

    @property
    def T(self) -> LinearOperator:  # noqa: N802
        return self.parent

    @property
    def dtype(self) -> torch.dtype:
        return self.parent.dtype

    @property
    def device(self) -> torch.device:
        return self.parent.device

    def __repr__(self) -> str:
        return f"{self.parent!r}.T"


class Convolution1d(LinearOperator):
    """The "valid" cross-correlation with a kernel ``k`` of length ``q``, as an operator.

    ``(A x)_i = Σ_j k_j x_{i+j}`` for ``i = 0, …, m − 1``, ``m = n − q + 1`` (0-based), i.e.
    ``np.correlate(x, k, "valid")`` (and ``torch.nn.functional.conv1d``); the transpose is the
    full convolution ``Aᵀ y = np.convolve(y, k, "full")``, of length ``n``. Only the ``q``
    kernel entries are stored; a product costs ``O(n q)`` operations and needs no memory beyond
    its result (a sum of ``q`` shifted views of the input, accumulated in place).
    """

    def __init__(self, kernel: TensorLike, n: int) -> None:
        k = as_tensor(kernel, "kernel", dtype=torch.float64)
        if k.ndim != 1:
            raise ValueError(f"kernel must be 1-D, got shape {tuple(k.shape)}")
        if k.numel() == 0:
            raise ValueError("kernel must have at least one entry, got an empty kernel")
        n = positive_int(n, "n")
        q = k.numel()
        if n < q:
            raise ValueError(f"the input length n must be >= the kernel length q = {q}, "
                             f"got n = {n}")
        self.kernel = k                     # (q,), float64, on the device it came from
        self._taps = k.tolist()             # the same q numbers as Python floats
        self.n, self.q = n, q
        self.shape = (n - q + 1, n)

    @property
    def dtype(self) -> torch.dtype:
        return self.kernel.dtype

    @property
    def device(self) -> torch.device:
        return self.kernel.device

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        # Ax = Σ_j k_j x[j : j + m]: q shifted views of x, accumulated in place. (B, n) -> (B, m)
        m = self.shape[0]
        out = x.narrow(1, 0, m) * self._taps[0]
        for j in range(1, self.q):
            out.add_(x.narrow(1, j, m), alpha=self._taps[j])
        return out

    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        # Aᵀy: add k_j y into the window j : j + m of a zero vector, for each j. (B, m) -> (B, n)
        m = self.shape[0]
        out = torch.zeros(y.shape[0], self.n, dtype=y.dtype, device=y.device)
        for j in range(self.q):
            out.narrow(1, j, m).add_(y, alpha=self._taps[j])
        return out

    def __repr__(self) -> str:
        return f"Convolution1d(q={self.q}, n={self.n}, shape={self.shape})"


def _as_tensor(x: TensorLike, name: str) -> torch.Tensor:
    """A floating-point tensor from a tensor or anything NumPy reads; ``TypeError`` otherwise."""
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            raise TypeError(f"{name} must be real, got dtype {x.dtype}")
        return x if x.is_floating_point() else x.to(torch.float64)
    if isinstance(x, (np.ndarray, list, tuple, numbers.Real)):
        return torch.from_numpy(to_numpy(x, name))
    raise TypeError(f"{name} must be a torch tensor or a NumPy array, got {type(x).__name__}")


def _check_delta(delta: float) -> float:
    """δ must be a real number > 0; ``math.inf`` is allowed and gives the squared loss."""
    return positive(delta, "delta (math.inf gives the squared loss)", allow_inf=True)


def huber(r: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """The Huber loss ``Σᵢ h_δ(rᵢ)`` of the residuals ``r`` (summed over all entries).

    ``h_δ(r) = r²/2`` for ``|r| ≤ δ`` and ``δ(|r| − δ/2)`` otherwise: quadratic near zero, linear
    in the tails, continuously differentiable. ``delta = math.inf`` gives ``‖r‖²/2``.
    Differentiable by autograd. See Huber (1964), *Ann. Math. Statist.* 35(1).
    """
    delta = _check_delta(delta)
    if not isinstance(r, torch.Tensor):
        raise TypeError(f"r must be a torch tensor, got {type(r).__name__}")
    a = r.abs()
    if math.isinf(delta):
        return 0.5 * (r * r).sum()
    return torch.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta)).sum()


def huber_grad(r: ArrayT, delta: float = 1.0) -> ArrayT:
    """The gradient of :func:`huber` by ``r``: ``h_δ'(r) = clip(r, −δ, δ)``, entry by entry.

    Works on torch tensors and NumPy arrays (returns the same kind). ``h_δ'`` is
    non-decreasing and 1-Lipschitz, the facts behind the step-size bound of gradient descent.
    """
    delta = _check_delta(delta)
    if isinstance(r, torch.Tensor):
        return r.clamp(-delta, delta)
    if isinstance(r, np.ndarray):
        return np.clip(r, -delta, delta)
    raise TypeError(f"r must be a torch tensor or a NumPy array, got {type(r).__name__}")


class PowerIteration(NamedTuple):
    """Result of :func:`power_iteration`."""

    sigma: float                  #: the estimate of ‖A‖₂ after the last iteration
    v: torch.Tensor | np.ndarray  #: the last unit vector, estimating the top right singular vector
    history: np.ndarray           #: the estimate ‖A vₜ‖ after each iteration, t = 1, …, n_iter


def _norm(v: torch.Tensor | np.ndarray) -> float:
    return float(torch.linalg.vector_norm(v)) if isinstance(v, torch.Tensor) else float(
        np.linalg.norm(v))


def power_iteration(A: torch.Tensor | np.ndarray | LinearOperator, n_iter: int, *,
                    v0: torch.Tensor | np.ndarray | None = None, seed: int = 0) -> PowerIteration:
    """Estimate the spectral norm ``‖A‖₂`` with products ``A @ v`` and ``A.T @ u`` only.

    Power iteration on ``AᵀA``: ``v ← AᵀA v / ‖AᵀA v‖``, with the estimate ``‖A v‖`` after
    each step. ``A`` is anything with ``shape``, ``@`` and ``.T`` (a tensor, a NumPy array, a
    :class:`LinearOperator`). The estimates never exceed ``‖A‖₂`` (up to rounding) and never
    decrease; they converge from a random start ``v0`` (drawn with ``seed`` when not given).
    Checks ``A`` and ``v0`` (or draws it), and calls :func:`_power_iteration`.
    """
    n_iter = positive_int(n_iter, "n_iter")
    shape = getattr(A, "shape", None)
    if shape is None or len(shape) != 2 or not hasattr(A, "T") or not hasattr(A, "__matmul__"):
        raise TypeError("A must be matrix-like: a 2-D shape, `@` and `.T`; got "
                        f"{type(A).__name__}")
    n = int(shape[1])
    v: torch.Tensor | np.ndarray
    if v0 is None:
        generator = torch.Generator().manual_seed(seed)
        v = torch.randn(n, generator=generator, dtype=torch.float64)
        if isinstance(A, np.ndarray):
            v = v.numpy()
        else:
            v = v.to(getattr(A, "device", "cpu"))
            if isinstance(A, torch.Tensor) and A.is_floating_point():
                v = v.to(A.dtype)
    else:
        v = v0
        if not isinstance(v, (torch.Tensor, np.ndarray)):
            raise TypeError(f"v0 must be a torch tensor or a NumPy array, got {type(v).__name__}")
        if tuple(v.shape) != (n,):
            raise ValueError(f"v0 must have shape ({n},) to match A of shape {tuple(shape)}, "
                             f"got {tuple(v.shape)}")
    norm = _norm(v)
    if not norm > 0 or not math.isfinite(norm):
        raise ValueError("v0 must be a finite non-zero vector")
    return _power_iteration(A, v / norm, n_iter)


def _power_iteration(A: torch.Tensor | np.ndarray | LinearOperator, v: torch.Tensor | np.ndarray,
                     n_iter: int) -> PowerIteration:
    """``n_iter`` steps of ``v ← AᵀA v / ‖AᵀA v‖`` from the unit vector ``v``, recording ``‖A v‖``
    after each (``A`` has ``@`` and ``.T``)."""
    u = A @ v
    history = np.empty(n_iter)
    for t in range(n_iter):
        w = A.T @ u                             # AᵀA v
        w_norm = _norm(w)
        if w_norm == 0:                         # v lies in the null space of A
            history[t:] = 0.0
            break
        v = w / w_norm
        u = A @ v
        history[t] = _norm(u)                   # ‖A v‖, the current estimate of ‖A‖₂
    return PowerIteration(sigma=float(history[-1]), v=v, history=history)
