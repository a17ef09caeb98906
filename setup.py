"""Only the C extension; everything else about the package is in pyproject.toml.

``lossbook.losses._fused`` (lossbook/losses/_fused.c) sums the Huber loss in one pass over
the data (issue 13). It is optional: where the build fails (no C compiler), pip installs the
course without it and lossbook sums with numpy (slower, same results within rounding).
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("lossbook.losses._fused", ["lossbook/losses/_fused.c"],
                             optional=True)])
