"""Screenshots of a real build of the sample site, for the README and the docs.

Copies the sample site (config.toml, content/, templates/) into a temporary folder,
runs the real `publisher` command there with a fixed --now (`build`, then
`digest --preview`), and has Debian's headless Chromium, driven by Playwright (which
never downloads a browser), photograph public/index.html and the digest preview.
Requests that would leave the machine are refused, and images are answered with a grey
placeholder, so the pictures never depend on the network.

    .venv/bin/python scripts/screenshots.py            # writes docs/images/{index,digest}.png
    .venv/bin/python scripts/screenshots.py --out DIR  # somewhere else
    .venv/bin/python scripts/screenshots.py --site DIR # another site than the sample

Needs the test extra (Playwright): `make .venv/.installed-stamp`, or `make test` once.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, Route, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOW = "2024-06-20T09:00:00+09:00"
"""A fixed moment, so the dates in the pictures do not change from run to run."""
WIDTH = 900
MAX_HEIGHT = {"index.png": 1100, "digest.png": 1060}
"""The top of each page is the picture; the rest is more of the same."""
MAX_BYTES = 300_000
PLACEHOLDER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630">'
    '<rect width="100%" height="100%" fill="#d9dde3"/></svg>'
)


def publisher_command() -> str:
    beside_python = Path(sys.executable).parent / "publisher"
    found = str(beside_python) if beside_python.exists() else shutil.which("publisher")
    if not found:
        sys.exit("error: no `publisher` command; run `make run` first")
    return found


def build_sample(sample: Path, site: Path) -> tuple[Path, Path]:
    """The `sample` site (config.toml, content/ and any templates/) built into `site`;
    returns index.html and the digest preview."""
    shutil.copy(sample / "config.toml", site / "config.toml")
    for folder in ("content", "templates"):
        if (sample / folder).is_dir():
            shutil.copytree(sample / folder, site / folder)
    command = [publisher_command(), "--config", str(site / "config.toml"), "--now", NOW, "-q"]
    for arguments in (["build"], ["digest", "--preview"]):
        done = subprocess.run([*command, *arguments], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(
                f"error: publisher {' '.join(arguments)} exited {done.returncode}:\n{done.stderr}"
            )
    index = site / "public" / "index.html"
    preview = site / "outbox" / "preview" / "preview.html"
    for page in (index, preview):
        if not page.is_file():
            sys.exit(f"error: {page.relative_to(site)} was not written")
    return index, preview


def stay_on_this_machine(route: Route) -> None:
    url = route.request.url
    if url.startswith(("file:", "data:")):
        route.continue_()
    elif route.request.resource_type == "image":
        route.fulfill(status=200, content_type="image/svg+xml", body=PLACEHOLDER)
    else:
        route.abort()


def photograph(page: Page, source: Path, target: Path) -> None:
    page.goto(source.as_uri(), wait_until="load")
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    clip_height = min(height, MAX_HEIGHT[target.name])
    page.screenshot(
        path=str(target),
        full_page=True,
        clip={"x": 0, "y": 0, "width": WIDTH, "height": clip_height},
    )
    size = target.stat().st_size
    print(f"{target}: {WIDTH}x{clip_height}, {size / 1000:.0f} KB")
    if size > MAX_BYTES:
        sys.exit(f"error: {target} is {size} bytes, over the {MAX_BYTES} budget")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "images", help="folder for the PNG files"
    )
    parser.add_argument(
        "--site",
        type=Path,
        default=ROOT,
        help="the site to photograph: a folder with config.toml and content/ "
        "(default: the repository's sample)",
    )
    arguments = parser.parse_args()
    out: Path = arguments.out
    if not CHROMIUM.exists():
        sys.exit(f"error: {CHROMIUM} is missing; apt-get install -y chromium fonts-nanum")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="publisher-screenshots-") as folder:
        index, preview = build_sample(arguments.site, Path(folder))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                context = browser.new_context(
                    viewport={"width": WIDTH, "height": 800},
                    device_scale_factor=1,
                    locale="ko-KR",
                )
                page = context.new_page()
                page.route("**/*", stay_on_this_machine)
                photograph(page, index, out / "index.png")
                photograph(page, preview, out / "digest.png")
            finally:
                browser.close()


if __name__ == "__main__":
    main()
