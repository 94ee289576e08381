"""Tests of dlmath.nets: initialisation schemes, the leaky-ReLU MLP, per-layer moments."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmath import nets

SETTINGS = settings(max_examples=20, deadline=None)
slopes = st.floats(0, 4, allow_nan=False)


# --- gains and schemes ---------------------------------------------------------------------

@SETTINGS
@given(slopes)
def test_gain_matches_torch(alpha: float) -> None:
    assert math.isclose(nets.gain(alpha), torch.nn.init.calculate_gain("leaky_relu", alpha),
                        rel_tol=1e-12)
    assert math.isclose(nets.second_moment_factor(alpha), (1 + alpha**2) / 2, rel_tol=1e-15)


@SETTINGS
@given(slopes, st.integers(1, 5000), st.integers(1, 5000))
def test_leaky_he_formula_and_special_cases(alpha: float, n_in: int, n_out: int) -> None:
    assert math.isclose(nets.leaky_he(alpha).variance(n_in, n_out), 2 / (n_in * (1 + alpha**2)),
                        rel_tol=1e-12)
    # the std torch.nn.init.kaiming_normal_(w, a=alpha) uses: gain / √fan_in
    assert math.isclose(nets.leaky_he(alpha).std(n_in), nets.gain(alpha) / math.sqrt(n_in),
                        rel_tol=1e-12)
    assert math.isclose(nets.leaky_he(0).std(n_in), nets.he().std(n_in), rel_tol=1e-15)
    assert math.isclose(nets.leaky_he(1).std(n_in), nets.lecun().std(n_in), rel_tol=1e-15)
    assert math.isclose(nets.glorot().variance(n_in, n_out), 2 / (n_in + n_out), rel_tol=1e-12)


@pytest.mark.parametrize("scheme", [nets.he(), nets.lecun(), nets.leaky_he(2.0), nets.glorot(),
                                    nets.uniform(0.03),
                                    nets.he().scaled(3.0)])
def test_sample_has_the_stated_std(scheme: nets.Init) -> None:
    """200 000 draws: the sample std is within 1 % (its relative error is ≈ 0.2 %)."""
    g = torch.Generator().manual_seed(0)
    w = scheme.sample(400, 500, generator=g, dtype=torch.float64)
    assert w.shape == (400, 500)
    assert abs(float(w.mean())) < 5 * scheme.std(500, 400) / math.sqrt(w.numel())
    assert math.isclose(float(w.std()), scheme.std(500, 400), rel_tol=0.01)
    if scheme.distribution == "uniform":
        assert float(w.abs().max()) <= 0.03


def test_uniform_is_width_independent_and_scaled_multiplies() -> None:
    assert nets.uniform(0.03).std(10) == nets.uniform(0.03).std(1000) == pytest.approx(
        0.03 / math.sqrt(3))
    assert nets.he().scaled(0.5).std(64) == pytest.approx(0.5 * math.sqrt(2 / 64))
    assert "He" in nets.he().scaled(0.5).name


def test_call_fills_a_weight_in_place() -> None:
    layer = torch.nn.Linear(300, 200)
    out = nets.leaky_he(0.5)(layer.weight, generator=torch.Generator().manual_seed(1))
    assert out is layer.weight
    std = float(layer.weight.detach().std())
    assert std == pytest.approx(nets.leaky_he(0.5).std(300), rel=0.02)


# --- the network ---------------------------------------------------------------------------

def test_mlp_shapes_bias_and_forward() -> None:
    g = torch.Generator().manual_seed(0)
    net = nets.mlp(12, 7, 3, depth=4, alpha=0.2, generator=g, dtype=torch.float64)
    assert len(net.layers) == 5
    assert [tuple(w.shape) for w in net.weights()] == [(7, 12), (7, 7), (7, 7), (7, 7), (3, 7)]
    assert all(float(layer.bias.detach().abs().max()) == 0 for layer in net.layers)
    x = torch.randn(5, 3, 2, 2, dtype=torch.float64)  # flattened to (5, 12)
    h = x.flatten(1)
    for layer in net.layers[:-1]:
        h = torch.nn.functional.leaky_relu(layer(h), 0.2)
    torch.testing.assert_close(net(x), net.layers[-1](h), rtol=1e-14, atol=0)
    assert nets.mlp(4, 5, 1, depth=2, alpha=0.0, bias=False).layers[0].bias is None
    assert "leaky He" in repr(net)


def test_same_generator_same_network() -> None:
    a = nets.mlp(6, 8, 2, depth=3, alpha=1.0, generator=torch.Generator().manual_seed(5))
    b = nets.mlp(6, 8, 2, depth=3, alpha=1.0, generator=torch.Generator().manual_seed(5))
    assert all(torch.equal(u, v) for u, v in zip(a.weights(), b.weights(), strict=True))


@SETTINGS
@given(st.floats(0, 3), st.integers(1, 5), st.integers(2, 9), st.booleans())
def test_moments_backward_is_autograd(alpha: float, depth: int, width: int, bias: bool) -> None:
    """δ_l from the hand-written backward pass equals autograd's ∂⟨g, f(x)⟩/∂z_l."""
    g = torch.Generator().manual_seed(depth * 10 + width)
    net = nets.mlp(4, width, 3, depth=depth, alpha=alpha, bias=bias, generator=g,
                   dtype=torch.float64)
    if bias:
        with torch.no_grad():
            for layer in net.layers:
                layer.bias.normal_(generator=g)
    x = torch.randn(6, 4, generator=g, dtype=torch.float64)
    grad_out = torch.randn(6, 3, generator=g, dtype=torch.float64)
    zs, h = [], x
    for i, layer in enumerate(net.layers):
        z = layer(h)
        z.retain_grad()
        zs.append(z)
        h = nets.leaky_relu(z, alpha) if i < depth else z
    (zs[-1] * grad_out).sum().backward()
    stats = net.moments(x, grad_out=grad_out)
    torch.testing.assert_close(stats.forward, torch.stack([(z**2).mean() for z in zs]).detach(),
                               rtol=1e-12, atol=0)
    torch.testing.assert_close(stats.backward, torch.stack([(z.grad**2).mean() for z in zs]),
                               rtol=1e-12, atol=0)


