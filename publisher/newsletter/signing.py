"""DKIM signatures over the exact bytes sent: the only importer of dkimpy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

from publisher.core.config import Config
from publisher.core.errors import ConfigError

SIGNED_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
)
"""Each is listed twice ("oversigned"): a copy added in transit, or one added where the
message had none (Reply-To), breaks the signature instead of going unnoticed."""

MIN_KEY_BITS = 1024
_KEY_HINT = (
    "generate one with `openssl genrsa -out dkim.pem 2048`, publish its public key as "
    "<selector>._domainkey.<domain> TXT, and set [digest] dkim_key_file to it"
)


def dkim_sign(message: bytes, *, selector: str, domain: str, private_key: bytes) -> bytes:
    """`message` with a DKIM-Signature header (relaxed/relaxed, rsa-sha256) in front."""
    try:
        signature = dkim.sign(
            message,
            selector.encode("ascii"),
            domain.encode("idna"),
            private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[name.encode("ascii") for name in SIGNED_HEADERS * 2],
        )
    except (dkim.DKIMException, UnicodeError) as e:
        raise ConfigError(
            f"DKIM signing failed for selector {selector!r} of {domain!r}: {e}",
            hint="check [digest] dkim_selector, dkim_domain and dkim_key_file",
        ) from e
    return bytes(signature) + message


def load_dkim_key(path: Path) -> bytes:
    """The PEM RSA private key at `path`, checked now so a bad key fails before any send."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"DKIM key file {path} does not exist", hint=_KEY_HINT) from None
    except OSError as e:
        raise ConfigError(
            f"cannot read DKIM key file {path}: {e.strerror}",
            hint="the user running publisher needs read permission on it (mode 0600 is fine)",
        ) from e
    data = data.replace(b"\r\n", b"\n")
    if b"ENCRYPTED" in data:
        raise ConfigError(
            f"DKIM key file {path} is encrypted",
            hint=f"store it unencrypted (mode 0600): openssl pkey -in {path.name} -out dkim.pem",
        )
    try:
        key = parse_pem_private_key(data)
    except (UnparsableKeyError, ValueError, IndexError, TypeError) as e:
        raise ConfigError(
            f"DKIM key file {path} is not a PEM RSA private key ({e})".replace("\n", " "),
            hint=_KEY_HINT,
        ) from e
    bits = int(key["modulus"]).bit_length()
    if bits < MIN_KEY_BITS:
        raise ConfigError(
            f"DKIM key in {path} has {bits} bits; receivers ignore keys under {MIN_KEY_BITS}",
            hint=_KEY_HINT,
        )
    return data


@dataclass(frozen=True)
class DkimSigner:
    """[digest] DKIM settings with the key loaded and checked once."""

    selector: str
    domain: str
    key: bytes

    def sign(self, message: bytes) -> bytes:
        return dkim_sign(message, selector=self.selector, domain=self.domain, private_key=self.key)


def dkim_signer(config: Config, sender_domain: str) -> DkimSigner | None:
    """The signer [digest] asks for (None when dkim_selector is not set): the one place
    the key is loaded, for digests and confirmation emails alike."""
    settings = config.digest
    if not settings.dkim_selector:
        return None
    if not settings.dkim_key_file:
        raise ConfigError(
            "[digest] dkim_selector is set but dkim_key_file is not",
            hint="set dkim_key_file to the PEM private key, or remove dkim_selector",
        )
    key = load_dkim_key(config.file.parent / settings.dkim_key_file)
    return DkimSigner(settings.dkim_selector, settings.dkim_domain or sender_domain, key)
