"""Dual activations, NNGP and NTK Gram matrices, and kernel regression.

The *dual activation* of φ : ℝ → ℝ is

    φ̌(ξ) = E[φ(u) φ(v)],   (u, v) ~ N(0, [[1, ξ], [ξ, 1]]),   ξ ∈ [−1, 1].

For unit inputs x, x′ and w ~ N(0, I), (wᵀx, wᵀx′) has exactly this law with ξ = xᵀx′, so φ̌ is
the kernel (NNGP) of an infinitely wide one-hidden-layer network with activation φ.

Each activation is one :class:`Activation` in :data:`ACTIVATIONS`: its map φ, its closed-form
dual φ̌ and its Gram matrix for inputs of any norm, side by side. The ``dual_*`` functions state
the closed forms in their docstrings; :func:`dual_monte_carlo` (a finite-width layer) and
:func:`dual_quadrature` (Gauss–Hermite) estimate any dual without a closed form, and the tests
hold every closed form against both.

Gram matrices take the inputs as the **rows** of ``X`` (n, d) and ``Xp`` (m, d) and are one
matrix product ``X Xpᵀ`` followed by elementwise maps, never a loop over pairs. For inputs of
any norm, the NNGP entry is E[φ(wᵀx) φ(wᵀx′)] with w ~ N(0, I), whose covariance is
[[‖x‖², xᵀx′], [xᵀx′, ‖x′‖²]]; every activation here has a closed form for it. On a CPU the
maps run over blocks of rows that stay in the cache (``bench/nngp_solve.py`` times them against
the bare matrix product and Cholesky solve).

Activations (names accepted by :func:`activation`, :func:`dual` and, as ``phi``, :func:`nngp_gram`):
``identity``, ``exp`` (e^{−C²+Cx}, parameter ``C``), ``sin``, ``cos``, ``relu``,
``step`` (relu′ = 1{x > 0}), ``erf`` (erf(ax), parameter ``a``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from dlmath._validate import as_tensor, positive, positive_int

XI_ROUNDING = 1e-12  # how far outside [−1, 1] a ξ may lie and still be taken as rounding
Tensor = torch.Tensor


# --------------------------------------------------------------------------- validation


def _xi(xi: Any) -> Tensor:
    """ξ as a float tensor in [−1, 1]: clipped within rounding of ±1, else ValueError."""
    xi = as_tensor(xi, "xi")
    tol = max(XI_ROUNDING, 8 * torch.finfo(xi.dtype).eps)
    if xi.numel() and float(xi.abs().max()) > 1 + tol:
        worst = float(xi.flatten()[xi.abs().flatten().argmax()])
        raise ValueError(f"xi must lie in [-1, 1] (a correlation), got {worst!r}")
    return xi.clamp(-1.0, 1.0)


def _rows(X: Any, name: str, like: Tensor | None = None) -> Tensor:
    X = as_tensor(X, name, dtype=None if like is None else like.dtype,
                  device=None if like is None else like.device)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of inputs as rows, shape (n, d), "
                         f"got shape {tuple(X.shape)}")
    return X


def _pair(X: Any, Xp: Any) -> tuple[Tensor, Tensor]:
    X = _rows(X, "X")
    Xp = X if Xp is None else _rows(Xp, "Xp", like=X)
    if Xp.shape[1] != X.shape[1]:
        raise ValueError(f"X and Xp must have the same number of columns (input dimension d), "
                         f"got X {tuple(X.shape)} and Xp {tuple(Xp.shape)}")
    return X, Xp


# --------------------------------------------------------------------------- closed forms
# Each takes ξ already in [−1, 1], or the products G = xᵀx′, a = ‖x‖², b = ‖x′‖² of a Gram
# matrix, and the activation's parameters; the public functions below validate first.


def _relu_dual(xi: Tensor) -> Tensor:
    return (torch.sqrt(1 - xi**2) + (math.pi - torch.arccos(xi)) * xi) / (2 * math.pi)


def _step_dual(xi: Tensor) -> Tensor:
    return (math.pi - torch.arccos(xi)) / (2 * math.pi)


def _erf_dual(xi: Tensor, a: float) -> Tensor:
    return (2 / math.pi) * torch.arcsin(2 * a**2 * xi / (1 + 2 * a**2))


def _cosine(G: Tensor, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """‖x‖‖x′‖ and ξ = xᵀx′/(‖x‖‖x′‖) (0 where an input is 0); √a √b, not √(ab), which
    underflows for tiny rows."""
    norms = torch.sqrt(a) * torch.sqrt(b)
    xi = torch.where(norms > 0, G / torch.where(norms > 0, norms, 1.0), 0.0).clamp(-1.0, 1.0)
    return norms, xi


def _half_exps(G: Tensor, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """e^{G − (a+b)/2}/2 and e^{−G − (a+b)/2}/2. Both exponents are ≤ 0 (|G| ≤ √(ab) ≤ (a+b)/2),
    so neither overflows, where e^{−(a+b)/2} sinh G would give ∞·0 for ‖x‖² > 709."""
    mean = (a + b) / 2
    return torch.exp(G - mean) / 2, torch.exp(-G - mean) / 2


def _sin_gram(G: Tensor, a: Tensor, b: Tensor) -> Tensor:
    plus, minus = _half_exps(G, a, b)
    return plus - minus


def _cos_gram(G: Tensor, a: Tensor, b: Tensor) -> Tensor:
    plus, minus = _half_exps(G, a, b)
    return plus + minus


def _relu_gram(G: Tensor, a: Tensor, b: Tensor) -> Tensor:
    norms, xi = _cosine(G, a, b)
    return norms * _relu_dual(xi)


def _step_gram(G: Tensor, a: Tensor, b: Tensor) -> Tensor:
    norms, xi = _cosine(G, a, b)
    return torch.where(norms > 0, _step_dual(xi), 0.0)


def _erf_gram(G: Tensor, a: Tensor, b: Tensor, *, a_: float) -> Tensor:
    s = 2 * a_**2
    return (2 / math.pi) * torch.arcsin((s * G / (torch.sqrt(1 + s * a) * torch.sqrt(1 + s * b)))
                                        .clamp(-1.0, 1.0))


@dataclass(frozen=True)
class Activation:
    """An activation φ and its kernels, in one place: adding an activation is adding one.

    ``phi(z, **p)`` is φ elementwise; ``dual(ξ, **p)`` is φ̌(ξ) for ξ in [−1, 1];
    ``gram(G, a, b, **p)`` is E[φ(wᵀx) φ(wᵀx′)], w ~ N(0, I), from G = xᵀx′ and the squared
    norms a = ‖x‖², b = ‖x′‖² (any norms); ``params`` names the parameters with their defaults.
    ``normalized_gram``, when given, is a closed form of K(x, x′)/√(K(x, x) K(x′, x′)) for an
    activation whose K overflows where the quotient does not.
    """

    phi: Callable[..., Tensor]
    dual: Callable[..., Tensor]
    gram: Callable[..., Tensor]
    params: Mapping[str, float] = field(default_factory=dict)
    normalized_gram: Callable[..., Tensor] | None = None


#: The activations by name, each with its map, dual and Gram matrix:
#: ``exp`` is e^{−C²+Cx} (parameter ``C``), ``erf`` is erf(a x) (parameter ``a``), ``step``
#: is 1{x > 0} (relu′, with step(0) = 0).
ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation(lambda z: z, lambda xi: xi.clone(), lambda G, a, b: G.clone()),
    "exp": Activation(
        lambda z, C: torch.exp(-C**2 + C * z),
        lambda xi, C: torch.exp(-C**2 + C**2 * xi),
        lambda G, a, b, C: torch.exp(-2 * C**2 + C**2 * (a + b + 2 * G) / 2),
        {"C": 1.0},
        # the quotient is e^{−C²‖x − x′‖²/2}, the Gaussian kernel
        normalized_gram=lambda G, a, b, C: torch.exp(C**2 * (G - (a + b) / 2))),
    "sin": Activation(lambda z: torch.sin(z), lambda xi: math.exp(-1.0) * torch.sinh(xi),
                      _sin_gram),
    "cos": Activation(lambda z: torch.cos(z), lambda xi: math.exp(-1.0) * torch.cosh(xi),
                      _cos_gram),
    "relu": Activation(lambda z: torch.relu(z), _relu_dual, _relu_gram),
    "step": Activation(lambda z: (z > 0).to(z.dtype), _step_dual, _step_gram),
    "erf": Activation(lambda z, a: torch.erf(a * z), _erf_dual,
                      lambda G, a, b, a_: _erf_gram(G, a, b, a_=a_), {"a": 1.0}),
}


def _lookup(name: str, params: dict[str, Any]) -> tuple[Activation, dict[str, float]]:
    """The activation called ``name`` and its parameters, defaults filled in and validated."""
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {tuple(ACTIVATIONS)}")
    act = ACTIVATIONS[name]
    unknown = set(params) - set(act.params)
    if unknown:
        expected = f"only {sorted(act.params)}" if act.params else "no parameters"
        raise ValueError(f"activation {name!r} takes {expected}, got {sorted(unknown)}")
    out = {**act.params, **params}
    for key, value in out.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{key} must be a real number, got {type(value).__name__}")
        if not math.isfinite(value):
            raise ValueError(f"{key} must be finite, got {value!r}")
    return act, {k: float(v) for k, v in out.items()}


def _positional(act: Activation, p: dict[str, float]) -> list[float]:
    return [p[k] for k in act.params]


def activation(name: str, **params: float) -> Callable[[Tensor], Tensor]:
    """The activation φ called ``name`` as an elementwise function of a tensor."""
    act, p = _lookup(name, params)
    values = _positional(act, p)
    return lambda z: act.phi(z, *values)


def dual(name: str, xi: Any, **params: float) -> Tensor:
    """The closed-form dual activation φ̌(ξ) of the activation called ``name``."""
    act, p = _lookup(name, params)
    return act.dual(_xi(xi), *_positional(act, p))


def dual_identity(xi: Any) -> Tensor:
    """Dual of φ(x) = x:  φ̌(ξ) = ξ  (E[uv] is the covariance)."""
    return dual("identity", xi)


def dual_exp(xi: Any, C: float = 1.0) -> Tensor:
    """Dual of φ(x) = e^{−C²+Cx}:  φ̌(ξ) = e^{−C²+C²ξ}.

    E[e^{C(u+v)}] = e^{C² Var(u+v)/2} = e^{C²(1+ξ)}, times e^{−2C²}.
    """
    return dual("exp", xi, C=C)


def dual_sin(xi: Any) -> Tensor:
    """Dual of φ = sin:  φ̌(ξ) = e^{−1} sinh ξ.

    sin u sin v = ½(cos(u − v) − cos(u + v)) and E cos W = e^{−Var W / 2}.
    """
    return dual("sin", xi)


def dual_cos(xi: Any) -> Tensor:
    """Dual of φ = cos:  φ̌(ξ) = e^{−1} cosh ξ.

    cos u cos v = ½(cos(u − v) + cos(u + v)) and E cos W = e^{−Var W / 2}.
    """
    return dual("cos", xi)


def dual_relu(xi: Any) -> Tensor:
    """Dual of φ = relu:  φ̌(ξ) = (√(1 − ξ²) + (π − arccos ξ) ξ) / (2π).

    The degree-1 arc-cosine kernel of Cho and Saul, halved: φ̌(1) = E relu(u)² = ½. The
    *normalised* ReLU kernel (φ̌(1) = 1) is twice this, the dual of √2·relu.
    """
    return dual("relu", xi)


def dual_step(xi: Any) -> Tensor:
    """Dual of φ(x) = 1{x > 0} (= relu′):  φ̌(ξ) = (π − arccos ξ) / (2π).

    P(u > 0, v > 0) is the Gaussian measure of a wedge of angle π − arccos ξ.
    """
    return dual("step", xi)


def dual_erf(xi: Any, a: float = 1.0) -> Tensor:
    """Dual of φ(x) = erf(a x):  φ̌(ξ) = (2/π) arcsin(2a²ξ / (1 + 2a²)).

    For a = 1 this is (2/π) arcsin(2ξ/3), and the normalised kernel is
    arcsin(2ξ/3) / arcsin(2/3).
    """
    return dual("erf", xi, a=a)


def normalized_dual(name: str, xi: Any, **params: float) -> Tensor:
    """φ̌(ξ) / φ̌(1): the dual of φ / √(E φ(u)²), a kernel with value 1 at ξ = 1."""
    return dual(name, xi, **params) / dual(name, 1.0, **params)


# --------------------------------------------------------------------------- estimators


def _phi(phi: str | Callable[[torch.Tensor], torch.Tensor], params: dict[str, float]
         ) -> Callable[[torch.Tensor], torch.Tensor]:
    if isinstance(phi, str):
        return activation(phi, **params)
    if not callable(phi):
        raise TypeError(f"phi must be an activation name or a callable, got {type(phi).__name__}")
    if params:
        raise ValueError("parameters are only accepted with an activation name")
    return phi


def dual_monte_carlo(phi: str | Callable[[torch.Tensor], torch.Tensor], xi: Any, *,
                     width: int = 100_000, generator: torch.Generator | None = None,
                     **params: float) -> torch.Tensor:
    """Estimate φ̌(ξ) by one random layer of ``width`` units.

    The two inputs x = (1, 0) and x′ = (ξ, √(1 − ξ²)) are unit vectors with xᵀx′ = ξ; the
    layer's weights W (width, 2) are i.i.d. N(0, 1), and the estimate is the mean over units
    of φ(Wx) φ(Wx′) (the same W for every ξ). Its standard error is std(φ(u)φ(v)) / √width.
    """
    f = _phi(phi, params)
    xi = _xi(xi)
    width = positive_int(width, "width")
    W = torch.randn(width, 2, dtype=xi.dtype, device=xi.device, generator=generator)
    u = W[:, 0]  # (width,)
    v = xi.unsqueeze(-1) * W[:, 0] + torch.sqrt(1 - xi**2).unsqueeze(-1) * W[:, 1]
    return (f(u) * f(v)).mean(-1)


def gauss_hermite(order: int, dtype: torch.dtype = torch.float64,
                  device: torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes z and weights w with Σ w f(z) ≈ E f(Z), Z ~ N(0, 1), exact for polynomials of
    degree < 2·order (probabilists' Hermite rule, weights divided by √(2π))."""
    order = positive_int(order, "order")
    z, w = np.polynomial.hermite_e.hermegauss(order)
    w = w / math.sqrt(2 * math.pi)
    return (torch.as_tensor(z, dtype=dtype, device=device),
            torch.as_tensor(w, dtype=dtype, device=device))