def test_moments_vectorised_over_networks_and_slopes() -> None:
    g = torch.Generator().manual_seed(2)
    alphas = torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64)
    weights = [torch.randn(3, 5, 5, generator=g, dtype=torch.float64) for _ in range(4)]
    x = torch.randn(7, 5, generator=g, dtype=torch.float64)
    grad_out = torch.randn(7, 5, generator=g, dtype=torch.float64)
    together = nets.moments(weights, x, alphas, grad_out=grad_out)
    assert together.forward.shape == together.backward.shape == (3, 4)
    for r, alpha in enumerate(alphas.tolist()):
        alone = nets.moments([w[r] for w in weights], x, alpha, grad_out=grad_out)
        torch.testing.assert_close(together.forward[r], alone.forward, rtol=1e-13, atol=0)
        torch.testing.assert_close(together.backward[r], alone.backward, rtol=1e-13, atol=0)


def stack_of_mlps(slopes: tuple[float, ...] = (0.0, 0.5, 2.0), seed: int = 4) -> list[nets.MLP]:
    """Small float64 MLPs of one architecture, one per slope, with random biases."""
    g = torch.Generator().manual_seed(seed)
    modules = [nets.mlp(5, 6, 2, depth=3, alpha=a, generator=g, dtype=torch.float64)
               for a in slopes]
    with torch.no_grad():
        for net in modules:
            for layer in net.layers:
                layer.bias.normal_(generator=g)
    return modules


def test_stack_is_the_loop_over_its_networks() -> None:
    """Outputs of the stack = outputs of each module (shared and per-network batches)."""
    modules = stack_of_mlps()
    stack = nets.Stack(modules)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 5, generator=g, dtype=torch.float64)
    xs = torch.randn(3, 4, 5, generator=g, dtype=torch.float64)
    out, out_each = stack(x), stack(xs, per_network=True)
    assert len(stack) == 3 and out.shape == out_each.shape == (3, 4, 2)
    for s, net in enumerate(modules):
        # the same float64 operations in another order: rounding, a few ulps of |out| ~ 1
        torch.testing.assert_close(out[s], net(x), rtol=1e-13, atol=1e-13)
        torch.testing.assert_close(out_each[s], net(xs[s]), rtol=1e-13, atol=1e-13)
        alone = stack.network(s)
        assert float(alone.alpha) == float(net.alpha)
        torch.testing.assert_close(alone(x), net(x), rtol=0, atol=0)
    # the blocks split the leaves, not the output
    blocked = nets.Stack(modules, blocks=[1, 2])
    assert [p.shape[0] for p in blocked.parameters(1)] == [2] * 8
    torch.testing.assert_close(blocked(x), out, rtol=0, atol=0)


