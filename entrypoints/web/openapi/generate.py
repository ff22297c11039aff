"""JSON Schemas generated from the classes the edge itself uses.

Request bodies and query parameters come from the attrs classes cattrs structures requests
into (``schema``), under their wire names; answers come from the TypedDicts they are
rendered as (``render``, ``errors``). A type becomes the JSON Schema of what the edge's
converter accepts for it (see ``schema``'s structure hooks), or of what the renderer
builds; ``Annotated[T, doc(…)]`` metadata (``shapes``) adds what the type cannot say.

Objects are closed (``additionalProperties: false``) and exact about null, so a fuzzer
that validates every answer against them notices a field that appears or changes type.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ...config import Settings
from .. import schema
from ..shapes import Doc, Setting

Schema = dict[str, Any]

# A number in a query string has at most QUERY_DIGITS digits; one in a JSON body must fit
# SQLite's signed 64-bit INTEGER.
QUERY_INT_RANGE = (-int("9" * schema.QUERY_DIGITS), int("9" * schema.QUERY_DIGITS))
INT64_RANGE = schema.INT_RANGE
# A unix time becomes a datetime, and those end with the year 9999.
UNIX_TIME_MAX = (datetime.max.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)

# What each token field of a body is for (schema.TOKEN_FIELDS names them).
TOKEN_DESCRIPTIONS = {
    "access_token": "An access token (instead of the Authorization header)",
    "refresh_token": "A refresh token (instead of the refresh cookie)",
    "jwt": "A token of the type the route expects",
}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(value: Schema) -> Schema:
    """The schema, or JSON null."""
    kind = value.get("type")
    if isinstance(kind, str) and not {"enum", "const"} & value.keys():
        return value | {"type": [kind, "null"]}
    return {"oneOf": [value, {"type": "null"}]}


def obj(
    properties: Schema, required: tuple[str, ...] | list[str] = (), *, closed: bool = True, **extra: Any
) -> Schema:
    value: Schema = {"type": "object", "properties": properties}
    if required:
        value["required"] = list(required)
    if closed:
        value["additionalProperties"] = False
    return value | extra


@attrs.frozen
class _Field:
    name: str  # the attribute
    wire: str  # the name on the wire
    hint: Any  # the annotation, metadata and all
    extra: tuple[Doc, ...]  # metadata kept outside the class
    required: bool
    default: Any  # attrs.NOTHING, or the default's JSON form


def _fields(cls: type, overlay: Mapping[str, Doc]) -> Iterator[_Field]:
    hints = typing.get_type_hints(cls, include_extras=True)
    wire_names = schema._WIRE_NAMES.get(cls, {})  # filled by schema._renamed
    for field in attrs.fields(cls):
        yield _Field(
            name=field.name,
            wire=wire_names.get(field.name, field.name),
            hint=hints[field.name],
            extra=(overlay[field.name],) if field.name in overlay else (),
            required=field.default is attrs.NOTHING,
            default=_json_default(field.default),
        )


def _json_default(default: Any) -> Any:
    if default is attrs.NOTHING:  # itself an Enum member
        return default
    if isinstance(default, attrs.Factory) and not default.takes_self:  # type: ignore[arg-type]
        default = default.factory()
    if isinstance(default, enum.Enum):
        default = default.value
    if isinstance(default, bool | int | float | str | list):
        return default
    return attrs.NOTHING  # None, or nothing JSON can say


def _unwrap(hint: Any) -> tuple[Any, tuple[Doc, ...]]:
    """The type inside ``Annotated`` layers, and their Doc markers, outermost first."""
    docs: tuple[Doc, ...] = ()
    while typing.get_origin(hint) is typing.Annotated:
        docs += tuple(m for m in hint.__metadata__ if isinstance(m, Doc))
        hint = hint.__origin__
    return hint, docs


def _without_none(hint: Any) -> tuple[Any, bool]:
    """``X | None`` → (X, True); ``X | Y | None`` → (X | Y, True); anything else → (it, False)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        if len(args) == 1 and optional:
            return args[0], True
        if optional:
            return typing.Union[tuple(args)], True  # noqa: UP007 (built from parts)
    return hint, False


