"""What the Markdown renderers make survives the syndication pass into the feeds we write:
heading ids, footnote ids and their links, a code block's language, task list checkboxes
(as ☑ and ☐ text); an author's own classes do not (docs/jekyll.md, docs/hugo.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import cli
from tests.conftest import NOW
from tests.hugo_peer import FIXTURES as HUGO_FIXTURES
from tests.jekyll_peer import FIXTURES as JEKYLL_FIXTURES

BODY = """\
## A Heading

Text with a note[^1].

- [x] done
- [ ] to do

```python
print("hi")
```

[^1]: The note.
"""
CLASSES = {"jekyll": "A paragraph.\n{: .theme-only}\n", "hugo": "## Styled {.theme-only}\n"}


def emitted(tmp_path: Path, kind: str) -> tuple[str, str]:
    """The built post's content as written in feed.json, and the Atom feed's bytes."""
    site = tmp_path / "site"
    if kind == "jekyll":
        shutil.copytree(JEKYLL_FIXTURES / "kitchen", site)
        post = site / "_posts" / "2022-02-03-markup.md"
        post.write_text(f"---\ntitle: Markup\n---\n{BODY}\n{CLASSES[kind]}", encoding="utf-8")
        feed = "atom.xml"
    else:
        shutil.copytree(HUGO_FIXTURES / "blog", site)
        post = site / "content" / "posts" / "markup.md"
        post.write_text(
            f"---\ntitle: Markup\ndate: 2024-06-01\n---\n{BODY}\n{CLASSES[kind]}",
            encoding="utf-8",
        )
        feed = "feed.atom"
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\nkind = "{kind}"\npath = "site"\n', encoding="utf-8")
    done = CliRunner().invoke(cli, ["--config", str(config), "--now", NOW.isoformat(), "build"])
    assert done.exit_code == 0, done.output
    items = json.loads((tmp_path / "public" / "feed.json").read_text(encoding="utf-8"))["items"]
    content = next(item["content_html"] for item in items if item["title"] == "Markup")
    return content, (tmp_path / "public" / feed).read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["jekyll", "hugo"])
def test_ids_footnotes_code_languages_and_checkboxes_reach_the_feed(
    tmp_path: Path, kind: str
) -> None:
    content, atom = emitted(tmp_path, kind)
    assert '<h2 id="a-heading">A Heading</h2>' in content
    assert 'id="fnref:1"' in content and 'id="fn:1"' in content
    assert '#fn:1"' in content and '#fnref:1"' in content  # links to the note and back
    assert '<code class="language-python">' in content
    assert "<li>\u2611 done</li>" in content and "<li>\u2610 to do</li>" in content
    assert "<input" not in content and "checkbox" not in content
    assert "theme-only" not in content  # the site's theme classes stay with the site
    assert 'id="a-heading"' in atom and "\u2611 done" in atom
