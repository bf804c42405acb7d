"""Each kind of protocol mistake gets its own clear message: file, line, field and rule."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldntrial.errors import ProtocolError
from ldntrial.protocol.loader import builtin_protocol_ids, parse_protocol


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def _error(text: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, source="study.toml")
    return caught.value


def _line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    lines = text.splitlines()
    hits = [number for number, line in enumerate(lines, start=1) if fragment in line]
    return hits[occurrence - 1]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # 1. a negative phase length (the issue's own example)
        (
            'name = "placebo"\ndays = 28',
            'name = "placebo"\ndays = -14',
            "phases[2].days: must be a positive whole number, got -14",
        ),
        # 2. a fractional number of days
        (
            'name = "placebo"\ndays = 28',
            'name = "placebo"\ndays = 27.5',
            "phases[2].days: must be a whole number, got 27.5",
        ),
        # 3. a misspelt field, with a suggestion
        (
            'name = "placebo"\ndays = 28',
            'name = "placebo"\ndayz = 28',
            "phases[2].dayz: is not a field of the protocol format (did you mean 'days'?)",
        ),
        # 4. a sequence naming a phase that does not exist
        (
            'phases = ["baseline", "placebo", "ldn", "follow_up"]',
            'phases = ["baseline", "placbo", "ldn", "follow_up"]',
            "sequences[1].phases[1]: no phase named 'placbo'; "
            "phases are baseline, follow_up, ldn, placebo",
        ),
        # 5. a blinding level that does not exist
        (
            'condition = "ldn"\n# The paper says double-blind; the newer registry record lists '
            'triple masking.\nblinding = "double"',
            'condition = "ldn"\nblinding = "quadruple"',
            "phases[1].blinding: must be one of 'open', 'single', 'double' or 'triple', "
            "got 'quadruple'",
        ),
        # 6. a block size that does not fit the 1:1 ratio
        (
            "block_sizes = [2, 4]",
            "block_sizes = [2, 3]",
            "allocation.block_sizes[1]: must be a multiple of the ratio total 2, got 3",
        ),
        # 7. an absurd dose for low-dose naltrexone
        (
            "dose_mg = 4.5, reduced_dose_mg = 3.0",
            "dose_mg = 450, reduced_dose_mg = 3.0",
            "conditions.ldn.dose_mg: must be at most 50.0, got 450",
        ),
        # 8. a placebo with a dose
        (
            'placebo = { kind = "placebo", label = "Placebo (identical capsule)" }',
            'placebo = { kind = "placebo", label = "Placebo (identical capsule)", dose_mg = 4.5 }',
            "conditions.placebo.dose_mg: a 'placebo' condition has no dose; remove dose_mg",
        ),
        # 9. the primary end point is not a diary item
        (
            'primary_item = "pain"',
            'primary_item = "pian"',
            "endpoints.primary_item: no diary item 'pian'; diary items are fatigue, mood, pain, "
            "satisfaction, sleep_quality, symptoms",
        ),
        # 10. overlapping visit windows
        (
            "window_days = 3",
            "window_days = 7",
            "visits.window_days: must be less than half of interval_days (14) so windows do not "
            "overlap, got 7",
        ),
        # 11. a diary window that closes before it opens on the same day
        (
            "closes_next_day = true",
            "closes_next_day = false",
            "diary.closes: must be after opens (18:00) unless closes_next_day is true",
        ),
        # 12. an end-point window longer than the shortest treatment phase
        (
            "endpoint_days = 3",
            "endpoint_days = 40",
            "endpoints.endpoint_days: must be at most the shortest treatment phase (28 days), "
            "got 40",
        ),
        # 13. a time of day that is not a time
        (
            'opens = "18:00"',
            'opens = "6 pm"',
            "diary.opens: must be a time of day such as \"18:00\", got '6 pm'",
        ),
        # 14. a phase name that is not an identifier
        (
            'name = "follow_up"',
            'name = "Follow Up"',
            "phases[3].name: must be a lowercase name of letters, digits, '-' or '_' starting "
            "with a letter (e.g. 'follow_up'), got 'Follow Up'",
        ),
        # 15. a composite responder rule without its second threshold
        (
            "also_min_improvement_percent = 20\n",
            "",
            "endpoints.responders[1].also_min_improvement_percent: is required with also_any_of",
        ),
    ],
)
def test_each_mistake_is_named_with_its_field_and_rule(
    crossover_text: str, old: str, new: str, expected: str
) -> None:
    error = _error(_replace_once(crossover_text, old, new))
    messages = [str(issue).split(": ", 1)[1] for issue in error.issues]
    assert expected in messages, messages


def test_the_message_names_the_file_and_line(crossover_text: str) -> None:
    text = _replace_once(
        crossover_text, 'name = "placebo"\ndays = 28', 'name = "placebo"\ndays = -14'
    )
    error = _error(text)
    line = _line_of(text, "days = -14")
    assert (
        str(error)
        == f"study.toml: line {line}: phases[2].days: must be a positive whole number, got -14"
    )


def test_every_broken_rule_is_listed_at_once(crossover_text: str) -> None:
    text = _replace_once(crossover_text, "block_sizes = [2, 4]", "block_sizes = [3, 5]")
    text = _replace_once(text, 'primary_item = "pain"', 'primary_item = "pian"')
    error = _error(text)
    assert error.fields == [
        "allocation.block_sizes[0]",
        "allocation.block_sizes[1]",
        "endpoints.primary_item",
    ]


def test_a_missing_required_field_is_named(crossover_text: str) -> None:
    text = _replace_once(crossover_text, 'title = "LDN vs placebo', 'subtitle = "LDN vs placebo')
    messages = [str(issue) for issue in _error(text).issues]
    assert any(message.endswith("title: is required") for message in messages)


def test_text_that_is_not_toml_is_reported_as_such() -> None:
    error = _error("id = \n")
    assert str(error).startswith("study.toml: not valid TOML:")


def test_a_duplicate_phase_name_is_reported(crossover_text: str) -> None:
    text = _replace_once(crossover_text, 'name = "follow_up"', 'name = "baseline"')
    messages = [str(issue).split(": ", 1)[1] for issue in _error(text).issues]
    assert "phases[3]: phase 'baseline' is defined more than once" in messages


# -- attacks: found by fuzzing and by hand, each once called valid or a traceback --------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('opens = "18:00"', "opens = 18", 'diary.opens: a time of day is written "HH:MM"'),
        ("days = 84", "days = 1000000000", "phases[1].days: must be at most 3650"),
        ('title = "', 'title = "\\u0000', "title: contains a NUL character"),
        ("min = 0\n# At most two", "# At most two", "visits.measures[5].min: a number measured"),
    ],
)
def test_a_value_that_only_looks_valid_is_refused(crossover_text, old, new, expected) -> None:
    assert expected in str(_error(_replace_once(crossover_text, old, new)))


def test_field_and_rule_mistakes_are_reported_together(crossover_text: str) -> None:
    text = _replace_once(crossover_text, 'opens = "18:00"', "opens = 18")
    text = _replace_once(text, '"placebo", "follow_up"]', '"placebo", "follw_up"]')
    issues = [issue.field for issue in _error(text).issues]
    assert issues == ["diary.opens", "sequences[0].phases[3]"]


@pytest.mark.parametrize(
    "content",
    [
        b"a = " + b"[" * 3000 + b"]" * 3000,
        b"x = " + b"{ a = " * 3000 + b"1" + b" }" * 3000,
        "title = 'caf\u00e9'".encode("latin-1"),
        bytes(range(256)) * 4,
    ],
    ids=["nested-lists", "nested-tables", "latin-1", "binary"],
)
def test_a_file_that_is_no_protocol_is_a_protocol_error(tmp_path, content: bytes) -> None:
    from ldntrial.protocol.loader import load_protocol

    path = tmp_path / "study.toml"
    path.write_bytes(content)
    with pytest.raises(ProtocolError):
        load_protocol(path)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(text=st.text(max_size=300))
def test_no_text_raises_anything_but_a_protocol_error(text: str) -> None:
    with contextlib.suppress(ProtocolError):
        parse_protocol(text)


@pytest.mark.parametrize("length", [0, 1, 3])
def test_an_n_of_1_pair_of_other_than_two_phases_is_named_not_a_traceback(length) -> None:
    from ldntrial.protocol.loader import builtin_protocol_text

    names = ", ".join(['"ldn"', '"placebo"', '"ldn"'][:length])
    text = _replace_once(
        builtin_protocol_text("nof1"), 'pair = ["ldn", "placebo"]', f"pair = [{names}]"
    )
    error = _error(text)
    assert {issue.field.split("[")[0] for issue in error.issues} == {"allocation.pair"}
    assert all(issue.line == _line_of(text, "pair = [") for issue in error.issues)


@pytest.mark.parametrize("protocol_id", builtin_protocol_ids())
@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.data())
def test_no_changed_value_in_a_real_protocol_raises_anything_but_a_protocol_error(
    protocol_id, data
) -> None:
    """A built-in protocol with one value anywhere in it replaced by anything TOML can hold."""
    import tomllib

    from ldntrial.protocol.loader import builtin_protocol_text, protocol_from_dict

    document = tomllib.loads(builtin_protocol_text(protocol_id))
    node, path = document, []
    while isinstance(node, dict | list) and node:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys))
        path.append(key)
        if data.draw(st.booleans()):
            break
        node = node[key]
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(_TOML_VALUES)
    with contextlib.suppress(ProtocolError):
        protocol_from_dict(document)


_TOML_VALUES = st.recursive(
    st.none().map(lambda _: "")
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.dates()
    | st.times(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


ALLOCATION = 'method = "permuted_blocks"\nratio = [1, 1]'


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (
            'method = "nope"\nratio = [1, 1]',
            ["allocation.method: must be one of 'fixed', 'permuted_blocks', 'randomised_pairs' "
             "or 'up_and_down', got 'nope'"],
        ),
        ("ratio = [1, 1]", ["allocation.method: is required"]),
        (
            'method = "fixed"\nratio = [1, 1]',
            ["allocation.ratio: has no place when allocation.method is 'fixed' (only "
             "'permuted_blocks' uses it)",
             "allocation.block_sizes: has no place when allocation.method is 'fixed' (only "
             "'permuted_blocks' uses it)",
             "sequences: a 'fixed' allocation needs exactly one sequence, got 2"],
        ),
        (
            'method = "up_and_down"\nratio = [1, 1]',
            [*(f"allocation.{field}: is required when allocation.method is 'up_and_down'"
               for field in ("doses_mg", "start_mg", "response_rule")),
             "allocation.ratio: has no place when allocation.method is 'up_and_down' (only "
             "'permuted_blocks' uses it)",
             "allocation.block_sizes: has no place when allocation.method is 'up_and_down' "
             "(only 'permuted_blocks' uses it)"],
        ),
        (
            f"{ALLOCATION}\nstop_after_pairs = 3",
            ["allocation.stop_after_pairs: has no place when allocation.method is "
             "'permuted_blocks' (only 'up_and_down' uses it)"],
        ),
        (
            f"{ALLOCATION}\nblock_size = [2]",
            ["allocation.block_size: is not a field of the protocol format (did you mean "
             "'block_sizes'?)"],
        ),
    ],
    ids=["unknown-method", "no-method", "fixed", "up-and-down", "a-stop-rule", "misspelt"],
)  # fmt: skip
def test_each_allocation_method_has_its_own_fields_and_says_so(crossover_text, new, expected):
    """An allocation is one model per method: another method's field is named as such, and a
    method's required field as required for it, with the line, never a traceback."""
    text = _replace_once(crossover_text, ALLOCATION, new)
    issues = _error(text).issues
    assert [f"{issue.field}: {issue.message}" for issue in issues] == expected
    assert all(issue.line is not None for issue in issues if issue.field != "sequences")


def test_each_built_in_allocation_is_its_methods_model() -> None:
    from ldntrial.protocol.loader import builtin_protocol_text
    from ldntrial.protocol.model import ALLOCATION_MODELS

    methods = set()
    for protocol_id in builtin_protocol_ids():
        allocation = parse_protocol(builtin_protocol_text(protocol_id)).allocation
        assert type(allocation) is ALLOCATION_MODELS[allocation.method], protocol_id
        methods.add(allocation.method)
    assert methods == set(ALLOCATION_MODELS)  # every method has a worked example
