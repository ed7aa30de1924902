"""The wheel's tag. Everything else is in pyproject.toml.

A wheel that carries libsotto (sotto/libsotto.so.1, put there by build_wheel.py --library) is
tagged for this platform (py3-none-linux_<arch>: ctypes, no CPython extension); one without it
is pure (py3-none-any) and loads an installed libsotto.
"""
import os
import sysconfig

from setuptools import setup
from setuptools.dist import Distribution

_HERE = os.path.dirname(os.path.abspath(__file__))
_BUNDLED = os.path.exists(os.path.join(_HERE, "sotto", "libsotto.so.1"))

cmdclass = {}
try:
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel

    class bdist_wheel(_bdist_wheel):
        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = not _BUNDLED

        def get_tag(self):
            if not _BUNDLED:
                return super().get_tag()
            plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = bdist_wheel
except ImportError:  # no wheel package: only sdist/develop-style commands are available
    pass


class _Distribution(Distribution):
    def has_ext_modules(self):
        return _BUNDLED


setup(cmdclass=cmdclass, distclass=_Distribution)
