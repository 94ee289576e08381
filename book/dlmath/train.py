"""Training small networks on device-resident tensors, and looking at images.

The data live on the device as whole tensors; an epoch visits them in a random order by slicing
a permuted index (:func:`batches`), with no DataLoader and no copies per sample. :func:`fit`
is the minibatch loop, :func:`predict` and :func:`confusion_matrix` measure a classifier, and
:func:`image_grid` shows a stack of colour or grey images as a labelled grid.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from dlmath import plot
from dlmath._validate import positive, positive_int


def _tensor(value: object, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    return value


def _same_length(x: torch.Tensor, y: torch.Tensor) -> int:
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"x and y must have a leading sample dimension, got shapes "
                         f"{tuple(x.shape)} and {tuple(y.shape)}")
    if len(x) != len(y):
        raise ValueError(f"x and y must hold the same number of samples, got {len(x)} and "
                         f"{len(y)}")
    if len(x) == 0:
        raise ValueError("x and y hold no samples")
    if x.device != y.device:
        raise ValueError(f"x and y must be on the same device, got {x.device} and {y.device}")
    return len(x)


def batches(n: int, batch_size: int, *, generator: torch.Generator | None = None,
            device: torch.device | str | None = None) -> Iterator[torch.Tensor]:
    """The indices ``0 … n − 1`` in a random order, cut into consecutive slices.

    Every index appears exactly once per pass; all slices have ``batch_size`` entries except
    possibly the last. The permutation is drawn on ``device`` (where the data live) from
    ``generator``, which must be a generator on that device if given.
    """
    n = positive_int(n, "n")
    batch_size = positive_int(batch_size, "batch_size")
    order = torch.randperm(n, generator=generator, device=device)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


@dataclass
class History:
    """What :func:`fit` measured: the mean training loss and the wall time of each epoch."""

    loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def fit(model: nn.Module, loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        x: torch.Tensor, y: torch.Tensor, *, optimizer: torch.optim.Optimizer, epochs: int,
        batch_size: int, generator: torch.Generator | None = None) -> History:
    """Minibatch training: ``epochs`` passes over ``(x, y)`` in random order.

    Each step takes the slice ``idx`` of a permuted index, evaluates ``loss(model(x[idx]),
    y[idx])`` (a mean over the batch) and lets ``optimizer`` take one step. The losses are summed
    on the device, so the loop never waits for the device inside an epoch. Checks its
    arguments and calls :func:`_fit`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss):
        raise TypeError(f"loss must be a function of (output, target), got "
                        f"{type(loss).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got "
                        f"{type(optimizer).__name__}")
    _same_length(_tensor(x, "x"), _tensor(y, "y"))
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    return _fit(model, loss, x, y, optimizer, epochs, batch_size, generator)


def _fit(model: nn.Module, loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
         x: torch.Tensor, y: torch.Tensor, optimizer: torch.optim.Optimizer, epochs: int,
         batch_size: int, generator: torch.Generator | None) -> History:
    """``epochs`` passes of minibatch steps over ``(x, y)``, each pass in a new random order."""
    n = len(x)
    history = History()
    model.train()
    for _ in range(epochs):
        _synchronize(x.device)
        start = time.perf_counter()
        total = torch.zeros((), device=x.device)
        for idx in batches(n, batch_size, generator=generator, device=x.device):
            value = loss(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            optimizer.step()
            total += value.detach() * len(idx)
        mean = float(total) / n  # one synchronisation per epoch
        _synchronize(x.device)
        history.seconds.append(time.perf_counter() - start)
        history.loss.append(mean)
    return history


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, *, batch_size: int = 4096) -> torch.Tensor:
    """The class with the largest output, ``argmax_j model(x)_j``, for every row of ``x``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    x = _tensor(x, "x")
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must hold at least one sample, got shape {tuple(x.shape)}")
    batch_size = positive_int(batch_size, "batch_size")
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).argmax(dim=1)
                      for i in range(0, len(x), batch_size)])


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, n_classes: int) -> torch.Tensor:
    """The ``(n_classes, n_classes)`` count matrix: entry ``(i, j)`` counts the samples of true
    class ``i`` predicted as ``j``. Its trace is the number of correct predictions."""
    y_true, y_pred = _tensor(y_true, "y_true"), _tensor(y_pred, "y_pred")
    n_classes = positive_int(n_classes, "n_classes")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.ndim != 1 or labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise TypeError(f"{name} must be a 1-D tensor of integer labels, got "
                            f"{labels.dtype} of shape {tuple(labels.shape)}")
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"{name} must hold labels in 0 … {n_classes - 1}, got values from "
                             f"{int(labels.min())} to {int(labels.max())}")
    _same_length(y_true, y_pred)
    flat = y_true.long() * n_classes + y_pred.long()
    return torch.bincount(flat, minlength=n_classes**2).reshape(n_classes, n_classes)


def image_grid(images: torch.Tensor | Sequence[torch.Tensor], *,
               titles: Sequence[str] | None = None, ncols: int | None = None,
               size: float = 1.4, suptitle: str | None = None):
    """Show images as a grid (one row unless ``ncols`` says otherwise); return ``(fig, axes)``.

    ``images`` is a tensor of shape ``(N, 3, H, W)`` (colour), ``(N, 1, H, W)`` or
    ``(N, H, W)`` (grey), or a sequence of ``(3, H, W)``/``(H, W)`` tensors. Values are
    clipped to [0, 1] before they are drawn, so an image that leaves that range shows
    saturated pixels, not a rescaled picture. ``size`` is the side of one panel in inches.
    """
    if not isinstance(images, torch.Tensor):
        if isinstance(images, (str, bytes)) or not isinstance(images, Sequence) or not images:
            raise TypeError("images must be a tensor or a non-empty sequence of tensors, got "
                            f"{type(images).__name__}")
        images = torch.stack([_tensor(image, "each image").detach().cpu() for image in images])
    images = images.detach().cpu().float()
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if not (images.ndim == 3 or (images.ndim == 4 and images.shape[1] == 3)) or not len(images):
        raise ValueError("images must have shape (N, 3, H, W), (N, 1, H, W) or (N, H, W) with "
                         f"N >= 1, got {tuple(images.shape)}")
    n = len(images)
    ncols = min(n, positive_int(ncols, "ncols")) if ncols is not None else n
    nrows = -(-n // ncols)
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must give one title per image: {n} images, "
                         f"{len(titles)} titles")
    size = positive(size, "size (inches per image)")
    fig, axes = plot.figure(ncols=ncols, nrows=nrows, width=size * ncols,
                            height=size * nrows + (0.35 if suptitle else 0) + 0.25 * nrows,
                            squeeze=False)
    pictures = images.clamp(0, 1)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            continue
        picture = pictures[i]
        if picture.ndim == 3:
            ax.imshow(picture.permute(1, 2, 0).numpy(), interpolation="nearest")
        else:
            ax.imshow(picture.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig, axes
