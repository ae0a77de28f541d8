"""The .tf position scanner and the value reader: offsets exact, values never guessed."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zt_flows.errors import TerraformConfigError
from zt_flows.terraform.hcl import hcl_string
from zt_flows.tfrepo.config import read_tf_file
from zt_flows.tfrepo.scan import Attribute, ScanError, collection, scan, walk
from zt_flows.tfrepo.values import Opaque, Reference, decode_string, read_value

TRICKY = """# a comment with { braces } and "quotes"
/* block comment
   resource "fake" "x" { */
locals {
  template = "a ${join("}", ["{", "x"])} b" # } in a comment
  escaped  = "$${not.an.interpolation} \\" }"
  doc      = <<-EOT
    resource "heredoc" "x" {
    }
    EOT
  list = [
    "10.0.0.0/16", # the VPC
    "10.1.0.0/16",
  ]
}

resource "aws_security_group" "web" {
  name = "web"
  ingress { from_port = 22 }

  ingress {
    cidr_blocks = ["a", "b"]
  }
  tags = {
    Name = "web"
  }
}
"""


def test_blocks_and_attributes_are_found_at_their_offsets() -> None:
    doc = scan(TRICKY)
    blocks = [(b.type, b.labels) for b in doc.blocks()]
    assert blocks == [("locals", ()), ("resource", ("aws_security_group", "web"))]
    web = doc.blocks("resource")[0]
    assert TRICKY[web.start : web.end].startswith('resource "aws_security_group" "web" {')
    assert TRICKY[web.start : web.end].endswith("}")
    assert [b.type for b in web.blocks()] == ["ingress", "ingress"]
    one_line = web.blocks("ingress")[0]
    assert TRICKY[one_line.line_start : one_line.line_end] == "  ingress { from_port = 22 }\n"
    locals_ = doc.blocks("locals")[0]
    names = [i.name for i in locals_.items if isinstance(i, Attribute)]
    assert names == ["template", "escaped", "doc", "list"]
    template = locals_.attribute("template")
    assert template is not None
    assert TRICKY[template.expr_start : template.expr_end] == ('"a ${join("}", ["{", "x"])} b"')
    heredoc = locals_.attribute("doc")
    assert heredoc is not None
    assert TRICKY[heredoc.expr_start : heredoc.expr_end].endswith("EOT")
    assert len(list(walk(doc.items))) == 4  # locals, resource, two ingress; no heredoc "block"


def test_collections_give_each_element() -> None:
    doc = scan(TRICKY)
    attr = doc.blocks("locals")[0].attribute("list")
    assert attr is not None
    listing = collection(TRICKY, attr.expr_start, attr.expr_end)
    assert listing is not None
    assert listing.kind == "tuple"
    assert listing.multiline
    assert [TRICKY[e.start : e.end] for e in listing.elements] == ['"10.0.0.0/16"', '"10.1.0.0/16"']
    text = '{\n  vpc    = "10.0.0.0/16"\n  office = "10.1.0.0/16", "x y" = 3\n}'
    obj = collection(text, 0, len(text))
    assert obj is not None
    assert [(e.key, text[e.value_start : e.value_end]) for e in obj.elements] == [
        ("vpc", '"10.0.0.0/16"'),
        ("office", '"10.1.0.0/16"'),
        ("x y", "3"),
    ]
    assert collection("var.x", 0, 5) is None
    assert collection("[for x in y : x]", 0, 16) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('resource "a" "b" {\n  x = 1\n', "} closing the block"),
        ('x = "unterminated\n', 'a closing "'),
        ("x = [1, 2\n", "']'"),
        ("/* never closed", "the end of a /* comment */"),
        ('resource "a" "b" { x = 1 } y = 2\n', "a newline after }"),
    ],
)
def test_bad_syntax_says_what_was_expected(text: str, expected: str) -> None:
    with pytest.raises(ScanError) as info:
        scan(text)
    assert expected in str(info.value)


def test_a_bad_file_is_named_with_its_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "envs" / "prod"
    bad.mkdir(parents=True)
    (bad / "main.tf").write_text('resource "aws_security_group" "x" {\n  name = \n}\n')
    with pytest.raises(TerraformConfigError) as info:
        read_tf_file(bad / "main.tf", tmp_path)
    message = str(info.value)
    assert message.startswith("envs/prod/main.tf, line 2, column")
    assert "expected" in message


def test_values_are_literals_references_or_opaque() -> None:
    assert read_value('"tcp"') == "tcp"
    assert read_value('"a\\"b\\u00e9 $${x}"') == 'a"bé ${x}'
    assert read_value("-1") == -1
    assert read_value('["10.0.0.0/16", aws_security_group.api.id]') == (
        "10.0.0.0/16",
        Reference("aws_security_group.api.id"),
    )
    assert read_value('aws_security_group.api["k"].id').parts == (  # type: ignore[union-attr]
        "aws_security_group",
        "api",
        "k",
        "id",
    )
    assert isinstance(read_value('"pre-${var.x}"'), Opaque)
    assert isinstance(read_value("concat(var.a, var.b)"), Opaque)
    assert isinstance(read_value("var.x ? 1 : 2"), Opaque)
    assert read_value("{ a = 1 }") == {"a": 1}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_every_string_ztflows_writes_reads_back(text: str) -> None:
    literal = hcl_string(text)
    assert decode_string(literal) == text
    doc = scan(f"x = {literal}\n")
    (attr,) = doc.items
    assert isinstance(attr, Attribute)
    assert attr.expr_end - attr.expr_start == len(literal)
    hcl2.loads(f"x = {literal}\n")  # python-hcl2 takes it too
