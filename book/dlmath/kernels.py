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
maps run over blocks of rows that stay in the cache, and a symmetric Gram matrix is mapped on
its upper triangle only and mirrored, which also makes it exactly symmetric
(``bench/nngp_solve.py`` times them against the bare matrix product and Cholesky solve).

Deep kernels: :func:`nngp_deep` and :func:`ntk_deep` run the layer recursions of a fully
connected network of any depth (weights of variance σ_w²/fan-in, biases σ_b², input layer
scaled by 1/d) through each activation's ``gram`` and ``derivative_gram``, or through 2-D
Gauss–Hermite quadrature for a callable φ (tanh, GELU, …); :func:`length_map`,
:func:`fixed_point_q` and :func:`chi1` are the length map, its fixed point q* and the slope
χ₁ of the correlation map at ξ = 1 (order/chaos).

Activations (names accepted by :func:`activation`, :func:`dual` and, as ``phi``, :func:`nngp_gram`):
``identity``, ``exp`` (e^{−C²+Cx}, parameter ``C``), ``sin``, ``cos``, ``relu``,
``step`` (relu′ = 1{x > 0}), ``erf`` (erf(ax), parameter ``a``).
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import torch

from dlmath import env
from dlmath._validate import as_tensor, finite_entries, positive, positive_int, spd_solve

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
    """X as a 2-D tensor (of ``like``'s dtype and device); finiteness is checked on the norms
    of its rows, by :func:`_products`."""
    X = as_tensor(X, name, dtype=None if like is None else like.dtype,
                  device=None if like is None else like.device, finite=False)
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


