"""What the command line promises scripts and people: option conflicts are usage errors
(exit 2) that change nothing."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import cli
from publisher.core.errors import ExitCode
from tests.conftest import NOW

DIGEST_CHOICES = {
    "--preview": ["--preview"],
    "--to": ["--to", "someone@example.org"],
    "--mark-sent": ["--mark-sent"],
    "--resend-ambiguous": ["--resend-ambiguous"],
}


def _digest(site_dir: Path, *arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["--config", str(site_dir / "config.toml"), "--now", NOW.isoformat(), "digest", *arguments],
        prog_name="publisher",
    )
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "pair", list(itertools.combinations(DIGEST_CHOICES, 2)), ids=lambda pair: "+".join(pair)
)
def test_digest_choices_cannot_be_combined(site_dir: Path, pair: tuple[str, str]) -> None:
    first, second = pair
    code, output = _digest(site_dir, *DIGEST_CHOICES[first], *DIGEST_CHOICES[second])
    assert code == ExitCode.USAGE, output
    assert f"{first} and {second} cannot be used together" in output
    assert not (site_dir / "state").exists() and not (site_dir / "outbox").exists()


def test_all_four_digest_choices_are_refused_by_name(site_dir: Path) -> None:
    code, output = _digest(site_dir, *itertools.chain(*DIGEST_CHOICES.values()))
    assert code == ExitCode.USAGE
    assert "--preview and --to and --mark-sent and --resend-ambiguous cannot" in output


def test_a_digest_choice_does_not_apply_to_digest_status(site_dir: Path) -> None:
    code, output = _digest(site_dir, "--mark-sent", "status")
    assert code == ExitCode.USAGE
    assert "--mark-sent does not apply to `digest status`" in output
    assert not (site_dir / "state").exists()


def test_one_digest_choice_alone_still_works(site_dir: Path) -> None:
    code, output = _digest(site_dir, "--preview")
    assert code == 0, output
    assert (site_dir / "outbox" / "preview" / "preview.html").is_file()