class Components:
    """The named schemas of the document, generated as the path modules ask for them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schemas: dict[str, Schema] = {}
        self._answers: dict[str, type] = {}

    def add(self, name: str, value: Schema) -> Schema:
        """Name ``value`` in components/schemas; a reference to it."""
        if self.schemas.get(name, value) != value or name in self._answers:
            raise ValueError(f"two different schemas are named {name}")
        self.schemas[name] = value
        return ref(name)

    # --- requests ------------------------------------------------------------------

    def request(
        self,
        cls: type,
        *,
        name: str | None = None,
        closed: bool = True,
        overlay: Mapping[str, Doc] | None = None,
        omit: frozenset[str] = frozenset(),
        empty_means_unchanged: bool = False,
        **extra: Any,
    ) -> Schema:
        """A reference to the JSON body that ``cls`` is structured from (named after it,
        unless ``name``), with the token fields any body may carry. ``overlay`` documents
        the fields of a class that cannot carry metadata; ``omit`` leaves out fields the
        converter does not read; ``empty_means_unchanged`` lets every field be null or
        "" (a profile edit). ``extra`` are keywords of the object (rules across fields)."""
        properties: Schema = {}
        required = []
        for field in _fields(cls, overlay or {}):
            if field.name in omit:
                continue
            if empty_means_unchanged:
                value = self._request_value(field.hint, field.extra, query=False, null=False)
                described = {"description": value.pop("description")} if "description" in value else {}
                value = {"anyOf": [value, {"type": "null"}, {"const": ""}]} | described
            else:
                value = self._request_value(field.hint, field.extra, query=False, null=True)
            if field.default is not attrs.NOTHING:
                value["default"] = field.default
            properties[field.wire] = value
            if field.required:
                required.append(field.wire)
        properties |= self._token_fields()
        return self.add(name or cls.__name__, obj(properties, required, closed=closed, **extra))

    def parameters(self, cls: type) -> list[Schema]:
        """The query parameters ``cls`` is structured from; a field that is itself an
        attrs class (a page of history) contributes its fields beside the others."""
        found: list[Schema] = []
        for field in _fields(cls, {}):
            if attrs.has(_unwrap(field.hint)[0]):
                found.extend(self.parameters(_unwrap(field.hint)[0]))
                continue
            value = self._request_value(field.hint, field.extra, query=True, null=False)
            if field.default is not attrs.NOTHING:
                value["default"] = field.default
            parameter: Schema = {"name": field.wire, "in": "query", "required": field.required}
            if "description" in value:
                parameter["description"] = value.pop("description")
            found.append(parameter | {"schema": value})
        return found

    def _token_fields(self) -> Schema:
        if set(TOKEN_DESCRIPTIONS) != schema.TOKEN_FIELDS:
            raise LookupError(f"token fields without a description: {sorted(schema.TOKEN_FIELDS)}")
        return {
            name: self.add(
                "".join(part.title() for part in name.split("_")) + "Field",
                {"type": "string", "description": description},
            )
            for name, description in TOKEN_DESCRIPTIONS.items()
        }

    def _request_value(self, hint: Any, extra: tuple[Doc, ...], *, query: bool, null: bool) -> Schema:
        """What the edge's converter accepts for ``hint`` (``null``: is None one of it)."""
        hint, docs = _unwrap(hint)
        inner, optional = _without_none(hint)
        if optional:
            value = self._request_value(inner, (), query=query, null=False)
        else:
            value = self._request_type(inner, query=query)
        value = self._apply(value, docs + extra)
        return nullable(value) if optional and null else value

    def _request_type(self, hint: Any, *, query: bool) -> Schema:
        if typing.get_origin(hint) in (typing.Union, types.UnionType):  # one of several
            return {"oneOf": [self._request_type(a, query=query) for a in typing.get_args(hint)]}
        if hint is int:
            low, high = QUERY_INT_RANGE if query else INT64_RANGE
            return {"type": "integer", "minimum": low, "maximum": high}
        if hint is datetime:  # schema._structure_unix_time: unix seconds
            return {"type": "number", "maximum": UNIX_TIME_MAX}
        simple = {float: "number", str: "string", bool: "boolean"}
        if hint in simple:
            return {"type": simple[hint]}
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return {"type": "string", "enum": [member.value for member in hint]}
        if typing.get_origin(hint) is list and not query:
            (item,) = typing.get_args(hint)
            return {"type": "array", "items": self._request_value(item, (), query=query, null=False)}
        raise TypeError(f"no JSON Schema for the request field type {hint!r}")

    # --- answers -------------------------------------------------------------------

    def answer(self, shape: type) -> Schema:
        """A reference to the schema of an answer's TypedDict, named after it without
        ``Out``; the TypedDicts it holds become components too."""
        name = shape.__name__.removesuffix("Out")
        if name in self._answers and self._answers[name] is shape:
            return ref(name)
        if name in self.schemas or name in self._answers:
            raise ValueError(f"two different schemas are named {name}")
        self._answers[name] = shape
        self.schemas[name] = {}  # taken, while the shapes it holds refer to it
        self.schemas[name] = self.answer_schema(shape)
        return ref(name)

    def answer_schema(self, shape: type) -> Schema:
        """The schema of a TypedDict, in place (for one whose fields a path refines)."""
        hints = typing.get_type_hints(shape, include_extras=True)
        required = [key for key in hints if key in shape.__required_keys__]  # type: ignore[attr-defined]
        return obj({key: self._answer_value(hint) for key, hint in hints.items()}, required)

    def _answer_value(self, hint: Any) -> Schema:
        hint, docs = _unwrap(hint)
        inner, optional = _without_none(hint)
        value = self._answer_value(inner) if optional else self._answer_type(inner)
        value = self._apply(value, docs)
        return nullable(value) if optional else value

    def _answer_type(self, hint: Any) -> Schema:
        simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
        if hint is Any:
            return {}
        if hint in simple:
            return {"type": simple[hint]}
        if typing.is_typeddict(hint):
            return self.answer(hint)
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is list:
            return {"type": "array", "items": self._answer_value(args[0])}
        if origin is dict and args[0] is str:
            values = self._answer_value(args[1])
            return {"type": "object"} | ({"additionalProperties": values} if values else {})
        raise TypeError(f"no JSON Schema for the answer field type {hint!r}")

    # --- metadata ------------------------------------------------------------------

    def _apply(self, value: Schema, docs: tuple[Doc, ...]) -> Schema:
        """``value`` with the docs' keywords merged in (a Setting read now) and their
        description (``{NAME}`` in it is that setting)."""
        value = dict(value)
        for marker in docs:
            for key, given in marker.keywords.items():
                given = getattr(self.settings, given.name) if isinstance(given, Setting) else given
                if isinstance(given, dict) and isinstance(value.get(key), dict):
                    given = value[key] | given
                value[key] = given
            if marker.description is not None:
                value["description"] = marker.description.format_map(attrs.asdict(self.settings))
        return value
