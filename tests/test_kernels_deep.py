"""Tests of the deep NNGP and NTK kernels of dlmath.kernels against finite wide networks,
quadrature and the one-layer closed forms; the length and correlation maps; input validation.

The finite network (NTK parameterisation, all hidden widths n, inputs as rows of X (p, d)):

    z¹ = (σ_w/√d) W⁰x + σ_b β⁰,   z^{l+1} = (σ_w/√n) Wˡ φ(zˡ) + σ_b βˡ,   f = z^{L+1},

every entry of W and β i.i.d. N(0, 1).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from dlmath import kernels

SIGMA_W2, SIGMA_B2 = 2.0, 0.1


def inputs(p: int = 4, d: int = 3, seed: int = 0, dtype: torch.dtype = torch.float64
           ) -> torch.Tensor:
    """p inputs in ℝᵈ with ‖x‖²/d from 0.36 to 1.69, so K⁰ is of order one."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(p, d, dtype=torch.float64, generator=g)
    X = X / X.norm(dim=1, keepdim=True) * math.sqrt(d)
    return (X * torch.linspace(0.6, 1.3, p, dtype=torch.float64)[:, None]).to(dtype)


def student_t_bound(samples: int, comparisons: int, level: float = 1e-3) -> float:
    """The multiple q of the standard error with P(|mean − truth| > q·SE) ≤ level/comparisons
    for each comparison, when SE is estimated from ``samples`` i.i.d. samples (Student's t with
    samples − 1 degrees of freedom): a family of ``comparisons`` fails by chance with
    probability ≤ ``level`` (Bonferroni)."""
    return float(stats.t.ppf(1 - level / (2 * comparisons), samples - 1))


# --------------------------------------------------------------------------- NNGP vs networks


def finite_nngp(X: torch.Tensor, phi, depth: int, sigma_w2: float, sigma_b2: float,
                width: int, networks: int, generator: torch.Generator) -> list[torch.Tensor]:
    """For each of ``networks`` independent networks of ``width`` units per hidden layer, the
    covariance of the output given the hidden layers, σ_b² + σ_w² φ(z^L)φ(z^L)ᵀ/n, (R, p, p),
    for L = 1, …, ``depth`` (the network of depth L is the first L hidden layers of the draw).

    The first layer is drawn as it is (W⁰ (n, d)). For the next ones only the p inputs matter:
    given φ(zˡ), the n rows (Wˡᵢ, βˡᵢ) are i.i.d., so the n vectors (z^{l+1}_i(x₁), …,
    z^{l+1}_i(x_p)) are i.i.d. N(0, Ĉ) with Ĉ = σ_b² + σ_w² φ(zˡ)ᵀφ(zˡ)/n (p × p) — the exact
    law of the width-n network on these inputs, drawn with n·p normals instead of n²."""
    p, d = X.shape
    W = torch.randn(networks, width, d, dtype=X.dtype, generator=generator)
    beta = torch.randn(networks, width, 1, dtype=X.dtype, generator=generator)
    Z = math.sqrt(sigma_w2 / d) * W @ X.T + math.sqrt(sigma_b2) * beta  # (R, n, p)
    out = []
    for _ in range(depth):
        H = phi(Z)
        C = sigma_b2 + sigma_w2 * H.transpose(1, 2) @ H / width  # (R, p, p)
        out.append(C.double())
        lam, V = torch.linalg.eigh(C.double())
        root = (V * lam.clamp_min(0).sqrt()[:, None, :]).to(X.dtype)  # root rootᵀ = C
        Z = torch.randn(networks, width, p, dtype=X.dtype, generator=generator) @ \
            root.transpose(1, 2)
    return out


NNGP_CASES = [  # (phi, params, σ_w², σ_b²)
    ("identity", {}, 1.5, 0.1),
    ("relu", {}, 2.0, 0.1),
    ("erf", {"a": 1.3}, 2.0, 0.1),
    ("sin", {}, 2.0, 0.1),
    ("cos", {}, 2.0, 0.1),
    ("exp", {"C": 0.3}, 1.0, 0.1),
    (torch.tanh, {}, 2.0, 0.1),  # no closed form: quadrature
]
NNGP_WIDTH, NNGP_NETWORKS, NNGP_DEPTH = 2**14, 128, 4
# every entry on and above the diagonal of each case and depth is one comparison
NNGP_COMPARISONS = 10 * NNGP_DEPTH * len(NNGP_CASES)


