"""dlmath: the helper package of the book *Mathematical Foundations of Deep Learning*.

Each module is named by topic:

- :mod:`dlmath.env`       device selection, seeding, Colab detection
- :mod:`dlmath.plot`      one figure style for the whole book
- :mod:`dlmath.symbolic`  sympy helpers: derivatives of scalar functions of vectors and matrices
- :mod:`dlmath.numeric`   finite differences and error measures for the numerical checks
- :mod:`dlmath.optim`     gradient descent on quadratics, vectorised; rates and step sizes
- :mod:`dlmath.momentum`  momentum as 2×2 systems: matrices, spectral radii, stability
- :mod:`dlmath.data`      MNIST, CIFAR-10 and photographs as device tensors, with offline stand-ins
- :mod:`dlmath.operators` matrix-free linear operators (1-D convolution), Huber loss, power
  iteration
- :mod:`dlmath.ridge`     ridge in primal, kernel and augmented form; gradient descent on noisy inputs
- :mod:`dlmath.check`     exercise checkers that say right or wrong, and why
- :mod:`dlmath.chapters`  the chapters as files: bootstrap cell, parameter profiles, runner

Notebooks import the modules they use, e.g. ``from dlmath import check, env, plot``.
"""

import warnings

__version__ = "0.1.0"

# torch's forward-mode AD (used by torch.func.hessian) scripts some of its own functions on
# first use and warns that torch.jit.script is deprecated. The warning is about torch's
# internals, not the reader's code, so it is not shown.
warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated",
                        category=FutureWarning)
