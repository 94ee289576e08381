"""What a network's parameters see: Jacobians on a grid, principal features, gradient norms.

For a network ``f(x; θ)`` with a scalar output and a grid ``x_1, …, x_n`` of inputs, the
*parameter Jacobian* is the ``n × P`` matrix ``J[i, p] = ∂f(x_i; θ)/∂θ_p``. It is the matrix of
the linearisation ``f(θ + δ) ≈ f(θ) + J δ``, and ``J Jᵀ`` is the empirical neural tangent
kernel. Its SVD ``J = U diag(σ) Vᵀ`` gives the *principal features*: the columns of ``U`` are
functions of ``x`` (sampled on the grid), ordered by how strongly a unit change of parameters
can move the output along them.

Many networks of one architecture train as one with :class:`dlmath.nets.Stack`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from dlmath._validate import float_tensor, positive, positive_int

__all__ = ["energy_rank", "parameter_jacobian", "principal_features", "layer_gradient_norms"]


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _check_inputs(x: object, model: nn.Module, name: str = "x") -> torch.Tensor:
    x = float_tensor(x, name)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, d_in) with n >= 1, got {tuple(x.shape)}")
    first = next((m for m in model.modules() if isinstance(m, nn.Linear)), None)
    if first is not None and first.in_features != x.shape[1]:
        raise ValueError(f"{name} has {x.shape[1]} features per row, but the model's first "
                         f"layer expects {first.in_features}")
    return x


def parameter_jacobian(model: nn.Module, x: torch.Tensor,
                       params: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
    """The ``(n, P)`` Jacobian ``∂f(x_i; θ)/∂θ`` of a scalar-output ``model`` on the rows of ``x``.

    ``x`` has shape ``(n, d_in)``. The parameters are ``params`` (a name → tensor mapping as in
    ``model.named_parameters()``) or, by default, the model's own; the columns follow their
    order, each tensor flattened. The computation is :func:`_parameter_jacobian`.
    """
    model = _check_model(model)
    x = _check_inputs(x, model)
    if params is None:
        params = {name: p.detach() for name, p in model.named_parameters()}
    elif not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping name -> tensor, got {type(params).__name__}")
    params = dict(params)
    if not params:
        raise ValueError("the model has no parameters to differentiate by")
    with torch.no_grad():
        out = functional_call(model, params, (x[:1],))
    if out.numel() != 1:
        raise ValueError(f"the model must return one number per input, got an output of "
                         f"shape {tuple(out.shape)} for one input")
    return _parameter_jacobian(model, x, params)


def _parameter_jacobian(model: nn.Module, x: torch.Tensor,
                        params: dict[str, torch.Tensor]) -> torch.Tensor:
    """``jacrev`` of one input's output by the parameters, ``vmap``-ed over the rows of ``x``."""
    def f(p: dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
        return functional_call(model, p, (xi[None],)).reshape(())

    rows = vmap(jacrev(f), in_dims=(None, 0))(params, x)        # name -> (n, *shape)
    return torch.cat([rows[name].reshape(x.shape[0], -1) for name in params], dim=1)


def principal_features(J: torch.Tensor, k: int | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """SVD of a Jacobian ``J`` (n × P): singular values, and the leading ``k`` singular vectors.

    Returns ``(sigma, U, V)``: all ``min(n, P)`` singular values in decreasing order, ``U`` of
    shape ``(n, k)`` (the principal features, functions of the grid point) and ``V`` of shape
    ``(P, k)`` (the parameter directions), with ``J V = U diag(sigma[:k])``. Each pair's sign is
    fixed so that the entry of largest magnitude of ``U[:, j]`` is positive (singular vectors
    are defined only up to sign, and plots should not flip from run to run).
    """
    J = float_tensor(J, "J")
    if J.ndim != 2 or 0 in J.shape:
        raise ValueError(f"J must be a non-empty matrix (n, P), got shape {tuple(J.shape)}")
    r = min(J.shape)
    if k is None:
        k = r
    k = positive_int(k, "k")
    if k > r:
        raise ValueError(f"k must lie in [1, min(n, P)] = [1, {r}], got {k}")
    U, sigma, Vh = torch.linalg.svd(J, full_matrices=False)
    U, V = U[:, :k], Vh[:k].T
    peak = U.gather(0, U.abs().argmax(dim=0, keepdim=True))      # (1, k)
    sign = torch.where(peak < 0, -1.0, 1.0).to(J.dtype)
    return sigma, U * sign, V * sign


def energy_rank(sigma: torch.Tensor, fraction: float = 0.99) -> int:
    """The smallest ``k`` with ``σ_1² + … + σ_k² ≥ fraction · Σ σ_i²``.

    The number of principal features that carry the given share of ``‖J‖_F²``. ``sigma`` must
    be a non-empty 1-D tensor of non-negative values, not all zero; ``0 < fraction ≤ 1``.
    """
    if not isinstance(sigma, torch.Tensor):
        raise TypeError(f"sigma must be a torch.Tensor, got {type(sigma).__name__}")
    if sigma.ndim != 1 or sigma.numel() == 0:
        raise ValueError(f"sigma must be a non-empty 1-D tensor, got shape {tuple(sigma.shape)}")
    if not torch.isfinite(sigma).all() or (sigma < 0).any():
        raise ValueError("sigma must hold finite, non-negative singular values")
    fraction = positive(fraction, "fraction")
    if fraction > 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    energy = torch.sort(sigma.double(), descending=True).values ** 2
    total = energy.sum()
    if total == 0:
        raise ValueError("sigma is all zeros: there is no energy to share")
    share = energy.cumsum(0) / total
    # a relative slack of a few ulps, so that fraction = 1 counts every non-zero value
    return int((share < fraction * (1 - 1e-12)).sum()) + 1


def layer_gradient_norms(model: nn.Module, loss: Callable[[torch.Tensor], torch.Tensor],
                         x: torch.Tensor) -> dict[str, float]:
    """Frobenius norms ``‖∇_{W_l} L‖_F`` of the loss gradient by each layer's weight matrix.

    ``loss`` maps the model's output on ``x`` (shape ``(n, d_in)``) to a scalar. The result maps
    each ``nn.Linear`` module's name to the norm of the gradient by its ``weight``, from the
    input layer to the output layer; the computation is :func:`_layer_gradient_norms`.
    """
    model = _check_model(model)
    x = _check_inputs(x, model)
    if not callable(loss):
        raise TypeError(f"loss must be a function of the output, got {type(loss).__name__}")
    if not any(isinstance(m, nn.Linear) for m in model.modules()):
        raise ValueError("the model has no nn.Linear layers")
    value = loss(model(x))
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise ValueError("loss must return a scalar tensor")
    return _layer_gradient_norms(model, value.reshape(()))


def _layer_gradient_norms(model: nn.Module, value: torch.Tensor) -> dict[str, float]:
    """One call to autograd: the gradient of the scalar ``value`` by every layer's weight."""
    layers = {name: m.weight for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    grads = torch.autograd.grad(value, list(layers.values()))
    return {name: float(torch.linalg.norm(g)) for name, g in zip(layers, grads, strict=True)}
