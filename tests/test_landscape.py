"""Tests of dlmath.landscape: the top-eigenvector objective and its stationary points."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd.functional import hessian as autograd_hessian
from torch.autograd.functional import jacobian

from dlmath import landscape

F64 = {"dtype": torch.float64}
SETTINGS = settings(max_examples=30, deadline=None)


def psd(seed: int, lam: list[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """M = V diag(λ) Vᵀ with a random orthogonal V; returns M and V."""
    g = torch.Generator().manual_seed(seed)
    V, _ = torch.linalg.qr(torch.randn(len(lam), len(lam), generator=g, **F64))
    M = V @ torch.diag(torch.tensor(lam, **F64)) @ V.T
    return (M + M.T) / 2, V


@st.composite
def spectra(draw: st.DrawFn, repeated: bool = False):
    """A seed and eigenvalues λ₁ > λ₂ ≥ … ≥ λ_d ≥ 0, gaps ≥ 0.05 between distinct ones."""
    d = draw(st.integers(1, 6))
    gaps = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.05, 2.0)) if repeated
                         else st.floats(0.05, 2.0), min_size=d, max_size=d))
    bottom = draw(st.one_of(st.just(0.0), st.floats(0.05, 1.0)))
    lam = [bottom]
    for gap in gaps[1:]:
        lam.append(lam[-1] + gap)
    lam = lam[::-1]
    if d > 1 and lam[0] - lam[1] < 0.05:                        # keep λ₁ simple
        lam[0] = lam[1] + 0.5
    if lam[0] < 0.05:
        lam[0] = 0.5
    return draw(st.integers(0, 2**31 - 1)), lam


# --- the objective and its derivatives ------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(spectra(), st.integers(0, 2**31 - 1))
def test_gradient_and_hessian_match_autograd(spectrum, seed: int) -> None:
    M, _ = psd(*spectrum)
    x = torch.randn(M.shape[0], generator=torch.Generator().manual_seed(seed), **F64)
    f = lambda v: 0.25 * ((torch.outer(v, v) - M) ** 2).sum()  # noqa: E731
    scale = 1 + float(x.norm()) ** 3 + float(M.abs().max()) * float(x.norm())
    torch.testing.assert_close(landscape.objective(M, x), f(x), rtol=1e-10, atol=1e-12 * scale)
    torch.testing.assert_close(landscape.gradient(M, x), jacobian(f, x), rtol=0,
                               atol=1e-12 * scale)
    torch.testing.assert_close(landscape.hessian(M, x), autograd_hessian(f, x), rtol=0,
                               atol=1e-12 * scale)


def test_batched_shapes() -> None:
    M, _ = psd(0, [3.0, 1.0, 0.5])
    x = torch.randn(4, 5, 3, **F64)
    assert landscape.objective(M, x).shape == (4, 5)
    assert landscape.gradient(M, x).shape == (4, 5, 3)
    assert landscape.hessian(M, x).shape == (4, 5, 3, 3)
    torch.testing.assert_close(landscape.hessian(M, x)[1, 2], landscape.hessian(M, x[1, 2]))


# --- stationary points --------------------------------------------------------------------

@SETTINGS
@given(spectra(repeated=True))
def test_stationary_points_are_stationary_with_the_stated_hessian(spectrum) -> None:
    """∇f = 0 at every representative and at random points of each sphere; the Hessian's
    eigenvalues there equal the closed form; only ±√λ₁v₁ is a minimum."""
    M, _ = psd(*spectrum)
    d = M.shape[0]
    points = landscape.stationary_points(M)
    positive = [lam for lam in spectrum[1] if lam > 1e-12]
    assert sum(p.multiplicity for p in points) == len(positive)
    g = torch.Generator().manual_seed(spectrum[0] + 1)
    for p in points:
        z = torch.randn(p.multiplicity, generator=g, **F64)
        on_sphere = p.basis @ z / z.norm() * p.lam**0.5 if p.multiplicity else torch.zeros(d, **F64)
        for x in (*p.x, on_sphere):
            assert float(landscape.gradient(M, x).norm()) < 1e-12 * (1 + p.lam) ** 1.5
            eigs = torch.linalg.eigvalsh(landscape.hessian(M, x))
            torch.testing.assert_close(eigs, p.hessian_eigenvalues, rtol=0, atol=1e-10)
    kinds = [p.kind for p in points]
    assert kinds[1] == "global minimum" and kinds.count("global minimum") == 1
    assert all(k in ("strict saddle", "local maximum") for k in kinds[:1] + kinds[2:])
    # every non-minimum has curvature λ − λ₁ < 0 along v₁
    v1 = points[1].basis[:, 0]
    for p in points[:1] + points[2:]:
        curvature = v1 @ landscape.hessian(M, p.x[0]) @ v1
        assert abs(float(curvature) - (p.lam - points[1].lam)) < 1e-10
        assert float(curvature) < 0


def test_repeated_eigenvalue_gives_a_sphere() -> None:
    M, V = psd(3, [4.0, 2.0, 2.0, 0.0])
    points = landscape.stationary_points(M)
    assert [p.multiplicity for p in points] == [0, 1, 2]
    sphere = points[2]
    assert abs(sphere.lam - 2.0) < 1e-12
    # the Hessian has a zero eigenvalue along the sphere, 2λ along x, λ − λⱼ otherwise
    torch.testing.assert_close(sphere.hessian_eigenvalues,
                               torch.tensor([-2.0, 0.0, 2.0, 4.0], **F64), rtol=0, atol=1e-10)
    assert sphere.kind == "strict saddle"
    assert points[0].kind == "strict saddle"                      # origin, λ₄ = 0: not a maximum


def test_closed_form_hessian_eigenvalues() -> None:
    lam = torch.tensor([3.0, 1.0, 0.5], **F64)
    torch.testing.assert_close(landscape.hessian_eigenvalues(lam, None),
                               torch.tensor([-3.0, -1.0, -0.5], **F64))
    torch.testing.assert_close(landscape.hessian_eigenvalues(lam, 1),
                               torch.tensor([-2.0, 0.5, 2.0], **F64))


# --- gradient descent ----------------------------------------------------------------------

@settings(max_examples=8, deadline=None)
@given(spectra())
def test_gradient_descent_finds_the_top_eigenvector(spectrum) -> None:
    M, V = psd(*spectrum)
    lam = spectrum[1]
    d = M.shape[0]
    x0 = 0.3 * torch.randn(8, d, generator=torch.Generator().manual_seed(1), **F64) / d**0.5
    eta = 0.5 / lam[0]                                            # 2λ₁η = 1 < 2
    gap = lam[0] - (lam[1] if d > 1 else 0.0)
    steps = int(40 / (eta * min(gap, lam[0])) + 200)
    x = landscape.gradient_descent(M, x0, eta, min(steps, 20000))
    target = lam[0] ** 0.5 * V[:, 0]
    err = torch.minimum((x - target).norm(dim=1), (x + target).norm(dim=1))
    assert float(err.max()) < 1e-6


def test_gradient_descent_stays_on_an_exact_saddle_and_escapes_a_perturbed_one() -> None:
    """On an exactly representable saddle (diagonal M) GD never moves; next to it, it escapes."""
    M = torch.diag(torch.tensor([3.0, 1.0], **F64))
    saddle = torch.tensor([0.0, 1.0], **F64)                      # √λ₂ e₂, exactly
    x = landscape.gradient_descent(M, saddle, 0.1, 500, trajectory=True)
    assert x.shape == (501, 2)
    assert torch.equal(x, saddle.expand(501, 2))
    # a perturbation δ along e₁ grows by 1 + η(λ₁ − λ₂) = 1.2 per step, then settles at √3 e₁
    end = landscape.gradient_descent(M, saddle + torch.tensor([1e-12, 0.0], **F64), 0.1, 500)
    torch.testing.assert_close(end, torch.tensor([3**0.5, 0.0], **F64), rtol=0, atol=1e-10)


# --- errors -------------------------------------------------------------------------------

def test_errors_say_what_was_wrong() -> None:
    M, _ = psd(0, [3.0, 1.0])
    with pytest.raises(ValueError, match="symmetric"):
        landscape.gradient(torch.tensor([[1.0, 2.0], [0.0, 1.0]], **F64), torch.ones(2, **F64))
    with pytest.raises(ValueError, match=r"positive semidefinite.*-1"):
        landscape.stationary_points(torch.diag(torch.tensor([2.0, -1.0], **F64)))
    with pytest.raises(ValueError, match=r"x must have shape.*d = 2"):
        landscape.objective(M, torch.ones(3, **F64))
    with pytest.raises(ValueError, match="square"):
        landscape.hessian(torch.ones(2, 3, **F64), torch.ones(3, **F64))
    with pytest.raises(ValueError, match="eta"):
        landscape.gradient_descent(M, torch.ones(2, **F64), -0.1, 10)
    with pytest.raises(ValueError, match="steps"):
        landscape.gradient_descent(M, torch.ones(2, **F64), 0.1, -1)
    with pytest.raises(ValueError, match=r"λ\[1\]"):
        landscape.hessian_eigenvalues([3.0, 0.0], 1)
    with pytest.raises(TypeError, match="numeric"):
        landscape.objective("M", torch.ones(2, **F64))
