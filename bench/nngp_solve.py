"""Time NNGP kernel regression against its floor: one GEMM and one Cholesky solve.

    python bench/nngp_solve.py                  # n = 4000, d = 3072, relu, float64, CPU
    python bench/nngp_solve.py --n 20000 --dtype float32 --device cuda
    python bench/nngp_solve.py --n 50000 --dtype float32 --device cuda --depth 5

Prints the best of ``--repeat`` runs (after a warm-up run) of (a)
``kernels.nngp_gram(X, normalize=True)`` (with ``--depth L``: ``kernels.nngp_deep(X, depth=L)``
of He ReLU, on rows scaled so that every layer's variance is 1) followed by
``kernels.kernel_solve(K, y, lam)`` and
(b) the bare ``X @ X.T`` followed by ``torch.linalg.cholesky`` and ``torch.cholesky_solve``,
and their ratio (a)/(b): the cost of the kernel's elementwise maps and of the checks, less what
(a) saves by computing only the upper triangle of X Xᵀ (about half the multiplications).
"""

from __future__ import annotations

import argparse

import torch

from dlmath import env, kernels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--d", type=int, default=3072)
    parser.add_argument("--phi", default="relu")
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--depth", type=int, default=0, help="hidden layers (0: nngp_gram)")
    args = parser.parse_args()
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    generator = torch.Generator(device).manual_seed(0)
    X = torch.randn(args.n, args.d, dtype=dtype, device=device, generator=generator)
    X = X / X.norm(dim=1, keepdim=True)       # unit rows: the kernel's diagonal is 1
    if args.depth:
        X = X * (args.d / 2) ** 0.5            # K⁰(x, x) = 2‖x‖²/d = 1, and so every Kˡ(x, x)
    y = torch.randn(args.n, dtype=dtype, device=device, generator=generator)
    lam = 1e-3

    def nngp() -> torch.Tensor:
        K = (kernels.nngp_deep(X, depth=args.depth, phi=args.phi) if args.depth else
             kernels.nngp_gram(X, phi=args.phi, normalize=True))
        return kernels.kernel_solve(K, y, lam=lam)

    def floor() -> torch.Tensor:
        K = X @ X.T
        K.diagonal().add_(lam)
        return torch.cholesky_solve(y[:, None], torch.linalg.cholesky(K))[:, 0]

    t_nngp, t_floor = (env.seconds_per_call(run, repeats=args.repeat) for run in (nngp, floor))
    kind = f"depth-{args.depth} " if args.depth else ""
    print(f"n = {args.n}, d = {args.d}, {kind}{args.phi}, {args.dtype}, {device}: "
          f"NNGP Gram + solve {t_nngp:.3f} s, GEMM + Cholesky {t_floor:.3f} s, "
          f"ratio {t_nngp / t_floor:.2f}")


if __name__ == "__main__":
    main()
