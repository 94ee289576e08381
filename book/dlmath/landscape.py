"""The top-eigenvector objective ``f(x) = ¼‖xxᵀ − M‖²_F`` and its stationary points.

For a symmetric positive semidefinite ``M = Σᵢ λᵢ vᵢvᵢᵀ`` (``λ₁ ≥ … ≥ λ_d ≥ 0``):

- ``∇f(x) = ‖x‖²x − Mx`` and ``∇²f(x) = ‖x‖²I + 2xxᵀ − M``;
- ``∇f(x) = 0`` iff ``x = 0`` or ``x`` lies in an eigenspace ``E_λ`` with ``λ > 0`` and
  ``‖x‖² = λ``: the points ``±√λᵢ vᵢ`` for a simple eigenvalue, a whole sphere of radius
  ``√λ`` in ``E_λ`` for a repeated one;
- the Hessian at such a point has the eigenvalues ``2λ`` (along ``x``) and ``λ − λⱼ`` (along
  the other eigenvectors ``vⱼ``); at ``x = 0`` they are ``−λⱼ``.

So when ``λ₁ > λ₂`` the global minimisers are ``±√λ₁ v₁`` and every other stationary point has
the negative curvature ``λ − λ₁`` along ``v₁`` (chapter *The top-eigenvector landscape*).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from dlmath import env
from dlmath._validate import (
    TensorLike,
    as_tensor,
    index,
    matrix_tol,
    nonneg_int,
    positive,
    symmetric,
)

__all__ = ["StationaryPoint", "gradient", "gradient_descent", "hessian", "hessian_eigenvalues",
           "objective", "stationary_points"]


# --- input checks (at the boundary) ----------------------------------------------------------

def _psd(M: TensorLike) -> torch.Tensor:
    M = symmetric(M, "M")
    lam_min = float(torch.linalg.eigvalsh(M)[0])
    if lam_min < -matrix_tol(M):
        raise ValueError(f"M must be positive semidefinite, but its smallest eigenvalue is "
                         f"{lam_min:.3g} < 0")
    return M


def _points(M: torch.Tensor, x: TensorLike) -> torch.Tensor:
    x = as_tensor(x, "x", dtype=M.dtype, device=M.device)
    if x.ndim == 0 or x.shape[-1] != M.shape[0]:
        raise ValueError(f"x must have shape (d,) or (..., d) with d = {M.shape[0]} to match M, "
                         f"got {tuple(x.shape)}")
    return x


# --- the objective, its gradient and Hessian -------------------------------------------------

def objective(M: TensorLike, x: TensorLike) -> torch.Tensor:
    """``f(x) = ¼‖xxᵀ − M‖²_F = ¼(‖x‖⁴ − 2xᵀMx + ‖M‖²_F)`` for ``x`` of shape ``(..., d)``."""
    M = symmetric(M, "M")
    x = _points(M, x)
    norm_sq = (x * x).sum(-1)
    return (norm_sq**2 - 2 * ((x @ M) * x).sum(-1) + (M * M).sum()) / 4


def gradient(M: TensorLike, x: TensorLike) -> torch.Tensor:
    """``∇f(x) = ‖x‖²x − Mx`` for ``x`` of shape ``(..., d)`` (``M`` symmetric)."""
    M = symmetric(M, "M")
    x = _points(M, x)
    return (x * x).sum(-1, keepdim=True) * x - x @ M


def hessian(M: TensorLike, x: TensorLike) -> torch.Tensor:
    """``∇²f(x) = ‖x‖²I + 2xxᵀ − M``, shape ``(..., d, d)`` for ``x`` of shape ``(..., d)``."""
    M = symmetric(M, "M")
    x = _points(M, x)
    eye = torch.eye(M.shape[0], dtype=M.dtype, device=M.device)
    norm_sq = (x * x).sum(-1)[..., None, None]
    return norm_sq * eye + 2 * x[..., :, None] * x[..., None, :] - M


# --- stationary points -------------------------------------------------------------------

def hessian_eigenvalues(lam: TensorLike, i: int | None) -> torch.Tensor:
    """The Hessian's eigenvalues at a stationary point, in increasing order, from the closed form.

    ``lam``: the eigenvalues of ``M`` (any order). ``i = None``: the point ``x = 0``, where they
    are ``−λⱼ``. ``i``: a point ``x`` in the eigenspace of ``λᵢ`` with ``‖x‖² = λᵢ > 0``, where
    they are ``2λᵢ`` (along ``x``) and ``λᵢ − λⱼ`` for the other ``d − 1`` eigenvectors.
    """
    lam = as_tensor(lam, "lam").reshape(-1)
    if lam.numel() == 0:
        raise ValueError("lam must hold the eigenvalues of M, got an empty sequence")
    if i is None:
        return (-lam).sort().values
    i = index(i, "i (None for the origin)", lam.numel())
    if lam[i] <= 0:
        raise ValueError(f"a stationary point x ≠ 0 needs λᵢ = ‖x‖² > 0, got λ[{i}] = "
                         f"{float(lam[i])!r}")
    others = torch.cat([lam[:i], lam[i + 1:]])
    return torch.cat([(2 * lam[i]).reshape(1), lam[i] - others]).sort().values


@dataclass(frozen=True)
class StationaryPoint:
    """One family of stationary points of ``f``.

    ``lam``: ``‖x‖²`` on the family (0 for the origin); ``multiplicity``: the dimension ``k`` of
    the eigenspace (the family is the sphere of radius ``√lam`` in it: two points ``±x`` when
    ``k = 1``; ``k = 0`` for the origin); ``basis``: ``(d, k)`` orthonormal basis of the
    eigenspace; ``x``: ``(2, d)``, the representatives ``±√lam · basis[:, 0]`` (one zero row for
    the origin); ``hessian_eigenvalues``: increasing, the same at every point of the family;
    ``kind``: ``"global minimum"``, ``"strict saddle"`` or ``"local maximum"``.
    """

    lam: float
    multiplicity: int
    basis: torch.Tensor
    x: torch.Tensor
    hessian_eigenvalues: torch.Tensor
    kind: str


def _kind(eigenvalues: torch.Tensor, tol: float, top: bool) -> str:
    if float(eigenvalues[0]) > tol:
        return "global minimum"
    if float(eigenvalues[0]) < -tol:
        return "local maximum" if float(eigenvalues[-1]) < -tol else "strict saddle"
    # no negative curvature: only the top eigenspace (a sphere of minima when λ₁ is repeated)
    return "global minimum" if top else "degenerate"


def stationary_points(M: TensorLike) -> list[StationaryPoint]:
    """Every stationary point of ``f`` for a symmetric PSD ``M``, as families (see the class).

    The origin first, then one family per distinct positive eigenvalue, largest first.
    Eigenvalues closer than ``√ε · max|M|`` count as equal (a repeated eigenvalue).
    """
    M = _psd(M)
    lam, V = torch.linalg.eigh(M)
    lam, V = lam.flip(0), V.flip(1)                              # decreasing
    tol = matrix_tol(M)
    d = M.shape[0]
    origin_eigs = hessian_eigenvalues(lam, None)
    points = [StationaryPoint(0.0, 0, V[:, :0], torch.zeros(1, d, dtype=M.dtype, device=M.device),
                              origin_eigs, _kind(origin_eigs, tol, top=False))]
    start = 0
    while start < d and float(lam[start]) > tol:
        stop = start + 1
        while stop < d and float(lam[start] - lam[stop]) <= tol:
            stop += 1
        group = lam[start:stop].mean()
        lam_group = lam.clone()
        lam_group[start:stop] = group                             # exact ties inside the group
        eigs = hessian_eigenvalues(lam_group, start)
        basis = V[:, start:stop]
        x = math.sqrt(float(group)) * torch.stack([basis[:, 0], -basis[:, 0]])
        points.append(StationaryPoint(float(group), stop - start, basis, x, eigs,
                                      _kind(eigs, tol, top=start == 0)))
        start = stop
    return points


# --- gradient descent --------------------------------------------------------------------

def gradient_descent(M: TensorLike, x0: TensorLike, eta: float, steps: int, *,
                     trajectory: bool = False) -> torch.Tensor:
    """``steps`` steps of ``x ← x − η(‖x‖²x − Mx)`` from every row of ``x0`` at once.

    ``x0``: ``(d,)`` or ``(n_starts, d)``. ``f`` is quartic, so no step is stable everywhere:
    near the minimisers the Hessian's largest eigenvalue is ``2λ₁``, so take ``η < 1/λ₁``
    and starts with ``η‖x₀‖² < 1``. Returns the final iterates, or all ``steps + 1`` of them
    stacked in a leading axis with ``trajectory=True``. Checks its arguments and calls
    :func:`_descend`.
    """
    M = symmetric(M, "M")
    x = _points(M, x0)
    eta = positive(eta, "eta")
    steps = nonneg_int(steps, "steps")
    # tiny tensors: one CPU thread, as in dlmath.optim (waking a second thread costs more)
    with env.one_thread(x.numel() * M.shape[0] < env.SMALL_WORK and x.device.type == "cpu"):
        return _descend(M, x, eta, steps, trajectory)


def _descend(M: torch.Tensor, x: torch.Tensor, eta: float, steps: int,
             trajectory: bool) -> torch.Tensor:
    """``x ← x − η(‖x‖²x − Mx)`` on every row of ``x`` (shape ``(..., d)``) at once."""
    path = [x]
    for _ in range(steps):
        x = x - eta * ((x * x).sum(-1, keepdim=True) * x - x @ M)   # row i: ∇f(xᵢ)ᵀ
        if trajectory:
            path.append(x)
    return torch.stack(path) if trajectory else x
