"""Tests of dlmath.train: batches, the minibatch loop, predictions, confusion matrices, grids."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmath import train

mpl.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- batches -------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 300), batch_size=st.integers(1, 64), seed=st.integers(0, 2**31))
def test_batches_cover_every_index_once(n: int, batch_size: int, seed: int) -> None:
    parts = list(train.batches(n, batch_size, generator=torch.Generator().manual_seed(seed)))
    assert torch.equal(torch.cat(parts).sort().values, torch.arange(n))
    assert all(len(p) == batch_size for p in parts[:-1])
    assert 1 <= len(parts[-1]) <= batch_size
    assert len(parts) == -(-n // batch_size)


def test_batches_are_reproducible_and_shuffled() -> None:
    def draw(seed: int) -> torch.Tensor:
        return torch.cat(list(train.batches(100, 7, generator=torch.Generator().manual_seed(seed))))

    assert torch.equal(draw(3), draw(3))
    assert not torch.equal(draw(3), torch.arange(100))
    assert not torch.equal(draw(3), draw(4))


@pytest.mark.parametrize(("n", "batch_size", "error"), [
    (0, 4, ValueError), (5, 0, ValueError), (2.5, 4, TypeError), (5, True, TypeError)])
def test_batches_reject_bad_sizes(n, batch_size, error) -> None:
    with pytest.raises(error, match="n|batch_size"):
        list(train.batches(n, batch_size))


# --- fit -----------------------------------------------------------------------------------

def linear_problem(m: int = 64, d: int = 3):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(m, d, generator=generator)
    w_star = torch.tensor([[1.0, -2.0, 0.5]])
    return x, x @ w_star.T, w_star


def test_fit_with_full_batches_is_gradient_descent() -> None:
    x, y, _ = linear_problem()
    model = torch.nn.Linear(3, 1, bias=False)
    w0 = model.weight.detach().clone()
    eta = 0.1
    train.fit(model, torch.nn.functional.mse_loss, x, y,
              optimizer=torch.optim.SGD(model.parameters(), lr=eta), epochs=1, batch_size=64)
    # one full-batch step: w ← w − η ∇ mean (xw − y)² = w − η (2/m) (Xw − y)ᵀ X
    expected = w0 - eta * 2 / len(x) * (x @ w0.T - y).T @ x
    torch.testing.assert_close(model.weight.detach(), expected, rtol=1e-6, atol=1e-7)


def test_fit_learns_a_linear_map_and_records_each_epoch() -> None:
    x, y, w_star = linear_problem()
    model = torch.nn.Linear(3, 1, bias=False)
    history = train.fit(model, torch.nn.functional.mse_loss, x, y,
                        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=30,
                        batch_size=8, generator=torch.Generator().manual_seed(1))
    assert len(history.loss) == len(history.seconds) == 30
    assert all(s >= 0 for s in history.seconds)
    assert history.loss[-1] < 1e-6 < history.loss[0]
    torch.testing.assert_close(model.weight.detach(), w_star, rtol=0, atol=1e-3)


def test_fit_reports_the_mean_loss_over_the_epoch() -> None:
    x, y, _ = linear_problem()
    model = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        before = float(torch.nn.functional.mse_loss(model(x), y))
    history = train.fit(model, torch.nn.functional.mse_loss, x, y,
                        optimizer=torch.optim.SGD(model.parameters(), lr=0.0), epochs=1,
                        batch_size=5)  # lr 0: the model does not move
    assert history.loss[0] == pytest.approx(before, rel=1e-5)


def test_fit_rejects_bad_input() -> None:
    x, y, _ = linear_problem()
    model = torch.nn.Linear(3, 1, bias=False)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = torch.nn.functional.mse_loss
    with pytest.raises(ValueError, match="same number of samples"):
        train.fit(model, loss, x, y[:-1], optimizer=sgd, epochs=1, batch_size=4)
    with pytest.raises(TypeError, match="torch.Tensor"):
        train.fit(model, loss, x.numpy(), y, optimizer=sgd, epochs=1, batch_size=4)
    with pytest.raises(TypeError, match="Optimizer"):
        train.fit(model, loss, x, y, optimizer="sgd", epochs=1, batch_size=4)
    with pytest.raises(TypeError, match="nn.Module"):
        train.fit(lambda v: v, loss, x, y, optimizer=sgd, epochs=1, batch_size=4)
    with pytest.raises(TypeError, match="loss"):
        train.fit(model, "mse", x, y, optimizer=sgd, epochs=1, batch_size=4)
    with pytest.raises(ValueError, match="epochs"):
        train.fit(model, loss, x, y, optimizer=sgd, epochs=0, batch_size=4)


# --- predict and confusion_matrix ----------------------------------------------------------

def test_predict_is_the_argmax_in_any_batch_size() -> None:
    model = torch.nn.Linear(4, 5)
    x = torch.randn(23, 4, generator=torch.Generator().manual_seed(0))
    expected = model(x).argmax(1)
    for batch_size in (1, 4, 23, 100):
        assert torch.equal(train.predict(model, x, batch_size=batch_size), expected)
    with pytest.raises(ValueError, match="at least one sample"):
        train.predict(model, x[:0])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6).flatmap(lambda k: st.tuples(
    st.just(k), st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)),
                         min_size=1, max_size=50))))
def test_confusion_matrix_counts(case) -> None:
    k, pairs = case
    y_true = torch.tensor([a for a, _ in pairs])
    y_pred = torch.tensor([b for _, b in pairs])
    C = train.confusion_matrix(y_true, y_pred, k)
    assert C.shape == (k, k)
    assert int(C.sum()) == len(pairs)
    assert int(C.trace()) == int((y_true == y_pred).sum())
    assert torch.equal(C.sum(1), torch.bincount(y_true, minlength=k))
    assert torch.equal(C.sum(0), torch.bincount(y_pred, minlength=k))


def test_confusion_matrix_rejects_bad_labels() -> None:
    with pytest.raises(ValueError, match=r"labels in 0 … 2"):
        train.confusion_matrix(torch.tensor([0, 3]), torch.tensor([0, 1]), 3)
    with pytest.raises(TypeError, match="integer labels"):
        train.confusion_matrix(torch.tensor([0.0, 1.0]), torch.tensor([0, 1]), 3)
    with pytest.raises(ValueError, match="same number"):
        train.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0]), 3)


# --- image_grid ----------------------------------------------------------------------------

def test_image_grid_draws_clipped_colour_and_grey_images() -> None:
    colour = torch.linspace(-1, 2, 3 * 4 * 4).reshape(1, 3, 4, 4).repeat(5, 1, 1, 1)
    fig, axes = train.image_grid(colour, titles=[str(i) for i in range(5)], ncols=3,
                                 suptitle="grid")
    assert axes.shape == (2, 3)
    shown = axes[0, 0].images[0].get_array()
    assert shown.shape == (4, 4, 3) and shown.min() == 0 and shown.max() == 1
    assert axes[0, 1].get_title() == "1" and not axes[1, 2].images  # an empty sixth panel
    grey = [torch.rand(6, 6) for _ in range(2)]
    _, axes = train.image_grid(grey)
    assert axes.shape == (1, 2) and axes[0, 0].images[0].get_array().shape == (6, 6)


@pytest.mark.parametrize(("images", "kwargs", "error", "message"), [
    (torch.rand(2, 2, 4, 4), {}, ValueError, "shape"),
    (torch.rand(4, 4), {}, ValueError, "shape"),
    ([], {}, TypeError, "non-empty"),
    ("img", {}, TypeError, "non-empty"),
    (torch.rand(2, 3, 4, 4), {"titles": ["one"]}, ValueError, "one title per image"),
    (torch.rand(2, 3, 4, 4), {"ncols": 0}, ValueError, "ncols"),
    (torch.rand(2, 3, 4, 4), {"size": -1.0}, ValueError, "size"),
])
def test_image_grid_rejects_bad_input(images, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        train.image_grid(images, **kwargs)
