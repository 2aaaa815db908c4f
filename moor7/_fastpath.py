"""The fast path: the converter's own hooks, compiled per model into one plain function.

cattrs stays the converter of record. For each type it is asked for, the fast path
takes the hook the converter chose (the rules of ``_convert.py`` record what each of
their hooks does in ``_convert._RULES``) and writes one Python function that does the
same for the values a healthy answer holds: a ``dict`` per record, and for each field
the JSON type the gateway usually sends (``str`` for text, ``int`` for numbers and
enums, a listed enum value, a time already read or that ``fromisoformat()`` reads). Those
cases are inlined, each the first branches of the hook it stands for, verbatim; every
other value is handed to the field's hook itself, the function the converter would
call. A list of a flat model (a number's groups) is built in a loop inside its
parent's function, each item's body written in place. Instances are made with
``object.__new__`` on a building subclass that takes plain attribute stores, then
given their model's class (see :func:`_building_class`): the same object attrs'
``__init__`` makes, without a call per field.

No error of the fast path reaches a caller: any exception (a missing required key, a
hook's complaint, anything unforeseen) makes :func:`moor7._convert.structure` run the
converter on the same data from the start, so a bad record fails with exactly the
converter's error, path and message. A model with attrs features the fast path does
not reproduce (validators, converters, ``__attrs_post_init__``, hidden slots such as a
cached hash, fields outside ``__init__``) is not compiled: its hook is called instead.
"""

from __future__ import annotations

import itertools
import keyword
import operator
import types
from collections.abc import Callable
from typing import Any

import attrs
import cattrs

from ._convert import (
    _RULES,
    _TIMES,
    _TIMES_KEPT,
    Rule,
    _combine,
    _dig,
    _from_iso,
    _hook,
    _to_int,
    _to_optional_bool,
    _to_optional_datetime,
    _to_optional_float,
    _to_optional_int,
    _to_optional_str,
    _to_str,
)
from ._models import CHINA_STANDARD_TIME

__all__ = ["FastPath"]

_MISSING = object()

# The leaves whose first branch is inlined, by hook: {v} is the value, {call} the hook
# called on it. Each expression is the hook's own first test and result, verbatim.
_LEAVES: dict[Callable[..., Any], str] = {
    _to_str: "{v} if type({v}) is str else {call}",
    _to_int: "{v} if type({v}) is int else {call}",
    _to_optional_str: "({v} or None) if type({v}) is str else {call}",
    _to_optional_int: "{v} if type({v}) is int else {call}",
    _to_optional_float: "{v} if type({v}) is float else {call}",
    _to_optional_bool: "{v} if type({v}) is bool else {call}",
}


def _compilable(cls: type) -> bool:
    """Whether setting each field's slot is all that attrs' ``__init__`` does for *cls*."""
    if getattr(cls, "__attrs_pre_init__", None) or getattr(cls, "__attrs_post_init__", None):
        return False
    fields = attrs.fields(cls)
    for field in fields:
        if not field.init or field.validator is not None or field.converter is not None:
            return False
        if isinstance(field.default, attrs.Factory) and field.default.takes_self:  # type: ignore[arg-type]  # attrs.Factory is a class at run time
            return False
        if not isinstance(getattr(cls, field.name, None), types.MemberDescriptorType):
            return False  # not a slot (a dict class): keep attrs' own __init__
    # Every slot must be a field: a cached hash, say, is a slot that __init__ sets too.
    slots = {
        name
        for klass in cls.__mro__
        for name in getattr(klass, "__slots__", ())
        if name not in ("__weakref__", "__dict__")
    }
    return slots == {field.name for field in fields}


