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
from publisher.state.folder import make_state_folder
from publisher.state.store import Store, open_store, reading

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
    valid_until: tuple[datetime, ...] = ()
    """When each of `previous` stops verifying."""

    @property
    def ring(self) -> list[bytes]:
        """For itsdangerous: every key verifies, the last one signs."""
        return [*self.previous, self.current]

    def ring_at(self, now: datetime) -> list[bytes]:
        """The ring as it stands at `now`: a replaced key is gone once its grace is over."""
        pairs = zip(self.previous, self.valid_until, strict=True)
        return [*(key for key, until in pairs if until > now), self.current]

    @property
    def expires(self) -> datetime | None:
        """When the next replaced key retires, if any does."""
        return min(self.valid_until, default=None)


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


@dataclass(frozen=True)
class _Candidates:
    current: bytes | None
    others: list[bytes]
    """Possible previous secrets (and, in the file, one staged by a rotation)."""
    source: str
    """Where the current one comes from."""


def _candidates(config: Config, expected: str | None) -> _Candidates:
    name = config.digest.secret_env
    path = secret_file(config)
    lines = _file_lines(path)
    if value := os.environ.get(name, ""):
        previous = os.environ.get(name + PREVIOUS_SUFFIX, "")
        return _Candidates(
            value.encode("utf-8"), [previous.encode("utf-8")] * bool(previous) + lines, f"${name}"
        )
    # The recorded secret is first, except after a rotation that stopped between recording
    # a new secret and writing the file in its final order (see rotate_secret).
    recorded = next((line for line in lines if fingerprint(line) == expected), None)
    if recorded is not None:
        return _Candidates(recorded, [line for line in lines if line != recorded], str(path))
    return _Candidates(lines[0] if lines else None, lines[1:], str(path))


def _mismatch(config: Config, source: str, expected: str, found: str | None) -> StateError:
    what = f"{source} does not exist" if found is None else f"the secret in {source} is not it"
    return StateError(
        f"the token-signing secret this list's unsubscribe links were signed with "
        f"(fingerprint {expected}) is missing: {what}",
        hint=f"restore {secret_file(config)} from a backup of the state folder, or set "
        f"${config.digest.secret_env} to that secret; only if it is lost for good, "
        "`publisher secret rotate --lost` starts over (links already mailed stop working)",
    )


def _write_secret_file(path: Path, lines: list[bytes]) -> None:
    make_state_folder(path.parent)
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(b"".join(line + b"\n" for line in lines))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _generate(config: Config) -> bytes:
    path = secret_file(config)
    make_state_folder(path.parent)
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
    with open_store(config.state_db) as store:
        expected = store.current_key_fingerprint()
        found = _candidates(config, expected)
        current = found.current
        if expected is None:
            current = current or _generate(config)
            store.adopt_key(fingerprint(current), moment, retire_until=None)
        elif current is None or fingerprint(current) != expected:
            raise _mismatch(config, found.source, expected, None if current is None else "x")
        valid = {
            key.fingerprint: key.valid_until
            for key in store.key_fingerprints()
            if key.valid_until is not None and key.valid_until > moment
        }
    previous = [key for key in found.others if fingerprint(key) in valid]
    until = tuple(valid[fingerprint(key)] for key in previous)
    return SigningKeys(current, tuple(previous), found.source, until)


def check_signing_secret(config: Config) -> None:
    """Raise what `signing_keys` would about the secret, reading only: no secret is made
    and nothing is recorded (a list that never signed a link has nothing to check)."""
    with reading(config.state_db) as store:
        expected = store.current_key_fingerprint() if store is not None else None
    if expected is None:
        return
    found = _candidates(config, expected)
    if found.current is None or fingerprint(found.current) != expected:
        raise _mismatch(config, found.source, expected, None if found.current is None else "x")


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
    """Replace the signing secret; the old one keeps verifying links for `grace`.

    Safe to stop at any point: the new secret is first added to the end of the file (where
    nothing reads it yet), then recorded in the state database, then moved to the front.
    A command run after a stop in between finds the recorded secret wherever it is in the
    file, and rotating again starts from there."""
    with open_store(config.state_db) as store:
        expected = store.current_key_fingerprint() or ""
        found = _candidates(config, expected or None)
        if config.digest.secret_env in os.environ:
            return _adopt_from_environment(config, store, now, grace, found)
        current = found.current
        if expected and (current is None or fingerprint(current) != expected) and not lost:
            raise _mismatch(config, found.source, expected, None if current is None else "x")
        path = secret_file(config)
        still_valid = {
            key.fingerprint: key.valid_until
            for key in store.key_fingerprints()
            if key.valid_until is not None and key.valid_until > now
        }
        new = secrets.token_urlsafe(48).encode("utf-8")
        keep = [key for key in found.others if fingerprint(key) in still_valid]
        keep = [current, *keep] if current is not None and not lost else []
        _write_secret_file(path, [*_file_lines(path), new])  # staged: nothing reads it yet
        store.adopt_key(fingerprint(new), now, retire_until=now + grace if keep else now)
        _write_secret_file(path, [new, *keep])
    return Rotation(expected, fingerprint(new), now + grace, found.source)


def _adopt_from_environment(
    config: Config, store: Store, now: datetime, grace: timedelta, found: _Candidates
) -> Rotation:
    name = config.digest.secret_env
    expected = store.current_key_fingerprint() or ""
    current = found.current
    assert current is not None
    if fingerprint(current) == expected:
        raise ConfigError(
            f"${name} still holds the current secret",
            hint=f"put a new secret in ${name} and the old one in ${name}{PREVIOUS_SUFFIX}, "
            "then run `publisher secret rotate` again",
        )
    if expected and not any(fingerprint(key) == expected for key in found.others):
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
