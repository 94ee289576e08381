"""Small networks, initialisation schemes and per-layer second moments.

The networks are multilayer perceptrons with a leaky-ReLU activation of slope ``alpha``,

    σ_α(z) = z for z > 0,   α z for z ≤ 0,

so ``alpha = 0`` is the ReLU and ``alpha = 1`` the identity (a linear network). A network of
depth ``L`` has ``L`` hidden layers and a linear read-out; with ``h_0 = x`` it computes

    z_l = W_l h_{l−1} + b_l,   h_l = σ_α(z_l)   (l = 1 … L),   f(x) = W_{L+1} h_L + b_{L+1}.

An initialisation scheme (:class:`Init`) draws every weight matrix of shape ``(fan_out,
fan_in)`` independently; biases start at zero. The schemes are named after the papers that
proposed them: :func:`lecun`, :func:`he`, :func:`leaky_he`, :func:`glorot`, plus the
width-independent :func:`uniform` used to show what goes wrong without a
fan-in correction. ``scheme.scaled(c)`` multiplies a scheme's standard deviation by ``c``.

:func:`moments` pushes a batch forward and a gradient backward through a stack of weight
matrices, vectorised over any leading batch dimensions (many networks at once), and returns
the per-layer second moments of the pre-activations ``z_l`` and of the back-propagated
gradients ``δ_l = ∂ℓ/∂z_l``. :class:`Stack` holds ``S`` networks of one architecture as
stacked tensors (``torch.func.stack_module_state``) and evaluates them as one
(``vmap`` of ``functional_call``), so that one ``torch.optim`` optimiser trains all of them.

Typical use::

    net = nets.mlp(784, 256, 1, depth=20, alpha=0.5, init=nets.leaky_he(0.5))
    stats = net.moments(x)            # stats.forward[l-1] = mean of z_l², l = 1 … L+1
    stack = nets.Stack([nets.mlp(784, 256, 1, depth=20, alpha=0.5) for _ in range(8)])
    out = stack(x)                    # (8, B, 1); torch.optim.Adam(stack.parameters()) trains all
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from dlmath._validate import index, positive, positive_int

__all__ = ["Init", "MLP", "Moments", "Stack", "gain", "glorot", "he", "leaky_he", "leaky_relu",
           "lecun", "log_step_variance", "mlp", "moments", "second_moment_factor",
           "uniform"]


# ---------------------------------------------------------------------------- activation

def _slope(alpha: object) -> float:
    """``alpha`` as a float after checking that it is a finite real number ≥ 0."""
    return positive(alpha, "alpha (the leaky-ReLU slope)", allow_zero=True)


def leaky_relu(z: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
    """σ_α(z) = z for z > 0 and α z otherwise; ``alpha`` may be a tensor broadcasting to z.

    Unlike ``torch.nn.functional.leaky_relu`` this accepts a tensor of slopes, so networks
    with different slopes can be evaluated as one batch. It is computed as
    relu(z) − α relu(−z), exact, and faster on a CPU than a masked select (forward and backward).
    """
    return torch.relu(z) - alpha * torch.relu(-z)


def second_moment_factor(alpha: float) -> float:
    """E[σ_α(z)²] / E[z²] = (1 + α²)/2 for z symmetric about 0 (e.g. Gaussian)."""
    alpha = _slope(alpha)
    return (1 + alpha**2) / 2


def log_step_variance(alpha: float, width: int) -> float:
    """v = (2 + κ_α)/n, κ_α = 6(1 + α⁴)/(1 + α²)² − 1: per-layer variance of log E[z²].

    For one input, E[z_{l+1}²]/E[z_l²] at width n is a product of two independent ratios with
    mean 1, a χ²_n/n (relative variance 2/n) and the mean of n values σ_α(z)² (relative
    variance κ_α/n), so log q_l is a random walk whose steps have variance ≈ v and mean ≈ −v/2.
    Averaging over a batch of inputs only lowers it: v is an upper bound.
    """
    alpha = _slope(alpha)
    width = positive_int(width, "width")
    kappa = 6 * (1 + alpha**4) / (1 + alpha**2) ** 2 - 1
    return (2 + kappa) / width


def gain(alpha: float) -> float:
    """The gain √(2/(1 + α²)) of a leaky ReLU with slope α.

    The standard deviation that keeps second moments constant is ``gain / √fan_in``; this is
    what ``torch.nn.init.calculate_gain('leaky_relu', alpha)`` returns.
    """
    return math.sqrt(1 / second_moment_factor(alpha))


# ---------------------------------------------------------------------- initialisation

@dataclass(frozen=True)
class Init:
    """An initialisation scheme: i.i.d. weights of mean 0 and a standard deviation that may
    depend on the fan-in and fan-out of the layer.

    ``distribution`` is ``"normal"`` or ``"uniform"`` (a uniform law on [−a, a] has standard
    deviation a/√3). Call ``scheme.sample(fan_out, fan_in)`` for a fresh weight matrix, or
    ``scheme.std(fan_in, fan_out)`` for its standard deviation.
    """

    name: str
    std_of: Callable[[int, int], float]  # (fan_in, fan_out) -> standard deviation
    distribution: str = "normal"

    def __post_init__(self) -> None:
        if self.distribution not in ("normal", "uniform"):
            raise ValueError(f"distribution must be 'normal' or 'uniform', "
                             f"got {self.distribution!r}")

    def std(self, fan_in: int, fan_out: int = 1) -> float:
        """The standard deviation of a weight in a layer with these fans."""
        return float(self.std_of(positive_int(fan_in, "fan_in"),
                                 positive_int(fan_out, "fan_out")))

    def variance(self, fan_in: int, fan_out: int = 1) -> float:
        """Var(w) = std²."""
        return self.std(fan_in, fan_out) ** 2

    def scaled(self, c: float) -> Init:
        """The same scheme with every weight multiplied by ``c`` > 0."""
        c = positive(c, "c")
        return Init(f"{c:g}×{self.name}", lambda n_in, n_out: c * self.std_of(n_in, n_out),
                    self.distribution)

    def sample(self, fan_out: int, fan_in: int, *, batch: Sequence[int] = (),
               generator: torch.Generator | None = None, device: torch.device | None = None,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """A weight tensor of shape ``(*batch, fan_out, fan_in)`` drawn from the scheme."""
        std = self.std(fan_in, fan_out)
        shape = (*(positive_int(b, "batch entries") for b in batch), fan_out, fan_in)
        if self.distribution == "normal":
            w = torch.randn(shape, generator=generator, dtype=dtype,
                            device=device or torch.device("cpu"))
            return w.mul_(std)
        w = torch.rand(shape, generator=generator, dtype=dtype,
                       device=device or torch.device("cpu"))
        return w.mul_(2 * math.sqrt(3) * std).sub_(math.sqrt(3) * std)

    def __call__(self, weight: torch.Tensor,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Fill a ``(fan_out, fan_in)`` weight (e.g. ``nn.Linear.weight``) in place."""
        if not isinstance(weight, torch.Tensor) or weight.ndim != 2:
            raise ValueError("expected a 2-D weight tensor of shape (fan_out, fan_in), got "
                             f"{getattr(weight, 'shape', type(weight).__name__)}")
        fan_out, fan_in = weight.shape
        with torch.no_grad():
            weight.copy_(self.sample(fan_out, fan_in, generator=generator, dtype=weight.dtype)
                         .to(weight.device))
        return weight

    def __repr__(self) -> str:
        return f"Init({self.name!r}, {self.distribution})"


