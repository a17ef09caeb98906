"""Only the C extension; everything else about the package is in pyproject.toml.

``lossbook.losses._fused`` (lossbook/losses/_fused.c) sums the Huber and hinge losses in one
pass over the data, and computes the losses with exp/log (the cross-entropies, focal,
log-cosh, Barron) with glibc's vector exp/log where the processor has AVX2 (issue 13).
It needs no library beyond libc/libm (libmvec is looked up with dlopen at import). It is
optional: where the build fails (no C compiler), pip installs the course without it and
lossbook computes the same losses with numpy (slower, same results within rounding).
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("lossbook.losses._fused", ["lossbook/losses/_fused.c"],
                             optional=True)])