def test_one_adam_on_the_stack_is_separate_adams() -> None:
    """Adam is elementwise (moments, ε and bias correction per entry): one Adam on the stacked
    parameters makes the same steps as one Adam per network, to rounding."""
    modules = stack_of_mlps()
    stack = nets.Stack(modules, blocks=[2, 1])
    x = torch.randn(6, 5, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    # gradients of very different sizes per network, so that ε and the scale matter
    scale = torch.tensor([1.0, 1e-6, 1e3], dtype=torch.float64)
    lrs = (0.01, 0.003)
    opt = torch.optim.Adam([{"params": stack.parameters(0), "lr": lrs[0]},
                            {"params": stack.parameters(1), "lr": lrs[1]}])
    alone = [torch.optim.Adam(net.parameters(), lr=lrs[s >= 2]) for s, net in enumerate(modules)]
    for _ in range(3):
        opt.zero_grad()
        (scale[:, None, None] * stack(x) ** 2).sum().backward()
        opt.step()
        for s, net in enumerate(modules):
            alone[s].zero_grad()
            (scale[s] * net(x) ** 2).sum().backward()
            alone[s].step()
    for s, net in enumerate(modules):
        for name, p in net.named_parameters():
            torch.testing.assert_close(stack.params[name][s], p, rtol=1e-12, atol=1e-14)


def test_stack_clone_and_errors() -> None:
    modules = stack_of_mlps()
    stack = nets.Stack(modules)
    twin = stack.clone()
    with torch.no_grad():
        twin.parameters()[0].add_(1.0)
    assert not torch.equal(twin.parameters()[0], stack.parameters()[0])
    with pytest.raises(ValueError, match="non-empty"):
        nets.Stack([])
    with pytest.raises(TypeError, match="torch.nn.Module"):
        nets.Stack([modules[0], 3])
    with pytest.raises(ValueError, match="same architecture"):
        nets.Stack([modules[0], nets.mlp(5, 7, 2, depth=3, alpha=0.0)])
    with pytest.raises(ValueError, match="add up to the 3 modules"):
        nets.Stack(modules, blocks=[1, 1])
    with pytest.raises(ValueError, match="one batch per network"):
        stack(torch.zeros(2, 4, 5, dtype=torch.float64), per_network=True)
    with pytest.raises(ValueError, match="index into the 3 entries"):
        stack.network(3)


def test_leaky_relu_is_torchs_exactly() -> None:
    z = torch.randn(1000, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    for alpha in (0.0, 1e-300, 0.3, 1.0, 2.5):
        expected = torch.nn.functional.leaky_relu(z, alpha)
        assert torch.equal(nets.leaky_relu(z, alpha), expected)
        assert torch.equal(nets.leaky_relu(z, torch.tensor(alpha, dtype=torch.float64)), expected)


@SETTINGS
@given(slopes, st.floats(0.25, 4))
def test_homogeneity(alpha: float, c: float) -> None:
    """σ_α(cz) = cσ_α(z), c > 0: scaling every layer by c scales E[z_l²] by c^(2l)."""
    g = torch.Generator().manual_seed(3)
    weights = [torch.randn(8, 8, generator=g, dtype=torch.float64) for _ in range(5)]
    x = torch.randn(4, 8, generator=g, dtype=torch.float64)
    base = nets.moments(weights, x, alpha, grad_out=torch.ones(4, 8, dtype=torch.float64))
    scaled = nets.moments([c * w for w in weights], x, alpha,
                          grad_out=torch.ones(4, 8, dtype=torch.float64))
    powers = torch.arange(1, 6, dtype=torch.float64)
    torch.testing.assert_close(scaled.forward, base.forward * c ** (2 * powers), rtol=1e-10,
                               atol=0)
    torch.testing.assert_close(scaled.backward, base.backward * c ** (2 * (5 - powers)),
                               rtol=1e-10, atol=0)


# --- the second moment through depth 30 ----------------------------------------------------

def _log_moments(alpha: float, init: nets.Init, *, n: int = 128, depth: int = 30,
                 networks: int = 8, seed: int = 0) -> nets.Moments:
    g = torch.Generator().manual_seed(seed)
    weights = [init.sample(n, n, batch=(networks,), generator=g) for _ in range(depth)]
    x = torch.randn(16, n, generator=g)
    stats = nets.moments(weights, x, alpha, generator=g)
    return nets.Moments(stats.forward.log(), stats.backward.log())


@settings(max_examples=6, deadline=None)
@given(st.floats(0, 3))
def test_leaky_he_keeps_the_second_moment_through_depth_30(alpha: float) -> None:
    """Mean over 8 networks of log(q_l/q_1), l ≤ 30, width 128: |·| ≤ 4√((l−1)v/8) + (l−1)v/2.

    v = log_step_variance(α, n) bounds the per-layer variance of log q; the drift of a
    random walk of multiplicative steps with mean 1 is −v/2 per layer. Same band backward.
    """
    v = nets.log_step_variance(alpha, 128)
    stats = _log_moments(alpha, nets.leaky_he(alpha))
    steps = torch.arange(30, dtype=torch.float32)
    band = 4 * torch.sqrt(steps * v / 8) + steps * v / 2
    forward = (stats.forward - stats.forward[:, :1]).mean(0)
    backward = (stats.backward - stats.backward[:, -1:]).mean(0).flip(0)
    assert bool((forward.abs() <= band + 1e-6).all()), (forward, band)
    assert bool((backward.abs() <= band + 1e-6).all()), (backward, band)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_he_grows_by_one_plus_alpha_squared(alpha: float) -> None:
    """With He's 2/n, log q grows by log(1 + α²) a layer; backward the same, towards the input."""
    v = nets.log_step_variance(alpha, 128)
    stats = _log_moments(alpha, nets.he())
    growth = (stats.forward[:, -1] - stats.forward[:, 0]).mean() / 29
    shrink = (stats.backward[:, -1] - stats.backward[:, 0]).mean() / 29
    tol = 4 * math.sqrt(v / (29 * 8)) + v / 2
    assert abs(float(growth) - math.log(1 + alpha**2)) < tol
    assert abs(float(-shrink) - math.log(1 + alpha**2)) < tol


# --- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"width": 0}, ValueError, "width must be >= 1"),
    ({"width": 2.5}, TypeError, "width must be an integer"),
    ({"depth": 0}, ValueError, "depth must be >= 1"),
    ({"depth": -3}, ValueError, "depth must be >= 1"),
    ({"alpha": -0.1}, ValueError, "slope.*>= 0"),
    ({"alpha": float("nan")}, ValueError, "slope"),
    ({"alpha": "0.1"}, TypeError, "slope.*real number, got str"),
    ({"alpha": True}, TypeError, "got bool"),
    ({"init": "he"}, TypeError, "init must be"),
    ({"d_in": 0}, ValueError, "d_in must be >= 1"),
])
def test_mlp_errors(kwargs, error, match) -> None:
    args = {"d_in": 4, "width": 8, "d_out": 1, "depth": 3, "alpha": 0.5} | kwargs
    with pytest.raises(error, match=match):
        nets.mlp(args.pop("d_in"), args.pop("width"), args.pop("d_out"), **args)