class FastPath:
    """The fast functions of one converter, each compiled on first use, then kept.

    Args:
        converter: A converter made by :func:`moor7._convert.make_converter`, whose
            hooks record their rules.
    """

    def __init__(self, converter: cattrs.Converter) -> None:
        self._converter = converter
        self._functions: dict[Any, Callable[[Any], Any]] = {}
        self._building: set[Any] = set()
        self._names = itertools.count()

    def function(self, type_: Any) -> Callable[[Any], Any]:
        """The fast function for *type_*: compiled where the rules allow, else the hook.

        Its result equals the converter's for every value it accepts; on any other
        value it raises, and the caller must then ask the converter (see the module
        docstring).
        """
        found = self._functions.get(type_)
        if found is not None:
            return found
        hook = _hook(self._converter, type_)
        rule = _RULES.get(hook)
        function: Callable[[Any], Any] | None = None
        # A model that contains itself, at any depth, calls its hook at the inner level.
        if rule is not None and type_ not in self._building:
            self._building.add(type_)
            try:
                function = self._compile(rule, hook, type_)
            finally:
                self._building.discard(type_)
        if function is None:

            def function(value: Any, hook: Any = hook, type_: Any = type_) -> Any:
                return hook(value, type_)

            if type_ in self._building:
                return function  # a stand-in for the inner level only: not kept
        self._functions[type_] = function
        return function

    def _compile(self, rule: Rule, hook: Any, type_: Any) -> Callable[[Any], Any] | None:
        namespace: dict[str, Any] = {}
        name = f"structure_{getattr(type_, '__name__', 'list')}"
        if rule.kind == "model":
            if not _compilable(rule.type):
                return None
            namespace.update(_hook=hook, _type=type_)
            lines = self._model(rule, namespace, name)
        elif rule.kind == "list":
            lines = [
                f"def {name}(value):",
                f"    return {self._expression('value', hook, type_, namespace)}",
            ]
        elif rule.kind == "result list":
            # None for the type, as the ResultList's hook calls its items' hook.
            items = self._expression("value", rule.inner, None, namespace)
            namespace["_result"] = rule.type
            lines = [
                f"def {name}(value):",
                f"    result = _result({items})",
                "    result.raw = value",
                "    return result",
            ]
        else:
            return None
        source = "\n".join(lines)
        # Our own source, written from the models' fields: nothing from outside runs.
        exec(compile(source, f"<moor7 fast path for {type_!r}>", "exec"), namespace)  # noqa: S102
        return namespace[name]  # type: ignore[no-any-return]

    def _bind(self, namespace: dict[str, Any], value: Any, prefix: str) -> str:
        name = f"{prefix}{next(self._names)}"
        namespace[name] = value
        return name

    def _expression(self, v: str, hook: Any, type_: Any, namespace: dict[str, Any]) -> str:
        """An expression for what *hook* makes of *v*, its rule's common case inlined."""
        h = self._bind(namespace, hook, "_h")
        t = self._bind(namespace, type_, "_t")
        call = f"{h}({v}, {t})"
        leaf = _LEAVES.get(hook)
        if leaf is not None:
            return leaf.format(v=v, call=call)
        rule = _RULES.get(hook)
        if rule is None:
            return call
        if rule.kind == "model":
            # The model's function sends anything but a dict to the model's hook itself.
            return f"{self._bind(namespace, self.function(rule.type), '_f')}({v})"
        if rule.kind == "optional model":
            function = self._bind(namespace, self.function(rule.type), "_f")
            return f"{function}({v}) if type({v}) is dict else {call}"
        if rule.kind == "list":
            item_rule = _RULES.get(rule.inner)
            if item_rule is not None and item_rule.kind == "model":
                # map() calls the model's function from C: no comprehension's function
                # object made per list, and no frame.
                function = self._bind(namespace, self.function(item_rule.type), "_f")
                return f"list(map({function}, {v})) if type({v}) is list else {call}"
            item = f"_item{next(self._names)}"
            each = self._expression(item, rule.inner, rule.type, namespace)
            return f"[{each} for {item} in {v}] if type({v}) is list else {call}"
        return call

    def _assign(
        self, v: str, hook: Any, type_: Any, namespace: dict[str, Any], target: str
    ) -> list[str]:
        """Statements that set *target* to what *hook* makes of *v*."""
        h = self._bind(namespace, hook, "_h")
        t = self._bind(namespace, type_, "_t")
        if hook is _to_optional_datetime:
            # The hook's first two branches, verbatim: a time already read, then what
            # fromisoformat() reads; anything else, and any refusal, the hook decides.
            namespace.update(
                _TIMES=_TIMES,
                _TIMES_KEPT=_TIMES_KEPT,
                _from_iso=_from_iso,
                _combine=_combine,
                _CST=CHINA_STANDARD_TIME,
            )
            return [
                f"if type({v}) is str:",
                f"    {target} = _TIMES.get({v})",
                f"    if {target} is None:",
                "        try:",
                f"            {target} = _from_iso({v})",
                "        except ValueError:",
                f"            {target} = {h}({v}, {t})",
                "        else:",
                f"            if {target}.tzinfo is None:",
                f"                {target} = _combine({target}, {target}.time(), _CST)",
                "            if len(_TIMES) >= _TIMES_KEPT:",
                "                _TIMES.clear()",
                f"            _TIMES[{v}] = {target}",
                "else:",
                f"    {target} = {h}({v}, {t})",
            ]
        rule = _RULES.get(hook)
        if rule is not None and rule.kind == "list":
            inline = self._inline_list(v, rule, h, t, namespace, target)
            if inline is not None:
                return inline
        if rule is None or rule.kind != "enum":
            return [f"{target} = {self._expression(v, hook, type_, namespace)}"]
        # A member found by its value, as the hook looks it up first; anything else (a
        # number sent as text, an unlisted value, "") the hook decides.
        members = {key: member for key, member in rule.inner.items() if key != ""}
        get = self._bind(namespace, members.get, "_members")
        namespace["_MISSING"] = _MISSING
        plain = "int" if rule.type is int else "str"
        return [
            f"{target} = {get}({v}, _MISSING) if type({v}) is {plain} else _MISSING",
            f"if {target} is _MISSING:",
            f"    {target} = {h}({v}, {t})",
        ]

    def _inline_list(
        self, v: str, rule: Rule, h: str, t: str, namespace: dict[str, Any], target: str
    ) -> list[str] | None:
        """A list of a flat model (leaves only: a number's groups) built in a loop here,
        each item's body written in place: no call per item. ``None`` for any other."""
        item_rule = _RULES.get(rule.inner)
        if item_rule is None or item_rule.kind != "model" or not _compilable(item_rule.type):
            return None
        cls = item_rule.type
        fields = {field.name: field for field in attrs.fields(cls)}
        keys = [wire for _, wire in item_rule.inner if isinstance(wire, str)]
        if len(keys) < 2:
            return None  # no whole-record read to build the loop on
        for name, wire in item_rule.inner:
            if wire is None:
                continue
            if isinstance(wire, tuple):
                return None
            kind = getattr(_RULES.get(_hook(self._converter, fields[name].type)), "kind", None)
            if kind not in (None, "enum"):
                return None  # a model, list or result list inside: not flat
        n = next(self._names)
        item, member, temp = f"_item{n}", f"_member{n}", f"_y{n}"
        names = {key: f"_i{n}_{index}" for index, key in enumerate(keys)}
        every_key = self._bind(namespace, operator.itemgetter(*keys), "_every_key")
        function = self._bind(namespace, self.function(cls), "_f")
        body = self._model_body(item_rule, namespace, names, value=item, instance=member, temp=temp)
        return [
            f"if type({v}) is list:",
            f"    {target} = []",
            f"    for {item} in {v}:",
            f"        if type({item}) is dict:",
            "            try:",
            f"                {', '.join(names.values())} = {every_key}({item})",
            "            except KeyError:",
            # A record without every key: the item's function reads it key by key.
            f"                {target}.append({function}({item}))",
            "                continue",
            *[f"        {line}" for line in body],
            f"            {target}.append({member})",
            "        else:",
            f"            {target}.append({function}({item}))",
            "else:",
            f"    {target} = {h}({v}, {t})",
        ]

    def _model(self, rule: Rule, namespace: dict[str, Any], name: str) -> list[str]:
        namespace.update(_new=object.__new__, _dig=_dig)
        keys = [wire for _, wire in rule.inner if isinstance(wire, str)]
        head = [
            # A dict, as JSON gives; any other value the model's hook decides.
            "    if type(value) is not dict:",
            "        return _hook(value, _type)",
        ]
        sparse = self._model_body(rule, namespace, None)
        if len(keys) < 2:
            return [f"def {name}(value):", *head, *sparse, "    return instance"]
        # A whole record, the common case: every key read at once, by one C call; a
        # record that lacks one (KeyError) takes the function that reads key by key.
        every_key = self._bind(namespace, operator.itemgetter(*keys), "_every_key")
        names = {key: f"_k{index}" for index, key in enumerate(keys)}
        return [
            f"def {name}_sparse(value):",
            *sparse,
            "    return instance",
            f"def {name}(value):",
            *head,
            "    try:",
            f"        {', '.join(names.values())} = {every_key}(value)",
            "    except KeyError:",
            f"        return {name}_sparse(value)",
            *self._model_body(rule, namespace, names),
            "    return instance",
        ]

    def _model_body(
        self,
        rule: Rule,
        namespace: dict[str, Any],
        read: dict[str, str] | None,
        *,
        value: str = "value",
        instance: str = "instance",
        temp: str = "x",
    ) -> list[str]:
        """Statements, indented one level, that make *instance* from the record *value*
        and set each field; each key's value from its variable in *read* (all read
        already), else read from the record key by key."""
        cls = rule.type
        fields = {field.name: field for field in attrs.fields(cls)}
        final = self._bind(namespace, cls, "_cls")
        building = _building_class(cls)
        if building is not None:
            # Plain attribute stores on the building class, then the instance becomes
            # cls (see _building_class): about a quarter of the time of slot setters.
            lines = [f"    {instance} = _new({self._bind(namespace, building, '_building')})"]
        else:
            lines = [f"    {instance} = _new({final})"]

        def store(name: str, to: str) -> str:
            if building is not None:
                return f"    {instance}.{name} = {to}"
            setter = self._bind(namespace, getattr(cls, name).__set__, f"_set_{name}")
            return f"    {setter}({instance}, {to})"

        def assign(name: str, v: str, hook: Any, type_: Any, indent: str = "    ") -> list[str]:
            statements = self._assign(v, hook, type_, namespace, temp)
            if len(statements) == 1:
                # One expression: stored at once, without the temporary.
                return [indent[4:] + store(name, statements[0].removeprefix(f"{temp} = "))]
            return [f"{indent}{line}" for line in statements] + [indent[4:] + store(name, temp)]

        for name, wire in rule.inner:
            field = fields[name]
            if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]  # a class at run time
                factory = field.default.factory
                default = self._bind(namespace, factory, "_factory") + "()"
            else:
                default = self._bind(namespace, field.default, "_default")
            if wire is None:
                # Not read from data: raw is the record itself, the rest their default.
                lines.append(store(name, value if name == "raw" else default))
                continue
            hook = _hook(self._converter, field.type)
            if isinstance(wire, tuple):
                # A nested value: the hook always sees it, None when a level is missing.
                path = self._bind(namespace, wire, "_path")
                lines.append(f"    v = _dig({value}, {path})")
                lines += assign(name, "v", hook, field.type)
            elif read is not None:
                lines += assign(name, read[wire], hook, field.type)
            elif field.default is attrs.NOTHING:
                # Required: a missing key raises KeyError, and the converter reports it.
                lines.append(f"    v = {value}[{wire!r}]")
                lines += assign(name, "v", hook, field.type)
            else:
                lines.append(f"    if {wire!r} in {value}:")
                lines.append(f"        v = {value}[{wire!r}]")
                lines += assign(name, "v", hook, field.type, "        ")
                lines.append("    else:")
                lines.append("    " + store(name, default))
        if building is not None:
            lines.append(f"    {instance}.__class__ = {final}")
        return lines


