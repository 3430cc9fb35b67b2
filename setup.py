"""Packaging detail that pyproject.toml cannot say: the top-level ``configs/`` ships inside the package.

Users edit and read the configs at the top of the repository; a wheel carries the same files as the
package data ``gan_lab/configs/`` (found by :mod:`gan_lab.cli.config_paths`), so an installed gan_lab trains
from any folder.  Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["gan_lab", "gan_lab.*"], exclude=["*.weights"]), "gan_lab.configs"],
    package_dir={"gan_lab.configs": "configs"},
)
