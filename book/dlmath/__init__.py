"""dlmath: the helper package of the book *Mathematical Foundations of Deep Learning*.

Each module is named by topic:

- :mod:`dlmath.env`           device selection, seeding, threads, Colab detection
- :mod:`dlmath.plot`          one figure style for the whole book
- :mod:`dlmath.symbolic`      sympy helpers: derivatives of scalar functions of vectors and
  matrices
- :mod:`dlmath.numeric`       finite differences and error measures for the numerical checks
- :mod:`dlmath.check`         exercise checkers that say right or wrong, and why
- :mod:`dlmath.answers`       the answer keys of the exercises, by label, one module per chapter
- :mod:`dlmath.data`          MNIST, CIFAR-10 and photographs as device tensors, with offline
  stand-ins
- :mod:`dlmath.optim`         gradient descent on quadratics, vectorised; rates and step sizes
- :mod:`dlmath.momentum`      momentum as 2×2 systems: matrices, spectral radii, stability
- :mod:`dlmath.operators`     matrix-free linear operators (1-D convolution), Huber loss, power
  iteration
- :mod:`dlmath.ridge`         ridge in primal, kernel and augmented form; GD on noisy inputs
- :mod:`dlmath.least_squares` over-parameterised least squares: minimum-norm interpolant,
  gradient flow, the span of the data
- :mod:`dlmath.landscape`     the top-eigenvector objective and its stationary points
- :mod:`dlmath.train`         minibatch training on device tensors, confusion matrices, image
  grids
- :mod:`dlmath.nets`          small networks, stacks of them trained at once, initialisation
  schemes, per-layer second moments
- :mod:`dlmath.features`      the parameter Jacobian on a grid and its principal features
- :mod:`dlmath.kernels`       dual activations, NNGP and NTK Gram matrices, kernel regression

Notebooks import the modules they use, e.g. ``from dlmath import check, env, plot``.
"""

import warnings

__version__ = "0.1.0"

# torch's forward-mode AD (used by torch.func.hessian) scripts some of its own functions on
# first use and warns that torch.jit.script is deprecated. The warning is about torch's
# internals, not the reader's code, so it is not shown.
warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated",
                        category=FutureWarning)
