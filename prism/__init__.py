__version__ = "0.1.0"
# The distribution that installs this package (settings.ini `dist_name`): `pip install prism-har`.
# `prism` on PyPI is an unrelated project that also provides a module `prism`; never install both.
__distribution__ = "prism-har"
