"""Tests of dlmath.features: parameter Jacobians, principal features, gradient norms."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.func import functional_call

from dlmath import features, nets

F64 = {"dtype": torch.float64}


def small_mlp(depth: int = 2, width: int = 5, d_in: int = 1, seed: int = 0) -> nets.MLP:
    g = torch.Generator().manual_seed(seed)
    net = nets.mlp(d_in, width, 1, depth=depth, alpha=0.0, init=nets.he(), generator=g,
                   dtype=torch.float64)
    with torch.no_grad():
        for layer in net.layers:
            layer.bias.copy_(torch.rand(layer.bias.shape, generator=g, **F64) - 0.5)
    return net


def autograd_jacobian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    rows = []
    for i in range(x.shape[0]):
        grads = torch.autograd.grad(model(x[i : i + 1]).squeeze(), list(model.parameters()))
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows)


# ---------------------------------------------------------------------- parameter_jacobian

@settings(max_examples=6, deadline=None)
@given(depth=st.integers(1, 3), width=st.integers(1, 6), d_in=st.integers(1, 3),
       n=st.integers(1, 7), seed=st.integers(0, 10**6))
def test_jacobian_matches_autograd_row_by_row(depth, width, d_in, n, seed):
    net = small_mlp(depth, width, d_in, seed)
    x = torch.randn(n, d_in, generator=torch.Generator().manual_seed(seed), **F64)
    J = features.parameter_jacobian(net, x)
    P = sum(p.numel() for p in net.parameters())
    assert J.shape == (n, P)
    torch.testing.assert_close(J, autograd_jacobian(net, x), rtol=1e-12, atol=1e-12)


def test_jacobian_of_a_linear_model_is_the_design_matrix():
    model = nn.Linear(3, 1, bias=False).double()
    x = torch.randn(6, 3, **F64)
    torch.testing.assert_close(features.parameter_jacobian(model, x), x, rtol=0, atol=0)


def test_jacobian_with_sequential_and_explicit_params():
    model = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    x = torch.linspace(-1, 1, 5, **F64)[:, None]
    params = {k: 2 * v.detach() for k, v in model.named_parameters()}
    J = features.parameter_jacobian(model, x, params)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(2)
    torch.testing.assert_close(J, autograd_jacobian(model, x), rtol=1e-12, atol=1e-12)


def test_jacobian_linearisation_is_second_order():
    net = small_mlp(2, 8, seed=3)
    x = torch.linspace(-1, 1, 11, **F64)[:, None]
    J = features.parameter_jacobian(net, x)
    theta = {k: v.detach() for k, v in net.named_parameters()}
    d = torch.randn(J.shape[1], generator=torch.Generator().manual_seed(1), **F64)
    chunks = dict(zip(theta, torch.split(d, [v.numel() for v in theta.values()]), strict=True))

    def remainder(eps: float) -> float:
        moved = {k: v + eps * chunks[k].reshape(v.shape) for k, v in theta.items()}
        f_eps = functional_call(net, moved, (x,)).squeeze(1)
        return float((f_eps - net(x).squeeze(1) - eps * J @ d).detach().norm())

    assert remainder(1e-5) / remainder(5e-6) == pytest.approx(4, rel=0.02)


@pytest.mark.parametrize("bad, error, match", [
    ([[0.0]], TypeError, "torch.Tensor"),
    (torch.zeros(3), ValueError, r"shape \(n, d_in\)"),
    (torch.zeros(0, 1), ValueError, r"n >= 1"),
    (torch.zeros(3, 2, **F64), ValueError, "expects 1"),
    (torch.zeros(3, 1, dtype=torch.int64), TypeError, "floating-point"),
    (torch.tensor([[float("nan")]], **F64), ValueError, "finite"),
])
def test_jacobian_rejects_bad_inputs(bad, error, match):
    with pytest.raises(error, match=match):
        features.parameter_jacobian(small_mlp(), bad)


def test_jacobian_rejects_bad_models():
    with pytest.raises(TypeError, match="nn.Module"):
        features.parameter_jacobian(lambda x: x, torch.zeros(2, 1))
    two_out = nn.Linear(1, 2).double()
    with pytest.raises(ValueError, match="one number per input"):
        features.parameter_jacobian(two_out, torch.zeros(2, 1, **F64))
    with pytest.raises(TypeError, match="mapping"):
        features.parameter_jacobian(small_mlp(), torch.zeros(2, 1, **F64), params=[1, 2])


# ---------------------------------------------------------------------- principal_features

@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 8), P=st.integers(1, 8), k=st.integers(1, 8), seed=st.integers(0, 10**6))
def test_principal_features_reconstruct(n, P, k, seed):
    J = torch.randn(n, P, generator=torch.Generator().manual_seed(seed), **F64)
    k = min(k, n, P)
    sigma, U, V = features.principal_features(J, k)
    assert sigma.shape == (min(n, P),) and U.shape == (n, k) and V.shape == (P, k)
    assert (sigma[:-1] >= sigma[1:]).all()
    torch.testing.assert_close(J @ V, U * sigma[:k], rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(U.T @ U, torch.eye(k, **F64), rtol=0, atol=1e-10)
    peak = U.gather(0, U.abs().argmax(0, keepdim=True))
    assert (peak > 0).all()                    # the sign convention
    full_sigma, full_U, full_V = features.principal_features(J)
    torch.testing.assert_close(full_U * full_sigma @ full_V.T, J, rtol=1e-10, atol=1e-10)


def test_principal_features_sign_is_stable_under_negation():
    J = torch.randn(6, 4, **F64)
    _, U1, V1 = features.principal_features(J, 3)
    _, U2, V2 = features.principal_features(-J, 3)
    torch.testing.assert_close(U1, U2, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(V1, -V2, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("J, k, error, match", [
    ([[1.0]], None, TypeError, "torch.Tensor"),
    (torch.ones(3), None, ValueError, "matrix"),
    (torch.ones(0, 3), None, ValueError, "non-empty"),
    (torch.tensor([[float("inf")]]), None, ValueError, "finite"),
    (torch.ones(3, 2), 3, ValueError, r"\[1, 2\]"),
    (torch.ones(3, 2), 0, ValueError, "k must be >= 1"),
    (torch.ones(3, 2), True, TypeError, "integer, got bool"),
    (torch.ones(3, 2), 1.5, TypeError, "integer"),
])
def test_principal_features_rejects(J, k, error, match):
    with pytest.raises(error, match=match):
        features.principal_features(J, k)


# ---------------------------------------------------------------------- energy_rank

def test_energy_rank_examples():
    sigma = torch.tensor([3.0, 2.0, 1.0])             # energies 9, 4, 1 of 14
    assert features.energy_rank(sigma, 9 / 14) == 1
    assert features.energy_rank(sigma, 0.65) == 2
    assert features.energy_rank(sigma, 13 / 14) == 2
    assert features.energy_rank(sigma, 0.99) == 3
    assert features.energy_rank(sigma, 1.0) == 3
    assert features.energy_rank(torch.tensor([1.0, 2.0, 0.0]), 1.0) == 2   # sorts; zeros ignored


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.floats(0, 100), min_size=1, max_size=20),
       fraction=st.floats(0.01, 1.0))
def test_energy_rank_is_the_smallest_prefix(values, fraction):
    sigma = torch.tensor(values, **F64)
    if float((sigma**2).sum()) == 0:
        return
    k = features.energy_rank(sigma, fraction)
    energy = torch.sort(sigma, descending=True).values ** 2
    share = energy.cumsum(0) / energy.sum()
    assert 1 <= k <= len(values)
    assert share[k - 1] >= fraction * (1 - 1e-12)
    if k > 1:
        assert share[k - 2] < fraction


@pytest.mark.parametrize("sigma, fraction, error, match", [
    ([1.0], 0.9, TypeError, "torch.Tensor"),
    (torch.ones(2, 2), 0.9, ValueError, "1-D"),
    (torch.tensor([-1.0]), 0.9, ValueError, "non-negative"),
    (torch.zeros(3), 0.9, ValueError, "all zeros"),
    (torch.ones(3), 0.0, ValueError, "> 0"),
    (torch.ones(3), 1.5, ValueError, r"\(0, 1\]"),
])
def test_energy_rank_rejects(sigma, fraction, error, match):
    with pytest.raises(error, match=match):
        features.energy_rank(sigma, fraction)


# ---------------------------------------------------------------------- layer_gradient_norms

def test_layer_gradient_norms_match_autograd():
    net = small_mlp(3, 4, seed=2)
    x = torch.linspace(-1, 1, 9, **F64)[:, None]
    y = torch.sin(3 * x)
    norms = features.layer_gradient_norms(net, lambda out: ((out - y) ** 2).mean(), x)
    assert list(norms) == [f"layers.{i}" for i in range(4)]
    loss = ((net(x) - y) ** 2).mean()
    grads = torch.autograd.grad(loss, net.weights())
    for value, g in zip(norms.values(), grads, strict=True):
        assert value == pytest.approx(float(g.norm()), rel=1e-12)


def test_layer_gradient_norms_rejects():
    net, x = small_mlp(), torch.zeros(3, 1, **F64)
    with pytest.raises(TypeError, match="function"):
        features.layer_gradient_norms(net, 3, x)
    with pytest.raises(ValueError, match="scalar"):
        features.layer_gradient_norms(net, lambda out: out, x)
    with pytest.raises(ValueError, match="no nn.Linear"):
        features.layer_gradient_norms(nn.Sequential(nn.Tanh()), lambda out: out.sum(), x)
