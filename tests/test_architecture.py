"""docs/architecture.md stays true to the code: the layout it lists is the package's, the
registries it names exist, and its worked example (a new output format in one module and
one registry line) works as written, with everything it promises comes with it."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import html

from publisher.build.pipeline import build
from publisher.outputs import FEED_FORMATS, FeedFormat
from publisher.site_config import load_config
from tests.conftest import NOW, ROOT
from tests.test_content import make_site, post

PAGE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
EXAMPLE = PAGE.split("## Worked example: adding an output format", 1)[1]


def test_every_package_folder_is_in_the_layout_table() -> None:
    layout = PAGE.split("## The layout", 1)[1].split("\n## ", 1)[0]
    folders = sorted(
        folder.relative_to(ROOT).as_posix()
        for folder in (ROOT / "publisher").iterdir()
        if folder.is_dir() and any(folder.glob("*.py"))
    )
    assert folders, "no package folders found"
    for folder in folders:
        assert f"`{folder}/`" in layout, f"{folder}/ is not in the layout table"


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("FEED_FORMATS", "publisher.outputs"),
        ("SOURCES", "publisher.sources"),
        ("READERS", "publisher.render.readers"),
        ("SCAFFOLDS", "publisher.scaffold"),
    ],
)
def test_each_registry_the_page_names_is_where_it_says(name: str, module: str) -> None:
    path = module.replace(".", "/")
    assert f"`{name}`" in PAGE and (f"`{path}/__init__.py`" in PAGE or f"`{path}.py`" in PAGE)
    assert getattr(importlib.import_module(module), name)


def _example_module() -> str:
    part = EXAMPLE.split("**1. The module**", 1)[1]
    assert "`publisher/outputs/twtxt.py`" in part.split("```", 1)[0]
    return part.split("```python\n", 1)[1].split("```", 1)[0]


def _example_registry_line() -> FeedFormat:
    part = EXAMPLE.split("**2. The registry line**", 1)[1].split("```diff\n", 1)[1]
    (added,) = [
        line[1:].strip() for line in part.split("```", 1)[0].splitlines() if line[:1] == "+"
    ]
    call = ast.parse(added.rstrip(","), mode="eval").body
    assert isinstance(call, ast.Call) and ast.unparse(call.func) == "FeedFormat"
    return FeedFormat(*(ast.literal_eval(argument) for argument in call.args))


@pytest.fixture
def twtxt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedFormat]:
    """The page's module, saved where the page says, and its one registry line."""
    entry = _example_registry_line()
    source = tmp_path / "twtxt.py"
    source.write_text(_example_module(), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(entry.module, source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, entry.module, module)
    spec.loader.exec_module(module)
    monkeypatch.setitem(FEED_FORMATS, entry.name, entry)
    yield entry


def test_the_worked_example_adds_a_format_with_one_module_and_one_line(
    tmp_path: Path, twtxt: FeedFormat
) -> None:
    site = tmp_path / "site"
    posts = {
        "a.md": post(json.dumps("Tab\there,\nnew line"), date="2024-06-01", categories="[News]"),
        "b.md": post("Second", date="2024-06-02"),
    }
    config = make_site(site, posts, feeds={"formats": ["atom", "rss", "json", "twtxt"]})
    assert config.feeds.formats[-1] == "twtxt"  # [feeds] formats accepts the new name

    build(config, NOW)

    lines = (site / "public" / "feed.twtxt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("2024-06-02T00:00:00+09:00\tSecond https://")
    assert lines[1].split("\t")[1].startswith("Tab here, new line https://")
    assert (site / "public" / "categories" / "news" / "feed.twtxt").is_file()
    page = html.fromstring((site / "public" / "index.html").read_bytes())
    links = page.xpath('//link[@rel="alternate"][@type="text/plain"]/@href')
    assert any(link.endswith("/feed.twtxt") for link in links)

    # Dropped from formats, its files go (through the output manifest).
    text = (site / "config.toml").read_text(encoding="utf-8")
    (site / "config.toml").write_text(text.replace(', "twtxt"]', "]"), encoding="utf-8")
    build(load_config(site / "config.toml"), NOW)
    assert not list((site / "public").rglob("*.twtxt"))


def test_an_unregistered_format_is_still_an_error_listing_the_choices(tmp_path: Path) -> None:
    from publisher.core.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        make_site(tmp_path, {}, feeds={"formats": ["atom", "twtxt"]})
    assert re.search(
        r"unknown format 'twtxt'; choose from atom, rss, json", str(caught.value.problems)
    )


LAYERS = {
    "render": ("publisher.sources", "publisher.newsletter", "publisher.outputs", "publisher.build"),
    "sources": ("publisher.newsletter", "publisher.outputs", "publisher.build", "publisher.cli"),
    "state": tuple(
        f"publisher.{name}" for name in ("sources", "render", "newsletter", "outputs", "build")
    ),
}
"""Folder → what nothing in it may import (at the top or inside a function)."""


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_nothing_imports_upward(layer: str) -> None:
    files = sorted((ROOT / "publisher" / layer).rglob("*.py"))
    assert files
    upward = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in _imports(path)
        if name.startswith(LAYERS[layer])
    ]
    assert upward == []


CORE_MAY_CONSULT = {"publisher.sources": {"SOURCES"}, "publisher.outputs": {"FEED_FORMATS"}}
"""What core may import of ours (inside a check, when it runs): the two registries."""


def _imports_of_ours(folder: str) -> Iterator[tuple[str, ast.ImportFrom | ast.Import, bool]]:
    """(where, node, at module level) of every import of a publisher module in `folder`."""
    for path in sorted((ROOT / "publisher" / folder).glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = set(map(id, tree.body))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            if any(module.startswith("publisher") for module in modules):
                yield f"{folder}/{path.name}:{node.lineno}", node, id(node) in top


def test_core_imports_nothing_of_ours_but_the_registries_it_consults_when_checking() -> None:
    for where, node, top_level in _imports_of_ours("core"):
        assert isinstance(node, ast.ImportFrom), where
        module = node.module or ""
        if module.startswith("publisher.core"):
            continue
        names = {alias.name for alias in node.names}
        assert module in CORE_MAY_CONSULT and names <= CORE_MAY_CONSULT[module], where
        assert not top_level, where


def test_state_imports_only_core_and_sources_and_render_never_newsletter() -> None:
    for where, node, _ in _imports_of_ours("state"):
        module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        assert (module or "").startswith(("publisher.core", "publisher.state")), where
    for folder in ("sources", "sources/jekyll", "sources/hugo", "render"):
        for where, node, _ in _imports_of_ours(folder):
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            assert not (module or "").startswith("publisher.newsletter"), where