@pytest.mark.parametrize(("phi", "params", "sigma_w2", "sigma_b2"), NNGP_CASES,
                         ids=[c[0] if isinstance(c[0], str) else "tanh" for c in NNGP_CASES])
def test_nngp_matches_finite_wide_networks(phi, params, sigma_w2, sigma_b2):
    """Depths 1–4: the mean over 128 networks of width 2¹⁴ (float32) is within q standard
    errors of K^L, SE from the spread of the 128 networks and q from Student’s t (≈ 4.85 for
    280 comparisons at a family-wise level 1e-3). The finite-width bias of the mean is O(1/n),
    about a tenth of an SE; float32 sums over 2¹⁴ units err by ~1e-6 relative, far less."""
    X = inputs()
    f = kernels.activation(phi, **params) if isinstance(phi, str) else phi
    q = student_t_bound(NNGP_NETWORKS, NNGP_COMPARISONS)
    g = torch.Generator().manual_seed(100)
    samples = finite_nngp(X.float(), f, NNGP_DEPTH, sigma_w2, sigma_b2, NNGP_WIDTH,
                          NNGP_NETWORKS, g)
    for depth, S in enumerate(samples, start=1):
        mean, se = S.mean(0), S.std(0) / math.sqrt(NNGP_NETWORKS)
        K = kernels.nngp_deep(X, depth=depth, phi=phi, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                              **params)
        excess = (mean - K).abs() / (q * se)
        assert float(excess.max()) <= 1, (depth, mean, K, se)


# --------------------------------------------------------------------------- NTK vs networks


def ntk_parameters(d: int, width: int, depth: int, dtype: torch.dtype,
                   generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(W, β) of every layer, standard normal: W⁰ (n, d), Wˡ (n, n), readout (1, n)."""
    fans = [d] + [width] * depth
    outs = [width] * depth + [1]
    return [(torch.randn(o, i, dtype=dtype, generator=generator),
             torch.randn(o, dtype=dtype, generator=generator)) for i, o in zip(fans, outs,
                                                                                strict=True)]


def network(params, X: torch.Tensor, phi, sigma_w2: float, sigma_b2: float) -> torch.Tensor:
    """f(x) for the rows of X, NTK parameterisation: (p,)."""
    h = X
    for l, (W, beta) in enumerate(params):
        z = math.sqrt(sigma_w2 / h.shape[1]) * h @ W.T + math.sqrt(sigma_b2) * beta
        h = z if l == len(params) - 1 else phi(z)
    return h[:, 0]


def empirical_ntks(params, X: torch.Tensor, phi, sigma_w2: float, sigma_b2: float
                   ) -> dict[str, torch.Tensor]:
    """Θ̂ = J Jᵀ, J = ∂f(xₐ)/∂θ, in both parameterisations of the same network, by
    backpropagation and the layer identity. For z = s h Wᵀ + σ_b β with δ = ∂f/∂z (from
    autograd; fₐ depends on xₐ only, so ∂(Σf)/∂z = δ):

    - "ntk", θ = (W, β): ⟨∂fₐ/∂W, ∂f_b/∂W⟩ + ⟨∂fₐ/∂β, ∂f_b/∂β⟩ = (δₐ·δ_b)(s² hₐ·h_b + σ_b²);
    - "standard", θ = (sW, σ_b β) trained as they are: (δₐ·δ_b)(hₐ·h_b + 1).

    Never forms J ((p, #θ), 4 × 3·10⁷ numbers at width 2¹²); :func:`test_empirical_ntk_is_j_jt`
    holds it against torch.func.jacrev."""
    hs, zs, h = [], [], X
    for l, (W, beta) in enumerate(params):
        hs.append(h)
        z = math.sqrt(sigma_w2 / h.shape[1]) * h @ W.T + math.sqrt(sigma_b2) * beta
        z.retain_grad()
        zs.append(z)
        h = z if l == len(params) - 1 else phi(z)
    h.sum().backward()
    thetas = {name: torch.zeros(X.shape[0], X.shape[0], dtype=X.dtype)
              for name in ("ntk", "standard")}
    for h, z in zip(hs, zs, strict=True):
        delta_delta, hh = z.grad @ z.grad.T, (h @ h.T).detach()  # z.grad: (p, fan-out)
        thetas["ntk"] += delta_delta * (sigma_w2 / h.shape[1] * hh + sigma_b2)
        thetas["standard"] += delta_delta * (hh + 1)
    return thetas


def test_empirical_ntk_is_j_jt():
    X, g = inputs(dtype=torch.float64), torch.Generator().manual_seed(3)
    params = ntk_parameters(3, 64, 3, torch.float64, g)
    scales = [(math.sqrt(SIGMA_W2 / W.shape[1]), math.sqrt(SIGMA_B2)) for W, _ in params]
    leaves = [(W.clone().requires_grad_(), b.clone().requires_grad_()) for W, b in params]
    thetas = empirical_ntks(leaves, X, torch.erf, SIGMA_W2, SIGMA_B2)
    for name, factors in {"ntk": [(1.0, 1.0)] * len(params), "standard": scales}.items():
        # trained θ = (s_w W, s_b β) with these factors; the network divides them out again
        flat = {f"{i}{k}": t * c
                for i, ((W, b), (s_w, s_b)) in enumerate(zip(params, factors, strict=True))
                for k, t, c in (("W", W, s_w), ("b", b, s_b))}

        def f(theta, factors=factors):
            return network([(theta[f"{i}W"] / s_w, theta[f"{i}b"] / s_b)
                            for i, (s_w, s_b) in enumerate(factors)], X, torch.erf, SIGMA_W2,
                           SIGMA_B2)
        J = torch.cat([j.reshape(X.shape[0], -1) for j in torch.func.jacrev(f)(flat).values()],
                      1)
        torch.testing.assert_close(thetas[name], J @ J.T, rtol=1e-12, atol=1e-12)


NTK_WIDTH, NTK_NETWORKS, NTK_DEPTHS = 2**12, 12, (1, 2, 3)
NTK_CASES = [("relu", {}), ("erf", {"a": 1.0})]
NTK_COMPARISONS = 10 * len(NTK_DEPTHS) * len(NTK_CASES) * 2  # 2 parameterisations


def test_ntk_matches_finite_wide_networks():
    """relu and erf, σ_w² = 2, σ_b² = 0.1, depths 1–3, both parameterisations: the mean
    empirical NTK of 12 networks of width 2¹² (float32) is within q standard errors of Θ^L, q
    from Student's t with 11 degrees of freedom at a family-wise level 1e-3 over the 120
    comparisons (q ≈ 7.8). One draw of weights serves both activations and both
    parameterisations, and a depth-L network is the first L hidden layers of the draw with its
    own readout: the cases share weights, each is a network of its own law."""
    X = inputs(dtype=torch.float32)
    q = student_t_bound(NTK_NETWORKS, NTK_COMPARISONS)
    g = torch.Generator().manual_seed(7)
    samples: dict[tuple[str, int, str], list[torch.Tensor]] = {}
    for _ in range(NTK_NETWORKS):
        hidden = ntk_parameters(3, NTK_WIDTH, max(NTK_DEPTHS), torch.float32, g)[:-1]
        for depth in NTK_DEPTHS:
            readout = (torch.randn(1, NTK_WIDTH, generator=g), torch.randn(1, generator=g))
            for phi, params in NTK_CASES:
                leaves = [(W.clone().requires_grad_(), b.clone().requires_grad_())
                          for W, b in [*hidden[:depth], readout]]
                thetas = empirical_ntks(leaves, X, kernels.activation(phi, **params), SIGMA_W2,
                                        SIGMA_B2)
                for name, theta in thetas.items():
                    samples.setdefault((phi, depth, name), []).append(theta.double())
    for (phi, depth, name), thetas in samples.items():
        S = torch.stack(thetas)
        mean, se = S.mean(0), S.std(0) / math.sqrt(NTK_NETWORKS)
        params = dict(NTK_CASES)[phi]
        width = NTK_WIDTH if name == "standard" else None
        Theta = kernels.ntk_deep(X.double(), depth=depth, phi=phi, sigma_w2=SIGMA_W2,
                                 sigma_b2=SIGMA_B2, parameterization=name, width=width, **params)
        assert float(((mean - Theta).abs() / (q * se)).max()) <= 1, (phi, depth, name, mean,
                                                                      Theta)


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_standard_ntk_of_he_relu_on_the_diagonal(depth):
    """He-initialised ReLU without bias variance keeps q = 2‖x‖²/d, E[relu(√q z)²] = q/2 and
    E[step²] = 1/2, so Θ_std^L(x, x) = ‖x‖² + 1 + L(n q/2 + 1): the exact diagonal path to a few
    ulps, and the cross path (through ξ = 1 and its rounding) to 1e-6."""
    X, width = inputs(p=5, d=7), 300
    q0 = 2 * X.square().sum(1) / X.shape[1]
    expected = X.square().sum(1) + 1 + depth * (width * q0 / 2 + 1)
    kwargs = {"depth": depth, "parameterization": "standard", "width": width}
    torch.testing.assert_close(kernels.ntk_deep(X, **kwargs).diagonal(), expected,
                               rtol=4 * (depth + 1) * EPS, atol=0)
    torch.testing.assert_close(kernels.ntk_deep(X, X, **kwargs).diagonal(), expected, rtol=1e-6,
                               atol=0)


# --------------------------------------------------------------------------- one layer


ALL = [("identity", {}), ("exp", {"C": 0.7}), ("sin", {}), ("cos", {}), ("relu", {}),
       ("step", {}), ("erf", {"a": 1.3})]
EPS = torch.finfo(torch.float64).eps


@pytest.mark.parametrize(("phi", "params"), ALL, ids=[c[0] for c in ALL])
def test_one_layer_nngp_is_nngp_gram(phi, params):
    """σ_w² = d, σ_b² = 0: K⁰ = xᵀx′ and K¹ = d E[φ(wᵀx) φ(wᵀx′)] = d · nngp_gram."""
    X, Xp = inputs(5, 4, 1), inputs(3, 4, 2)
    for Y in (None, Xp):
        K = kernels.nngp_deep(X, Y, depth=1, phi=phi, sigma_w2=4.0, **params)
        torch.testing.assert_close(K, 4 * kernels.nngp_gram(X, Y, phi=phi, **params),
                                   rtol=4 * EPS, atol=0)


@pytest.mark.parametrize("sigma_w2", [4.0, 2.0, 0.7])
def test_one_layer_relu_ntk_is_ntk_relu_gram(sigma_w2):
    """relu, σ_b² = 0: K⁰ = (σ_w²/d) xᵀx′ and relu is homogeneous, so Θ¹ = σ_w² E[relu relu] +
    σ_w² E[step step] K⁰ = (σ_w⁴/d) · ntk_relu_gram(layers="both") (d · it when σ_w² = d)."""
    d = 4
    X, Xp = inputs(5, d, 1), inputs(3, d, 2)
    scale = sigma_w2**2 / d
    torch.testing.assert_close(kernels.ntk_deep(X, Xp, depth=1, sigma_w2=sigma_w2),
                               scale * kernels.ntk_relu_gram(X, Xp, layers="both"),
                               rtol=32 * EPS, atol=0)
    Theta = kernels.ntk_deep(X, depth=1, sigma_w2=sigma_w2)
    reference = scale * kernels.ntk_relu_gram(X, layers="both")
    off = ~torch.eye(5, dtype=torch.bool)
    torch.testing.assert_close(Theta[off], reference[off], rtol=32 * EPS, atol=0)
    # the diagonal is exact here (Θ¹(x, x) = σ_w⁴‖x‖²/d); ntk_relu_gram's goes through arccos
    # at ξ ≈ 1, which is off by up to ~√eps relative
    torch.testing.assert_close(Theta.diagonal(), scale * (X * X).sum(1), rtol=8 * EPS, atol=0)
    torch.testing.assert_close(Theta.diagonal(), reference.diagonal(), rtol=1e-7, atol=0)


def test_identity_network_is_linear():
    """φ = identity: K^L = σ_w^{2L} K⁰ + σ_b² Σ_{l<L} σ_w^{2l} and Θ^{l+1} = K^{l+1} + σ_w² Θˡ."""
    X, s, b = inputs(4, 3, 5), 1.5, 0.2
    K, Theta = kernels.nngp_deep(X, depth=1, phi="identity", sigma_w2=s, sigma_b2=b), None
    K0 = s * X @ X.T / 3 + b
    Kl, Tl = K0, K0
    for depth in range(1, 5):
        Kl = b + s * Kl
        Tl = Kl + s * Tl
        Theta, K = kernels.ntk_deep(X, depth=depth, phi="identity", sigma_w2=s, sigma_b2=b,
                                    with_nngp=True)
        torch.testing.assert_close(K, Kl, rtol=1e-14, atol=0)
        torch.testing.assert_close(Theta, Tl, rtol=1e-14, atol=0)
        torch.testing.assert_close(kernels.nngp_deep(X, depth=depth, phi="identity",
                                                     sigma_w2=s, sigma_b2=b), Kl)


# --------------------------------------------------------------------------- quadrature

SMOOTH = [("identity", {}), ("exp", {"C": 0.4}), ("sin", {}), ("cos", {}), ("erf", {"a": 1.0})]


@pytest.mark.parametrize(("phi", "params"), SMOOTH, ids=[c[0] for c in SMOOTH])
@pytest.mark.parametrize(("order", "sigma_w2"), [(64, 1.0), (128, 2.0)])
def test_quadrature_matches_closed_forms_through_depth(phi, params, order, sigma_w2):
    """A callable φ goes through 2-D Gauss–Hermite quadrature (φ′ by autograd); for a smooth φ
    it agrees with the closed forms to 1e-6 of the largest entry. Order 64 with variances up
    to ≈ 1.8, order 128 up to ≈ 3.5 (the rule's resolution near 0 is ≈ π/√(2·order); the
    worst case, erf's NTK, measures 7e-8 and 3e-8 here, the others ≈ 1e-15)."""
    X = inputs(4, 3, 6)
    f = kernels.activation(phi, **params)
    for depth in (1, 3):
        Theta, K = kernels.ntk_deep(X, depth=depth, phi=phi, sigma_w2=sigma_w2, sigma_b2=0.1,
                                    with_nngp=True, **params)
        Tq, Kq = kernels.ntk_deep(X, depth=depth, phi=f, sigma_w2=sigma_w2, sigma_b2=0.1,
                                  with_nngp=True, order=order)
        torch.testing.assert_close(Kq, K, rtol=0, atol=1e-6 * float(K.abs().max()))
        torch.testing.assert_close(Tq, Theta, rtol=0, atol=1e-6 * float(Theta.abs().max()))


def test_quadrature_at_relus_kink_and_with_a_given_derivative():
    """relu's kink and step's jump slow the rule (measured ≈ 2e-3 and 5e-3 of the largest
    entry at order 128, falling like 1/order and 1/√order); tolerance 2e-2. Passing φ′ = step
    as ``dphi`` gives the same as autograd (relu′ = 1{x > 0} in both)."""
    X = inputs(4, 3, 6)
    Theta, K = kernels.ntk_deep(X, depth=2, sigma_b2=0.1, with_nngp=True)
    Tq, Kq = kernels.ntk_deep(X, depth=2, phi=torch.relu, sigma_b2=0.1, with_nngp=True)
    torch.testing.assert_close(Kq, K, rtol=0, atol=2e-2 * float(K.abs().max()))
    torch.testing.assert_close(Tq, Theta, rtol=0, atol=2e-2 * float(Theta.abs().max()))
    step = kernels.activation("step")
    torch.testing.assert_close(kernels.ntk_deep(X, depth=2, phi=torch.relu, dphi=step,
                                                sigma_b2=0.1), Tq, rtol=1e-13, atol=0)


def test_erf_derivative_kernel_by_adaptive_quadrature():
    """E[φ′(u) φ′(v)] = (4a²/π)/√((1 + 2a²A)(1 + 2a²B) − 4a⁴G²) for φ = erf(ax), against
    scipy's adaptive 2-D quadrature of the Gaussian density (independent of Gauss–Hermite)."""
    a, A, B, G = 1.3, 0.8, 1.7, -0.9
    cov = np.array([[A, G], [G, B]])
    inv, det = np.linalg.inv(cov), np.linalg.det(cov)

    def integrand(v: float, u: float) -> float:
        w = np.array([u, v])
        density = math.exp(-w @ inv @ w / 2) / (2 * math.pi * math.sqrt(det))
        return 4 * a**2 / math.pi * math.exp(-a**2 * (u * u + v * v)) * density

    value, _ = integrate.dblquad(integrand, -12, 12, -12, 12, epsabs=1e-13, epsrel=1e-11)
    t = torch.tensor
    closed = kernels._erf_derivative_gram(t(G, dtype=torch.float64), t(A, dtype=torch.float64),
                                          t(B, dtype=torch.float64), a_=a)
    assert float(closed) == pytest.approx(value, rel=1e-9)


# --------------------------------------------------------------------------- maps


def test_relu_he_initialisation_is_critical():
    """σ_w² = 2, σ_b² = 0: the length map of relu is q ↦ q (every q is a fixed point) and
    χ₁ = σ_w² E[step²] = 1."""
    q = torch.logspace(-3, 3, 13, dtype=torch.float64)
    torch.testing.assert_close(kernels.length_map(q, "relu", 2.0, 0.0), q, rtol=4 * EPS, atol=0)
    for q0 in (0.3, 1.0, 17.0):
        assert kernels.fixed_point_q("relu", 2.0, 0.0, q0=q0) == pytest.approx(q0, rel=1e-14)
        assert float(kernels.chi1("relu", 2.0, 0.0, q=q0)) == 1.0
    assert float(kernels.chi1("relu", 2.0, 0.0)) == 1.0
    assert float(kernels.chi1("relu", 3.0, 0.0, q=1.0)) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="grows without bound"):
        kernels.fixed_point_q("relu", 2.5, 0.0)


def test_relu_fixed_point_with_bias():
    """σ_w² < 2: q* = σ_b²/(1 − σ_w²/2) (the map is affine, q ↦ σ_b² + σ_w² q/2)."""
    assert kernels.fixed_point_q("relu", 1.5, 0.2) == pytest.approx(0.2 / (1 - 0.75), rel=1e-10)


def test_erf_has_a_critical_line():
    """erf(ax): at σ_b² = 0, q* = 0 while σ_w² ≤ π/(4a²), and χ₁(0) = σ_w² 4a²/π is 1 exactly
    at σ_w² = π/(4a²). For σ_b² > 0, χ₁(q*(σ_w²)) rises from below 1 to above 1, so a σ_w²
    with χ₁ = 1 exists (found by bisection); the critical σ_w² grows with σ_b²."""
    a = 1.0
    assert float(kernels.chi1("erf", math.pi / 4, 0.0, q=0.0, a=a)) == pytest.approx(1.0,
                                                                                       rel=1e-15)
    assert kernels.fixed_point_q("erf", 0.5, 0.0, a=a) < 1e-9  # ordered: q → 0
    critical = []
    for sigma_b2 in (0.05, 0.3):
        lo, hi = 0.5, 10.0
        assert float(kernels.chi1("erf", lo, sigma_b2, a=a)) < 1
        assert float(kernels.chi1("erf", hi, sigma_b2, a=a)) > 1
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if float(kernels.chi1("erf", mid, sigma_b2, a=a)) < 1 else (lo,
                                                                                           mid)
        assert float(kernels.chi1("erf", lo, sigma_b2, a=a)) == pytest.approx(1, abs=1e-9)
        critical.append(lo)
    assert math.pi / 4 < critical[0] < critical[1]
    # quadrature with φ′ by autograd gives the same χ₁
    erf = kernels.activation("erf", a=a)
    assert float(kernels.chi1(erf, 2.0, 0.3)) == pytest.approx(
        float(kernels.chi1("erf", 2.0, 0.3, a=a)), rel=1e-9)


# --------------------------------------------------------------------------- numerics


@pytest.mark.parametrize(("phi", "params"), [("relu", {}), ("erf", {"a": 1.0}), ("sin", {})])
def test_float32_agrees_with_float64(phi, params):
    """A depth-4 kernel in float32 is the float64 one to float32 rounding times a modest
    factor (the maps are well conditioned away from ξ = ±1; random inputs in d = 8)."""
    X64 = inputs(6, 8, 9)
    K64 = kernels.ntk_deep(X64, depth=4, phi=phi, sigma_b2=0.1, with_nngp=True, **params)
    K32 = kernels.ntk_deep(X64.float(), depth=4, phi=phi, sigma_b2=0.1, with_nngp=True,
                           **params)
    for lo, hi in zip(K32, K64, strict=True):
        assert lo.dtype == torch.float32
        scale = float(hi.abs().max())
        torch.testing.assert_close(lo.double(), hi, rtol=0,
                                   atol=200 * torch.finfo(torch.float32).eps * scale)


def test_row_blocks_do_not_change_the_result():
    """Many CPU blocks (600 × 700 > CPU_BLOCK) and explicit small blocks give the same K."""
    X, Xp = inputs(600, 5, 10), inputs(700, 5, 11)
    K = kernels.nngp_deep(X, Xp, depth=3, phi="erf", sigma_b2=0.1)
    torch.testing.assert_close(kernels.nngp_deep(X, Xp, depth=3, phi="erf", sigma_b2=0.1,
                                                 block_rows=7), K, rtol=0, atol=0)
    Theta = kernels.ntk_deep(X, Xp, depth=3, phi="erf", sigma_b2=0.1)
    torch.testing.assert_close(kernels.ntk_deep(X, Xp, depth=3, phi="erf", sigma_b2=0.1,
                                                block_rows=600), Theta, rtol=0, atol=0)
    Kq = kernels.nngp_deep(X[:3], Xp[:5], depth=2, phi=torch.tanh, block_rows=1)
    torch.testing.assert_close(Kq, kernels.nngp_deep(X[:3], Xp[:5], depth=2, phi=torch.tanh))


@pytest.mark.parametrize(("phi", "params"), [("relu", {}), ("erf", {}), ("sin", {}),
                                             ("exp", {"C": 0.3})])
def test_deep_grams_are_symmetric_psd(phi, params):
    X = inputs(30, 6, 12)
    for K in kernels.ntk_deep(X, depth=3, phi=phi, sigma_w2=1.0, sigma_b2=0.1, with_nngp=True,
                              **params):
        torch.testing.assert_close(K, K.T, rtol=1e-13, atol=0)
        assert float(torch.linalg.eigvalsh(K).min()) >= -1e-12 * float(K.abs().max()) * 30


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_agrees_with_cpu():
    X = inputs(50, 7, 13)
    for phi in ("relu", "erf", torch.tanh):
        cpu = kernels.ntk_deep(X, depth=3, phi=phi, sigma_b2=0.1)
        gpu = kernels.ntk_deep(X.cuda(), depth=3, phi=phi, sigma_b2=0.1)
        assert gpu.device.type == "cuda"
        torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-10, atol=1e-12)


def test_timing_report(capsys):
    """Reported, not asserted: a depth-5 NNGP Gram matrix against its one GEMM."""
    X = inputs(1000, 512, 14)
    t0 = time.perf_counter()
    X @ X.T
    t1 = time.perf_counter()
    kernels.nngp_deep(X, depth=5, sigma_b2=0.1)
    t2 = time.perf_counter()
    with capsys.disabled():
        print(f"\n  n = 1000, d = 512: GEMM {t1 - t0:.4f} s, depth-5 relu NNGP {t2 - t1:.4f} s")


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: kernels.nngp_deep(torch.ones(2, 2), depth=0), ValueError, "depth must be >= 1"),
    (lambda: kernels.nngp_deep(torch.ones(2, 2), depth=1.5), TypeError, "depth must be an int"),
    (lambda: kernels.nngp_deep(torch.ones(2, 2), depth=2, sigma_w2=-1.0), ValueError,
     "sigma_w2"),
    (lambda: kernels.ntk_deep(torch.ones(2, 2), depth=2, sigma_b2=-0.1), ValueError,
     r"sigma_b2 must be a finite number >= 0"),
    (lambda: kernels.nngp_deep(torch.ones(2, 2), depth=2, phi="tanh"), ValueError,
     "unknown activation 'tanh'.*callable such as torch.tanh"),
    (lambda: kernels.ntk_deep(torch.ones(2, 2), depth=2, phi="step"), ValueError,
     "NTK of 'step' is not defined.*Dirac"),
    (lambda: kernels.chi1("step", 2.0, 0.0), ValueError, "Dirac"),
    (lambda: kernels.ntk_deep(torch.ones(2, 2), depth=2, phi="relu", dphi=torch.relu),
     ValueError, "dphi is only accepted with a callable"),
    (lambda: kernels.nngp_deep(torch.ones(2, 2), depth=2, phi=torch.tanh, a=1.0), ValueError,
     "parameters are only accepted"),
    (lambda: kernels.nngp_deep(torch.ones(2, 2), depth=2, phi=3), TypeError, "name"),
    (lambda: kernels.nngp_deep(torch.ones(2, 2), depth=2, block_rows=0), ValueError,
     "block_rows"),
    (lambda: kernels.nngp_deep(torch.ones(3), depth=2), ValueError, "2-D"),
    (lambda: kernels.nngp_deep(torch.ones(3, 2), torch.ones(2, 4), depth=2), ValueError,
     "columns"),
    (lambda: kernels.ntk_deep(torch.ones(2, 2), depth=2, parameterization="standard"),
     ValueError, "width .* is given exactly when parameterization='standard'"),
    (lambda: kernels.ntk_deep(torch.ones(2, 2), depth=2, width=8), ValueError, "width"),
    (lambda: kernels.ntk_deep(torch.ones(2, 2), depth=2, parameterization="mup"), ValueError,
     "'ntk' or 'standard'"),
    (lambda: kernels.ntk_deep(torch.ones(2, 2), depth=2, parameterization="standard",
                              width=0), ValueError, "width must be >= 1"),
    (lambda: kernels.length_map(-1.0), ValueError, "q must be >= 0"),
    (lambda: kernels.fixed_point_q("erf", math.pi / 4, 0.0, max_iter=50), ValueError,
     "did not converge"),
])
def test_errors_say_what_was_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_fixed_point_and_chi1_take_a_grid_of_variances():
    """A tensor of σ_w² is iterated as a whole: each entry equals its own scalar run."""
    grid = torch.tensor([0.5, 1.2, 2.5], dtype=torch.float64)
    q_grid = kernels.fixed_point_q(torch.tanh, grid, 0.05)
    chi_grid = kernels.chi1(torch.tanh, grid, 0.05)
    for s, q, chi in zip(grid.tolist(), q_grid.tolist(), chi_grid.tolist(), strict=True):
        assert q == pytest.approx(kernels.fixed_point_q(torch.tanh, s, 0.05), rel=1e-10)
        assert chi == pytest.approx(float(kernels.chi1(torch.tanh, s, 0.05)), rel=1e-10)
    assert isinstance(kernels.fixed_point_q("relu", 1.5, 0.2), float)


def test_depth_scale_of_ordered_relu_is_minus_one_over_log_chi1():
    """relu with σ_w² < 2 is ordered: c* = 1 and χ_c = χ₁ = σ_w² E[step²] = σ_w²/2."""
    grid = torch.tensor([1.0, 1.5, 1.9], dtype=torch.float64)
    torch.testing.assert_close(kernels.depth_scale("relu", grid, 0.1), -1 / torch.log(grid / 2),
                               rtol=1e-12, atol=0)


def test_depth_scale_grows_towards_the_edge_of_chaos_from_both_sides():
    grid = torch.tensor([0.8, 1.4, 2.6, 4.0], dtype=torch.float64)  # tanh's edge: ≈ 1.76 here
    xi = kernels.depth_scale(torch.tanh, grid, 0.05)
    assert xi[0] < xi[1] and xi[2] > xi[3] and bool((xi > 0).all())
