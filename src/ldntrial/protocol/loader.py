"""Reading and writing protocol files, with messages that name file, line, field and rule.

``load_protocol`` accepts a built-in id (``crossover-2013``), a path to a TOML
file, or a dict. Whatever goes wrong, the caller gets one
:class:`~ldntrial.errors.ProtocolError` listing every broken rule, e.g.::

    my-study.toml: line 31: phases[2].days: must be a positive whole number, got -14
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
import weakref
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ValidationError

from ldntrial.errors import ProtocolError, ProtocolIssue
from ldntrial.protocol import model as protocol_model
from ldntrial.protocol.model import ALLOCATION_MODELS, Protocol
from ldntrial.protocol.rules import check_protocol
from ldntrial.protocol.toml_lines import KeyPath, key_lines, line_of

__all__ = [
    "builtin_protocol_ids",
    "builtin_protocol_text",
    "load_protocol",
    "parse_protocol",
    "protocol_from_dict",
    "protocol_to_toml",
]

_BUILTINS = "ldntrial.protocol.builtins"

# The text each parsed protocol came from, kept for the object itself (its id, with a weak
# reference to be sure) and a digest of the model: saving keeps the comments when, and only
# when, the model is still what its own text says. An equal protocol read from another file
# (a copy without the comments, say) keeps that file's text, not this one's.
_SOURCE_TEXTS: dict[int, tuple[weakref.ref[Protocol], str, str]] = {}


def builtin_protocol_ids() -> list[str]:
    """The ids of the protocols shipped with ldntrial, sorted."""
    files = resources.files(_BUILTINS).iterdir()
    return sorted(
        entry.name.removesuffix(".toml") for entry in files if entry.name.endswith(".toml")
    )


def builtin_protocol_text(protocol_id: str) -> str:
    """The TOML text (comments included) of a built-in protocol."""
    if protocol_id not in builtin_protocol_ids():
        known = ", ".join(builtin_protocol_ids())
        raise ProtocolError(
            [ProtocolIssue("", f"no built-in protocol '{protocol_id}'; built-ins are {known}")]
        )
    return resources.files(_BUILTINS).joinpath(f"{protocol_id}.toml").read_text("utf-8")


def load_protocol(source: str | Path | dict[str, Any] | Protocol) -> Protocol:
    """Load a protocol from a built-in id, a TOML file path, a dict, or pass one through."""
    if isinstance(source, Protocol):
        return source
    if isinstance(source, dict):
        return protocol_from_dict(source)
    if isinstance(source, str) and source in builtin_protocol_ids():
        return _load_builtin(source)
    path = Path(source)
    if not path.is_file():
        known = ", ".join(builtin_protocol_ids())
        raise ProtocolError(
            [ProtocolIssue("", f"no such file, and not a built-in protocol ({known})")],
            source=str(source),
        )
    return parse_protocol(read_protocol_text(path), source=str(path))


def read_protocol_text(path: Path) -> str:
    """The text of a protocol file; ProtocolError if it is not UTF-8 (a binary file)."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtocolError(
            [ProtocolIssue("", f"not UTF-8 text (byte {error.start}): a protocol is UTF-8 TOML")],
            source=str(path),
        ) from None


@cache
def _load_builtin(protocol_id: str) -> Protocol:
    return parse_protocol(builtin_protocol_text(protocol_id), source=f"{protocol_id} (built-in)")


def parse_protocol(text: str, *, source: str = "<protocol>") -> Protocol:
    """Parse and validate TOML text; errors name ``source``, the line and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProtocolError([ProtocolIssue("", f"not valid TOML: {error}")], source) from None
    except RecursionError:
        raise ProtocolError([ProtocolIssue("", _TOO_DEEP)], source) from None
    protocol = protocol_from_dict(data, source=source, lines=key_lines(text))
    key = id(protocol)
    _SOURCE_TEXTS[key] = (
        weakref.ref(protocol, lambda _ref: _SOURCE_TEXTS.pop(key, None)),
        _digest(protocol),
        text,
    )
    return protocol


def protocol_from_dict(
    data: dict[str, Any],
    *,
    source: str = "<protocol>",
    lines: dict[KeyPath, int] | None = None,
) -> Protocol:
    """Validate a dict as a protocol: field rules first, then the cross-field rules."""
    lines = lines or {}
    try:
        protocol = Protocol.model_validate(data)
    except RecursionError:
        raise ProtocolError([ProtocolIssue("", _TOO_DEEP)], source) from None
    except ValidationError as error:
        issues = [_issue_from_pydantic(item, lines) for item in error.errors()]
        # The cross-field rules too, where the rest of the protocol can be read without
        # the broken fields: every mistake is reported at once.
        rest = _without_fields(data, [_field_path(item) for item in error.errors()])
        issues += _rule_issues(rest, lines) if rest is not None else []
        raise ProtocolError(issues, source) from None
    issues = _rule_issues(protocol, lines)
    if issues:
        raise ProtocolError(issues, source)
    return protocol


_TOO_DEEP = "nested too deeply to be a protocol (tables or lists within lists, thousands deep)"


def _rule_issues(
    protocol: Protocol | dict[str, Any], lines: dict[KeyPath, int]
) -> list[ProtocolIssue]:
    """The cross-field rules' issues, each at its line; none if ``protocol`` still fails."""
    if isinstance(protocol, dict):
        try:
            protocol = Protocol.model_validate(protocol)
        except (ValidationError, RecursionError):
            return []
    return [
        ProtocolIssue(issue.field, issue.message, line_of(lines, _parse_path(issue.field)))
        for issue in check_protocol(protocol)
    ]


