"""Build script: the package, with the repository's top-level ``data/`` folder inside it as ``coverage/data``.

The project keeps its data (speed profiles, planning standards, the road-class
table, the seed-region boundaries and the default region) in ``data/`` at the top
of the repository, where planners find and edit it. A wheel carries that folder
as ``coverage/data``: it is mapped into the package here, at build time, never
copied in the repository. ``coverage._config.DATA_DIR`` finds it in either place.
Everything else is configured in ``pyproject.toml``.
"""

from setuptools import find_namespace_packages, setup

#: The package's folders, code and data alike (``outputs/static`` holds the vendored Leaflet, ``webapp/static`` the page's files).
PACKAGES = find_namespace_packages(include=["coverage", "coverage.*"], exclude=["*.__pycache__"])
#: The data folders, as sub-packages of ``coverage.data`` (so each is mapped into the wheel).
DATA_PACKAGES = ["coverage.data", *(f"coverage.data.{name}" for name in find_namespace_packages(where="data"))]
#: Folders that hold files rather than modules (the maps' Leaflet, the what-if page's script and style).
FILE_PACKAGES = [name for name in PACKAGES if name.startswith(("coverage.outputs.static", "coverage.webapp.static"))]

setup(
    packages=[*PACKAGES, *DATA_PACKAGES],
    package_dir={"coverage.data": "data"},
    package_data={
        "coverage": ["py.typed", "README.md"],
        **{name: ["*"] for name in [*FILE_PACKAGES, *DATA_PACKAGES]},
    },
)
