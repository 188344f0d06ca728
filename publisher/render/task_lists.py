"""GFM task lists (`- [x] done`), read the one way for kramdown (Jekyll) and Goldmark
(Hugo); each renders the checkbox as its generator writes it. (The syndication pass then
writes a checkbox as ☑ or ☐: a form control has no place in a feed or an email.)"""

from __future__ import annotations

import re

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

TASK = re.compile(r"^\[([ xX])\](?=\s)")
CHECKBOX = "task_checkbox"


def task_lists(state: StateCore) -> None:
    """A list item starting `[ ]` or `[x]` gets a `task_checkbox` token (meta "checked")
    in place of that text; its list item token gets meta "task"."""
    tokens = state.tokens
    for index in range(len(tokens) - 2):
        if tokens[index].type != "list_item_open":
            continue
        inline = tokens[index + 2]
        if inline.type != "inline" or not inline.children or inline.children[0].type != "text":
            continue
        first = inline.children[0]
        found = TASK.match(first.content)
        if found is None:
            continue
        first.content = first.content[found.end() :]
        checkbox = Token(CHECKBOX, "input", 0)
        checkbox.meta = {"checked": found.group(1) in "xX"}
        inline.children.insert(0, checkbox)
        tokens[index].meta["task"] = True
