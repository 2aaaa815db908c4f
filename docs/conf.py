"""Sphinx configuration of the moor7 documentation.

Build (what CI and ``nox -s docs`` run)::

    sphinx-build -W --keep-going -n -b html docs docs/_build/html

Pages are MyST Markdown; the reference comes from the docstrings (Google style, read
by Napoleon). The build works offline: there is no intersphinx, so references to
Python's, aiohttp's or redis-py's own names are left unlinked (see ``nitpick_ignore``
below), while every reference to a moor7 name must resolve (``-n``).
"""

from __future__ import annotations

import enum
import importlib
import inspect
import re
from typing import Any

import attrs

import moor7

project = "moor7"
author = "moor7 developers"
copyright = "moor7 developers"
release = moor7.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    # A copy button on every code block (executablebooks' extension, kept beside MyST).
    "sphinx_copybutton",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
language = "en"

# -- MyST ----------------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
# "## Heading" gets an anchor, so pages can link to [a section](page.md#heading).
myst_heading_anchors = 3

# -- autodoc and Napoleon --------------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True

# -- references --------------------------------------------------------------------

nitpicky = True
# Names outside moor7 (the standard library, aiohttp, redis-py, attrs) have no
# inventory in an offline build: leave them unlinked. Every moor7 name must resolve.
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(asyncio|collections\.abc|contextlib|datetime|enum|ssl|time|typing|aiohttp|redis|multidict)\..+",
    ),
    # The type variable of a generic base (ResultList[T]) or of an overload read from
    # the source (request(result_type: type[R]) -> R): nothing to link to.
    (r"py:.*", r"(moor7\._\w+(\._\w+)*\.)?[TRE]"),
]

# -- the copy button ---------------------------------------------------------------------

# A console block copies its commands without their "$ " prompts and without the
# output shown after them, and a command continued with a backslash whole. A block
# without prompts (most of ours: commands with # comments) is copied as it stands.
copybutton_prompt_text = r"\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
copybutton_line_continuation_character = "\\"

# -- HTML ----------------------------------------------------------------------------

html_theme = "furo"
html_title = f"moor7 {version}"
html_show_sourcelink = False
# Long code lines scroll visibly instead of being cut off (see the file's comment).
html_static_path = ["_static"]
html_css_files = ["moor7.css"]

# moor7.AsyncClient, moor7._client.AsyncClient, AsyncClient.request, moor7.APIError.code
_MOOR7_TARGET = re.compile(r"^(moor7(\._\w+)*\.)?(?P<name>[A-Za-z]\w*)(?P<rest>(\.[A-Za-z_]\w*)*)$")
# Where each public name is documented. The exceptions are exported by both moor7 and
# moor7.exceptions; they are documented once, under moor7.exceptions.
_DOCUMENTED_IN = ("moor7.exceptions", "moor7", "moor7.testing")


def _public_target(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a reference to a public name wherever it is documented.

    Implementation lives in private modules and is documented under the public name it
    is exported as, but type hints carry the private module path
    (``moor7._client.AsyncClient``); a docstring in one module may name another's class
    without its module (``AuthenticationError.clock_skew`` in ``moor7._signing``); and
    ``moor7.APIError`` is documented as ``moor7.exceptions.APIError``.
    """
    if node.get("refdomain") != "py":
        return None
    match = _MOOR7_TARGET.match(node.get("reftarget", ""))
    if match is None:
        return None
    name, rest = match["name"], match["rest"]
    for public in _DOCUMENTED_IN:
        module = importlib.import_module(public)
        if name in getattr(module, "__all__", ()):
            target = f"{public}.{name}{rest}"
            if target == node["reftarget"]:
                return None
            domain = env.get_domain("py")
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], target, node, contnode
            )
    return None


_ATTRS_DEFAULT = re.compile(r"attr_dict\['(?P<name>\w+)'\]\.default")


def _defaults_as_users_see_them() -> dict[str, str]:
    from moor7 import _client

    return {
        "DEFAULT_TIMEOUT": repr(_client.DEFAULT_TIMEOUT),
        "DEFAULT_MAX_RETRIES": repr(_client.DEFAULT_MAX_RETRIES),
        "_random_nonce": "...",
    }


def _factory_default(factory: Any) -> str:
    """``attrs.Factory(list)`` as the value it makes, ``[]``."""
    return repr(factory.factory())


def _readable_signature(
    app: Any,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    """Write signatures with the values a user sees, not the private names behind them."""
    if inspect.isclass(obj) and (getattr(obj, "_is_protocol", False) or issubclass(obj, enum.Enum)):
        # A protocol is implemented, an enum's members are used: neither is called.
        return "", return_annotation
    if signature is not None:
        for private, shown in _defaults_as_users_see_them().items():
            signature = re.sub(rf"= {private}\b", f"= {shown}", signature)
        if attrs.has(obj):
            fields = attrs.fields_dict(obj)

            def default(match: re.Match[str]) -> str:
                value = fields[match["name"]].default
                return _factory_default(value) if isinstance(value, attrs.Factory) else repr(value)

            signature = _ATTRS_DEFAULT.sub(default, signature)
            for field in fields.values():
                if isinstance(field.default, attrs.Factory):
                    signature = re.sub(
                        rf"(\b{field.name}: [^=]+= )NOTHING",
                        rf"\g<1>{_factory_default(field.default)}",
                        signature,
                    )
    wrapped = getattr(obj, "__wrapped__", None)
    if wrapped is not None and inspect.isasyncgenfunction(wrapped):
        # An @asynccontextmanager method: what it returns is the context manager.
        return_annotation = "~contextlib.AbstractAsyncContextManager[None]"
    return signature, return_annotation


def _public_bases(app: Any, name: str, obj: Any, options: Any, bases: list[Any]) -> None:
    """Show a private base class (``_RequestError``) as its public base instead."""
    for i, base in enumerate(bases):
        while isinstance(base, type) and base.__name__.startswith("_"):
            base = base.__bases__[0]
        bases[i] = base


# The language of the pages below a folder, for their <html lang>: the rest is English
# (`language`). Screen readers pick their voice by it, browsers their CJK fonts, and
# translation offers stay away from a page already in the reader's language.
_PAGE_LANGUAGES = {"zh/": "zh"}


def _page_language(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    for folder, language in _PAGE_LANGUAGES.items():
        if pagename.startswith(folder):
            context["language"] = language  # furo's base.html: <html lang="{{ language }}">


def setup(app: Any) -> None:
    app.connect("html-page-context", _page_language)
    app.connect("missing-reference", _public_target)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-process-signature", _readable_signature)
