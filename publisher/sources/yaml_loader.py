"""Bounded YAML: every source's YAML (front matter, Jekyll and Hugo config) is read here.

PyYAML builds an anchored value once and shares it wherever an alias (`*name`)
points, so a few hundred bytes of nested anchors and aliases (an "alias bomb")
stand for billions of values, and anything that walks the result (copying it,
writing it out) runs out of memory. So a document is first composed into
nodes; its size with every alias followed, and its depth, are counted on the
nodes (each node once), and only a document within the limits is turned into
Python values. Each source keeps its own loader class (how it reads dates);
the limits are the same for all.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_YAML_CHARS = 1 << 20
"""Longest YAML document we parse (1 Mi characters): front matter or a config file."""
MAX_YAML_VALUES = 100_000
"""Most values (scalars, lists, mappings) a document may hold once aliases are followed."""
MAX_YAML_DEPTH = 64
"""Deepest nesting of lists and mappings."""


class YamlLimitError(yaml.MarkedYAMLError):
    """A document refused for its length, its size once aliases are followed, or its depth.

    A `yaml.YAMLError` with `problem` and `problem_mark`, so every caller's
    handling of YAML errors reports it with the line."""


def load_bounded(text: str, loader_class: Any) -> Any:
    """The one YAML document in `text`, read by `loader_class` (a PyYAML loader class);
    YamlLimitError when it is too long, too big once aliases are followed, or too deep."""
    if len(text) > MAX_YAML_CHARS:
        raise YamlLimitError(
            problem=f"is {len(text):,} characters long; the limit is {MAX_YAML_CHARS:,}"
        )
    loader = _depth_limited(loader_class)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _Measure().check(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


class _DepthLimitedComposer(Composer):
    """PyYAML's pure-Python composer recurses once per level of nesting: stop it at
    MAX_YAML_DEPTH, long before Python's recursion limit (libyaml's C composer stops
    at its own limit of 1,000 levels, and `_Measure` then at MAX_YAML_DEPTH)."""

    _yaml_depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._yaml_depth += 1
        try:
            if self._yaml_depth > MAX_YAML_DEPTH:
                raise YamlLimitError(
                    problem=f"is nested deeper than {MAX_YAML_DEPTH} levels",
                    problem_mark=self.peek_event().start_mark,  # type: ignore[attr-defined]
                )
            return super().compose_node(parent, index)
        finally:
            self._yaml_depth -= 1


@cache
def _depth_limited(loader_class: Any) -> Any:
    if not issubclass(loader_class, Composer):
        return loader_class  # the C loader composes in libyaml
    return type(f"DepthLimited{loader_class.__name__}", (_DepthLimitedComposer, loader_class), {})


class _Measure:
    """Counts a node tree's values and depth with aliases followed, each shared node once."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[int, int]] = {}
        """id(node) → (values, height) of a node already measured."""
        self.open: set[int] = set()
        """Nodes being measured: meeting one again means an alias inside its own anchor."""

    def check(self, root: Node) -> None:
        self.measure(root, 1)

    def measure(self, node: Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in self.known:
            values, height = self.known[key]
            self._check_depth(node, depth + height - 1)
            return values, height
        if key in self.open:
            raise YamlLimitError(
                problem="refers to itself through an alias (*name)", problem_mark=node.start_mark
            )
        self._check_depth(node, depth)
        self.open.add(key)
        values, height = 1, 1
        for child in _children(node):
            child_values, child_height = self.measure(child, depth + 1)
            values += child_values
            height = max(height, child_height + 1)
            if values > MAX_YAML_VALUES:
                raise YamlLimitError(
                    problem=f"is too large once its aliases (*name) are followed: more than "
                    f"{MAX_YAML_VALUES:,} values; refused as a possible alias bomb",
                    problem_mark=node.start_mark,
                )
        self.open.discard(key)
        self.known[key] = (values, height)
        return values, height

    @staticmethod
    def _check_depth(node: Node, depth: int) -> None:
        if depth > MAX_YAML_DEPTH:
            raise YamlLimitError(
                problem=f"is nested deeper than {MAX_YAML_DEPTH} levels",
                problem_mark=node.start_mark,
            )


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []
