"""Frozen dataclasses to JSON documents and back, and the JSON Schema of those documents.

One declaration per class (:class:`Layout`) says how its object is written: its keys in
order, the field each comes from, and what differs from a plain field. Everything else
comes from the dataclass itself: ``dataclasses.fields`` for defaults, ``typing`` hints for
the type of every value. The same declarations write a document, read it back, and
describe it as a JSON Schema, so the three cannot disagree.

What a key may do besides naming a field:

- ``attr`` with dots (``rule.direction``): the value of a field of a field, so an object
  can hold the keys of a value it contains, in any order among its own;
- ``at``: the key sits in a nested object (``window.start``);
- ``compute``: written from the value (a count, a sum), never read back (``checked``: when
  present, its value must still be of ``computed_type``);
- ``omit_none``: written only when set;
- ``when``: present only for some values of another field (a peer's ``cidr`` or ``id``);
- ``sort``: a collection is written sorted, whatever order it holds.

A layout may take a field from the object around it (``context``: the rules of a group
take the group's id), build its value through a constructor of its own (``build``), and
check what it read before building (``check``); ``together`` names keys that are present
together or not at all. Reading is strict about types and
tolerant about keys: a key with a default or a ``None`` type may be missing, unknown keys
are ignored. Every error is a :class:`CodecError` naming the JSON path, what was
expected and what was found.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Union, cast

JSON = Any  # None | bool | int | float | str | list[JSON] | dict[str, JSON]
_MISSING = object()


class CodecError(ValueError):
    """A document that does not read: where, what was expected, what was found."""

    def __init__(self, path: str, expected: str, found: str) -> None:
        self.path = path
        self.expected = expected
        self.found = found
        super().__init__(f"{path}: expected {expected}, found {found}")


def shown(value: object) -> str:
    """What was found, briefly: ``null``, ``list``, ``str 'abc'``."""
    text = "null" if value is None else type(value).__name__
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = f"{text} {value!r}"[:60]
    return text


@dataclass(frozen=True)
class Scalar:
    """A value written in another form than its Python type's (a time as ISO text)."""

    encode: Callable[[Any], JSON]
    decode: Callable[[JSON], Any]  # raises ValueError (or TypeError) for a bad value
    expected: str
    schema: Mapping[str, object]


