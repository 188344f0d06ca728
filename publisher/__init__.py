"""publisher: feeds and email digests from a folder of posts."""

from typing import Any


def __getattr__(name: str) -> Any:
    # Read lazily: importlib.metadata costs more than the rest of `publisher --help`.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("publisher")
        except PackageNotFoundError:  # a source tree without installation
            return "0.0.0"
    raise AttributeError(name)