def test_scheme_errors() -> None:
    with pytest.raises(ValueError, match="scale must be a finite number > 0"):
        nets.uniform(0.0)
    with pytest.raises(ValueError, match="slope"):
        nets.leaky_he(-1.0)
    with pytest.raises(ValueError, match="c must be"):
        nets.he().scaled(0)
    with pytest.raises(ValueError, match="fan_in must be >= 1"):
        nets.he().std(0)
    with pytest.raises(ValueError, match="distribution must be"):
        nets.Init("x", lambda n_in, n_out: 1.0, "cauchy")
    with pytest.raises(ValueError, match="2-D weight"):
        nets.he()(torch.zeros(3))
    with pytest.raises(ValueError, match="width must be >= 1"):
        nets.log_step_variance(0.5, 0)


def test_moments_errors() -> None:
    w = [torch.randn(5, 4), torch.randn(3, 6)]
    with pytest.raises(ValueError, match="weight 2 expects 6 inputs but layer 1 has 5"):
        nets.moments(w, torch.randn(2, 4), 0.5)
    with pytest.raises(ValueError, match=r"x must have shape \(B, 4\)"):
        nets.moments([torch.randn(5, 4)], torch.randn(2, 3), 0.5)
    with pytest.raises(TypeError, match="non-empty list"):
        nets.moments(torch.randn(3, 4, 4), torch.randn(2, 4), 0.5)
    with pytest.raises(ValueError, match="grad_out must end in the output size 5"):
        nets.moments([torch.randn(5, 4)], torch.randn(2, 4), 0.5, grad_out=torch.randn(2, 3))
    with pytest.raises(ValueError, match="got 1 biases for 2 weights"):
        nets.moments([torch.randn(5, 4), torch.randn(3, 5)], torch.randn(2, 4), 0.5,
                     biases=[torch.zeros(5)])