def lecun() -> Init:
    """LeCun initialisation: w ~ N(0, 1/n_in).

    Keeps E[z²] constant through linear layers (α = 1); LeCun, Bottou, Orr and Müller,
    *Efficient BackProp* (1998).
    """
    return Init("LeCun", lambda n_in, n_out: math.sqrt(1 / n_in))


def he() -> Init:
    """He (Kaiming) initialisation for ReLU: w ~ N(0, 2/n_in).

    Keeps E[z²] constant through ReLU layers (α = 0); He, Zhang, Ren and Sun, *Delving Deep
    into Rectifiers* (ICCV 2015). With a leaky ReLU of slope α > 0 it makes E[z²] grow by
    (1 + α²) per layer.
    """
    return Init("He", lambda n_in, n_out: math.sqrt(2 / n_in))


def leaky_he(alpha: float) -> Init:
    """He initialisation for a leaky ReLU of slope α: w ~ N(0, 2/((1 + α²) n_in)).

    The same paper as :func:`he` (its PReLU case); α = 0 gives :func:`he` and α = 1
    :func:`lecun`. Equals ``torch.nn.init.kaiming_normal_(w, a=alpha)``.
    """
    alpha = _slope(alpha)
    return Init(f"leaky He (α={alpha:g})",
                lambda n_in, n_out: math.sqrt(2 / ((1 + alpha**2) * n_in)))


