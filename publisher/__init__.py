"""publisher: feeds and email digests from a folder of posts."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("publisher")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
