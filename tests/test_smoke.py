from pathlib import Path

from publisher.build.pipeline import build
from publisher.core.config import Config
from tests.conftest import NOW


def test_sample_site_builds_five_posts(config: Config, site_dir: Path) -> None:
    report = build(config, NOW)
    assert len(report.site.posts) == 5
    assert (site_dir / "public" / "feed.atom").is_file()
