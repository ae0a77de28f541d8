"""plan.json: one layout writes it, reads it back and describes it as a JSON Schema.

The schema in docs/ is generated from that layout (regenerate it with
``ZTFLOWS_UPDATE_GOLDEN=1``); plans validate against it; a bad plan is refused with the
JSON path of the bad value, what was expected and what was found.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from zt_flows.errors import PlanFormatError
from zt_flows.recommend.plan import plan_from_dict, plan_schema, plan_to_json, read_plan

TESTS = Path(__file__).resolve().parent
PLANS = TESTS / "fixtures" / "plans"
SCHEMA = TESTS.parent / "docs" / "plan.schema.json"


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return jsonschema.Draft202012Validator(schema, format_checker=checker)


def sample() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((PLANS / "sample_plan.json").read_text(encoding="utf-8"))
    return doc


def test_the_published_schema_is_the_one_the_code_writes() -> None:
    text = json.dumps(plan_schema(), indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("ZTFLOWS_UPDATE_GOLDEN") == "1":
        SCHEMA.write_text(text, encoding="utf-8")
    assert SCHEMA.read_text(encoding="utf-8") == text, "regenerate with ZTFLOWS_UPDATE_GOLDEN=1"


@pytest.mark.parametrize("name", ["sample_plan.json", "hostile_plan.json"])
def test_plans_validate_against_the_schema(name: str) -> None:
    doc = json.loads((PLANS / name).read_text(encoding="utf-8"))
    assert list(validator().iter_errors(doc)) == []


def test_a_plan_reads_back_to_the_same_bytes() -> None:
    text = (PLANS / "sample_plan.json").read_text(encoding="utf-8")
    assert plan_to_json(read_plan(PLANS / "sample_plan.json")) == text


@pytest.mark.parametrize(
    ("change", "path", "expected", "found"),
    [
        (lambda d: d.pop("security_groups"), "$", "key 'security_groups'", "nothing"),
        (
            lambda d: d["security_groups"][2]["rules"][1].pop("reason"),
            "$.security_groups[2].rules[1]",
            "key 'reason'",
            "nothing",
        ),
        (
            lambda d: d["security_groups"][0]["rules"][0].update(protocol=None),
            "$.security_groups[0].rules[0].protocol",
            "tcp, udp, icmp, icmpv6, -1 or a protocol number",
            "null",
        ),
        (
            lambda d: d["security_groups"][0]["rules"][0].pop("protocol"),
            "$.security_groups[0].rules[0]",
            "key 'protocol'",
            "nothing",
        ),
        (
            lambda d: d["security_groups"][0]["rules"][0].update(action="delete"),
            "$.security_groups[0].rules[0].action",
            "'keep' or 'add' or 'remove'",
            "str 'delete'",
        ),
        (
            lambda d: d["security_groups"][0]["rules"][0].update(from_port="22"),
            "$.security_groups[0].rules[0].from_port",
            "an integer or null",
            "str '22'",
        ),
        (
            lambda d: d["security_groups"][0]["rules"][0]["peer"].update(type="cidr", cidr="x"),
            "$.security_groups[0].rules[0].peer.cidr",
            "a CIDR such as 10.0.0.0/16",
            "str 'x'",
        ),
        (
            lambda d: d["security_groups"][0].update(rules={}),
            "$.security_groups[0].rules",
            "an array",
            "dict",
        ),
        (
            lambda d: d["window"].update(start="yesterday"),
            "$.window.start",
            "an ISO-8601 time or null",
            "str 'yesterday'",
        ),
        (lambda d: d.update(window=[]), "$.window", "an object", "list"),
        (
            lambda d: d["verification"].update(replayed=True),
            "$.verification.replayed",
            "an integer",
            "bool",
        ),
        (
            lambda d: d["verification"].update(skipped={"objects": 1, "lines": 0, "records": 0}),
            "$.verification",
            "key 'evidence'",
            "nothing",
        ),
        (
            lambda d: d["verification"].update(
                evidence="partial", skipped={"objects": 1, "lines": 0, "records": 0}
            ),
            "$.verification.evidence",
            "'incomplete'",
            "str 'partial'",
        ),
        (
            lambda d: d["security_groups"][0]["rules"][0].update(kept_for="because"),
            "$.security_groups[0].rules[0].kept_for",
            "'open_population' or 'unevaluable' or 'not_covered' or 'ambiguous_orientation'"
            " or 'unattributed' or 'unexplained' or null",
            "str 'because'",
        ),
    ],
)
def test_a_bad_value_is_named_by_its_path(
    change: Any, path: str, expected: str, found: str
) -> None:
    doc = sample()
    change(doc)
    with pytest.raises(PlanFormatError) as info:
        plan_from_dict(doc, source="plan.json")
    error = info.value
    assert (error.location.path, error.expected, error.found) == (path, expected, found)
    assert str(error).startswith(f"plan.json, at {path}: expected {expected}, found {found}")


def test_the_schema_refuses_what_the_reader_refuses() -> None:
    doc = sample()
    rule = doc["security_groups"][0]["rules"][0]
    rule["protocol"] = "gre"
    rule["peer"] = {"type": "cidr", "id": "sg-0a"}  # a CIDR peer names its cidr
    rule["action"] = "delete"
    del doc["verification"]["replayed"]
    messages = sorted(e.message for e in validator().iter_errors(doc))
    assert len(messages) == 4, messages
    assert any("'gre' does not match" in m for m in messages)
    assert any("'cidr' is a required property" in m for m in messages)
    assert any("'replayed' is a required property" in m for m in messages)


def test_the_schema_wants_skipped_counts_and_the_evidence_word_together() -> None:
    doc = sample()
    doc["verification"]["skipped"] = {"objects": 1, "lines": 2, "records": 3}
    messages = [e.message for e in validator().iter_errors(doc)]
    assert len(messages) == 1
    assert "'evidence' is a dependency of 'skipped'" in messages[0]
    doc["verification"]["evidence"] = "incomplete"
    assert list(validator().iter_errors(doc)) == []
    assert plan_from_dict(doc).verification.skipped is not None


def test_keys_written_from_the_plan_are_not_read_back() -> None:
    """Counts and weights are written for readers of the file; the plan's values decide."""
    doc = sample()
    doc["kept"] = {"open_population": 999}
    doc["exposure"]["before"]["internet_reachable_count"] = 999
    plan = plan_from_dict(doc)
    assert plan.kept_counts()["open_population"] != 999
    assert plan.exposure.before.internet_reachable_count != 999