def glorot() -> Init:
    """Glorot (Xavier) initialisation: w ~ N(0, 2/(n_in + n_out)).

    A compromise between the forward (1/n_in) and backward (1/n_out) conditions for linear
    or tanh layers; Glorot and Bengio, *Understanding the difficulty of training deep
    feedforward neural networks* (AISTATS 2010).
    """
    return Init("Glorot", lambda n_in, n_out: math.sqrt(2 / (n_in + n_out)))


def uniform(scale: float) -> Init:
    """w ~ U[−scale, scale], whatever the width (variance scale²/3): no fan-in correction."""
    scale = positive(scale, "scale")
    return Init(f"U[±{scale:g}]", lambda n_in, n_out: scale / math.sqrt(3), "uniform")


# ---------------------------------------------------------------------------- networks

class MLP(nn.Module):
    """A leaky-ReLU perceptron: ``depth`` hidden layers of ``width`` units, linear read-out.

    ``layers`` holds the ``depth + 1`` ``nn.Linear`` maps; ``alpha`` the slope, a buffer (a
    0-d tensor), so that a :class:`Stack` of networks may give each its own slope. Inputs of
    shape ``(B, …)`` are flattened to ``(B, d_in)``.
    """

    alpha: torch.Tensor

    def __init__(self, d_in: int, width: int, d_out: int, *, depth: int, alpha: float,
                 bias: bool = True, init: Init | None = None,
                 generator: torch.Generator | None = None, device: torch.device | None = None,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        d_in, width, d_out = (positive_int(v, name) for v, name in
                              ((d_in, "d_in"), (width, "width"), (d_out, "d_out")))
        self.depth = positive_int(depth, "depth")
        self.register_buffer("alpha", torch.tensor(_slope(alpha), dtype=dtype, device=device))
        if init is None:
            init = leaky_he(_slope(alpha))
        if not isinstance(init, Init):
            raise TypeError(f"init must be an nets.Init scheme such as nets.he(), "
                            f"got {type(init).__name__}")
        self.init = init
        sizes = [d_in] + [width] * self.depth + [d_out]
        self.layers = nn.ModuleList()
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            layer = nn.Linear(n_in, n_out, bias=bias, device=device, dtype=dtype)
            with torch.no_grad():
                layer.weight.copy_(init.sample(n_out, n_in, generator=generator, dtype=dtype,
                                               device=device))
                if bias:
                    layer.bias.zero_()
            self.layers.append(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1) if x.ndim > 2 else x
        for layer in self.layers[:-1]:
            h = leaky_relu(layer(h), self.alpha)
        return self.layers[-1](h)

    def weights(self) -> list[torch.Tensor]:
        """The weight matrices ``W_1 … W_{L+1}`` (views of the parameters)."""
        return self._parameters_named("weight")

    def moments(self, x: torch.Tensor, grad_out: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> Moments:
        """Per-layer second moments of z_l and δ_l at ``x``; see :func:`moments`."""
        with torch.no_grad():
            h = x.flatten(1) if x.ndim > 2 else x
            biases = self._parameters_named("bias") or None
            return moments(self.weights(), h, self.alpha, biases=biases, grad_out=grad_out,
                           generator=generator)

    def _parameters_named(self, kind: str) -> list[torch.Tensor]:
        """The layers' parameters called ``kind`` ("weight" or "bias"), first layer first."""
        return [p for name, p in self.layers.named_parameters() if name.endswith(f".{kind}")]

    def extra_repr(self) -> str:
        return f"depth={self.depth}, alpha={float(self.alpha):g}, init={self.init.name}"


def mlp(d_in: int, width: int, d_out: int, *, depth: int, alpha: float, bias: bool = True,
        init: Init | None = None, generator: torch.Generator | None = None,
        device: torch.device | None = None, dtype: torch.dtype = torch.float32) -> MLP:
    """Build an :class:`MLP`: ``depth`` hidden leaky-ReLU layers of ``width``, linear read-out.

    ``init`` defaults to :func:`leaky_he` of ``alpha``; biases start at zero.
    """
    return MLP(d_in, width, d_out, depth=depth, alpha=alpha, bias=bias, init=init,
               generator=generator, device=device, dtype=dtype)


def _check_stack(weights, x, alpha, biases):
    """Validate the arguments of :func:`moments`; return the slope (broadcasting to z)."""
    if isinstance(weights, torch.Tensor) or not isinstance(weights, Sequence) or not weights:
        raise TypeError("weights must be a non-empty list of weight tensors "
                        "(*batch, fan_out, fan_in)")
    for l, w in enumerate(weights, 1):
        if not isinstance(w, torch.Tensor) or w.ndim < 2:
            raise ValueError(f"weight {l} must be a tensor of shape (*batch, fan_out, fan_in), "
                             f"got {getattr(w, 'shape', type(w).__name__)}")
    for l, (w, v) in enumerate(zip(weights[:-1], weights[1:], strict=True), 1):
        if v.shape[-1] != w.shape[-2]:
            raise ValueError(f"weight {l + 1} expects {v.shape[-1]} inputs but layer {l} has "
                             f"{w.shape[-2]} outputs")
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or x.shape[-1] != weights[0].shape[-1]:
        raise ValueError(f"x must have shape (B, {weights[0].shape[-1]}) or (*batch, B, "
                         f"{weights[0].shape[-1]}), got {getattr(x, 'shape', type(x).__name__)}")
    if biases is not None and len(biases) != len(weights):
        raise ValueError(f"got {len(biases)} biases for {len(weights)} weights")
    if isinstance(alpha, torch.Tensor):
        if (alpha < 0).any() or not torch.isfinite(alpha).all():
            raise ValueError("every slope in alpha must be a finite number >= 0")
        return alpha.to(x.dtype)[..., None, None]  # broadcast over (B, n)
    return _slope(alpha)


# ---------------------------------------------------------------------- layer statistics

@dataclass(frozen=True)
class Moments:
    """Per-layer second moments, index ``l − 1`` for layer ``l`` (shape ``(*batch, L)``).

    ``forward``: mean of z_l² over samples and units; ``backward``: mean of δ_l² = (∂ℓ/∂z_l)²,
    with ℓ = ⟨g, z_L⟩ for the output gradient g.
    """

    forward: torch.Tensor
    backward: torch.Tensor


def moments(weights: Sequence[torch.Tensor], x: torch.Tensor, alpha: float | torch.Tensor,
            *, biases: Sequence[torch.Tensor] | None = None, grad_out: torch.Tensor | None = None,
            generator: torch.Generator | None = None) -> Moments:
    """Forward and backward second moments through ``z_l = h_{l−1} W_lᵀ + b_l``, h = σ_α(z).

    ``weights``: ``L`` tensors of shape ``(*batch, n_l, n_{l−1})``, one stack of networks per
    leading index; ``x``: ``(B, n_0)`` or ``(*batch, B, n_0)``. The last layer is linear.
    ``alpha``: a slope, or a tensor of shape ``batch`` (one slope per network).
    ``grad_out``: δ_L, shape ``(…, B, n_L)``; by default i.i.d. N(0, 1) (from ``generator``).
    Returns :class:`Moments` of shape ``(*batch, L)``; the computation is :func:`_moments`.
    """
    slope = _check_stack(weights, x, alpha, biases)
    n_out = weights[-1].shape[-2]
    if grad_out is None:
        batch = [w.shape[:-2] + (1,) for w in weights] + [b.shape[:-1] + (1,) for b in biases or []]
        shape = torch.broadcast_shapes(x.shape[:-1], *batch) + (n_out,)             # of z_L
        grad_out = torch.randn(shape, generator=generator, dtype=x.dtype, device=x.device)
    elif not isinstance(grad_out, torch.Tensor) or grad_out.shape[-1] != n_out:
        raise ValueError(f"grad_out must end in the output size {n_out}, "
                         f"got shape {tuple(getattr(grad_out, 'shape', ()))}")
    return _moments(weights, x, slope, biases, grad_out)


def _moments(weights: Sequence[torch.Tensor], x: torch.Tensor, alpha: float | torch.Tensor,
             biases: Sequence[torch.Tensor] | None, grad_out: torch.Tensor) -> Moments:
    """The recursion of :func:`moments`: forward z_l, then δ_l = σ_α′(z_l) ⊙ (δ_{l+1} W_{l+1})."""
    zs, h = [], x
    for l, w in enumerate(weights):
        z = h @ w.mT
        if biases is not None:
            z = z + biases[l][..., None, :]
        zs.append(z)
        h = leaky_relu(z, alpha)
    delta = grad_out.expand(zs[-1].shape)                           # δ_L
    one = torch.ones((), dtype=x.dtype, device=x.device)
    deltas = [delta]
    for l in range(len(weights) - 1, 0, -1):                        # δ_l from δ_{l+1}
        delta = (delta @ weights[l]) * torch.where(zs[l - 1] > 0, one, alpha * one)
        deltas.append(delta)
    deltas.reverse()
    forward = torch.stack([(z**2).mean((-1, -2)) for z in zs], -1)
    backward = torch.stack([(d**2).mean((-1, -2)) for d in deltas], -1)
    return Moments(forward, backward)


# ------------------------------------------------------------------ many networks as one

class Stack:
    """``S`` networks of one architecture as stacked tensors, evaluated as one.

    ``Stack(modules)`` copies the parameters and buffers of the modules into tensors of shape
    ``(S, *shape)`` (``torch.func.stack_module_state``; row ``s`` is network ``s``), and
    ``stack(x)`` evaluates all networks at once, ``vmap`` of ``functional_call``: shape
    ``(S, n, d_out)``. The parameters are leaf tensors that require grad, so
    ``torch.optim.Adam(stack.parameters())`` trains the ``S`` networks as ``S`` separate Adams
    (Adam is elementwise). ``blocks`` splits the rows into consecutive groups of the given
    sizes, each with its own leaf tensors (``stack.parameters(i)``), for one optimiser or step
    size per group; ``stack(x)`` still evaluates all rows as one. The modules themselves are
    left as they were.
    """

    def __init__(self, modules: Sequence[nn.Module], *, blocks: Sequence[int] | None = None
                 ) -> None:
        modules = _check_modules(modules)
        sizes = [len(modules)] if blocks is None else [positive_int(b, "blocks entries")
                                                       for b in blocks]
        if sum(sizes) != len(modules):
            raise ValueError(f"blocks must add up to the {len(modules)} modules, got {sizes}")
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        self._blocks = [stack_module_state(list(modules[a:a + b]))[0]
                        for a, b in zip(starts, sizes, strict=True)]
        self.buffers = stack_module_state(list(modules))[1]
        self.template = copy.deepcopy(modules[0])

    def __len__(self) -> int:
        return sum(next(iter(b.values())).shape[0] for b in self._blocks)

    @property
    def params(self) -> dict[str, torch.Tensor]:
        """Parameter name → ``(S, *shape)`` tensor, all blocks in order."""
        if len(self._blocks) == 1:
            return self._blocks[0]
        return {name: torch.cat([b[name] for b in self._blocks]) for name in self._blocks[0]}

    def parameters(self, block: int | None = None) -> list[torch.Tensor]:
        """The leaf tensors to optimise: of every block, or of block ``block``."""
        if block is None:
            return [p for b in self._blocks for p in b.values()]
        return list(self._blocks[index(block, "block", len(self._blocks))].values())

    def __call__(self, x: torch.Tensor, *, per_network: bool = False) -> torch.Tensor:
        """All outputs, ``(S, n, …)``: ``x`` is one batch for all networks, or with
        ``per_network=True`` one batch per network, ``x[s]`` for network ``s``."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if per_network and (x.ndim < 2 or x.shape[0] != len(self)):
            raise ValueError(f"with per_network=True, x must have shape ({len(self)}, n, ...): "
                             f"one batch per network, got {tuple(x.shape)}")
        return _evaluate(self.template, self.params, self.buffers, x, per_network)

    def clone(self) -> Stack:
        """A copy with fresh leaf parameters (to train the same start several ways)."""
        twin = copy.copy(self)
        twin._blocks = [{k: v.detach().clone().requires_grad_(True) for k, v in b.items()}
                        for b in self._blocks]
        return twin

    def network(self, s: int) -> nn.Module:
        """Network ``s`` as a module of its own, detached from the stack (its attributes that are
        not tensors, such as ``MLP.init``, are those of the first module)."""
        s = index(s, "s (a network of the stack)", len(self))
        net = copy.deepcopy(self.template)
        params = self.params
        with torch.no_grad():
            for name, p in net.named_parameters():
                p.copy_(params[name][s])
            for name, b in net.named_buffers():
                b.copy_(self.buffers[name][s])
        return net


def _evaluate(net: nn.Module, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor],
              x: torch.Tensor, per_network: bool) -> torch.Tensor:
    """Network ``s`` of the stack is ``net`` with the parameters and buffers of row ``s``."""
    def one(p: dict[str, torch.Tensor], b: dict[str, torch.Tensor], xs: torch.Tensor
            ) -> torch.Tensor:
        return functional_call(net, (p, b), (xs,))

    return vmap(one, in_dims=(0, 0, 0 if per_network else None))(params, buffers, x)


def _check_modules(modules: object) -> list[nn.Module]:
    """A non-empty list of modules of one type with equal parameter and buffer shapes."""
    if not isinstance(modules, Sequence) or not modules:
        raise ValueError("modules must be a non-empty list of torch.nn.Module")
    modules = list(modules)
    for m in modules:
        if not isinstance(m, nn.Module):
            raise TypeError(f"modules must be torch.nn.Module, got {type(m).__name__}")

    def layout(m: nn.Module) -> list[tuple[str, torch.Size, torch.dtype]]:
        return [(n, t.shape, t.dtype) for n, t in (*m.named_parameters(), *m.named_buffers())]

    if any(type(m) is not type(modules[0]) or layout(m) != layout(modules[0]) for m in modules):
        raise ValueError("all modules must have the same architecture (type, parameter and "
                         "buffer names, shapes and dtypes)")
    if not any(True for _ in modules[0].parameters()):
        raise ValueError("the modules have no parameters to stack")
    return modules
