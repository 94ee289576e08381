"""The answer keys of the book's exercises, one module per chapter (``ch19`` for chapter 19).

Each key is registered with :func:`dlmath.check.key` under the exercise's label and is called by
:func:`dlmath.check.exercise`. A key derives the expected answer itself (a closed form, autograd,
a reference implementation) from the exercise's data, compares with the functions of
:mod:`dlmath.check`, and names the likely mistake when the answer is wrong.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
