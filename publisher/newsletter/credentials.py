"""Secrets, read from the environment variables that config.toml names."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from publisher.core.config import Config
from publisher.core.errors import ConfigError, StateError

GENERATED_SECRET_FILE = "secret.key"  # noqa: S105 (a file name, not a secret)


def signing_secret(config: Config) -> bytes:
    """The token-signing secret: from the named variable, else generated once into state/."""
    name = config.digest.secret_env
    if value := os.environ.get(name, ""):
        return value.encode("utf-8")
    path = config.paths.state / GENERATED_SECRET_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _read_secret(path)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    value = path.read_text().strip()
    if not value:
        raise StateError(f"{path} is empty", hint="delete it to have a new one made")
    return value.encode("utf-8")


def smtp_password(config: Config) -> str | None:
    name = config.smtp.password_env
    if not config.smtp.username:
        return None
    if not name or name not in os.environ:
        raise ConfigError(
            f"[smtp] username is set but the password variable {name or '(none)'} is not",
            hint=f"export {name or 'PUBLISHER_SMTP_PASSWORD'}=… and set [smtp] password_env",
        )
    return os.environ[name]