def dual_quadrature(phi: str | Callable[[torch.Tensor], torch.Tensor], xi: Any, *,
                    order: int = 64, **params: float) -> torch.Tensor:
    """Estimate φ̌(ξ) by a tensor-product Gauss–Hermite rule with ``order`` nodes per axis.

    With z₁, z₂ i.i.d. N(0, 1), u = z₁ and v = ξ z₁ + √(1 − ξ²) z₂ have the dual's law. The
    rule is exact when φ is a polynomial of degree < order and converges fast for smooth φ;
    at a kink or a jump it converges slowly (measured worst-case error over ξ: about
    0.13/order for relu, 0.2/√order for step).
    """
    f = _phi(phi, params)
    xi = _xi(xi)
    z, w = gauss_hermite(order, xi.dtype, xi.device)
    s = torch.sqrt(1 - xi**2)[..., None, None]
    v = xi[..., None, None] * z[:, None] + s * z[None, :]  # (..., order, order)
    return torch.einsum("i,j,...ij->...", w, w, f(z)[:, None] * f(v))


# --------------------------------------------------------------------------- Gram matrices


def nngp_gram(X: Any, Xp: Any = None, *, phi: str = "relu",
              normalize: bool = False, **params: float) -> Tensor:
    """The NNGP Gram matrix K_ij = E[φ(wᵀxᵢ) φ(wᵀx′ⱼ)], w ~ N(0, I), rows of X and Xp as inputs.

    One product G = X Xpᵀ (entries xᵀx′), then elementwise maps of G and the squared norms
    ‖x‖², ‖x′‖², with ξ = xᵀx′ / (‖x‖‖x′‖) the cosine:

    - identity: xᵀx′;   exp: e^{−2C² + C²(‖x‖² + ‖x′‖² + 2xᵀx′)/2};
    - sin: e^{−(‖x‖² + ‖x′‖²)/2} sinh(xᵀx′);   cos: e^{−(‖x‖² + ‖x′‖²)/2} cosh(xᵀx′)
      (computed as differences of exponentials of −(‖x‖² + ‖x′‖²)/2 ± xᵀx′, which never
      overflow);
    - relu: ‖x‖‖x′‖ φ̌_relu(ξ) (relu is positively homogeneous);   step: φ̌_step(ξ);
    - erf (parameter a, s = 2a²): (2/π) arcsin(s xᵀx′ / √((1 + s‖x‖²)(1 + s‖x′‖²))).

    For unit rows these are φ̌(ξ). Rows of norm 0 give 0 for relu and step (step(0) = 0).
    ``normalize=True`` divides by √K(x, x) √K(x′, x′), so the diagonal is 1; for unit rows
    that is φ̌(ξ)/φ̌(1) (for exp, the Gaussian kernel e^{−C²‖x − x′‖²/2}). With ``Xp`` omitted
    the diagonal is set to K(x, x) exactly, not through the rounding of ξ ≈ 1.
    """
    act, p = _lookup(phi, params)
    values = _positional(act, p)
    G, a, b = _products(X, Xp)
    ka, kb = act.gram(a, a, a, *values), act.gram(b, b, b, *values)  # K(x, x): G = a = b
    if normalize and bool((ka <= 0).any() or (kb <= 0).any()):
        raise ValueError(f"normalize=True needs K(x, x) > 0 for every input; {phi}"
                         " gives 0 on some rows (a zero input?)")
    gram = act.gram
    closed_form = normalize and act.normalized_gram is not None
    if closed_form and act.normalized_gram is not None:
        gram = act.normalized_gram
    for rows in _row_blocks(G):  # K overwrites G, a block of rows at a time
        block = gram(G[rows], a[rows], b, *values)
        if normalize and not closed_form:
            block = block / torch.sqrt(ka[rows]) / torch.sqrt(kb)
        G[rows] = block
    if Xp is None:
        G.diagonal().copy_(torch.ones_like(ka[:, 0]) if normalize else ka[:, 0])
    return G


