"""Input checks shared by the public functions of dlmath.

Public entry points validate once, at the boundary, and say what they received and what they
expected; inner functions trust their callers.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import torch


def to_numpy(value: Any, name: str) -> np.ndarray:
    """Return ``value`` (tensor, array, list or number) as a float64 NumPy array.

    Raises ``TypeError`` when it is not numeric.
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged lists and the like
        raise TypeError(f"{name} must be numeric, got {type(value).__name__}") from error
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got {type(value).__name__} of {array.dtype}")
    if np.iscomplexobj(array):  # astype would drop the imaginary part without a word
        raise TypeError(f"{name} must be real, got complex values ({array.dtype})")
    return array.astype(np.float64)


def as_tensor(value: Any, name: str, *, dtype: torch.dtype | None = None,
              device: torch.device | None = None) -> torch.Tensor:
    """``value`` (number, list, array or tensor) as a finite, real floating-point tensor.

    The dtype is ``dtype`` if given, else the tensor's own floating dtype, else float64.
    Raises ``TypeError`` for non-numeric, boolean or complex input and ``ValueError`` for NaN
    or infinite entries.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number or tensor, got bool")
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.dtype == torch.bool:
            raise TypeError(f"{name} must be real, got a tensor of dtype {value.dtype}")
        if dtype is None:
            dtype = value.dtype if value.is_floating_point() else torch.float64
        tensor = value.detach().to(dtype=dtype, device=device or value.device)
    else:
        tensor = torch.as_tensor(to_numpy(value, name), dtype=dtype or torch.float64,
                                 device=device)
    bad = ~torch.isfinite(tensor)
    if bad.any():
        if tensor.numel() == 1:
            raise ValueError(f"{name} must be finite, got {tensor.item()!r}")
        raise ValueError(f"{name} must be finite, but {int(bad.sum())} of its {tensor.numel()} "
                         "entries are NaN or infinite")
    return tensor


def finite(array: np.ndarray, name: str) -> np.ndarray:
    """Return ``array`` unchanged; raise ``ValueError`` if it holds NaN or infinity."""
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} must be finite, but {bad} of its {np.size(array)} entries are "
                         "NaN or infinite")
    return array


def positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float after checking that it is a real number > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def positive_int(value: Any, name: str) -> int:
    """Return ``value`` after checking that it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)
