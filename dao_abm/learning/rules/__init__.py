"""The learning rules shipped with dao-abm, one module each; every module in this package is
imported here, so a rule registers itself by being a file in this folder."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