def _cosine(G: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """ξ = xᵀx′/(‖x‖‖x′‖), 0 where an input is 0 (its norm taken as ∞). √a √b neither
    underflows nor overflows for finite rows, where √(ab) can do both."""
    return (G / (_norm_or_inf(a) * _norm_or_inf(b))).clamp(-1.0, 1.0)


def _norm_or_inf(a: Tensor) -> Tensor:
    return torch.where(a > 0, torch.sqrt(a), math.inf)


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
    return _relu_dual(_cosine(G, a, b)) * torch.sqrt(a) * torch.sqrt(b)


def _step_gram(G: Tensor, a: Tensor, b: Tensor) -> Tensor:
    return _step_dual(_cosine(G, a, b)) * (a > 0) * (b > 0)  # step(0) = 0 for a zero input


def _erf_gram(G: Tensor, a: Tensor, b: Tensor, *, a_: float) -> Tensor:
    s = 2 * a_**2
    return (2 / math.pi) * torch.arcsin((s * G / (torch.sqrt(1 + s * a) * torch.sqrt(1 + s * b)))
                                        .clamp(-1.0, 1.0))


def _erf_derivative_gram(G: Tensor, a: Tensor, b: Tensor, *, a_: float) -> Tensor:
    """E[φ′(u) φ′(v)] for φ(x) = erf(a x), (u, v) ~ N(0, [[a, G], [G, b]]) (a_ is the slope a).

    φ′(x) = (2a/√π) e^{−a²x²}, and E e^{−wᵀAw/2} = det(I + ΣA)^{−1/2} with A = 2a²I, so
    E[φ′φ′] = (4a²/π) / √((1 + 2a²a)(1 + 2a²b) − 4a⁴G²). The determinant is ≥ 1 + 2a²(a + b)
    > 0 for a PSD covariance; it is clipped there against rounding.
    """
    s = 2 * a_**2
    det = (1 + s * a) * (1 + s * b) - (s * G) ** 2
    return (4 * a_**2 / math.pi) * torch.rsqrt(torch.maximum(det, 1 + s * (a + b)))


@dataclass(frozen=True)
class Activation:
    """An activation φ and its kernels, in one place: adding an activation is adding one.

    ``phi(z, **p)`` is φ elementwise; ``dual(ξ, **p)`` is φ̌(ξ) for ξ in [−1, 1];
    ``gram(G, a, b, **p)`` is E[φ(wᵀx) φ(wᵀx′)], w ~ N(0, I), from G = xᵀx′ and the squared
    norms a = ‖x‖², b = ‖x′‖² (any norms); ``params`` names the parameters with their defaults.
    ``normalized_gram``, when given, is a closed form of K(x, x′)/√(K(x, x) K(x′, x′)) for an
    activation whose K overflows where the quotient does not.

    ``gram`` takes any covariance: ``gram(G, a, b)`` is E[φ(u) φ(v)] for
    (u, v) ~ N(0, [[a, G], [G, b]]), which is what the depth recursions of :func:`nngp_deep`
    need. ``derivative_gram(G, a, b, **p)``, when given, is E[φ′(u) φ′(v)] under the same law
    (the K̇ of the NTK); it is ``None`` where φ′ has no such kernel (step′ is a Dirac delta).
    """

    phi: Callable[..., Tensor]
    dual: Callable[..., Tensor]
    gram: Callable[..., Tensor]
    params: Mapping[str, float] = field(default_factory=dict)
    normalized_gram: Callable[..., Tensor] | None = None
    derivative_gram: Callable[..., Tensor] | None = None


def _exp_gram(G: Tensor, a: Tensor, b: Tensor, C: float) -> Tensor:
    return torch.exp(-2 * C**2 + C**2 * (a + b + 2 * G) / 2)


#: The activations by name, each with its map, dual and Gram matrix:
#: ``exp`` is e^{−C²+Cx} (parameter ``C``), ``erf`` is erf(a x) (parameter ``a``), ``step``
#: is 1{x > 0} (relu′, with step(0) = 0).
ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation(lambda z: z, lambda xi: xi.clone(), lambda G, a, b: G.clone(),
                           derivative_gram=lambda G, a, b: torch.ones_like(G)),
    "exp": Activation(
        lambda z, C: torch.exp(-C**2 + C * z),
        lambda xi, C: torch.exp(-C**2 + C**2 * xi),
        _exp_gram,
        {"C": 1.0},
        # the quotient is e^{−C²‖x − x′‖²/2}, the Gaussian kernel
        normalized_gram=lambda G, a, b, C: torch.exp(C**2 * (G - (a + b) / 2)),
        derivative_gram=lambda G, a, b, C: C**2 * _exp_gram(G, a, b, C)),  # φ′ = Cφ
    "sin": Activation(lambda z: torch.sin(z), lambda xi: math.exp(-1.0) * torch.sinh(xi),
                      _sin_gram, derivative_gram=_cos_gram),  # sin′ = cos
    "cos": Activation(lambda z: torch.cos(z), lambda xi: math.exp(-1.0) * torch.cosh(xi),
                      _cos_gram, derivative_gram=_sin_gram),  # cos′ = −sin, (−sin)(−sin) = sin sin
    "relu": Activation(lambda z: torch.relu(z), _relu_dual, _relu_gram,
                       # K(x, x) = ‖x‖²/2: the quotient is φ̌(ξ)/φ̌(1) = 2φ̌(ξ)
                       normalized_gram=lambda G, a, b: 2 * _relu_dual(_cosine(G, a, b)),
                       derivative_gram=_step_gram),  # relu′ = step
    "step": Activation(lambda z: (z > 0).to(z.dtype), _step_dual, _step_gram),
    "erf": Activation(lambda z, a: torch.erf(a * z), _erf_dual,
                      lambda G, a, b, a_: _erf_gram(G, a, b, a_=a_), {"a": 1.0},
                      derivative_gram=lambda G, a, b, a_: _erf_derivative_gram(G, a, b, a_=a_)),
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
    z, w = _hermite_rule(positive_int(order, "order"))
    return torch.tensor(z, dtype=dtype, device=device), torch.tensor(w, dtype=dtype, device=device)


@functools.lru_cache(maxsize=32)
def _hermite_rule(order: int) -> tuple[np.ndarray, np.ndarray]:
    """The rule of :func:`gauss_hermite` in float64, computed once per order (an eigenvalue
    problem of size order, milliseconds, where an iteration of a length map needs microseconds)."""
    z, w = np.polynomial.hermite_e.hermegauss(order)
    return z, w / math.sqrt(2 * math.pi)


def dual_quadrature(phi: str | Callable[[torch.Tensor], torch.Tensor], xi: Any, *,
                    order: int = 64, **params: float) -> torch.Tensor:
    """Estimate φ̌(ξ) by a tensor-product Gauss–Hermite rule with ``order`` nodes per axis.

    With z₁, z₂ i.i.d. N(0, 1), u = z₁ and v = ξ z₁ + √(1 − ξ²) z₂ have the dual's law: the
    rule of the deep kernels at unit variances (:class:`_Quadrature`). The rule is exact
    when φ is a polynomial of degree < order and converges fast for smooth φ; at a kink or a
    jump it converges slowly (measured worst-case error over ξ: about 0.13/order for relu,
    0.2/√order for step).
    """
    xi = _xi(xi)
    one = torch.ones_like(xi)
    return _Quadrature(_phi(phi, params), positive_int(order, "order"))(xi, one, one)


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
    the product and the maps run on and above the diagonal only, then are mirrored (K is
    exactly symmetric), and the diagonal is set to K(x, x) exactly, not through the rounding
    of ξ ≈ 1.
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
    with _one_thread_on_cpu(G):
        for rows, cols in _blocks(G, symmetric=Xp is None):  # K overwrites G, block by block
            block = gram(G[rows, cols], a[rows], b[:, cols], *values)
            if normalize and not closed_form:
                block = block / torch.sqrt(ka[rows]) / torch.sqrt(kb[:, cols])
            G[rows, cols] = block
    if Xp is None:
        _mirror_upper_(G)
        G.diagonal().copy_(torch.ones_like(ka[:, 0]) if normalize else ka[:, 0])
    return G


#: Entries of a block that the elementwise maps of a Gram matrix work on at a time, on a CPU:
#: a block of 2¹⁶ float64 (512 KB, a core's L2 cache) stays in the cache through the dozen
#: maps of a kernel, where the whole matrix would go through memory once per map (measured at
#: n = 4000: the relu maps of the upper triangle take 0.07 s in blocks of 2¹⁵–2¹⁶ entries,
#: 0.09 s in blocks of 2¹⁷–2²⁰). A GPU maps the whole matrix at once.
#: The blocks are mapped on one thread: splitting an op this small over threads gains little,
#: and on a busy machine each op waits for a second core (measured at n = 4000 on 2 shared
#: cores: 0.18 s on one thread, 3.0 s on two).
CPU_BLOCK = 2**16


def _one_thread_on_cpu(G: Tensor) -> contextlib.AbstractContextManager[None]:
    return env.one_thread(G.device.type == "cpu")
#: Side of the square blocks that a transpose pairs up (symmetrising, checking symmetry): a
#: transposed block is read across its rows, so it must fit a core's cache on its own. Measured
#: at n = 4000 on a 2-core CPU: 128 (128 KB) takes 0.06 s where 512 took 0.33 s and one pass
#: over the whole matrix 0.26 s.
CPU_PAIR_BLOCK = 128


def _blocks(G: Tensor, symmetric: bool, block_rows: int | None = None
            ) -> list[tuple[slice, slice]]:
    """Blocks (rows, columns) that cover G, or for a symmetric G its upper triangle: each
    block of rows from its diagonal on, so that the maps run on half of the matrix and
    :func:`_mirror_upper_` copies the rest. A block has ``block_rows`` rows if given, else
    about ``CPU_BLOCK`` entries on a CPU and all rows on a GPU."""
    n, m = G.shape
    blocks, i = [], 0
    while i < n:
        first = i if symmetric else 0
        rows = (block_rows or (n if G.device.type != "cpu" else
                               max(1, CPU_BLOCK // max(m - first, 1))))
        blocks.append((slice(i, min(i + rows, n)), slice(first, m)))
        i += rows
    return blocks


def _block_pairs(G: Tensor) -> list[tuple[slice, slice]]:
    """Pairs (I, J) of square blocks of the square G on and above its diagonal, of side
    ``CPU_PAIR_BLOCK`` (one pair, the whole matrix, on a GPU)."""
    n = G.shape[0]
    size = n if G.device.type != "cpu" else CPU_PAIR_BLOCK
    return [(slice(i, i + size), slice(j, j + size))
            for i in range(0, n, size) for j in range(i, n, size)]


def _mirror_upper_(G: Tensor) -> Tensor:
    """Copy the upper triangle of the square G onto its lower triangle, in place: a Gram
    matrix of X with itself is exactly symmetric however X Xᵀ was rounded (arccos amplifies
    an ulp near ξ = 1), and its maps need only run on and above the diagonal."""
    with _one_thread_on_cpu(G):
        for I, J in _block_pairs(G):
            if I == J:  # a block on the diagonal (the whole matrix on a GPU)
                upper = G[I, I].triu()
                G[I, I] = upper + upper.triu(1).T
            else:
                G[J, I] = G[I, J].T
    return G


def _asymmetry(K: Tensor) -> float:
    """max |K − Kᵀ| of a square K; NaN if K has a NaN or an infinite entry."""
    with _one_thread_on_cpu(K):
        blocks = [(K[I, J] - K[J, I].T).abs().amax() for I, J in _block_pairs(K)]
    return float(torch.stack(blocks).amax()) if blocks else 0.0


def _products(X: Any, Xp: Any) -> tuple[Tensor, Tensor, Tensor]:
    """G = X Xpᵀ (the one matrix product), a = ‖xᵢ‖² as a column, b = ‖x′ⱼ‖² as a row.
    With Xp omitted, G is X Xᵀ on and above the diagonal only (:func:`_upper_product`):
    callers map its upper triangle and mirror the result (:func:`_mirror_upper_`)."""
    symmetric = Xp is None
    X, Xp = _pair(X, Xp)
    a = _squared_norms(X, "X")
    b = a if symmetric else _squared_norms(Xp, "Xp")
    return _upper_product(X) if symmetric else X @ Xp.T, a[:, None], b[None, :]


#: The product X Xᵀ of a symmetric Gram matrix is computed in this many blocks of rows, each
#: from its diagonal on: (1 + 1/8)/2 of the multiplications of the whole product. Measured at
#: n = 4000, d = 3072 on a 2-core CPU: 0.31 s against 0.51 s for X @ X.T in float64, 0.155 s
#: against 0.237 s in float32 (4 or 16 blocks take 0.32–0.33 s). A block has at least
#: ``PRODUCT_ROWS`` rows, so a small matrix is one product.
PRODUCT_BLOCKS, PRODUCT_ROWS = 8, 256


def _upper_product(X: Tensor) -> Tensor:
    """X Xᵀ on and above the diagonal (the diagonal blocks whole), zeros below: one product
    per block of rows."""
    n = X.shape[0]
    rows = max(-(-n // PRODUCT_BLOCKS), PRODUCT_ROWS)
    G = X.new_empty(n, n)
    for i in range(0, n, rows):
        G[i:i + rows, i:] = X[i:i + rows] @ X[i:].T
        G[i:i + rows, :i] = 0
    return G


def _squared_norms(X: Tensor, name: str) -> Tensor:
    """‖xᵢ‖² of the rows of X. A NaN or infinite entry makes its row's norm NaN or infinite,
    so this is where the inputs are checked for finiteness: n numbers instead of n·d."""
    a = torch.linalg.vector_norm(X, dim=1).square()
    if not bool(torch.isfinite(a).all()):
        finite_entries(X, name)
        raise ValueError(f"{name} has rows whose squared norm overflows (entries near "
                         f"{math.sqrt(torch.finfo(X.dtype).max):.1e} or larger)")
    return a


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
    return K if Xp is not None else _mirror_upper_(K)


# --------------------------------------------------------------------------- deep kernels
# A fully connected network of depth L (L hidden layers) with inputs x ∈ ℝᵈ, widths n → ∞,
# weights of variance σ_w²/fan-in and biases of variance σ_b². In the NTK parameterisation the
# trained parameters are standard normal and the scales are explicit:
#
#     z¹ = (σ_w/√d) W⁰ x + σ_b β⁰,   z^{l+1} = (σ_w/√n) Wˡ φ(zˡ) + σ_b βˡ,   f = z^{L+1}.
#
# The preactivations of layer l + 1 are a Gaussian process with covariance Kˡ:
#
#     K⁰(x, x′) = σ_w² xᵀx′/d + σ_b²,
#     K^{l+1}(x, x′) = σ_b² + σ_w² E[φ(u) φ(v)],   (u, v) ~ N(0, [[Kˡ(x, x), Kˡ(x, x′)],
#                                                              [Kˡ(x, x′), Kˡ(x′, x′)]]),
#
# so the output f has covariance K^L (the NNGP). Each step is an activation's ``gram`` on the
# cross matrix and the two variance vectors, elementwise.

#: Entries × nodes² on which Gauss–Hermite quadrature evaluates φ at a time (32 MB of float64).
QUADRATURE_BLOCK = 2**22

KernelMap = Callable[[Tensor, Tensor, Tensor], Tensor]


def _derivative(f: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """φ′ of an elementwise φ by autograd (φ′ almost everywhere: a jump is invisible to it)."""
    def df(z: Tensor) -> Tensor:
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            y = f(z)
            if not y.requires_grad:  # φ built from comparisons: piecewise constant
                return torch.zeros_like(z)
            (g,) = torch.autograd.grad(y.sum(), z, allow_unused=True, materialize_grads=True)
        return g.detach()
    return df


@dataclass(frozen=True)
class _Quadrature:
    """(G, a, b) ↦ E[f(u) f(v)], (u, v) ~ N(0, [[a, G], [G, b]]), by a tensor-product
    Gauss–Hermite rule: u = √a z₁, v = (G/√a) z₁ + √(b − G²/a) z₂ with z₁, z₂ i.i.d. N(0, 1).
    Costs order² evaluations of f per entry, in chunks of ``QUADRATURE_BLOCK``. On the
    diagonal (u = v) the rule in z₂ is idle: :meth:`diagonal` is the 1-D rule."""

    f: Callable[[Tensor], Tensor]
    order: int

    def __call__(self, G: Tensor, a: Tensor, b: Tensor) -> Tensor:
        G, a, b = torch.broadcast_tensors(G, a, b)
        shape = G.shape
        G, a, b = G.reshape(-1), a.reshape(-1), b.reshape(-1)
        z, w = gauss_hermite(self.order, G.dtype, G.device)
        out = torch.empty_like(G)
        chunk = max(1, QUADRATURE_BLOCK // self.order**2)
        for i in range(0, G.numel(), chunk):
            g, p, q = G[i:i + chunk], a[i:i + chunk], b[i:i + chunk]
            root = torch.sqrt(p)
            c = torch.where(p > 0, g / torch.where(p > 0, root, 1.0), 0.0)  # G/√a (0 if a = 0)
            s = torch.sqrt((q - c**2).clamp_min(0.0))  # √(b − G²/a)
            fu = self.f(root[:, None] * z)  # (k, order): f(u) at the nodes z₁
            fv = self.f(c[:, None, None] * z[:, None] + s[:, None, None] * z)  # (k, z₁, z₂)
            out[i:i + chunk] = ((fv @ w) * fu) @ w
        return out.reshape(shape)

    def diagonal(self, q: Tensor) -> Tensor:
        """E[f(√q z)²], z ~ N(0, 1): order evaluations of f per entry."""
        z, w = gauss_hermite(self.order, q.dtype, q.device)
        return (self.f(torch.sqrt(q)[..., None] * z) ** 2) @ w


def _kernel_maps(phi: str | Callable[[Tensor], Tensor], params: dict[str, float], *,
                 order: int, derivative: bool,
                 dphi: Callable[[Tensor], Tensor] | None = None
                 ) -> tuple[KernelMap, KernelMap | None]:
    """The maps (G, a, b) ↦ E[φ(u) φ(v)] and, if ``derivative``, (G, a, b) ↦ E[φ′(u) φ′(v)]:
    closed forms for a name in :data:`ACTIVATIONS`, quadrature for a callable φ."""
    if isinstance(phi, str):
        if phi not in ACTIVATIONS:
            raise ValueError(f"unknown activation {phi!r}; expected one of {tuple(ACTIVATIONS)} "
                             "(closed forms) or a callable such as torch.tanh (quadrature)")
        if dphi is not None:
            raise ValueError("dphi is only accepted with a callable phi (a named activation "
                             "has its derivative kernel in closed form)")
        act, p = _lookup(phi, params)
        values = _positional(act, p)

        def gram(G: Tensor, a: Tensor, b: Tensor) -> Tensor:
            return act.gram(G, a, b, *values)
        if not derivative:
            return gram, None
        derivative_gram = act.derivative_gram
        if derivative_gram is None:
            raise ValueError(f"the NTK of {phi!r} is not defined: it needs E[φ′(u) φ′(v)], and "
                             f"{phi}′ has no such kernel (step′ is a Dirac delta at 0)")

        def dgram(G: Tensor, a: Tensor, b: Tensor) -> Tensor:
            return derivative_gram(G, a, b, *values)
        return gram, dgram
    f = _phi(phi, params)
    order = positive_int(order, "order")
    if not derivative:
        return _Quadrature(f, order), None
    if dphi is not None and not callable(dphi):
        raise TypeError(f"dphi must be a callable (φ′) or None, got {type(dphi).__name__}")
    return _Quadrature(f, order), _Quadrature(dphi or _derivative(f), order)


def _variances(q0: Tensor, depth: int, sigma_w2: float, sigma_b2: float,
               K: KernelMap) -> list[Tensor]:
    """[q⁰, q¹, …, q^L] with q^{l+1} = σ_b² + σ_w² E[φ(√qˡ z)²] (the length map)."""
    q = [q0]
    for _ in range(depth):
        q.append(sigma_b2 + sigma_w2 * _on_diagonal(K, q[-1]))
    return q


def _on_diagonal(K: KernelMap, q: Tensor) -> Tensor:
    """K(q, q, q) = E[φ(√q z)²]: the 1-D rule of a quadrature; for a closed form, with the
    covariance passed as √q·√q, the very product the closed forms divide it by, so that ξ = 1
    exactly: q/(√q√q) is 1 ± an ulp, and arccos turns an ulp below 1 into an error of √eps
    (relu′ = step: ≈ 1e-8 in float64)."""
    if isinstance(K, _Quadrature):
        return K.diagonal(q)
    root = torch.sqrt(q)
    return K(root * root, q, q)


def _diagonal(K: KernelMap) -> KernelMap:
    """K on the diagonal, where G = a = b = q: the layer recursions run on the variances."""
    return lambda G, a, b: _on_diagonal(K, a)


def _nngp_layers(Kl: Tensor, qa: list[Tensor], qb: list[Tensor], sigma_w2: float,
                 sigma_b2: float, K: KernelMap) -> Tensor:
    """K^L from K⁰: K^{l+1} = σ_b² + σ_w² E[φ(u) φ(v)] under [[qaˡ, Kˡ], [Kˡ, qbˡ]]."""
    for a, b in zip(qa[:-1], qb[:-1], strict=True):
        Kl = sigma_b2 + sigma_w2 * K(Kl, a, b)
    return Kl


def _ntk_layers(Kl: Tensor, Theta: Tensor, qa: list[Tensor], qb: list[Tensor], sigma_w2: float,
                sigma_b2: float, K: KernelMap, Kdot: KernelMap,
                width: int | None) -> tuple[Tensor, Tensor]:
    """(Θ^L, K^L) from (Θ⁰, K⁰): Θ^{l+1} = T^{l+1} + σ_w² K̇^{l+1} Θˡ, K̇^{l+1} = E[φ′(u) φ′(v)],
    where the readout term T^{l+1} is K^{l+1} (NTK parameterisation) or, in the standard
    parameterisation of hidden width n, n E[φ(u) φ(v)] + 1."""
    for a, b in zip(qa[:-1], qb[:-1], strict=True):
        Kdot_l, E = Kdot(Kl, a, b), K(Kl, a, b)
        Kl = sigma_b2 + sigma_w2 * E
        readout = Kl if width is None else width * E + 1
        Theta = readout + sigma_w2 * Kdot_l * Theta
    return Theta, Kl


def _check_depth_and_variances(depth: Any, sigma_w2: Any, sigma_b2: Any) -> tuple[int, float,
                                                                                   float]:
    return (positive_int(depth, "depth"), positive(sigma_w2, "sigma_w2"),
            positive(sigma_b2, "sigma_b2", allow_zero=True))


def _deep(X: Any, Xp: Any, depth: int, sigma_w2: float, sigma_b2: float, K: KernelMap,
          Kdot: KernelMap | None, block_rows: int | None,
          width: int | None = None) -> tuple[Tensor, Tensor | None]:
    """K^L and (when Kdot is given) Θ^L: one product X Xpᵀ, then every layer's elementwise
    map on a block of rows at a time while it is in the cache. ``width`` None is the NTK
    parameterisation (Θ⁰ = K⁰), an int the standard one of that hidden width (Θ⁰ = xᵀx′ + 1)."""
    symmetric = Xp is None
    X, Xp = _pair(X, Xp)
    scale = sigma_w2 / X.shape[1]  # K⁰ = σ_w² xᵀx′/d + σ_b²
    G, a, b = _products(X, None if symmetric else Xp)
    Theta = None if Kdot is None else G + 1 if width is not None else torch.empty_like(G)
    G.mul_(scale).add_(sigma_b2)
    qa = _variances(a * scale + sigma_b2, depth, sigma_w2, sigma_b2, K)  # each (n, 1)
    qb = [q.T for q in qa] if symmetric else _variances(b * scale + sigma_b2, depth, sigma_w2,
                                                         sigma_b2, K)  # each (1, m)
    with _one_thread_on_cpu(G):
        for rows, cols in _blocks(G, symmetric, block_rows):  # Kˡ overwrites G
            qa_rows, qb_cols = [q[rows] for q in qa], [q[:, cols] for q in qb]
            if Kdot is None:
                G[rows, cols] = _nngp_layers(G[rows, cols], qa_rows, qb_cols, sigma_w2,
                                             sigma_b2, K)
            else:
                assert Theta is not None
                Theta0 = G[rows, cols] if width is None else Theta[rows, cols]
                Theta[rows, cols], G[rows, cols] = _ntk_layers(
                    G[rows, cols], Theta0, qa_rows, qb_cols, sigma_w2, sigma_b2, K, Kdot, width)
    if symmetric:  # the diagonal from the variances, not through the rounding of ξ ≈ 1
        _mirror_upper_(G)
        G.diagonal().copy_(qa[-1][:, 0])
        if Kdot is not None and Theta is not None:
            theta, _ = _ntk_layers(qa[0], qa[0] if width is None else a + 1, qa, qa, sigma_w2,
                                   sigma_b2, _diagonal(K), _diagonal(Kdot), width)
            _mirror_upper_(Theta)
            Theta.diagonal().copy_(theta[:, 0])
    return G, Theta


def nngp_deep(X: Any, Xp: Any = None, *, depth: int, phi: str | Callable[[Tensor], Tensor] = "relu",
              sigma_w2: float = 2.0, sigma_b2: float = 0.0, order: int = 128,
              block_rows: int | None = None, **params: float) -> Tensor:
    """The NNGP Gram matrix K^L of a fully connected network with ``depth`` = L hidden layers.

    Weights have variance σ_w²/fan-in (``sigma_w2``), biases variance σ_b² (``sigma_b2``), and
    the **input layer is scaled by 1/d** (d = ``X.shape[1]``):

        K⁰(x, x′) = σ_w² xᵀx′/d + σ_b²,
        K^{l+1}(x, x′) = σ_b² + σ_w² E[φ(u) φ(v)],  (u, v) ~ N(0, [[Kˡ(x, x), Kˡ(x, x′)],
                                                                  [Kˡ(x, x′), Kˡ(x′, x′)]]).

    K^L is the covariance of the output f = z^{L+1} of the network
    z¹ = (σ_w/√d) W⁰x + σ_b β⁰, z^{l+1} = (σ_w/√n) Wˡ φ(zˡ) + σ_b βˡ (entries of W, β i.i.d.
    N(0, 1)) as the widths n → ∞; it is the same in the standard parameterisation (weights
    drawn with variance σ_w²/fan-in), which differs only in the NTK (see :func:`ntk_deep`).

    ``phi`` is a name in :data:`ACTIVATIONS` (closed forms, each step is the activation's
    ``gram``) or a callable elementwise φ such as ``torch.tanh``, integrated by a 2-D
    Gauss–Hermite rule with ``order`` nodes per axis (order² evaluations of φ per entry and
    layer). The rule converges fast for a φ that is smooth on the scale of its nodes, whose
    spacing near 0 is about π/√(2·order) standard deviations, so a larger variance q needs a
    larger order. Measured relative errors of depth-3 kernels with variances up to q ≈ 3.5:
    below 1e-14 for sin, cos, exp; for erf(x) 5e-6 (NNGP) and 1e-4 (NTK, whose φ′ = e^{−x²}
    is narrower) at order 64, 4e-10 and 3e-8 at order 128; for relu (a kink) ≈ 2e-3 and for
    its NTK (step′s jump) ≈ 5e-3 at order 128, falling only like 1/order and 1/√order.

    One product X Xpᵀ, then the L elementwise maps of the cross matrix and the two variance
    vectors, all L layers on a block of ``block_rows`` rows while it is in the cache (default:
    blocks of ``CPU_BLOCK`` entries on a CPU, the whole matrix on a GPU); the result
    overwrites the product, so memory is one (n, m) matrix. dtype and device are those of X.
    With ``Xp`` omitted the diagonal is K^L(x, x) from the variances, not through ξ ≈ 1.

    With L = 1, σ_b² = 0 and σ_w² = d, K¹ = d · ``nngp_gram(X, Xp, phi=phi)``.
    """
    depth, sigma_w2, sigma_b2 = _check_depth_and_variances(depth, sigma_w2, sigma_b2)
    if block_rows is not None:
        block_rows = positive_int(block_rows, "block_rows")
    K, _ = _kernel_maps(phi, params, order=order, derivative=False)
    return _deep(X, Xp, depth, sigma_w2, sigma_b2, K, None, block_rows)[0]


@overload
def ntk_deep(X: Any, Xp: Any = ..., *, depth: int,
             phi: str | Callable[[Tensor], Tensor] = ..., sigma_w2: float = ...,
             sigma_b2: float = ..., dphi: Callable[[Tensor], Tensor] | None = ...,
             order: int = ..., block_rows: int | None = ..., with_nngp: Literal[False] = ...,
             parameterization: Literal["ntk", "standard"] = ..., width: int | None = ...,
             **params: float) -> Tensor: ...


@overload
def ntk_deep(X: Any, Xp: Any = ..., *, depth: int,
             phi: str | Callable[[Tensor], Tensor] = ..., sigma_w2: float = ...,
             sigma_b2: float = ..., dphi: Callable[[Tensor], Tensor] | None = ...,
             order: int = ..., block_rows: int | None = ..., with_nngp: Literal[True],
             parameterization: Literal["ntk", "standard"] = ..., width: int | None = ...,
             **params: float) -> tuple[Tensor, Tensor]: ...


def ntk_deep(X: Any, Xp: Any = None, *, depth: int,
             phi: str | Callable[[Tensor], Tensor] = "relu", sigma_w2: float = 2.0,
             sigma_b2: float = 0.0, dphi: Callable[[Tensor], Tensor] | None = None,
             order: int = 128, block_rows: int | None = None, with_nngp: bool = False,
             parameterization: Literal["ntk", "standard"] = "ntk", width: int | None = None,
             **params: float) -> Tensor | tuple[Tensor, Tensor]:
    """The NTK Gram matrix Θ^L of the network of :func:`nngp_deep`.

    With every trained parameter standard normal and the scales σ_w/√fan-in, σ_b explicit
    (the network in :func:`nngp_deep`), Θ(x, x′) = Σ_θ ∂f(x)/∂θ ∂f(x′)/∂θ tends to

        Θ⁰ = K⁰,   Θ^{l+1} = K^{l+1} + σ_w² K̇^{l+1} Θˡ,   K̇^{l+1} = E[φ′(u) φ′(v)]

    under the same covariance as K^{l+1}: K^{l+1} is the gradient of the readout of layer l
    (its weights and biases), σ_w² K̇^{l+1} Θˡ is what flows back through it. Named activations
    use their ``derivative_gram`` (relu′ = step, sin′ = cos, cos′ = −sin, (e^{−C²+Cx})′ = C·φ,
    erf(ax)′ = (2a/√π) e^{−a²x²}); ``step`` has none (its derivative is a Dirac delta) and
    raises. A callable φ is integrated by quadrature with φ′ from ``dphi`` or by autograd.

    ``parameterization="standard"`` (weights drawn N(0, σ_w²/fan-in), biases N(0, σ_b²), and
    trained as they are; ``width`` = n the hidden width): the forward pass and so the NNGP are
    the same, but the gradient with respect to a weight of fan-in n is √n/σ_w times larger and
    with respect to a bias 1/σ_b times larger, so each layer's readout term Σ over its weights
    and biases of ∂z·∂z′ is n_l E[φ(u)φ(v)] + 1 instead of K^{l+1} = σ_b² + σ_w² E[φ(u)φ(v)]:

        Θ⁰ = xᵀx′ + 1,   Θ^{l+1} = n E[φ(u) φ(v)] + 1 + σ_w² K̇^{l+1} Θˡ.

    Every bias is counted as trained, also with σ_b² = 0. This Θ grows like the width (the
    limit of Θ/n is the sum of the hidden layers' weight terms), so gradient descent needs a
    step ∝ 1/n; in the NTK parameterisation a step of order one is stable at every width.

    ``with_nngp=True`` returns (Θ^L, K^L); memory is two (n, m) matrices either way.
    With L = 1, σ_b² = 0, σ_w² = d and φ = relu, Θ¹ = d · ``ntk_relu_gram(X, Xp,
    layers="both")``; for relu with σ_b² = 0 and any σ_w², Θ¹ = (σ_w⁴/d) · that.
    """
    depth, sigma_w2, sigma_b2 = _check_depth_and_variances(depth, sigma_w2, sigma_b2)
    if block_rows is not None:
        block_rows = positive_int(block_rows, "block_rows")
    if parameterization not in ("ntk", "standard"):
        raise ValueError(f"parameterization must be 'ntk' or 'standard', got {parameterization!r}")
    if (parameterization == "standard") != (width is not None):
        raise ValueError("width (the hidden width n) is given exactly when parameterization="
                         f"'standard'; got {parameterization!r} and width={width!r}")
    if width is not None:
        width = positive_int(width, "width")
    K, Kdot = _kernel_maps(phi, params, order=order, derivative=True, dphi=dphi)
    Kl, Theta = _deep(X, Xp, depth, sigma_w2, sigma_b2, K, Kdot, block_rows, width)
    assert Theta is not None
    return (Theta, Kl) if with_nngp else Theta


def _nonnegative_q(q: Any) -> Tensor:
    q = as_tensor(q, "q")
    if q.numel() and float(q.min()) < 0:
        raise ValueError(f"q must be >= 0 (a variance), got {float(q.min())!r}")
    return q


def _weight_bias(sigma_w2: Any, sigma_b2: Any) -> tuple[Tensor, Tensor]:
    """σ_w² > 0 and σ_b² ≥ 0, numbers or tensors (one value per network), as float64 tensors
    broadcast together."""
    checked = []
    for value, name, zero in ((sigma_w2, "sigma_w2", False), (sigma_b2, "sigma_b2", True)):
        if not isinstance(value, torch.Tensor):
            value = positive(value, name, allow_zero=zero)
        value = as_tensor(value, name, dtype=torch.float64)
        if bool((value < 0).any()) or (not zero and bool((value == 0).any())):
            raise ValueError(f"{name} must be {'>= 0' if zero else '> 0'} (a variance)")
        checked.append(value)
    w, b = torch.broadcast_tensors(*checked)
    return w, b


def _as_given(value: Tensor, *inputs: Any) -> Tensor | float:
    """A float where every input was a number, else the tensor."""
    return value if any(isinstance(x, torch.Tensor) for x in inputs) else float(value)


def length_map(q: Any, phi: str | Callable[[Tensor], Tensor] = "relu", sigma_w2: float = 2.0,
               sigma_b2: float = 0.0, *, order: int = 128, **params: float) -> Tensor:
    """The length map q ↦ σ_b² + σ_w² E[φ(√q z)²], z ~ N(0, 1): the variance of a unit's
    preactivation in layer l + 1 from that in layer l (qₗ of the signal-propagation chapter);
    E[φ(√q z)²] is ``gram(q, q, q)``. ``q`` ≥ 0, a number or a tensor (elementwise)."""
    q = _nonnegative_q(q)
    w, b = _weight_bias(sigma_w2, sigma_b2)
    K, _ = _kernel_maps(phi, params, order=order, derivative=False)
    return b + w * _on_diagonal(K, q)


def fixed_point_q(phi: str | Callable[[Tensor], Tensor] = "relu", sigma_w2: Any = 2.0,
                  sigma_b2: Any = 0.0, *, q0: float = 1.0, tol: float = 1e-12,
                  max_iter: int = 10_000, order: int = 128, **params: float) -> Any:
    """The fixed point q* of :func:`length_map`, reached by iterating it from ``q0``.

    ``sigma_w2`` and ``sigma_b2`` may be tensors (a grid of networks, iterated together): then
    q* is a tensor of their broadcast shape, else a float. Stops when a step changes every q by
    at most ``tol`` · max(1, q). Raises ``ValueError`` when q grows without bound (no finite
    fixed point from q0) or after ``max_iter`` steps (the map is marginal there: its slope at
    q* is ≈ 1 and the iteration converges only algebraically). For relu with σ_b² = 0 and
    σ_w² = 2 the map is q ↦ q: every q0 is a fixed point.
    """
    q0 = positive(q0, "q0", allow_zero=True)
    tol = positive(tol, "tol")
    max_iter = positive_int(max_iter, "max_iter")
    w, b = _weight_bias(sigma_w2, sigma_b2)
    K, _ = _kernel_maps(phi, params, order=order, derivative=False)
    return _as_given(_fixed_point(K, w, b, q0, tol, max_iter), sigma_w2, sigma_b2)


def _fixed_point(K: KernelMap, sigma_w2: Tensor, sigma_b2: Tensor, q0: float, tol: float,
                 max_iter: int) -> Tensor:
    q = torch.full_like(sigma_w2, q0)
    for _ in range(max_iter):
        new = sigma_b2 + sigma_w2 * _on_diagonal(K, q)
        if not bool(torch.isfinite(new).all()) or bool((new > 1e300).any()):
            raise ValueError("the length map has no finite fixed point from "
                             f"q0={q0} for some sigma_w2, sigma_b2: q grows without bound")
        if bool(((new - q).abs() <= tol * q.clamp_min(1.0)).all()):
            return new
        q = new
    raise ValueError(f"the length map's iteration did not converge in {max_iter} steps; near "
                     "a marginal fixed point it converges only algebraically: raise max_iter "
                     "or tol")


def chi1(phi: str | Callable[[Tensor], Tensor] = "relu", sigma_w2: Any = 2.0,
         sigma_b2: Any = 0.0, *, q: Any = None, dphi: Callable[[Tensor], Tensor] | None = None,
         order: int = 128, **params: float) -> Tensor:
    """χ₁ = σ_w² E[φ′(√q z)²], z ~ N(0, 1), at q = q* (:func:`fixed_point_q`) unless ``q`` is
    given: the slope of the correlation map at ξ = 1, the factor by which a layer stretches a
    small perturbation. χ₁ < 1 is the ordered phase, χ₁ > 1 the chaotic one, χ₁ = 1 the edge
    of chaos (relu with σ_w² = 2, σ_b² = 0: He initialisation). E[φ′(√q z)²] is the
    activation's ``derivative_gram(q, q, q)`` (or quadrature with ``dphi``/autograd).
    Elementwise over tensors of ``sigma_w2``, ``sigma_b2`` (and ``q``)."""
    w, b = _weight_bias(sigma_w2, sigma_b2)
    K, Kdot = _kernel_maps(phi, params, order=order, derivative=True, dphi=dphi)
    assert Kdot is not None
    q_star = _fixed_point(K, w, b, 1.0, 1e-12, 10_000) if q is None else _nonnegative_q(q)
    return w * _on_diagonal(Kdot, q_star)


def depth_scale(phi: str | Callable[[Tensor], Tensor] = "relu", sigma_w2: Any = 2.0,
                sigma_b2: Any = 0.0, *, dphi: Callable[[Tensor], Tensor] | None = None,
                iterations: int = 300, order: int = 128, **params: float) -> Tensor:
    """The depth scale ξ_c = −1/ln χ_c over which the correlation of two inputs approaches its
    fixed point c*, elementwise over tensors of ``sigma_w2`` and ``sigma_b2``.

    At q*, the correlation map is c ↦ (σ_b² + σ_w² E[φ(u) φ(v)])/q*, (u, v) ~ N(0, q*[[1, c],
    [c, 1]]), and χ_c = σ_w² E[φ′(u) φ′(v)] is its slope at c*. In the ordered phase (χ₁ ≤ 1)
    c* = 1 and χ_c = χ₁; in the chaotic phase c* < 1 is found by ``iterations`` steps of the map
    from c = 0 (near the edge of chaos it converges slowly, and ξ_c is large there anyway).
    ξ_c is infinite at the edge of chaos, where χ_c = 1.
    """
    iterations = positive_int(iterations, "iterations")
    w, b = _weight_bias(sigma_w2, sigma_b2)
    K, Kdot = _kernel_maps(phi, params, order=order, derivative=True, dphi=dphi)
    assert Kdot is not None
    q_star = _fixed_point(K, w, b, 1.0, 1e-12, 10_000)
    chi_1 = w * _on_diagonal(Kdot, q_star)
    c = torch.zeros_like(q_star)
    for _ in range(iterations):
        c = ((b + w * K(q_star * c, q_star, q_star)) / q_star).clamp(max=1.0)
    chi_c = torch.where(chi_1 <= 1, chi_1, w * Kdot(q_star * c, q_star, q_star))
    return -1 / torch.log(chi_c)


def laplace_gram(X: Any, Xp: Any = None, *, L: float = 1.0) -> torch.Tensor:
    """The Laplace kernel K_ij = e^{−L ‖xᵢ − x′ⱼ‖}, distances from one product:
    ‖x − x′‖² = ‖x‖² + ‖x′‖² − 2xᵀx′ (clipped at 0 against rounding)."""
    L = positive(L, "L")
    G, a, b = _products(X, Xp)
    d2 = (a + b - 2 * G).clamp_min(0.0)
    if Xp is None:
        _mirror_upper_(d2).fill_diagonal_(0.0)  # exactly 0, not rounding
    return torch.exp(-L * torch.sqrt(d2))


# --------------------------------------------------------------------------- regression


def kernel_solve(K: Any, y: Any, *, lam: float = 0.0) -> torch.Tensor:
    """Coefficients α = (K + λI)⁻¹ y by a Cholesky solve, for a symmetric PSD Gram matrix K.

    ``lam`` = λ ≥ 0 is the ridge; λ = 0 interpolates. ``y`` is (n,) or (n, c). Checks its
    arguments and calls :func:`_kernel_solve`, which raises ``ValueError``, advising a ridge
    λ > 0, when K + λI is singular to working precision (duplicate inputs, more inputs than
    the kernel has features): dlmath never falls back to a pseudo-inverse.
    """
    K = as_tensor(K, "K", finite=False)  # checked in the symmetry pass: NaN − NaN is NaN
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] == 0:
        raise ValueError(f"K must be a square (n, n) Gram matrix with n ≥ 1, got shape "
                         f"{tuple(K.shape)}")
    n = K.shape[0]
    scale = float(K.diagonal().abs().max())  # a PSD matrix's largest entry
    asymmetry = _asymmetry(K)  # rounding leaves about an ulp; √eps is half the digits
    if not asymmetry <= math.sqrt(torch.finfo(K.dtype).eps) * max(scale, 1.0):
        finite_entries(K, "K")
        raise ValueError(f"K must be symmetric (a Gram matrix); got max |K − Kᵀ| = "
                         f"{asymmetry:.3g}")
    y = as_tensor(y, "y", dtype=K.dtype, device=K.device)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, c) to match K, got {tuple(y.shape)}")
    return _kernel_solve(K, y, positive(lam, "lam", allow_zero=True))


def _kernel_solve(K: Tensor, y: Tensor, lam: float) -> Tensor:
    """α = (K + λI)⁻¹ y: factor K + λI = LLᵀ, then two triangular solves (y: (n,) or (n, c))."""
    A = K.clone()
    A.diagonal().add_(lam)
    return spd_solve(A, y, f"K + λI (n = {K.shape[0]}, λ = {lam:g})",
                     "duplicate inputs, or more inputs than the kernel has features")


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