def _time(value: JSON) -> datetime:
    if not isinstance(value, str):
        raise TypeError(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


TIME = Scalar(
    encode=lambda t: t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    decode=_time,
    expected="an ISO-8601 time",
    schema={"type": "string", "format": "date-time"},
)


@dataclass(frozen=True)
class Key:
    """One key of an object; see the module docstring."""

    name: str
    attr: str | None = None  # the field it comes from (default: ``name``)
    at: tuple[str, ...] = ()
    scalar: Scalar | None = None
    omit_none: bool = False
    compute: Callable[[Any], object] | None = None
    computed_type: object = None  # the type of a computed value (for its schema)
    checked: bool = False  # a computed value read back is checked against computed_type
    when: tuple[str, tuple[str, ...]] | None = None  # (field, the values it is present for)
    sort: Callable[[Any], Any] | None = None
    required: bool | None = None  # None: required unless its field has a default or takes None
    description: str | None = None

    @property
    def field(self) -> str:
        return self.attr or self.name


@dataclass(frozen=True)
class Layout:
    """How one dataclass is written: its keys, in order (see the module docstring)."""

    cls: type
    keys: tuple[Key, ...]
    context: tuple[str, ...] = ()  # fields taken from the enclosing object's
    provides: tuple[str, ...] = ()  # fields handed down to the objects inside
    build: Callable[..., Any] | None = None  # the constructor (default: the class)
    # Checks what was read before building: raises CodecError(key, expected, found), the
    # key relative to the object.
    check: Callable[[Mapping[str, Any]], None] | None = None
    together: tuple[tuple[str, ...], ...] = ()  # keys present together or not at all
    description: str | None = None


class Codec:
    """Writes, reads and describes the dataclasses of a set of layouts."""

    def __init__(self, layouts: Iterable[Layout], scalars: Mapping[type, Scalar] | None = None):
        self.layouts = {layout.cls: layout for layout in layouts}
        self.scalars = {datetime: TIME, **(scalars or {})}
        self._hints: dict[type, dict[str, Any]] = {}

    # ------------------------------------------------------------------ types

    def hints(self, cls: type) -> dict[str, Any]:
        if cls not in self._hints:
            self._hints[cls] = typing.get_type_hints(cls)
        return self._hints[cls]

    def type_of(self, cls: type, attr: str) -> Any:
        """The type of a (dotted) field of ``cls``."""
        kind: Any = cls
        for part in attr.split("."):
            kind = self.hints(kind)[part]
        return kind

    @staticmethod
    def _default(cls: type, name: str) -> object:
        for f in dataclasses.fields(cls):
            if f.name == name:
                if f.default is not dataclasses.MISSING:
                    return f.default
                if f.default_factory is not dataclasses.MISSING:
                    return f.default_factory()
        return _MISSING

    # ------------------------------------------------------------------ writing

    def encode(self, value: object, kind: Any = None) -> JSON:
        if value is None:
            return None
        layout = self.layouts.get(type(value))
        if layout is not None:
            return self._encode_object(value, layout)
        if type(value) in self.scalars:
            return self.scalars[type(value)].encode(value)
        if isinstance(value, tuple | list):
            item = _args(kind)[0] if _args(kind) else None
            return [self.encode(v, item) for v in value]
        if isinstance(value, Mapping):
            return {str(k): self.encode(v) for k, v in value.items()}
        if isinstance(value, bool | int | float | str):
            return value
        raise TypeError(f"cannot write {type(value).__name__}")

    def _encode_object(self, value: object, layout: Layout) -> dict[str, JSON]:
        out: dict[str, JSON] = {}
        for key in layout.keys:
            if key.when is not None and _get(value, key.when[0]) not in key.when[1]:
                continue
            if key.compute is not None:
                item: Any = key.compute(value)
                kind = key.computed_type
            else:
                item = _get(value, key.field)
                kind = self.type_of(layout.cls, key.field)
            if item is None and key.omit_none:
                continue
            if key.sort is not None:
                if isinstance(item, Mapping):
                    item = dict(sorted(item.items(), key=key.sort))
                else:
                    item = tuple(sorted(item, key=key.sort))
            place = out
            for name in key.at:
                place = place.setdefault(name, {})
            # A key's own scalar writes every value, None included (AWS's "-1").
            encoded = key.scalar.encode(item) if key.scalar else self.encode(item, kind)
            place[key.name] = encoded
        return out

    # ------------------------------------------------------------------ reading

    def decode(self, cls: type, doc: JSON, path: str = "$") -> Any:
        """``doc`` read as a ``cls``; raises :class:`CodecError`."""
        return self._decode(cls, doc, path, {})

    def _decode(
        self,
        kind: Any,
        value: JSON,
        path: str,
        context: Mapping[str, Any],
        scalar: Scalar | None = None,
    ) -> Any:
        if scalar is not None:  # a key's own scalar reads every value, null included
            try:
                return scalar.decode(value)
            except (TypeError, ValueError):
                raise CodecError(path, scalar.expected, shown(value)) from None
        origin, args = typing.get_origin(kind), _args(kind)
        if origin in (Union, types.UnionType) and type(None) in args:
            if value is None:
                return None
            rest = [a for a in args if a is not type(None)]
            inner = rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
            try:
                return self._decode(inner, value, path, context)
            except CodecError as exc:
                if exc.path != path:
                    raise
                raise CodecError(path, f"{exc.expected} or null", exc.found) from None
        if kind in self.scalars:
            use = self.scalars[kind]
            try:
                return use.decode(value)
            except (TypeError, ValueError):
                raise CodecError(path, use.expected, shown(value)) from None
        if isinstance(kind, type) and kind in self.layouts:
            if not isinstance(value, dict):
                raise CodecError(path, "an object", shown(value))
            return self._decode_object(self.layouts[kind], value, path, context)
        if origin is Literal:
            if value not in args:
                raise CodecError(path, " or ".join(repr(a) for a in args), shown(value))
            return value
        if origin is tuple:
            if not isinstance(value, list):
                raise CodecError(path, "an array", shown(value))
            return tuple(
                self._decode(args[0], item, f"{path}[{i}]", context) for i, item in enumerate(value)
            )
        if origin in (Mapping, dict) or kind is dict:
            if not isinstance(value, dict):
                raise CodecError(path, "an object", shown(value))
            return dict(value)
        if kind is bool:
            if not isinstance(value, bool):
                raise CodecError(path, "true or false", shown(value))
            return value
        if kind is int:
            if not isinstance(value, int) or isinstance(value, bool):
                raise CodecError(path, "an integer", shown(value))
            return value
        if kind is float:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise CodecError(path, "a number", shown(value))
            return float(value)
        if kind is str:
            if not isinstance(value, str):
                raise CodecError(path, "a string", shown(value))
            return value
        if kind is object:
            return value
        raise TypeError(f"cannot read {kind!r}")

    def _decode_object(
        self, layout: Layout, doc: Mapping[str, JSON], path: str, context: Mapping[str, Any]
    ) -> Any:
        found: dict[str, Any] = {name: context[name] for name in layout.context}
        inner = dict(context)
        for names in layout.together:
            if any(name in doc for name in names):
                for name in names:
                    if name not in doc:
                        raise CodecError(path, f"key {name!r}", "nothing")
        for key in layout.keys:
            if key.compute is not None:
                if key.checked and key.name in doc:
                    self._decode(key.computed_type, doc[key.name], f"{path}.{key.name}", inner)
                continue
            if key.when is not None and found.get(key.when[0]) not in key.when[1]:
                continue
            place: Mapping[str, JSON] = doc
            where = path
            for name in key.at:
                nested = place.get(name, {})
                where = f"{where}.{name}"
                if not isinstance(nested, dict):
                    raise CodecError(where, "an object", shown(nested))
                place = nested
            kind = self.type_of(layout.cls, key.field)
            if key.name not in place:
                if not self._optional(layout.cls, key, kind):
                    raise CodecError(where, f"key {key.name!r}", "nothing")
                continue
            value = self._decode(kind, place[key.name], f"{where}.{key.name}", inner, key.scalar)
            _put(found, key.field, value)
            if key.field in layout.provides:
                inner[key.field] = value
        return self._build(layout, found, path, context)

    def _optional(self, cls: type, key: Key, kind: Any) -> bool:
        """A key that may be missing: its field has a default or takes None (unless the
        key says otherwise)."""
        if key.required is not None:
            return not key.required
        if type(None) in _args(kind):
            return True
        owner, _, name = key.field.rpartition(".")
        holder = self.type_of(cls, owner) if owner else cls
        return self._default(holder, name) is not _MISSING

    def _build(
        self, layout: Layout, found: dict[str, Any], path: str, context: Mapping[str, Any]
    ) -> Any:
        for name, value in list(found.items()):
            if isinstance(value, dict) and name in self.hints(layout.cls):
                sub = self.hints(layout.cls)[name]
                if isinstance(sub, type) and sub in self.layouts:
                    sub_layout = self.layouts[sub]
                    value.update({n: context[n] for n in sub_layout.context if n in context})
                    found[name] = self._build(sub_layout, value, path, context)
        if layout.check is not None:
            try:
                layout.check(found)
            except CodecError as exc:
                where = f"{path}.{exc.path}" if exc.path else path
                raise CodecError(where, exc.expected, exc.found) from None
        return (layout.build or layout.cls)(**found)

    # ------------------------------------------------------------------ schema

    def schema(self, cls: type, **top: object) -> dict[str, object]:
        """The JSON Schema (draft 2020-12) of a ``cls`` document; ``top`` adds keywords."""
        defs: dict[str, object] = {}
        body = self._schema_of(cls, defs)
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **top,
            **body,
            "$defs": dict(sorted(defs.items())),
        }

    def _schema_of(self, kind: Any, defs: dict[str, object], scalar: Scalar | None = None) -> Any:
        if scalar is not None:
            return dict(scalar.schema)
        origin, args = typing.get_origin(kind), _args(kind)
        if origin in (Union, types.UnionType) and type(None) in args:
            rest = [a for a in args if a is not type(None)]
            inner = self._schema_of(rest[0], defs)
            return {"anyOf": [inner, {"type": "null"}]}
        if kind in self.scalars:
            return dict(self.scalars[kind].schema)
        if isinstance(kind, type) and kind in self.layouts:
            name = kind.__name__
            if name not in defs:
                defs[name] = {}  # a placeholder, for recursion
                defs[name] = self._object_schema(self.layouts[kind], defs)
            return {"$ref": f"#/$defs/{name}"}
        if origin is Literal:
            return {"enum": list(args)}
        if origin is tuple:
            return {"type": "array", "items": self._schema_of(args[0], defs)}
        if origin in (Mapping, dict) or kind is dict:
            if args and typing.get_origin(args[0]) is Literal:
                return {
                    "type": "object",
                    "propertyNames": {"enum": list(_args(args[0]))},
                    "additionalProperties": self._schema_of(args[1], defs),
                }
            return {"type": "object"}
        simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
        if kind in simple:
            return {"type": simple[kind]}
        return {}

    def _object_schema(self, layout: Layout, defs: dict[str, object]) -> dict[str, object]:
        root: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        conditions: list[dict[str, object]] = []
        for key in layout.keys:
            place = root
            for name in key.at:
                holder = place["properties"].setdefault(
                    name, {"type": "object", "properties": {}, "required": []}
                )
                place = holder
            if key.compute is not None:
                prop = self._schema_of(key.computed_type, defs)
                prop = {**prop, "readOnly": True}
            else:
                kind = self.type_of(layout.cls, key.field)
                prop = self._schema_of(kind, defs, key.scalar)
                required = not self._optional(layout.cls, key, kind)
                if required and key.when is None:
                    place["required"].append(key.name)
                elif required and key.when is not None:
                    on, values = key.when
                    field_key = next(k.name for k in layout.keys if k.field == on)
                    conditions.append(
                        {
                            "if": {"properties": {field_key: {"enum": list(values)}}},
                            "then": {"required": [key.name]},
                        }
                    )
            if key.description:
                prop = {**prop, "description": key.description}
            place["properties"][key.name] = prop
        _drop_empty_required(root)
        if layout.description:
            root = {"description": layout.description, **root}
        if conditions:
            root["allOf"] = conditions
        if layout.together:
            root["dependentRequired"] = {
                name: [other for other in names if other != name]
                for names in layout.together
                for name in names
            }
        return root


def _drop_empty_required(schema: dict[str, Any]) -> None:
    if not schema.get("required"):
        schema.pop("required", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict) and prop.get("type") == "object" and "properties" in prop:
            _drop_empty_required(prop)


def _args(kind: Any) -> tuple[Any, ...]:
    return typing.get_args(kind)


def _get(value: object, attr: str) -> Any:
    for part in attr.split("."):
        value = getattr(value, part)
    return value


def _put(found: dict[str, Any], attr: str, value: object) -> None:
    *owners, name = attr.split(".")
    place = found
    for owner in owners:
        place = cast(dict[str, Any], place.setdefault(owner, {}))
    place[name] = value


__all__ = ["JSON", "TIME", "Codec", "CodecError", "Key", "Layout", "Scalar", "shown"]
