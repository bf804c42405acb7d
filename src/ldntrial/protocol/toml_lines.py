"""Where each key of a TOML document is written, so errors can name a line.

``tomllib`` returns plain dicts without positions. This small scanner walks
the text line by line, tracking table headers (``[a.b]``, ``[[a]]`` with
their array indices) and ``key = value`` lines, including keys inside a
one-line inline table. It is deliberately forgiving: it only ever adds
line numbers to messages, so a construct it does not follow (a key inside a
multi-line array of inline tables) falls back to the nearest enclosing key.
"""

from __future__ import annotations

import re

__all__ = ["KeyPath", "key_lines", "line_of"]

KeyPath = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_INLINE_KEY = re.compile(r"""[{,]\s*([A-Za-z0-9_-]+|"[^"]*")\s*=""")


def _split_dotted(key: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", key)
    return [part.strip("\"'") for part in parts]


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every key path found in ``text`` to its 1-based line number."""
    lines: dict[KeyPath, int] = {}
    array_counts: dict[tuple[str, ...], int] = {}
    prefix: KeyPath = ()
    in_multiline_string = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if in_multiline_string:
            if raw.count('"""') % 2 == 1:
                in_multiline_string = False
            continue
        header = _HEADER.match(raw)
        if header:
            names = _split_dotted(header.group(2))
            prefix = _resolve(names, array_counts, is_array=header.group(1) == "[[")
            lines.setdefault(prefix, number)
            continue
        key = _KEY.match(raw)
        if not key:
            continue
        path = prefix + tuple(_split_dotted(key.group(1)))
        lines.setdefault(path, number)
        rest = raw[key.end() :]
        if rest.count('"""') % 2 == 1:
            in_multiline_string = True
        if rest.lstrip().startswith("{"):
            for inner in _INLINE_KEY.finditer(rest):
                lines.setdefault((*path, inner.group(1).strip('"')), number)
    return lines


def _resolve(
    names: list[str], array_counts: dict[tuple[str, ...], int], *, is_array: bool
) -> KeyPath:
    """Turn a header's names into a key path, inserting the index of each array of tables."""
    path: list[str | int] = []
    for depth, name in enumerate(names):
        path.append(name)
        plain = tuple(str(part) for part in path)
        is_last = depth == len(names) - 1
        if is_last and is_array:
            index = array_counts.get(plain, -1) + 1
            array_counts[plain] = index
            path.append(index)
        elif plain in array_counts:
            path.append(array_counts[plain])
    return tuple(path)


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path``, or of its nearest enclosing key that has one."""
    for end in range(len(path), 0, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return None