#: Entries of a block that the elementwise maps of a Gram matrix work on at a time, on a CPU:
#: a block of 2¹⁸ float64 (2 MB) stays in the cache through the dozen maps of a kernel, where
#: the whole matrix would go through memory once per map. A GPU maps the whole matrix at once.
CPU_BLOCK = 2**18


def _row_blocks(G: Tensor) -> list[slice]:
    """Slices of rows of G that make blocks of about ``CPU_BLOCK`` entries (one on a GPU)."""
    n, m = G.shape
    rows = n if G.device.type != "cpu" else max(1, CPU_BLOCK // max(m, 1))
    return [slice(i, min(i + rows, n)) for i in range(0, n, rows)]


def _block_pairs(G: Tensor) -> list[tuple[slice, slice]]:
    """Pairs (I, J) of square blocks of the square G on and above its diagonal, each of about
    ``CPU_BLOCK`` entries (one pair, the whole matrix, on a GPU)."""
    n = G.shape[0]
    size = n if G.device.type != "cpu" else max(1, math.isqrt(CPU_BLOCK))
    return [(slice(i, i + size), slice(j, j + size))
            for i in range(0, n, size) for j in range(i, n, size)]


def _symmetrize_(G: Tensor) -> Tensor:
    """Replace the square G by (G + Gᵀ)/2 in place."""
    for I, J in _block_pairs(G):
        mean = (G[I, J] + G[J, I].T) / 2
        G[I, J] = mean
        G[J, I] = mean.T
    return G


def _asymmetry(K: Tensor) -> float:
    """max |K − Kᵀ| of a square K."""
    return max((float((K[I, J] - K[J, I].T).abs().max()) for I, J in _block_pairs(K)),
               default=0.0)


def _products(X: Any, Xp: Any) -> tuple[Tensor, Tensor, Tensor]:
    """G = X Xpᵀ (the one matrix product), a = ‖xᵢ‖² as a column, b = ‖x′ⱼ‖² as a row."""
    symmetric = Xp is None
    X, Xp = _pair(X, Xp)
    G = X @ Xp.T  # (n, m)
    if symmetric:  # exactly symmetric: arccos amplifies rounding near ξ = 1
        _symmetrize_(G)
    a = torch.linalg.vector_norm(X, dim=1).square()
    b = a if symmetric else torch.linalg.vector_norm(Xp, dim=1).square()
    return G, a[:, None], b[None, :]


def ntk_relu_gram(X: Any, Xp: Any = None, *, layers: str = "first") -> torch.Tensor:
    """The NTK Gram matrix of f(x) = (1/√k) Σᵢ aᵢ relu(wᵢᵀx), wᵢ ~ N(0, I), aᵢ ~ N(0, 1), k → ∞.

    ``layers="first"`` (only the wᵢ trained): Θ(x, x′) = xᵀx′ · E[relu′(u) relu′(v)]
    = ‖x‖‖x′‖ ξ(π − arccos ξ) / (2π).
    ``layers="both"`` adds the last layer's term E[relu(u) relu(v)] = ‖x‖‖x′‖ φ̌_relu(ξ):
    Θ = ‖x‖‖x′‖ (2ξ(π − arccos ξ) + √(1 − ξ²)) / (2π).
    With the output scaled by √2 (f = √(2/k) Σ aᵢ relu(wᵢᵀx)) both are doubled.
    """
    if layers not in ("first", "both"):
        raise ValueError(f"layers must be 'first' or 'both', got {layers!r}")
    G, a, b = _products(X, Xp)
    K = G * _step_gram(G, a, b)  # xᵀx′ E[relu′(u) relu′(v)]
    if layers == "both":
        K = K + _relu_gram(G, a, b)  # + E[relu(u) relu(v)]
    return K


def laplace_gram(X: Any, Xp: Any = None, *, L: float = 1.0) -> torch.Tensor:
    """The Laplace kernel K_ij = e^{−L ‖xᵢ − x′ⱼ‖}, distances from one product:
    ‖x − x′‖² = ‖x‖² + ‖x′‖² − 2xᵀx′ (clipped at 0 against rounding)."""
    L = positive(L, "L")
    G, a, b = _products(X, Xp)
    d2 = (a + b - 2 * G).clamp_min(0.0)
    if Xp is None:
        d2.fill_diagonal_(0.0)  # exactly 0, not rounding
    return torch.exp(-L * torch.sqrt(d2))


# --------------------------------------------------------------------------- regression


def kernel_solve(K: Any, y: Any, *, lam: float = 0.0) -> torch.Tensor:
    """Coefficients α = (K + λI)⁻¹ y by a Cholesky solve, for a symmetric PSD Gram matrix K.

    ``lam`` = λ ≥ 0 is the ridge; λ = 0 interpolates. When K + λI is not numerically
    positive definite (singular K, duplicate inputs), the minimum-norm least-squares solution
    pinv(K + λI) y is returned with a warning. ``y`` is (n,) or (n, c).
    """
    K = as_tensor(K, "K")
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"K must be a square (n, n) Gram matrix, got shape {tuple(K.shape)}")
    n = K.shape[0]
    scale = float(K.diagonal().abs().max()) if n else 0.0  # a PSD matrix's largest entry
    asymmetry = _asymmetry(K)  # rounding leaves about an ulp; √eps is half the digits
    if asymmetry > math.sqrt(torch.finfo(K.dtype).eps) * max(scale, 1.0):
        raise ValueError(f"K must be symmetric (a Gram matrix); got max |K − Kᵀ| = "
                         f"{asymmetry:.3g}")
    y = as_tensor(y, "y", dtype=K.dtype, device=K.device)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, c) to match K, got {tuple(y.shape)}")
    lam = positive(lam, "lam", allow_zero=True)
    A = K.clone()
    A.diagonal().add_(lam)
    rhs = y if y.ndim == 2 else y[:, None]
    chol, info = torch.linalg.cholesky_ex(A)
    if int(info) == 0:
        alpha = torch.cholesky_solve(rhs, chol)
        if bool(torch.isfinite(alpha).all()):
            return alpha if y.ndim == 2 else alpha[:, 0]
    warnings.warn("K + lam*I is not numerically positive definite; returning the minimum-norm "
                  "least-squares solution pinv(K + lam*I) y (add a ridge lam > 0 to avoid this)",
                  RuntimeWarning, stacklevel=2)
    alpha = torch.linalg.pinv(A, hermitian=True) @ rhs
    return alpha if y.ndim == 2 else alpha[:, 0]


def kernel_regression(K: Any, y: Any, K_test: Any, *, lam: float = 0.0) -> torch.Tensor:
    """Predictions K_test (K + λI)⁻¹ y of kernel (ridge) regression.

    ``K`` (n, n) is the training Gram matrix, ``K_test`` (m, n) the kernel between the m test
    inputs and the n training inputs, ``y`` (n,) or (n, c) the training labels.
    """
    alpha = kernel_solve(K, y, lam=lam)
    K_test = as_tensor(K_test, "K_test", dtype=alpha.dtype, device=alpha.device)
    if K_test.ndim != 2 or K_test.shape[1] != alpha.shape[0]:
        raise ValueError(f"K_test must have shape (m, {alpha.shape[0]}), got "
                         f"{tuple(K_test.shape)}")
    return K_test @ alpha
