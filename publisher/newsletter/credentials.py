"""Secrets: the SMTP password and the token-signing secret, from the environment variables
config.toml names, or (the signing secret only) generated once into state/secret.key.

Every unsubscribe link already mailed was signed with the signing secret, so it is never
silently replaced: the state database keeps its fingerprint, and a missing or different
secret stops with an error. `publisher secret rotate` replaces it on purpose and keeps
the old one valid for links for a grace period.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from publisher.core.config import Config
from publisher.core.errors import ConfigError, StateError
from publisher.state.store import Store, open_store

GENERATED_SECRET_FILE = "secret.key"  # noqa: S105 (a file name, not a secret)
PREVIOUS_SUFFIX = "_PREVIOUS"
"""`PUBLISHER_SECRET_PREVIOUS`: the secret before a rotation, when secrets live in the
environment."""


def fingerprint(secret: bytes) -> str:
    return hashlib.sha256(b"publisher.signing-secret\0" + secret).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKeys:
    current: bytes
    previous: tuple[bytes, ...]
    """Replaced secrets still inside their grace period: they verify, never sign."""
    source: str

    @property
    def ring(self) -> list[bytes]:
        """For itsdangerous: every key verifies, the last one signs."""
        return [*self.previous, self.current]


def secret_file(config: Config) -> Path:
    return config.paths.state / GENERATED_SECRET_FILE


def _file_lines(path: Path) -> list[bytes]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    lines = [line.strip().encode("utf-8") for line in text.splitlines() if line.strip()]
    if not lines:
        raise StateError(f"{path} is empty", hint="restore it from a backup of the state folder")
    return lines


def _candidates(config: Config) -> tuple[bytes | None, list[bytes], str]:
    """(current secret if any, possible previous ones, where the current one comes from)."""
    name = config.digest.secret_env
    path = secret_file(config)
    lines = _file_lines(path)
    if value := os.environ.get(name, ""):
        previous = os.environ.get(name + PREVIOUS_SUFFIX, "")
        return (
            value.encode("utf-8"),
            [previous.encode("utf-8")] * bool(previous) + lines,
            f"${name}",
        )
    return (lines[0] if lines else None), lines[1:], str(path)


def _mismatch(config: Config, source: str, expected: str, found: str | None) -> StateError:
    what = f"{source} does not exist" if found is None else f"the secret in {source} is not it"
    return StateError(
        f"the token-signing secret this list's unsubscribe links were signed with "
        f"(fingerprint {expected}) is missing: {what}",
        hint=f"restore {secret_file(config)} from a backup of the state folder, or set "
        f"${config.digest.secret_env} to that secret; to replace it on purpose, "
        "run `publisher secret rotate`",
    )


def _write_secret_file(path: Path, lines: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(b"".join(line + b"\n" for line in lines))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _generate(config: Config) -> bytes:
    path = secret_file(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _file_lines(path)[0]
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return _file_lines(path)[0]


def signing_keys(config: Config, now: datetime | None = None) -> SigningKeys:
    """The checked signing secret and the replaced ones still valid; the first use records
    the secret's fingerprint (generating the secret when none is configured)."""
    moment = now or datetime.now(UTC)
    current, others, source = _candidates(config)
    with open_store(config.state_db) as store:
        expected = store.current_key_fingerprint()
        if expected is None:
            current = current or _generate(config)
            store.adopt_key(fingerprint(current), moment, retire_until=None)
        elif current is None or fingerprint(current) != expected:
            raise _mismatch(config, source, expected, None if current is None else "x")
        valid = {
            key.fingerprint
            for key in store.key_fingerprints()
            if key.valid_until is not None and key.valid_until > moment
        }
    previous = tuple(key for key in others if fingerprint(key) in valid)
    return SigningKeys(current, previous, source)


def signing_secret(config: Config) -> bytes:
    """The current signing secret, checked against the recorded fingerprint."""
    return signing_keys(config).current


@dataclass(frozen=True)
class Rotation:
    old: str
    new: str
    valid_until: datetime
    source: str


def rotate_secret(config: Config, now: datetime, grace: timedelta, *, lost: bool) -> Rotation:
    """Replace the signing secret; the old one keeps verifying links for `grace`."""
    current, others, source = _candidates(config)
    with open_store(config.state_db) as store:
        expected = store.current_key_fingerprint() or ""
        if config.digest.secret_env in os.environ:
            return _adopt_from_environment(config, store, now, grace, current, others)
        if expected and (current is None or fingerprint(current) != expected) and not lost:
            raise _mismatch(config, source, expected, None if current is None else "x")
        new = secrets.token_urlsafe(48).encode("utf-8")
        keep = [current] if current is not None and not lost else []
        _write_secret_file(secret_file(config), [new, *keep])
        store.adopt_key(fingerprint(new), now, retire_until=now + grace if keep else now)
    return Rotation(expected, fingerprint(new), now + grace, source)


def _adopt_from_environment(
    config: Config,
    store: Store,
    now: datetime,
    grace: timedelta,
    current: bytes | None,
    others: list[bytes],
) -> Rotation:
    name = config.digest.secret_env
    expected = store.current_key_fingerprint() or ""
    assert current is not None
    if fingerprint(current) == expected:
        raise ConfigError(
            f"${name} still holds the current secret",
            hint=f"put a new secret in ${name} and the old one in ${name}{PREVIOUS_SUFFIX}, "
            "then run `publisher secret rotate` again",
        )
    if expected and not any(fingerprint(key) == expected for key in others):
        raise ConfigError(
            f"${name}{PREVIOUS_SUFFIX} does not hold the current secret (fingerprint {expected})",
            hint=f"set ${name}{PREVIOUS_SUFFIX} to the secret ${name} held until now",
        )
    store.adopt_key(fingerprint(current), now, retire_until=now + grace)
    return Rotation(expected, fingerprint(current), now + grace, f"${name}")


def secret_backup_note(config: Config) -> str | None:
    """A warning when the signing secret lives only in the state folder."""
    if os.environ.get(config.digest.secret_env):
        return None
    return (
        f"the token-signing secret lives only in {secret_file(config)}: back it up with the "
        f"state folder (or keep it in ${config.digest.secret_env}); if it is lost, every "
        "unsubscribe link already mailed stops working"
    )


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


def imap_password(config: Config) -> str:
    name = config.bounces.imap_password_env
    if not name or name not in os.environ:
        raise ConfigError(
            f"[bounces] imap_host is set but the password variable {name or '(none)'} is not",
            hint=f"export {name or 'PUBLISHER_IMAP_PASSWORD'}=… and set [bounces] "
            "imap_password_env",
        )
    return os.environ[name]
