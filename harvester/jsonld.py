"""JSON-LD feeds: bounded JSON reading and pinned contexts, so nothing is ever fetched.

The registry's own context and schema.org's are replaced by local copies before the
parser sees the document; any other remote context is an error, never a request.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from harvester.errors import FeedError
from ltc import resources

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


def json_depth(data: bytes) -> int:
    """Deepest nesting of arrays/objects, found without recursion (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def load_json(data: bytes, max_depth: int) -> Any:
    depth = json_depth(data)
    if depth > max_depth:
        raise FeedError(
            f"document JSON trop imbriqué ({depth} niveaux, {max_depth} au plus)",
            f"JSON document nested too deeply ({depth} levels, at most {max_depth})",
        )
    try:
        return json.loads(data)
    except json.JSONDecodeError as error:
        raise FeedError(
            f"JSON invalide : {error.msg}",
            f"invalid JSON: {error.msg}",
            line=error.lineno,
            column=error.colno,
        ) from error
    except UnicodeDecodeError as error:
        raise FeedError("le fichier n'est pas en UTF-8", "the file is not UTF-8") from error


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


def prepare(data: bytes, max_depth: int) -> bytes:
    """A JSON-LD document ready for the parser: bounded, with its contexts inlined."""
    document = load_json(data, max_depth)
    if not isinstance(document, dict | list):
        raise FeedError(
            "le document JSON-LD doit être un objet ou une liste",
            "a JSON-LD document must be an object or an array",
        )
    return json.dumps(_inline_contexts(document), ensure_ascii=False).encode("utf-8")