def _without_fields(
    data: dict[str, Any], locations: list[tuple[str | int, ...]]
) -> dict[str, Any] | None:
    """A copy of ``data`` without the broken fields (None if one sits in a list)."""
    copy: dict[str, Any] = json.loads(json.dumps(data, default=str))
    for loc in locations:
        *parents, last = loc
        node: Any = copy
        for part in parents:
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                node = None
        if not isinstance(node, dict) or isinstance(last, int):
            return None
        node.pop(last, None)
    return copy


def protocol_to_toml(protocol: Protocol) -> str:
    """TOML text that loads back to an equal protocol.

    A protocol read from a file keeps that file's text, comments and all; one
    built or changed in Python is written out field by field.
    """
    kept = _SOURCE_TEXTS.get(id(protocol))
    if kept is not None and kept[0]() is protocol and kept[1] == _digest(protocol):
        return kept[2]
    data = protocol.model_dump(mode="json", exclude_none=True)
    return tomli_w.dumps(data)


def _digest(protocol: Protocol) -> str:
    dumped = json.dumps(protocol.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(dumped.encode()).hexdigest()


# -- turning pydantic errors into sentences ---------------------------------


def _format_path(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _parse_path(field: str) -> KeyPath:
    path: list[str | int] = []
    for piece in field.replace("]", "").split("."):
        name, *indices = piece.split("[")
        if name:
            path.append(name)
        path.extend(int(index) for index in indices)
    return tuple(path)


def _known_field_names() -> set[str]:
    names: set[str] = set()
    for value in vars(protocol_model).values():
        if isinstance(value, type) and issubclass(value, BaseModel):
            names.update(value.model_fields)
    return names


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _field_path(error: Any) -> tuple[str | int, ...]:
    """The error's location as the file's keys: no dict-key marker, no allocation method.

    An allocation is a union chosen by its method; pydantic puts the chosen
    method in the location (``allocation.fixed.strata``), the file does not.
    """
    loc = [part for part in error["loc"] if part != "[key]"]
    if _allocation_method(error):
        del loc[1]
    return tuple(loc)


def _allocation_method(error: Any) -> str:
    """The allocation method whose model found the error, or ''."""
    loc = error["loc"]
    found = len(loc) > 1 and loc[0] == "allocation" and loc[1] in ALLOCATION_MODELS
    return str(loc[1]) if found else ""


def _methods_using(field: str) -> list[str]:
    """The allocation methods that have ``field``."""
    return [tag for tag, model in ALLOCATION_MODELS.items() if field in model.model_fields]


def _one_of(names: list[str]) -> str:
    """'a', 'b' or 'c'."""
    quoted = [f"'{name}'" for name in names]
    return " or ".join([", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted)


def _issue_from_pydantic(error: Any, lines: dict[KeyPath, int]) -> ProtocolIssue:
    loc = _field_path(error)
    kind = error["type"]
    ctx = error.get("ctx", {})
    value = error.get("input")
    got = f", got {_describe(value)}"
    member = _allocation_method(error)
    if kind in ("union_tag_invalid", "union_tag_not_found") and not isinstance(value, dict):
        message = f"must be a table{got}"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):  # the allocation's method
        loc = (*loc, "method")
        given = value.get("method")
        message = (
            "is required"
            if given is None
            else f"must be one of {_one_of(sorted(ALLOCATION_MODELS))}, got {_describe(given)}"
        )
    elif kind == "missing" and member:
        message = f"is required when allocation.method is '{member}'"
    elif kind == "extra_forbidden" and member and (owners := _methods_using(str(loc[-1]))):
        message = (
            f"has no place when allocation.method is '{member}' (only {_one_of(owners)} uses it)"
        )
    elif kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        name = str(loc[-1])
        close = difflib.get_close_matches(name, _known_field_names(), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        message = f"is not a field of the protocol format{hint}"
    elif kind == "greater_than" and ctx.get("gt") == 0 and isinstance(value, int):
        message = f"must be a positive whole number{got}"
    elif kind == "greater_than":
        message = f"must be greater than {ctx.get('gt')}{got}"
    elif kind == "greater_than_equal":
        message = f"must be at least {ctx.get('ge')}{got}"
    elif kind == "less_than_equal":
        message = f"must be at most {ctx.get('le')}{got}"
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        message = f"must be a whole number{got}"
    elif kind in ("float_type", "float_parsing"):
        message = f"must be a number{got}"
    elif kind in ("bool_type", "bool_parsing"):
        message = f"must be true or false{got}"
    elif kind == "string_type":
        message = f"must be text{got}"
    elif kind == "string_pattern_mismatch":
        message = (
            "must be a lowercase name of letters, digits, '-' or '_' starting with a letter "
            f"(e.g. 'follow_up'){got}"
        )
    elif kind == "string_too_short":
        message = "must not be empty"
    elif kind == "too_long":
        message = (
            f"must hold at most {ctx.get('max_length')} items, got {ctx.get('actual_length')}"
        )
    elif kind in ("enum", "literal_error"):
        message = f"must be one of {ctx.get('expected')}{got}"
    elif kind in ("list_type", "dict_type", "model_type", "model_attributes_type"):
        wanted = "a list" if kind == "list_type" else "a table"
        message = f"must be {wanted}{got}"
    elif kind == "too_short":
        message = (
            f"must have at least {ctx.get('min_length')} entries, got {ctx.get('actual_length')}"
        )
    elif kind in ("time_parsing", "time_type"):
        message = f'must be a time of day such as "18:00"{got}'
    elif kind == "value_error":  # the model's own rules say what they want
        message = error["msg"].removeprefix("Value error, ")
    else:
        message = error["msg"]
    return ProtocolIssue(_format_path(loc), message, line_of(lines, loc))
