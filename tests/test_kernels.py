"""Tests of dlmath.kernels: closed-form duals against Monte Carlo and Gauss–Hermite quadrature,
properties of duals and Gram matrices, kernel regression, and input validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import integrate

from dlmath import kernels

# (name, parameters, E φ(u)⁴) — the fourth moment bounds Var(φ(u)φ(v)) ≤ E φ(u)⁴ (Cauchy–Schwarz),
# which sets the Monte Carlo tolerance.
CASES = [
    ("identity", {}, 3.0),
    ("exp", {"C": 0.7}, math.exp(4 * 0.7**2)),  # E e^{−4C²+4Cu} = e^{4C²}
    ("sin", {}, 1.0),
    ("cos", {}, 1.0),
    ("relu", {}, 1.5),
    ("step", {}, 0.5),
    ("erf", {"a": 1.3}, 1.0),
]
IDS = [c[0] for c in CASES]
XI = torch.linspace(-1, 1, 41, dtype=torch.float64)

# Gauss–Hermite error at 64 nodes per axis: spectral for smooth φ, slow at relu's kink and
# step's jump (measured: ≈ 2e-3 and 8e-3), so those get loose tolerances.
QUAD_TOL = {"identity": 1e-12, "exp": 1e-12, "sin": 1e-12, "cos": 1e-12, "erf": 1e-8,
            "relu": 5e-3, "step": 4e-2}


def second_moment(name: str, params: dict) -> float:
    """E φ(u)², u ~ N(0, 1), by adaptive 1-D quadrature (exact values for relu and step)."""
    if name in ("relu", "step"):
        return 0.5
    phi = kernels.activation(name, **params)

    def integrand(z: float) -> float:
        return float(phi(torch.tensor(z, dtype=torch.float64))) ** 2 * math.exp(-z * z / 2)

    value, _ = integrate.quad(integrand, -40, 40, epsabs=1e-13, epsrel=1e-12, limit=200)
    return value / math.sqrt(2 * math.pi)


@pytest.mark.parametrize(("name", "params", "m4"), CASES, ids=IDS)
def test_closed_form_matches_monte_carlo(name, params, m4):
    width = 100_000
    g = torch.Generator().manual_seed(1)
    estimate = kernels.dual_monte_carlo(name, XI, width=width, generator=g, **params)
    tol = 5 * math.sqrt(m4 / width)  # five standard errors
    torch.testing.assert_close(estimate, kernels.dual(name, XI, **params), rtol=0, atol=tol)


@pytest.mark.parametrize(("name", "params", "m4"), CASES, ids=IDS)
def test_closed_form_matches_quadrature(name, params, m4):
    estimate = kernels.dual_quadrature(name, XI, order=64, **params)
    torch.testing.assert_close(estimate, kernels.dual(name, XI, **params), rtol=0,
                               atol=QUAD_TOL[name])


def test_quadrature_is_poor_at_the_kink_but_converges():
    exact = kernels.dual_relu(XI)
    errors = [float((kernels.dual_quadrature("relu", XI, order=n) - exact).abs().max())
              for n in (16, 64)]
    assert errors[0] > 1e-3 and errors[1] < errors[0] / 3


params_strategy = {
    "exp": st.fixed_dictionaries({"C": st.floats(-1.5, 1.5)}),
    "erf": st.fixed_dictionaries({"a": st.floats(0.1, 3.0)}),
}


def name_and_params():
    return st.sampled_from(list(kernels.ACTIVATIONS)).flatmap(
        lambda n: st.tuples(st.just(n), params_strategy.get(n, st.just({}))))


@settings(max_examples=25, deadline=None)
@given(name_and_params())
def test_dual_at_one_is_the_second_moment(case):
    name, params = case
    value = float(kernels.dual(name, 1.0, **params))
    assert value == pytest.approx(second_moment(name, params), rel=1e-10, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(name_and_params())
def test_dual_is_non_decreasing_and_convex_on_zero_one(case):
    name, params = case
    xi = torch.linspace(0, 1, 201, dtype=torch.float64)
    k = kernels.dual(name, xi, **params)
    scale = max(1.0, float(k.abs().max()))
    assert float(torch.diff(k).min()) >= -1e-12 * scale
    assert float(torch.diff(k, n=2).min()) >= -1e-12 * scale


def test_sine_dual_is_concave_on_minus_one_zero():
    xi = torch.linspace(-1, 0, 101, dtype=torch.float64)
    assert float(torch.diff(kernels.dual_sin(xi), n=2).max()) < 0


@pytest.mark.parametrize("a", [0.5, 1.0, 2.0])
@pytest.mark.parametrize(("name", "params"), [("relu", {}), ("sin", {}), ("erf", {"a": 1.0})])
def test_scaling_multiplies_the_dual_by_a_squared(name, params, a):
    phi = kernels.activation(name, **params)
    scaled = kernels.dual_quadrature(lambda z: a * phi(z), XI, order=48)
    torch.testing.assert_close(scaled, a**2 * kernels.dual_quadrature(phi, XI, order=48))


def test_normalised_kernels():
    xi = XI
    relu = (xi * (math.pi - torch.arccos(xi)) + torch.sqrt(1 - xi**2)) / math.pi
    torch.testing.assert_close(kernels.normalized_dual("relu", xi), relu)
    torch.testing.assert_close(2 * kernels.dual_relu(xi), relu)  # the dual of √2·relu
    erf = torch.arcsin(2 * xi / 3) / math.asin(2 / 3)
    torch.testing.assert_close(kernels.normalized_dual("erf", xi), erf)
    torch.testing.assert_close(kernels.normalized_dual("sin", xi), torch.sinh(xi) / math.sinh(1))


def inputs(max_n: int = 7, max_d: int = 5):
    return st.tuples(st.integers(1, max_n), st.integers(1, max_d)).flatmap(
        lambda s: arrays(np.float64, s, elements=st.floats(-2, 2, allow_subnormal=False)))


@settings(max_examples=30, deadline=None)
@given(inputs(), name_and_params())
def test_nngp_gram_is_symmetric_psd(X, case):
    name, params = case
    K = kernels.nngp_gram(X, phi=name, **params)
    assert K.shape == (X.shape[0], X.shape[0])
    assert torch.equal(K, K.T)  # mapped on the upper triangle, then mirrored
    scale = max(1.0, float(K.abs().max()))
    assert float(torch.linalg.eigvalsh(K).min()) >= -1e-9 * scale * X.shape[0]


@settings(max_examples=20, deadline=None)
@given(inputs(), st.sampled_from(["first", "both"]))
def test_ntk_gram_is_symmetric_psd(X, layers):
    K = kernels.ntk_relu_gram(X, layers=layers)
    torch.testing.assert_close(K, K.T, rtol=1e-12, atol=1e-12)
    scale = max(1.0, float(K.abs().max()))
    assert float(torch.linalg.eigvalsh(K).min()) >= -1e-9 * scale * X.shape[0]


@pytest.mark.parametrize("name", ["relu", "erf", "sin"])
def test_blocks_of_the_upper_triangle_give_the_whole_matrix(monkeypatch, name):
    """With the product in row blocks of 6, maps on blocks of 37 entries and transposes in
    5 × 5 blocks (many ragged blocks), a symmetric Gram matrix, computed on its upper
    triangle and mirrored, equals the cross Gram matrix of X with itself (computed
    everywhere) off the diagonal, to rounding."""
    X = unit_rows(23, 4, 5) * torch.linspace(0.5, 2.0, 23, dtype=torch.float64)[:, None]
    grams = {"NNGP": lambda *Xs: kernels.nngp_gram(*Xs, phi=name),
             "NTK, 1 layer": lambda *Xs: kernels.ntk_relu_gram(*Xs, layers="both"),
             "Laplace": kernels.laplace_gram,
             "deep NTK": lambda *Xs: kernels.ntk_deep(*Xs, depth=3, sigma_b2=0.1,
                                                      phi="erf" if name == "sin" else name),
             "deep NTK, standard": lambda *Xs: kernels.ntk_deep(
                 *Xs, depth=2, parameterization="standard", width=50)}
    whole = {kind: gram(X, X) for kind, gram in grams.items()}
    monkeypatch.setattr(kernels, "PRODUCT_BLOCKS", 4)
    monkeypatch.setattr(kernels, "PRODUCT_ROWS", 1)
    monkeypatch.setattr(kernels, "CPU_BLOCK", 37)
    monkeypatch.setattr(kernels, "CPU_PAIR_BLOCK", 5)
    off = ~torch.eye(23, dtype=torch.bool)
    for kind, gram in grams.items():
        K = gram(X)
        assert torch.equal(K, K.T), kind
        torch.testing.assert_close(K[off], whole[kind][off], rtol=1e-13, atol=1e-14,
                                   msg=kind)


def test_kernel_solve_finds_a_nan_in_any_block():
    """The finiteness of K is checked in the blockwise symmetry pass: a NaN or an infinity
    far from the first block (n = 300, blocks of 128) must still be reported."""
    K = torch.eye(300, dtype=torch.float64)
    for bad in (float("nan"), float("inf")):
        K[250, 10] = K[10, 250] = bad
        with pytest.raises(ValueError, match="K must be finite, but 2 of its 90000"):
            kernels.kernel_solve(K, torch.ones(300, dtype=torch.float64))


def unit_rows(n: int, d: int, seed: int) -> torch.Tensor:
    X = torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return X / X.norm(dim=1, keepdim=True)


@pytest.mark.parametrize(("name", "params", "m4"), CASES, ids=IDS)
def test_gram_of_unit_rows_is_the_dual(name, params, m4):
    X, Xp = unit_rows(5, 4, 0), unit_rows(3, 4, 1)
    K = kernels.nngp_gram(X, Xp, phi=name, **params)
    torch.testing.assert_close(K, kernels.dual(name, X @ Xp.T, **params))
    normalised = kernels.nngp_gram(X, Xp, phi=name, normalize=True, **params)
    if name != "identity":
        torch.testing.assert_close(normalised, kernels.normalized_dual(name, X @ Xp.T, **params))


@pytest.mark.parametrize(("name", "params"), [(c[0], c[1]) for c in CASES if c[0] != "exp"]
                         + [("exp", {"C": 0.4})])
def test_gram_of_general_norms_matches_a_wide_layer(name, params):
    g = torch.Generator().manual_seed(2)
    X = unit_rows(4, 3, 3) * torch.tensor([0.5, 1.0, 1.5, 2.0], dtype=torch.float64)[:, None]
    K = kernels.nngp_gram(X, phi=name, **params)
    W = torch.randn(400_000, X.shape[1], dtype=X.dtype, generator=g)  # a wide random layer
    F = kernels.activation(name, **params)(X @ W.T)
    estimate = F @ F.T / W.shape[0]
    # entries are averages of 400 000 products of size ≤ O(‖x‖²): five standard errors
    torch.testing.assert_close(estimate, K, rtol=0, atol=0.05)


def test_ntk_matches_a_wide_network_and_the_closed_form():
    X = unit_rows(4, 3, 4) * torch.tensor([0.5, 1.0, 1.5, 2.0], dtype=torch.float64)[:, None]
    g = torch.Generator().manual_seed(5)
    k = 400_000
    W = torch.randn(k, 3, dtype=torch.float64, generator=g)
    a = torch.randn(k, dtype=torch.float64, generator=g)
    # f(x) = Σ aᵢ relu(wᵢᵀx)/√k: ∂f/∂wᵢ = aᵢ 1{wᵢᵀx > 0} x/√k, ∂f/∂aᵢ = relu(wᵢᵀx)/√k
    gate = (X @ W.T > 0).to(X.dtype)
    first = (X @ X.T) * ((gate * a**2) @ gate.T) / k
    second = torch.relu(X @ W.T) @ torch.relu(X @ W.T).T / k
    torch.testing.assert_close(first, kernels.ntk_relu_gram(X), rtol=0, atol=0.05)
    torch.testing.assert_close(first + second, kernels.ntk_relu_gram(X, layers="both"),
                               rtol=0, atol=0.08)
    xi = unit_rows(6, 3, 6) @ unit_rows(6, 3, 6).T
    xi = xi.clamp(-1, 1)
    U = unit_rows(6, 3, 6)
    torch.testing.assert_close(kernels.ntk_relu_gram(U),
                               xi * (math.pi - torch.arccos(xi)) / (2 * math.pi))


def test_laplace_gram():
    X, Xp = unit_rows(5, 4, 7), unit_rows(3, 4, 8)
    distances = torch.cdist(X, Xp)
    torch.testing.assert_close(kernels.laplace_gram(X, Xp, L=0.3), torch.exp(-0.3 * distances))
    torch.testing.assert_close(torch.diag(kernels.laplace_gram(X, L=2.0)),
                               torch.ones(5, dtype=torch.float64))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 30), st.integers(0, 2**31 - 1),
       st.sampled_from(["relu", "sin", "erf", "step"]))
def test_kernel_regression_interpolates(n, seed, name):
    X = unit_rows(n, 40, seed)  # 40 random directions: distinct, K positive definite
    y = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 1))
    K = kernels.nngp_gram(X, phi=name, normalize=True)
    cond = float(torch.linalg.cond(K))
    predictions = kernels.kernel_regression(K, y, K)
    torch.testing.assert_close(predictions, y, rtol=0, atol=1e-13 * cond * max(1.0, n))


def test_kernel_regression_ridge_and_columns():
    X, Xt = unit_rows(20, 10, 9), unit_rows(7, 10, 10)
    Y = torch.randn(20, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(11))
    K, Kt = kernels.nngp_gram(X), kernels.nngp_gram(Xt, X)
    lam = 0.1
    expected = Kt @ torch.linalg.solve(K + lam * torch.eye(20, dtype=torch.float64), Y)
    torch.testing.assert_close(kernels.kernel_regression(K, Y, Kt, lam=lam), expected)


def test_singular_gram_raises_and_a_ridge_solves_it():
    X = unit_rows(3, 5, 12)
    X = torch.cat([X, X[:1]])  # a duplicate input: K is singular
    K = kernels.nngp_gram(X, phi="identity")  # rank 3
    y = torch.tensor([1.0, 2.0, 3.0, 1.0], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"K \+ λI \(n = 4, λ = 0\) is singular.*ridge λ > 0"):
        kernels.kernel_solve(K, y)
    lam = 1e-3  # a ridge makes K + λI positive definite: the solve is the dense one
    alpha = kernels.kernel_solve(K, y, lam=lam)
    torch.testing.assert_close(alpha, torch.linalg.solve(K + lam * torch.eye(4, dtype=K.dtype), y))


def test_xi_within_rounding_of_one_is_clipped():
    assert float(kernels.dual_relu(1 + 1e-13)) == pytest.approx(0.5)
    assert float(kernels.dual_step(-1 - 1e-13)) == 0.0


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: kernels.dual_relu(1.01), ValueError, r"\[-1, 1\].*1\.01"),
    (lambda: kernels.dual_sin([0.0, float("nan")]), ValueError, "finite"),
    (lambda: kernels.dual("tanh", 0.5), ValueError, "unknown activation 'tanh'"),
    (lambda: kernels.dual("relu", 0.5, a=2.0), ValueError, "no parameters"),
    (lambda: kernels.dual("erf", 0.5, C=2.0), ValueError, r"only \['a'\]"),
    (lambda: kernels.dual_erf(0.5, a="2"), TypeError, "real number"),
    (lambda: kernels.dual(3, 0.5), TypeError, "name"),
    (lambda: kernels.nngp_gram(torch.ones(3)), ValueError, r"2-D.*got shape \(3,\)"),
    (lambda: kernels.nngp_gram(torch.ones(3, 2), torch.ones(2, 4)), ValueError, "columns"),
    (lambda: kernels.nngp_gram(torch.zeros(2, 2), normalize=True), ValueError, "K\\(x, x\\) > 0"),
    (lambda: kernels.ntk_relu_gram(torch.ones(2, 2), layers="last"), ValueError, "layers"),
    (lambda: kernels.laplace_gram(torch.ones(2, 2), L=0), ValueError, "L must be"),
    (lambda: kernels.nngp_gram(torch.tensor([[1.0, float("nan")], [0.0, 1.0]])), ValueError,
     "X must be finite, but 1 of its 4 entries are NaN or infinite"),
    (lambda: kernels.nngp_gram(torch.ones(2, 2), torch.tensor([[float("inf"), 0.0]])),
     ValueError, "Xp must be finite"),
    (lambda: kernels.nngp_gram(torch.full((2, 2), 1e200, dtype=torch.float64)), ValueError,
     "squared norm overflows"),
    (lambda: kernels.kernel_solve(torch.tensor([[1.0, float("nan")], [float("nan"), 1.0]]),
                                  [1.0, 2.0]), ValueError, "K must be finite, but 2 of its 4"),
    (lambda: kernels.kernel_solve(torch.tensor([[float("inf"), 0.0], [0.0, 1.0]]), [1.0, 2.0]),
     ValueError, "K must be finite"),
    (lambda: kernels.kernel_solve(torch.ones(2, 3), [1, 2]), ValueError, "square"),
    (lambda: kernels.kernel_solve(torch.ones(0, 0), []), ValueError, "n ≥ 1"),
    (lambda: kernels.kernel_solve(torch.tensor([[1.0, 2.0], [0.0, 1.0]]), [1, 2]), ValueError,
     "symmetric"),
    (lambda: kernels.kernel_solve(torch.eye(2), [1, 2, 3]), ValueError, r"shape \(2,\)"),
    (lambda: kernels.kernel_solve(torch.eye(2), [1, 2], lam=-1.0), ValueError, "lam"),
    (lambda: kernels.kernel_regression(torch.eye(2), [1, 2], torch.ones(3, 3)), ValueError,
     r"\(m, 2\)"),
    (lambda: kernels.dual_monte_carlo(42, 0.5), TypeError, "callable"),
    (lambda: kernels.dual_monte_carlo(torch.sin, 0.5, C=1.0), ValueError, "name"),
    (lambda: kernels.dual_quadrature("sin", 0.5, order=0), ValueError, "order"),
])
def test_errors_say_what_was_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_sine_and_cosine_grams_stay_finite_for_large_inputs(name):
    """‖x‖ ≈ 30 (a raw image row): e^{−(a+b)/2} and sinh G alone overflow, their product not."""
    X = unit_rows(3, 5, 7) * torch.tensor([30.0, 31.0, 29.5], dtype=torch.float64)[:, None]
    K = kernels.nngp_gram(X, phi=name)
    G, a = X @ X.T, (X * X).sum(1)
    hyperbolic = sp.sinh if name == "sin" else sp.cosh
    exact = [[float(sp.exp(-(sp.Float(float(a[i]), 30) + float(a[j])) / 2)
                    * hyperbolic(sp.Float(float(G[i, j]), 30))) for j in range(3)]
             for i in range(3)]
    torch.testing.assert_close(K, torch.tensor(exact, dtype=torch.float64), rtol=1e-12, atol=0)


@pytest.mark.parametrize(("name", "scale"), [("relu", 1e80), ("relu", 1e-80), ("erf", 1e80),
                                             ("exp", 14.0)])
def test_normalized_gram_of_extreme_norms_is_finite(name, scale):
    """√(K(x, x) K(x′, x′)) overflows or underflows here; √K(x, x) √K(x′, x′) does not."""
    X = unit_rows(4, 3, 8)
    K = kernels.nngp_gram(scale * X, phi=name, normalize=True)
    if name == "relu":  # positively homogeneous: the scale cancels
        expected = kernels.nngp_gram(X, phi="relu", normalize=True)
    elif name == "erf":  # erf(ax) with a‖x‖ → ∞ is the sign function: (2/π) arcsin ξ, over 1
        expected = (torch.arcsin(X @ X.T) / (math.pi / 2)).fill_diagonal_(1.0)  # ξ_ii = 1
    else:  # the Gaussian kernel e^{−‖x − x′‖²/2}
        expected = torch.exp(-torch.cdist(scale * X, scale * X) ** 2 / 2)
    assert bool(torch.isfinite(K).all())
    # 1e-8: arcsin near ±1 amplifies the rounding of ξ (measured 3.4e-9 on the scalar code path)
    torch.testing.assert_close(K, expected, rtol=1e-8, atol=0)


@pytest.mark.parametrize(("name", "on_diagonal"), [
    ("relu", lambda a: a / 2), ("step", lambda a: torch.full_like(a, 0.5)),
    ("erf", lambda a: (2 / math.pi) * torch.arcsin(2 * a / (1 + 2 * a))),
    ("exp", lambda a: torch.exp(-2 + 2 * a))])
def test_gram_diagonal_is_exact(name, on_diagonal):
    """K(x, x) to rounding, not through arccos at ξ = 1 (off by ~1e-8 relative there)."""
    X = unit_rows(6, 4, 9) * torch.linspace(0.5, 2.0, 6, dtype=torch.float64)[:, None]
    expected = on_diagonal(torch.linalg.vector_norm(X, dim=1) ** 2)
    torch.testing.assert_close(kernels.nngp_gram(X, phi=name).diagonal(), expected,
                               rtol=8 * torch.finfo(torch.float64).eps, atol=0)
    assert torch.equal(kernels.nngp_gram(X, phi=name, normalize=True).diagonal(),
                       torch.ones(6, dtype=torch.float64))
