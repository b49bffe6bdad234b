"""JSON-LD feeds: bounded JSON reading and pinned contexts, so nothing is ever fetched.

The registry's own context and schema.org's are replaced by local copies before the
parser sees the document; any other remote context is an error, never a request.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from core import resources
from harvester.errors import FeedError

_LTC_CONTEXT_IRIS = (
    "https://w3id.org/ltc/context.jsonld",
    "http://w3id.org/ltc/context.jsonld",
)
_SCHEMA_CONTEXT_IRIS = (
    "https://schema.org",
    "https://schema.org/",
    "http://schema.org",
    "http://schema.org/",
    "https://schema.org/docs/jsonldcontext.json",
    "http://schema.org/docs/jsonldcontext.json",
    "https://schema.org/docs/jsonldcontext.jsonld",
)


@cache
def pinned_contexts() -> dict[str, Any]:
    """Context IRI → the ``@context`` value of its pinned local copy."""
    ltc = json.loads(resources.read_text("ontology", "context.jsonld"))["@context"]
    schema = json.loads(resources.read_text("ontology", "contexts/schemaorg.jsonld"))["@context"]
    pinned = dict.fromkeys(_LTC_CONTEXT_IRIS, ltc)
    pinned.update(dict.fromkeys(_SCHEMA_CONTEXT_IRIS, schema))
    return pinned


def json_depth(document: Any, stop_after: int = 1_000_000) -> int:
    """Deepest nesting of arrays/objects of a parsed JSON document, level by level
    (no recursion; list comprehensions keep it cheap on large feeds)."""
    containers = (dict, list)
    level = [document] if isinstance(document, containers) else []
    depth = 0
    while level and depth <= stop_after:
        depth += 1
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if isinstance(child, containers)
        ]
    return depth


def _too_deep(depth: int | str, max_depth: int) -> FeedError:
    return FeedError(
        f"document JSON trop imbriqué ({depth} niveaux, {max_depth} au plus)",
        f"JSON document nested too deeply ({depth} levels, at most {max_depth})",
    )


def load_json(data: bytes, max_depth: int) -> Any:
    """Parse JSON and refuse deep nesting before any RDF parser sees it (pyoxigraph's
    JSON-LD parser crashes the process a few thousand levels down)."""
    try:
        document = json.loads(data)
    except RecursionError as error:  # the json module's own guard, far below a crash
        raise _too_deep("plus de 900", max_depth) from error
    except json.JSONDecodeError as error:
        raise FeedError(
            f"JSON invalide : {error.msg}",
            f"invalid JSON: {error.msg}",
            line=error.lineno,
            column=error.colno,
        ) from error
    except UnicodeDecodeError as error:
        raise FeedError("le fichier n'est pas en UTF-8", "the file is not UTF-8") from error
    depth = json_depth(document, stop_after=max_depth)
    if depth > max_depth:
        raise _too_deep(depth, max_depth)
    return document


def _resolve_context(value: Any) -> Any:
    if isinstance(value, str):
        pinned = pinned_contexts().get(value)
        if pinned is None:
            raise FeedError(
                f"contexte JSON-LD distant non autorisé : {value} "
                f"(utilisez https://w3id.org/ltc/context.jsonld)",
                f"remote JSON-LD context not allowed: {value} "
                f"(use https://w3id.org/ltc/context.jsonld)",
            )
        return pinned
    if isinstance(value, list):
        return [_resolve_context(item) for item in value]
    if isinstance(value, dict):
        if "@import" in value:
            resolved = dict(value)
            imported = _resolve_context(resolved.pop("@import"))
            # An imported context is merged under the local definitions (JSON-LD 1.1 §4.1.10).
            return {**imported, **resolved} if isinstance(imported, dict) else resolved
        return {key: _inline_contexts(item) for key, item in value.items()}
    return value


def _inline_contexts(node: Any) -> Any:
    """Return ``node`` with every ``@context`` reference replaced by its pinned copy."""
    if isinstance(node, list):
        return [_inline_contexts(item) for item in node]
    if isinstance(node, dict):
        return {
            key: _resolve_context(value) if key == "@context" else _inline_contexts(value)
            for key, value in node.items()
        }
    return node


def _nullification() -> FeedError:
    return FeedError(
        "contexte JSON-LD refusé : « null » annule le contexte LTC, qui est protégé ; pour "
        "ajouter vos propres clés, mettez-les après lui : "
        '"@context": ["https://w3id.org/ltc/context.jsonld", {…}]',
        "JSON-LD context refused: null would clear the protected LTC context; to add keys "
        'of your own, put them after it: "@context": ["https://w3id.org/ltc/context.jsonld", '
        "{…}]",
    )


def refuse_protected_nullification(document: Any) -> None:
    """Refuse a ``null`` context once the LTC context is active (``[ltc, null, {…}]``, or
    ``"@context": null`` in a node below one using it): the LTC context is protected, and
    JSON-LD 1.1 makes clearing protected terms an error (« invalid context
    nullification »), as jsonld.js and pyld report it. Walks the document level by level."""
    level: list[tuple[Any, bool]] = [(document, False)]
    while level:
        following: list[tuple[Any, bool]] = []
        for node, protected in level:
            if isinstance(node, list):
                following += [(item, protected) for item in node if isinstance(item, dict | list)]
                continue
            if not isinstance(node, dict):
                continue
            if "@context" in node:
                value = node["@context"]
                for item in value if isinstance(value, list) else [value]:
                    if item is None and protected:
                        raise _nullification()
                    if item is None:
                        protected = False
                    elif isinstance(item, str) and item in _LTC_CONTEXT_IRIS:
                        protected = True
            following += [
                (child, protected)
                for key, child in node.items()
                if key != "@context" and isinstance(child, dict | list)
            ]
        level = following


def prepare(data: bytes, max_depth: int) -> bytes:
    """A JSON-LD document ready for the parser: bounded, with its contexts inlined."""
    document = load_json(data, max_depth)
    if b'"@context"' not in data:  # expanded JSON-LD: nothing to pin, no need to re-encode
        return data
    if not isinstance(document, dict | list):
        raise FeedError(
            "le document JSON-LD doit être un objet ou une liste",
            "a JSON-LD document must be an object or an array",
        )
    refuse_protected_nullification(document)
    return json.dumps(_inline_contexts(document), ensure_ascii=False).encode("utf-8")