# One building class per model, made on first use (the sparse and the whole-record
# functions, and every FastPath, share it): each shows in cls.__subclasses__().
_BUILDING: dict[type, type | None] = {}


def _building_class(cls: type) -> type | None:
    """A subclass of *cls* whose instances take fields by plain attribute stores.

    A frozen attrs class refuses ``instance.field = value``, so the fast path would set
    each slot through its descriptor (``Cls.field.__set__(instance, value)``), a call
    per field. This subclass adds no slot and restores ``object``'s own
    ``__setattr__``/``__delattr__`` (both: they share one type slot), so its stores
    are the interpreter's plain slot stores; once every field is set, assigning
    ``__class__`` makes the instance a *cls*, the same object attrs' ``__init__`` would
    have made. The instance never leaves the compiled function before that, and a
    field that fails discards it. ``None`` where this cannot be done (a field name a
    store cannot spell, or an interpreter that refuses the ``__class__`` assignment),
    checked once, on a probe.
    """
    if cls not in _BUILDING:
        _BUILDING[cls] = _make_building_class(cls)
    return _BUILDING[cls]


def _make_building_class(cls: type) -> type | None:
    names = [field.name for field in attrs.fields(cls)]
    if not all(n.isidentifier() and not keyword.iskeyword(n) and n[:2] != "__" for n in names):
        return None
    try:
        building = type(
            f"{cls.__name__}Building",
            (cls,),
            {
                "__slots__": (),
                "__setattr__": object.__setattr__,
                "__delattr__": object.__delattr__,
                "__module__": __name__,
                "__doc__": f"A {cls.__name__} while the fast path fills it in.",
            },
        )
        probe: Any = object.__new__(building)
        marks = {name: object() for name in names}
        for name, mark in marks.items():
            setattr(probe, name, mark)
        probe.__class__ = cls
    except (TypeError, AttributeError):
        return None
    if type(probe) is not cls or any(getattr(probe, n) is not m for n, m in marks.items()):
        return None
    return building
