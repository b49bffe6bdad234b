"""A fast SHACL engine: the shapes compiled into SPARQL queries run by pyoxigraph.

pyshacl is the reference engine; this one gives the same results at national
scale (millions of triples in seconds), but where pyshacl departs from the SHACL
specification (harvester/engine_differences.toml, checked by
tests/test_engine_differential.py). The shapes graph is compiled once into
SPARQL SELECT queries that return only the failing rows, merged so that the data
is read as few times as possible: one query per set of focus nodes for the
per-node checks (counts, node-level constraints) and one query per property path
for the per-value checks. Python only turns the (few) result rows into
:class:`ShapeResult` objects.

Supported (SHACL Core, what shapes/ltc-shapes.ttl uses): ``sh:targetClass``
(instances through the data graph's ``rdfs:subClassOf``, as pyshacl) and
``sh:targetObjectsOf``; ``sh:path`` an IRI or an ``sh:alternativePath`` of IRIs;
``sh:property``, ``sh:minCount``, ``sh:maxCount``, ``sh:datatype``, ``sh:nodeKind``,
``sh:in``, ``sh:pattern`` (+ ``sh:flags``), ``sh:minLength``, ``sh:minInclusive``,
``sh:maxInclusive``, ``sh:lessThan``, ``sh:or``, ``sh:not``, ``sh:qualifiedValueShape``
+ ``sh:qualifiedMinCount``, ``sh:severity``, ``sh:deactivated``. Anything else raises
:class:`UnsupportedShape` at compile time, naming the shape and the construct.

Semantics: the SHACL specification's, on the literals as the feed wrote them,
whatever the store does to literals when it loads them (see *Literals as the feed
wrote them* below: every typed literal is stored under a private datatype that keeps
it byte for byte):

* ``sh:datatype``: the datatype IRI as written (``xsd:dateTimeStamp`` or ``xsd:int``
  is not ``xsd:dateTime`` or ``xsd:integer``) and, for the XML Schema datatypes this
  module recognises, a lexical form in the datatype's lexical space (XML Schema 1.1:
  no surrounding spaces, no exponent in an ``xsd:decimal``, hour 24:00:00 allowed,
  29 February only in leap years, derived integer types within their bounds);
* ``sh:pattern`` and ``sh:minLength`` read the lexical form as written
  ("75001.0"^^xsd:decimal does not match ``^[0-9]{5}$``);
* ``sh:minCount``, ``sh:maxCount``, ``sh:in``: values are RDF terms, so "45.5" and
  "45.50" are two values;
* ``sh:minInclusive``, ``sh:maxInclusive``, ``sh:lessThan``: SPARQL's ``<=`` and ``<``
  on the values rebuilt from the written forms (an ``xsd:float`` is a 32-bit float,
  so "90.000001"^^xsd:float is 90; NaN, an ill-formed literal or values of kinds
  SPARQL does not compare fail the constraint). Numbers beyond the store's (64-bit
  integers, 18-digit decimals) are compared exactly in Python.

One departure from the letter of the specification, shared with pyshacl:
``sh:pattern`` uses Python's ``re`` dialect (``\\s`` is any Unicode space, ``$``
matches before a final line break), translated into the store's regex dialect where
the translation is exact and run in Python otherwise (:func:`translate_regex`).

oxigraph evaluates both operands of ``&&`` and ``||``; only ``IF`` (and ``COALESCE``)
is lazy, so the expressions are built from ``IF`` (see :func:`_and`). Python functions
called by the queries (pyoxigraph ``custom_functions``) only decide rare values.
"""

from __future__ import annotations

import logging
import math
import re
import struct
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from core.vocab import OWL, RDF, RDFS, SH, XSD

__all__ = [
    "CompiledShapes",
    "ShapeResult",
    "UnsupportedShape",
    "keep_written_forms",
    "kept",
    "kept_line",
    "well_formed",
    "written",
    "written_forms",
]

_RDF_TYPE = URIRef(RDF + "type")
_XSD_STRING = XSD + "string"
_LANG_STRING = RDF + "langString"
_VIOLATION = SH + "Violation"

# Ill-typed literals are what validation reports; rdflib need not log each one.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)


class UnsupportedShape(ValueError):
    """The shapes graph uses a SHACL construct this engine does not compile."""


@dataclass(frozen=True)
class ShapeResult:
    """One validation result, as pyshacl reports it (sh:ValidationResult)."""

    focus: ox.NamedNode | ox.BlankNode | ox.Literal
    source_shape: str
    severity: str
    path: str | None
    value: ox.NamedNode | ox.BlankNode | ox.Literal | None
    component: str


# ---------------------------------------------------------------------------
# The shapes, read from the shapes graph
# ---------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Parameters this engine compiles, and annotations that do not change results.
_PARAMETERS = _words(
    "path property minCount maxCount datatype nodeKind in pattern flags minLength minInclusive "
    "maxInclusive lessThan or not qualifiedValueShape qualifiedMinCount "
    "qualifiedValueShapesDisjoint targetClass targetObjectsOf severity deactivated"
)
_ANNOTATIONS = _words("message name description order group defaultValue")
# Predicates that make their subject a shape (supported or not).
_SHAPE_MARKERS = _words(
    "path property node targetClass targetNode targetObjectsOf targetSubjectsOf target sparql "
    "closed ignoredProperties and or xone not class hasValue in datatype nodeKind minCount "
    "maxCount minLength maxLength pattern languageIn uniqueLang equals disjoint lessThan "
    "lessThanOrEquals minInclusive maxInclusive minExclusive maxExclusive qualifiedValueShape "
    "expression rule"
)
# Predicates whose objects are shapes.
_SHAPE_VALUED = ("property", "node", "not", "qualifiedValueShape")
_SHAPE_LISTS = ("or", "and", "xone")

_NODE_KINDS = {
    SH + "IRI": "isIRI({v})",
    SH + "BlankNode": "isBLANK({v})",
    SH + "Literal": "isLITERAL({v})",
    SH + "BlankNodeOrIRI": "!isLITERAL({v})",
    SH + "BlankNodeOrLiteral": "!isIRI({v})",
    SH + "IRIOrLiteral": "!isBLANK({v})",
}


@dataclass(frozen=True)
class _Path:
    sparql: str
    result_path: str | None  # the IRI when the path is one predicate


@dataclass(eq=False)
class _Shape:
    node: Node
    name: str
    path: _Path | None
    severity: str
    deactivated: bool
    target_classes: list[str]
    target_objects_of: list[str]
    constraints: list[_Constraint] = field(default_factory=list)

    @property
    def has_targets(self) -> bool:
        return bool(self.target_classes or self.target_objects_of)


@dataclass(frozen=True)
class _Constraint:
    """One constraint component of a shape; ``kind`` names its parameter."""

    kind: str
    component: str
    args: tuple


_COMPONENTS = {
    "minCount": "MinCountConstraintComponent",
    "maxCount": "MaxCountConstraintComponent",
    "datatype": "DatatypeConstraintComponent",
    "nodeKind": "NodeKindConstraintComponent",
    "in": "InConstraintComponent",
    "pattern": "PatternConstraintComponent",
    "minLength": "MinLengthConstraintComponent",
    "minInclusive": "MinInclusiveConstraintComponent",
    "maxInclusive": "MaxInclusiveConstraintComponent",
    "lessThan": "LessThanConstraintComponent",
    "or": "OrConstraintComponent",
    "not": "NotConstraintComponent",
    "qualifiedMinCount": "QualifiedMinCountConstraintComponent",
    "property": "PropertyConstraintComponent",
}
# Constraints on the set of values of a focus node, not on each value.
_PER_FOCUS = {"minCount", "maxCount", "lessThan", "qualifiedMinCount"}


def _name(node: Node) -> str:
    return str(node) if isinstance(node, URIRef) else f"_:{node}"


class _Reader:
    """Reads the shapes graph into :class:`_Shape` objects, refusing what is not supported."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.shapes: dict[Node, _Shape] = {}
        self._reading: set[Node] = set()

    def shape_nodes(self) -> set[Node]:
        g = self.graph
        nodes: set[Node] = set()
        for kind in ("NodeShape", "PropertyShape"):
            nodes.update(g.subjects(_RDF_TYPE, URIRef(SH + kind)))
        for marker in _SHAPE_MARKERS:
            nodes.update(g.subjects(URIRef(SH + marker), None))
        for predicate in _SHAPE_VALUED:
            nodes.update(g.objects(None, URIRef(SH + predicate)))
        for predicate in _SHAPE_LISTS:
            for head in g.objects(None, URIRef(SH + predicate)):
                nodes.update(Collection(g, head))
        return nodes

    def _one(self, node: Node, name: str, parameter: str) -> Node | None:
        values = list(self.graph.objects(node, URIRef(SH + parameter)))
        if len(values) > 1:
            raise UnsupportedShape(f"{name}: several values of sh:{parameter}")
        return values[0] if values else None

    def _integer(self, node: Node, name: str, parameter: str) -> int | None:
        value = self._one(node, name, parameter)
        if value is None:
            return None
        if not isinstance(value, Literal) or not isinstance(value.value, int) or value.value < 0:
            raise UnsupportedShape(f"{name}: sh:{parameter} must be a non-negative integer")
        return int(value.value)

    def _list(self, node: Node, name: str, parameter: str) -> list[list[Node]]:
        lists = []
        for head in self.graph.objects(node, URIRef(SH + parameter)):
            lists.append(list(Collection(self.graph, head)))
        return lists

    def _path(self, node: Node, name: str) -> _Path | None:
        path = self._one(node, name, "path")
        if path is None:
            return None
        if isinstance(path, URIRef):
            return _Path(f"<{path}>", str(path))
        alternatives = list(self.graph.objects(path, URIRef(SH + "alternativePath")))
        others = [
            p for p in self.graph.predicates(path, None) if p != URIRef(SH + "alternativePath")
        ]
        if len(alternatives) == 1 and not others:
            members = list(Collection(self.graph, alternatives[0]))
            if members and all(isinstance(m, URIRef) for m in members):
                return _Path("(" + "|".join(f"<{m}>" for m in members) + ")", None)
        raise UnsupportedShape(
            f"{name}: sh:path must be an IRI or an sh:alternativePath of IRIs (property paths "
            "such as sequences or inverses are not supported)"
        )

    def read(self, node: Node) -> _Shape:
        if node in self.shapes:
            return self.shapes[node]
        name = _name(node)
        if node in self._reading:
            raise UnsupportedShape(f"{name}: recursive shapes are not supported")
        self._reading.add(node)
        g = self.graph
        for predicate in set(g.predicates(node, None)):
            if predicate == _RDF_TYPE:
                for kind in g.objects(node, _RDF_TYPE):
                    if kind in (URIRef(RDFS + "Class"), URIRef(OWL + "Class")):
                        raise UnsupportedShape(f"{name}: implicit class targets are not supported")
                continue
            text = str(predicate)
            if text.startswith(SH):
                local = text[len(SH) :]
                if local not in _PARAMETERS and local not in _ANNOTATIONS:
                    raise UnsupportedShape(f"{name}: sh:{local} is not supported")
        deactivated = self._one(node, name, "deactivated")
        severity = self._one(node, name, "severity")
        if severity is not None and not isinstance(severity, URIRef):
            raise UnsupportedShape(f"{name}: sh:severity must be an IRI")
        path = self._path(node, name)
        shape = _Shape(
            node=node,
            name=name,
            path=path,
            severity=str(severity) if severity is not None else _VIOLATION,
            deactivated=isinstance(deactivated, Literal) and deactivated.value is True,
            target_classes=[str(c) for c in g.objects(node, URIRef(SH + "targetClass"))],
            target_objects_of=[str(p) for p in g.objects(node, URIRef(SH + "targetObjectsOf"))],
        )
        for target in shape.target_classes + shape.target_objects_of:
            if target.startswith("_:") or not target:
                raise UnsupportedShape(f"{name}: targets must be IRIs")
        if any(not isinstance(t, URIRef) for t in g.objects(node, URIRef(SH + "targetClass"))):
            raise UnsupportedShape(f"{name}: sh:targetClass must be an IRI")
        if any(not isinstance(t, URIRef) for t in g.objects(node, URIRef(SH + "targetObjectsOf"))):
            raise UnsupportedShape(f"{name}: sh:targetObjectsOf must be an IRI")
        shape.constraints = self._constraints(node, name, path is not None)
        self._reading.discard(node)
        self.shapes[node] = shape
        return shape

    def _constraints(self, node: Node, name: str, is_property: bool) -> list[_Constraint]:
        g = self.graph
        out: list[_Constraint] = []

        def add(kind: str, *args: object) -> None:
            if kind in _PER_FOCUS and not is_property:
                raise UnsupportedShape(f"{name}: sh:{kind} needs a property shape (sh:path)")
            out.append(_Constraint(kind, SH + _COMPONENTS[kind], args))

        for kind in ("minCount", "maxCount"):
            value = self._integer(node, name, kind)
            if value is not None:
                add(kind, value)
        datatype = self._one(node, name, "datatype")
        if datatype is not None:
            if not isinstance(datatype, URIRef):
                raise UnsupportedShape(f"{name}: sh:datatype must be an IRI")
            add("datatype", str(datatype))
        kind_node = self._one(node, name, "nodeKind")
        if kind_node is not None:
            if str(kind_node) not in _NODE_KINDS:
                raise UnsupportedShape(f"{name}: unknown sh:nodeKind {kind_node}")
            add("nodeKind", str(kind_node))
        for members in self._list(node, name, "in"):
            if any(isinstance(m, BNode) for m in members):
                raise UnsupportedShape(f"{name}: blank nodes in sh:in are not supported")
            add("in", tuple(members))
        patterns = list(g.objects(node, URIRef(SH + "pattern")))
        flags = self._one(node, name, "flags")
        for pattern in patterns:
            if not isinstance(pattern, Literal):
                raise UnsupportedShape(f"{name}: sh:pattern must be a literal")
            add("pattern", pattern, flags)
        min_length = self._integer(node, name, "minLength")
        if min_length is not None:
            add("minLength", min_length)
        for kind in ("minInclusive", "maxInclusive"):
            for bound in g.objects(node, URIRef(SH + kind)):
                if not isinstance(bound, Literal):
                    raise UnsupportedShape(f"{name}: sh:{kind} must be a literal")
                add(kind, bound)
        for other in g.objects(node, URIRef(SH + "lessThan")):
            if not isinstance(other, URIRef):
                raise UnsupportedShape(f"{name}: sh:lessThan must be an IRI")
            add("lessThan", str(other))
        for members in self._list(node, name, "or"):
            add("or", tuple(self.read(m) for m in members))
        for negated in g.objects(node, URIRef(SH + "not")):
            add("not", self.read(negated))
        qualified = list(g.objects(node, URIRef(SH + "qualifiedValueShape")))
        q_min = self._integer(node, name, "qualifiedMinCount")
        disjoint = self._one(node, name, "qualifiedValueShapesDisjoint")
        if isinstance(disjoint, Literal) and disjoint.value is True:
            raise UnsupportedShape(f"{name}: sh:qualifiedValueShapesDisjoint is not supported")
        if qualified and q_min is None:
            raise UnsupportedShape(f"{name}: sh:qualifiedValueShape needs sh:qualifiedMinCount")
        if q_min is not None and len(qualified) != 1:
            raise UnsupportedShape(f"{name}: sh:qualifiedMinCount needs one sh:qualifiedValueShape")
        if qualified:
            add("qualifiedMinCount", self.read(qualified[0]), q_min)
        for nested in g.objects(node, URIRef(SH + "property")):
            nested_shape = self.read(nested)
            if nested_shape.path is None:
                raise UnsupportedShape(f"{_name(nested)}: a value of sh:property needs sh:path")
            add("property", nested_shape)
        return out


# ---------------------------------------------------------------------------
# Literals as the feed wrote them
# ---------------------------------------------------------------------------

# An oxigraph store rewrites typed literals when it loads them: canonical lexical
# forms ("45.50" → "45.5", "+45" → "45", "1.0E1"^^xsd:double → "10"), derived or
# related datatypes (xsd:int, xsd:byte… → xsd:integer, xsd:dateTimeStamp →
# xsd:dateTime), hour 24 → 00 of the next day. SHACL reads literals as written:
# sh:datatype compares datatype IRIs, sh:pattern and sh:minLength read the lexical
# form, and two literals that differ in lexical form are two values (sh:maxCount).
#
# So the store the queries read never holds a typed literal it could rewrite: every
# literal with a datatype other than xsd:string and rdf:langString (which the store
# keeps as they are) is stored with the private datatype ``_KEPT + datatype`` and its
# lexical form unchanged (:func:`kept`, :func:`keep_written_forms`). The store keeps
# literals of unknown datatypes byte for byte, whatever it does to known ones. The
# checks read the written datatype and lexical form from it, rebuild the value with
# ``STRDT(STR(?v), datatype)`` where a value is compared, and results give the
# literal back as written (:func:`written`).
_KEPT = "urn:x-ltc-shacl:kept-datatype:"
_XSD_STRING_BYTES = (XSD + "string").encode()
_LANG_STRING_BYTES = (RDF + "langString").encode()
# The datatype of a line's object literal: in N-Triples text as ``Record.lines`` and
# oxigraph write it (one statement per line, "<s> <p> o .\n"), the only `"^^<…> .`
# followed by the end of the line. A string cannot hide one: its quotes are escaped
# and it holds no raw line break.
_LINE_DATATYPE = re.compile(
    rb'"\^\^<(?!'
    + re.escape(_XSD_STRING_BYTES)
    + rb">|"
    + re.escape(_LANG_STRING_BYTES)
    + rb">)([^>]*)> \.$",
    re.MULTILINE,
)
_KEPT_LINE_DATATYPE = re.compile(rb'"\^\^<' + re.escape(_KEPT.encode()) + rb"([^>]*)> \.$", re.M)


def keep_written_forms(ntriples: bytes) -> bytes:
    """N-Triples text (one statement per line, as ``Record.lines`` hold them) with every
    typed literal under its private datatype: what a validation store may load. The
    inverse is :func:`written_forms`."""
    if b'"^^<' not in ntriples:
        return ntriples
    return _LINE_DATATYPE.sub(b'"^^<' + _KEPT.encode() + rb"\1> .", ntriples)


_KEPT_STRING_LINE = f'"^^<{_XSD_STRING}> .\n'


def kept_line(line: str) -> str:
    """One N-Triples line (``Record.lines``) as :func:`keep_written_forms` writes it;
    faster than the whole text through the regular expression when lines are at hand."""
    if line[-4:] == "> .\n" and '"^^<' in line:
        i = line.rindex('"^^<') + 4
        if line[i - 4 :] != _KEPT_STRING_LINE:
            return line[:i] + _KEPT + line[i:]
    return line


def written_forms(ntriples: bytes) -> bytes:
    """The N-Triples text :func:`keep_written_forms` was given (e.g. a dump of a
    validation store), literals back under their own datatypes."""
    return _KEPT_LINE_DATATYPE.sub(rb'"^^<\1> .', ntriples)


def kept(
    term: ox.NamedNode | ox.BlankNode | ox.Literal,
) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """The term a validation store holds for ``term`` (see :func:`keep_written_forms`)."""
    if type(term) is not ox.Literal or term.language:
        return term
    datatype = term.datatype.value
    if datatype == _XSD_STRING:
        return term
    return ox.Literal(term.value, datatype=ox.NamedNode(_KEPT + datatype))


def written(
    term: ox.NamedNode | ox.BlankNode | ox.Literal | None,
) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
    """The literal as the feed wrote it, from the term a validation store holds."""
    if type(term) is ox.Literal and term.datatype.value.startswith(_KEPT):
        return ox.Literal(term.value, datatype=ox.NamedNode(term.datatype.value[len(_KEPT) :]))
    return term


# --- lexical spaces (XML Schema 1.1 Part 2), for sh:datatype and comparisons ---

_TZ = r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_YEAR = r"-?([1-9][0-9]{3,}|0[0-9]{3})"
# Month and day; 29 February is checked against the year apart (_leap_day_ok).
_MONTH_DAY = (
    r"((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)"
    r"|(0[13578]|1[02])-31|02-29)"
)
_TIME = r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|24:00:00(\.0+)?)"
_DECIMAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
_LEXICAL = {
    XSD + "integer": r"[+-]?[0-9]+",
    XSD + "decimal": _DECIMAL,
    XSD + "double": rf"({_DECIMAL}([eE][+-]?[0-9]+)?|[+-]?INF|NaN)",
    XSD + "float": rf"({_DECIMAL}([eE][+-]?[0-9]+)?|[+-]?INF|NaN)",
    XSD + "boolean": r"(true|false|1|0)",
    XSD + "date": rf"{_YEAR}-{_MONTH_DAY}{_TZ}?",
    XSD + "dateTime": rf"{_YEAR}-{_MONTH_DAY}T{_TIME}{_TZ}?",
    XSD + "dateTimeStamp": rf"{_YEAR}-{_MONTH_DAY}T{_TIME}{_TZ}",
    XSD + "time": rf"{_TIME}{_TZ}?",
}
# Integer types derived from xsd:integer: the integer lexical space, within bounds.
_INTEGER_BOUNDS: dict[str, tuple[int | None, int | None]] = {
    XSD + "nonPositiveInteger": (None, 0),
    XSD + "negativeInteger": (None, -1),
    XSD + "long": (-(2**63), 2**63 - 1),
    XSD + "int": (-(2**31), 2**31 - 1),
    XSD + "short": (-(2**15), 2**15 - 1),
    XSD + "byte": (-(2**7), 2**7 - 1),
    XSD + "nonNegativeInteger": (0, None),
    XSD + "unsignedLong": (0, 2**64 - 1),
    XSD + "unsignedInt": (0, 2**32 - 1),
    XSD + "unsignedShort": (0, 2**16 - 1),
    XSD + "unsignedByte": (0, 2**8 - 1),
    XSD + "positiveInteger": (1, None),
}
# The datatype whose value space holds each datatype's values, for comparisons.
_PRIMITIVE = {
    **{d: d for d in _LEXICAL},
    **{d: XSD + "integer" for d in _INTEGER_BOUNDS},
    XSD + "dateTimeStamp": XSD + "dateTime",
}
_NUMERIC = frozenset(
    d
    for d, p in _PRIMITIVE.items()
    if p in (XSD + "integer", XSD + "decimal", XSD + "double", XSD + "float")
)
_LEAP_DAY = re.compile(r"-?([0-9]+)-02-29")
# The order in which values are told apart by datatype (the usual ones first).
_VALUE_ORDER = {
    XSD + d: i
    for i, d in enumerate(("decimal", "double", "integer", "time", "date", "dateTime", "float"))
}
_COMPILED_LEXICAL = {d: re.compile(rx) for d, rx in _LEXICAL.items()}


def well_formed(lexical: str, datatype: str) -> bool:
    """Whether a literal is well formed: its lexical form is in the lexical space of
    its datatype (XML Schema 1.1; datatypes not listed here are not recognised, and
    their literals are always well formed, as SHACL says)."""
    if datatype in _INTEGER_BOUNDS:
        if not _COMPILED_LEXICAL[XSD + "integer"].fullmatch(lexical):
            return False
        low, high = _INTEGER_BOUNDS[datatype]
        value = int(lexical)
        return (low is None or value >= low) and (high is None or value <= high)
    rule = _COMPILED_LEXICAL.get(datatype)
    if rule is None:
        return True
    return rule.fullmatch(lexical) is not None and _leap_day_ok(lexical)


def _leap_day_ok(lexical: str) -> bool:
    """29 February is a day only of leap years (year 0000, 1 BCE, is one)."""
    m = _LEAP_DAY.match(lexical)
    if m is None:
        return True
    year = int(m.group(1))
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0] if math.isfinite(value) else value


def numeric_value(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> tuple[int, object] | None:
    """The XSD value of a well-formed numeric literal as (rank, Python value): rank 0
    integer or decimal (an exact Decimal), 1 float (a 32-bit float), 2 double."""
    term = written(term)
    if type(term) is not ox.Literal or term.language:
        return None
    datatype = term.datatype.value
    if datatype not in _NUMERIC or not well_formed(term.value, datatype):
        return None
    primitive = _PRIMITIVE[datatype]
    text = term.value
    if primitive in (XSD + "integer", XSD + "decimal"):
        return 0, Decimal(text)
    number = float(text.replace("INF", "inf"))  # "NaN", "+INF", "-INF" too
    return (1, _float32(number)) if primitive == XSD + "float" else (2, number)


def numeric_compare(a: tuple[int, object], b: tuple[int, object]) -> int | None:
    """XPath's op:numeric-less-than / -equal on two numeric values, with the type
    promotion of XPath (decimal → float → double): -1, 0, 1, or None (NaN)."""
    rank = max(a[0], b[0])
    x, y = a[1], b[1]
    if rank == 1:
        x, y = _float32(float(x)), _float32(float(y))  # type: ignore[arg-type]
    elif rank == 2:
        x, y = float(x), float(y)  # type: ignore[arg-type]
    if x != x or y != y:  # NaN is neither less, equal nor greater
        return None
    return -1 if x < y else 1 if x > y else 0  # type: ignore[operator]


def _exact_compare(v: ox.NamedNode | ox.BlankNode | ox.Literal, w: object) -> int | None:
    """Numeric comparison of a value with a term or bound, exact where the store's
    numbers are not (integers beyond 64 bits, decimals beyond 18 digits)."""
    left = numeric_value(v)
    right = w if isinstance(w, tuple) else numeric_value(w)  # type: ignore[arg-type]
    if left is None or right is None:
        return None
    return numeric_compare(left, right)


# ---------------------------------------------------------------------------
# Regular expressions: Python's re dialect (pyshacl) into Rust's (oxigraph)
# ---------------------------------------------------------------------------


@cache
def _class_body(kind: str) -> str:
    """The code points of Python's \\s, \\d or \\w (str patterns), as a Rust class body."""
    test = {
        "s": str.isspace,
        "d": str.isdecimal,
        "w": lambda c: c.isalnum() or c == "_",
    }[kind]
    ranges: list[tuple[int, int]] = []
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        if test(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)


_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_QUANTIFIER = re.compile(r"\{(\d*)(,?)(\d*)\}")


class UntranslatableRegex(ValueError):
    """A Python regex construct whose Rust equivalent is not certain: Python decides."""


def _char(c: str) -> str:
    return f"\\x{{{ord(c):X}}}"


def _escape_in_class(pattern: str, i: int) -> tuple[str, str | None, int]:
    """An escape inside a character class: (Rust text, the literal char or None, next index)."""
    c = pattern[i + 1]
    if c in "sdw":
        return _class_body(c), None, i + 2
    if c in "SDW":
        return f"[^{_class_body(c.lower())}]", None, i + 2
    if c == "b":
        return _char("\b"), "\b", i + 2
    return _literal_escape(pattern, i)


def _literal_escape(pattern: str, i: int) -> tuple[str, str, int]:
    c = pattern[i + 1]
    if c in _SIMPLE_ESCAPES:
        return _char(_SIMPLE_ESCAPES[c]), _SIMPLE_ESCAPES[c], i + 2
    if c == "x":
        m = re.match(r"[0-9a-fA-F]{2}", pattern[i + 2 :])
        if m:
            ch = chr(int(m.group(), 16))
            return _char(ch), ch, i + 4
    if c in "uU":
        width = 4 if c == "u" else 8
        m = re.match(f"[0-9a-fA-F]{{{width}}}", pattern[i + 2 :])
        if m:
            ch = chr(int(m.group(), 16))
            return _char(ch), ch, i + 2 + width
    if c == "0":
        m = re.match(r"[0-7]{0,2}", pattern[i + 2 :])
        digits = m.group() if m else ""
        ch = chr(int("0" + digits, 8))
        return _char(ch), ch, i + 2 + len(digits)
    if not c.isalnum():
        return _char(c), c, i + 2
    raise UntranslatableRegex(f"escape \\{c}")


def _translate_class(pattern: str, i: int) -> tuple[str, int]:
    """A Python character class starting at pattern[i] == '[' into a Rust class."""
    i += 1
    out = "["
    if i < len(pattern) and pattern[i] == "^":
        out += "^"
        i += 1
    first = True
    items: list[str] = []
    while True:
        if i >= len(pattern):
            raise UntranslatableRegex("unterminated class")
        c = pattern[i]
        if c == "]" and not first:
            i += 1
            break
        first = False
        if c == "\\":
            text, literal, i = _escape_in_class(pattern, i)
        else:
            if c == "[" and i + 1 < len(pattern) and pattern[i + 1] in ":=.":
                raise UntranslatableRegex("POSIX-like class")
            text, literal, i = _char(c), c, i + 1
        # a range a-b
        if (
            literal is not None
            and i + 1 < len(pattern)
            and pattern[i] == "-"
            and pattern[i + 1] != "]"
        ):
            j = i + 1
            if pattern[j] == "\\":
                end_text, end_literal, j = _escape_in_class(pattern, j)
            else:
                end_text, end_literal, j = _char(pattern[j]), pattern[j], j + 1
            if end_literal is None:
                raise UntranslatableRegex("range to a class")
            items.append(f"{text}-{end_text}")
            i = j
            continue
        items.append(text)
    return out + "".join(items) + "]", i


def translate_regex(pattern: str) -> str:
    """Python ``re`` pattern (no flags) into an equivalent Rust ``regex`` pattern.

    Raises ``UntranslatableRegex`` for constructs whose meaning may differ (lookarounds,
    backreferences, word boundaries, possessive quantifiers…).
    """
    out: list[str] = []
    i = 0
    n = len(pattern)
    depth = 0
    after_atom = False  # a quantifier may follow
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise UntranslatableRegex("trailing backslash")
            e = pattern[i + 1]
            if e in "sdw":
                out.append(f"[{_class_body(e)}]")
                i += 2
            elif e in "SDW":
                out.append(f"[^{_class_body(e.lower())}]")
                i += 2
            elif e == "A":
                out.append(r"\A")
                i += 2
                after_atom = False
                continue
            elif e == "Z":
                out.append(r"\z")
                i += 2
                after_atom = False
                continue
            else:
                text, _literal, i = _literal_escape(pattern, i)
                out.append(text)
            after_atom = True
        elif c == "[":
            text, i = _translate_class(pattern, i)
            out.append(text)
            after_atom = True
        elif c == "(":
            if pattern.startswith("(?:", i):
                out.append("(?:")
                i += 3
            elif pattern.startswith("(?", i):
                raise UntranslatableRegex("group extension")
            else:
                out.append("(")
                i += 1
            depth += 1
            after_atom = False
        elif c == ")":
            depth -= 1
            out.append(")")
            i += 1
            after_atom = True
        elif c == "|":
            out.append("|")
            i += 1
            after_atom = False
        elif c == "^":
            out.append("^")
            i += 1
            after_atom = False
        elif c == "$":
            # Python's $ also matches before a final newline; it must end the pattern
            # (or a top-level alternative) for the rewrite to be equivalent.
            rest = pattern[i + 1 :]
            if not (rest == "" or (depth == 0 and rest.startswith("|"))):
                raise UntranslatableRegex("$ inside the pattern")
            out.append(r"(?:\n?\z)")
            i += 1
            after_atom = False
        elif c in "*+?":
            if not after_atom:
                raise UntranslatableRegex("quantifier without atom")
            out.append(c)
            i += 1
            if i < n and pattern[i] == "?":
                out.append("?")
                i += 1
            if i < n and pattern[i] in "*+?{":
                raise UntranslatableRegex("possessive or repeated quantifier")
            after_atom = False
        elif c == "{":
            m = _QUANTIFIER.match(pattern, i)
            if m and after_atom and any(m.groups()):  # "{}" is a literal, "{,}" is "*"
                low, comma, high = m.groups()
                if low and high and int(high) < int(low):
                    raise UntranslatableRegex("bad repetition")
                out.append("{" + (low or "0") + comma + high + "}")
                i = m.end()
                if i < n and pattern[i] == "?":
                    out.append("?")
                    i += 1
                if i < n and pattern[i] in "*+?{":
                    raise UntranslatableRegex("possessive or repeated quantifier")
                after_atom = False
            else:
                out.append(_char("{"))
                i += 1
                after_atom = True
        elif c == ".":
            out.append(".")  # both: any character but \n
            i += 1
            after_atom = True
        else:
            out.append(_char(c) if not c.isalnum() else c)
            i += 1
            after_atom = True
    return "".join(out)


# ---------------------------------------------------------------------------
# The compiler
# ---------------------------------------------------------------------------


def _iri(value: str) -> str:
    return f"<{value}>"


def _ox_literal(literal: Literal) -> ox.Literal:
    """An rdflib literal of the shapes graph as an oxigraph literal."""
    if literal.language:
        return ox.Literal(str(literal), language=literal.language)
    return ox.Literal(str(literal), datatype=ox.NamedNode(str(literal.datatype or _XSD_STRING)))


def _string(text: str) -> str:
    return str(ox.Literal(text))


def _cost(expression: str) -> int:
    """A rough cost of evaluating an expression: its EXISTS subqueries (store lookups)."""
    return expression.count("EXISTS")


def _and(*parts: str) -> str:
    """Lazy conjunction of error-free boolean expressions, the cheapest evaluated first.

    oxigraph evaluates both operands of ``&&`` and ``||`` (only IF is lazy), so a
    costly operand (EXISTS, a Python call) would run for every value. The operands
    never raise errors, so their order does not change the result.
    """
    parts = tuple(sorted((p for p in parts if p != "true"), key=_cost))
    if not parts:
        return "true"
    if "false" in parts:
        return "false"
    out = parts[-1]
    for part in reversed(parts[:-1]):
        out = f"IF({part}, {out}, false)"
    return out


def _or(*parts: str) -> str:
    """Lazy disjunction of error-free boolean expressions, the cheapest evaluated first."""
    parts = tuple(sorted((p for p in parts if p != "false"), key=_cost))
    if not parts:
        return "false"
    if "true" in parts:
        return "true"
    out = parts[-1]
    for part in reversed(parts[:-1]):
        out = f"IF({part}, true, {out})"
    return out


def _typed(v: str, datatypes: Iterable[str]) -> str:
    """v is a literal with one of the datatypes (never an error)."""
    return _and(f"isLITERAL({v})", f"DATATYPE({v}) IN ({', '.join(_iri(d) for d in datatypes)})")


def _written_as(datatype: str) -> tuple[str, str]:
    """A datatype as a validation store may hold it: kept (written by this module's
    loaders) or as is (a store loaded elsewhere)."""
    return (datatype, _KEPT + datatype)


@dataclass(frozen=True)
class _Check:
    """A boolean variable of a query: false (or unbound) in a row means one result.

    ``guard``, when set, is a variable that must be true for the row to concern this
    check (the row's ?f is a focus node of the check's shape).
    """

    variable: str
    shape: _Shape
    component: str
    value: str | None  # the variable holding sh:value, if any
    guard: str | None = None


@dataclass(frozen=True)
class _Query:
    text: str
    checks: tuple[_Check, ...]


@dataclass(frozen=True)
class _Focus:
    """How to find the focus nodes of a shape: a group pattern binding a variable."""

    key: object
    pattern: Callable[[str], str]
    targets: bool  # a union of target patterns, cheap to test for a bound node


@dataclass
class _Plan:
    """What the compiler emits, merged into as few queries as possible at the end.

    * per-focus checks (counts, node-level constraints) of all shapes with the same
      focus nodes: one query that enumerates the focus nodes once;
    * value checks of all shapes on the same path: one query that scans the path's
      triples once, tests each distinct constraint once, and only for the failing
      rows asks which shapes' focus nodes the subject is;
    * other queries (sh:lessThan, nested focus nodes) as they come.
    """

    queries: list[_Query] = field(default_factory=list)
    per_focus: dict[object, tuple[_Focus, list[tuple[_Check, str]]]] = field(default_factory=dict)
    per_path: dict[str, list[tuple[_Shape, _Focus, list[_Constraint]]]] = field(
        default_factory=dict
    )


_TRUE = ox.Literal(True)
_FALSE = ox.Literal(False)


def _signature(item: object) -> object:
    """A structural key: two constraints with the same signature give the same answers."""
    if isinstance(item, _Shape):
        return (
            "shape",
            item.path.sparql if item.path else None,
            item.deactivated,
            tuple(_signature(c) for c in item.constraints),
        )
    if isinstance(item, _Constraint):
        return (item.kind, tuple(_signature(a) for a in item.args))
    if isinstance(item, tuple):
        return tuple(_signature(a) for a in item)
    if isinstance(item, Literal):
        return ("literal", str(item), item.datatype, item.language)
    return item


class _Compiler:
    def __init__(self, check_regex: Callable[[str], bool]) -> None:
        self.functions: dict[ox.NamedNode, Callable] = {}
        self._counter = 0
        self._check_regex = check_regex
        # value variable → [variable bound to its number, used]: a number is rebuilt
        # once per value, not once per bound that reads it (:meth:`_numbers_of`)
        self._numbers: dict[str, list] = {}

    @contextmanager
    def _numbers_of(self, v: str) -> Iterator[Callable[[], str]]:
        """While expressions about the values ``v`` are built, sh:minInclusive and
        sh:maxInclusive with a numeric bound read the variable the yielded function's
        BIND text (empty when none did) binds to v's number."""
        entry = [self.var("n"), False]
        self._numbers[v] = entry
        try:
            yield (
                lambda: (
                    f" BIND({self.value(v, sorted(_NUMERIC))} AS {entry[0]})" if entry[1] else ""
                )
            )
        finally:
            del self._numbers[v]

    def var(self, prefix: str = "x") -> str:
        self._counter += 1
        return f"?{prefix}{self._counter}"

    def python(self, check: Callable[..., bool], *args: str) -> str:
        """A call to a Python predicate on the terms as written (:func:`written`),
        usable in a SPARQL expression."""
        name = ox.NamedNode(f"urn:x-ltc-shacl:fn:{len(self.functions)}")

        def call(*terms: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.Literal:
            try:
                return _TRUE if check(*(written(t) for t in terms)) else _FALSE
            except Exception:
                return _FALSE

        self.functions[name] = call
        return f"<{name.value}>({', '.join(args)})"

    # -- literals as written: well-formedness and values --

    def well_formed(self, datatype: str, v: str) -> str:
        """v, a literal of ``datatype`` (kept or not), is well formed (never an error).

        Numbers: the store parses the lexical forms of XML Schema's integers, decimals,
        doubles and floats exactly (its extras are the spellings "inf", "Infinity",
        "nan"… of a double, told apart by their value); a well-formed lexical form it
        cannot hold (an integer beyond 64 bits) goes to the regular expression. Dates
        and times: the regular expression of the lexical space, 29 February in Python."""
        if datatype in _INTEGER_BOUNDS:
            return self.python(lambda t: well_formed(t.value, datatype), v)
        regex = _LEXICAL.get(datatype)
        if regex is None:
            return "true"
        strict = f"REGEX(STR({v}), {_string('^' + regex + '$')})"
        if datatype in _NUMERIC:
            number = f"STRDT(STR({v}), {_iri(datatype)})"
            if datatype in (XSD + "double", XSD + "float"):
                special = _string("INF"), _string("+INF"), _string("-INF"), _string("NaN")
                overflow = f"REGEX(STR({v}), {_string('^[+-]?[0-9.]+([eE][+-]?[0-9]+)?$')})"
                finite = f'COALESCE(ABS({number}) < "INF"^^<{XSD}double>, false)'
                parsed = (
                    f"IF({finite}, true, IF(STR({v}) IN ({', '.join(special)}), true, {overflow}))"
                )
            else:
                parsed = "true"
            return f"IF(isNUMERIC({number}), {parsed}, {strict})"
        if datatype in (XSD + "date", XSD + "dateTime", XSD + "dateTimeStamp"):
            leap = self.python(lambda t: _leap_day_ok(t.value), v)
            return _and(strict, f"IF(REGEX(STR({v}), {_string(_LEAP_DAY.pattern)}), {leap}, true)")
        return strict

    def value(self, v: str, datatypes: Iterable[str] | None = None) -> str:
        """The value of v for comparisons: a well-formed literal of a recognised
        datatype rebuilt from its lexical form as written (``STRDT``); v itself
        otherwise (an ill-formed or kept literal then compares with nothing).
        ``datatypes`` limits the datatypes rebuilt (the others compare with nothing).

        An integer or decimal is rebuilt without a test: an ill-formed one, or one the
        store cannot hold, is an invalid literal that compares with nothing. Such
        values, and those of the derived integer types (xsd:int…), are left to the
        callers' Python fallback (:func:`_exact_compare`): they are rare."""
        chosen = [d for d in (_PRIMITIVE if datatypes is None else datatypes) if d in _LEXICAL]
        out = v
        for d in sorted(chosen, key=lambda d: _VALUE_ORDER.get(d, 9), reverse=True):
            rebuilt = f"STRDT(STR({v}), {_iri(_PRIMITIVE[d])})"
            if d not in (XSD + "integer", XSD + "decimal"):
                rebuilt = f"IF({self.well_formed(d, v)}, {rebuilt}, {v})"
            written_as = ", ".join(_iri(w) for w in _written_as(d))
            out = f"IF(DATATYPE({v}) IN ({written_as}), {rebuilt}, {out})"
        return f"IF(isLITERAL({v}), {out}, {v})"

    # -- value-level checks: one SPARQL boolean expression, never an error --

    def ok(self, c: _Constraint, v: str) -> str:
        kind = c.kind
        if kind == "datatype":
            return self._datatype(c.args[0], v)
        if kind == "nodeKind":
            return _NODE_KINDS[c.args[0]].format(v=v)
        if kind == "in":
            return self._in(c.args[0], v)
        if kind == "pattern":
            return self._pattern(c.args[0], c.args[1], v)
        if kind == "minLength":
            n = c.args[0]
            if n == 0:
                return "true"
            return f"IF(isBLANK({v}), false, STRLEN(STR({v})) >= {n})"
        if kind in ("minInclusive", "maxInclusive"):
            return self._range(c.args[0], kind, v)
        if kind == "or":
            return _or(*(self.conforms(s, v) for s in c.args[0]))
        if kind == "not":
            return f"(!{self.conforms(c.args[0], v)})"
        if kind == "property":
            return self.conforms(c.args[0], v)
        raise AssertionError(kind)

    def _datatype(self, datatype: str, v: str) -> str:
        """SHACL's sh:datatype: the datatype IRI as written and, for a recognised
        datatype, a well-formed lexical form. Strings are never kept (not rewritten)."""
        if datatype in (_XSD_STRING, _LANG_STRING):
            return _typed(v, [datatype])
        typed = _typed(v, _written_as(datatype))
        return f"IF({typed}, {self.well_formed(datatype, v)}, false)"

    def _in(self, members: tuple[Node, ...], v: str) -> str:
        """sh:in: RDF term equality (a literal written otherwise is another term)."""
        iris = [m for m in members if isinstance(m, URIRef)]
        literals = [m for m in members if isinstance(m, Literal)]
        parts = []
        if iris:
            parts.append(_and(f"isIRI({v})", f"{v} IN ({', '.join(_iri(m) for m in iris)})"))
        for m in literals:
            term = _ox_literal(m)
            for stored in {term, kept(term)}:
                parts.append(f"sameTerm({v}, {stored})")
        return _or(*parts)

    def _pattern(self, pattern: Literal, flags: Node | None, v: str) -> str:
        """sh:pattern on the lexical form as written (the text of an IRI); Python's
        ``re`` dialect, translated for the store's regular expressions when exact."""
        long_enough = pattern.value is not None and len(pattern.value) > 1
        text = str(pattern.value) if long_enough else str(pattern)
        re_flags = 0
        if flags:
            lowered = str(flags.value if isinstance(flags, Literal) else flags).lower()
            if "i" in lowered:
                re_flags |= re.I
            if "m" in lowered:
                re_flags |= re.M
        try:
            compiled = re.compile(text, re_flags)
        except re.error as error:
            raise UnsupportedShape(f"invalid sh:pattern {text!r}: {error}") from error
        rust = None
        if not re_flags:
            try:
                rust = translate_regex(text)
            except UntranslatableRegex:
                rust = None
            if rust is not None and not self._check_regex(rust):
                rust = None
        if rust is None:
            match = self.python(lambda t: compiled.search(t.value) is not None, v)
        else:
            match = f"REGEX(STR({v}), {_string(rust)})"
        return f"IF(isBLANK({v}), false, {match})"

    def _range(self, bound: Literal, kind: str, v: str) -> str:
        """sh:minInclusive / sh:maxInclusive: SPARQL's ``<=`` between the bound and the
        value (an error, such as comparing with NaN, a string or an ill-formed literal,
        is a failure). Values the store's numbers cannot hold go to Python."""
        term = _ox_literal(bound)
        bound_value = numeric_value(term)
        if bound_value is not None:
            datatypes = sorted(_NUMERIC)
        elif term.datatype.value in _PRIMITIVE:
            family = _PRIMITIVE[term.datatype.value]
            datatypes = [d for d, p in _PRIMITIVE.items() if p == family]
        else:
            datatypes = []
        if bound_value is not None and v in self._numbers:
            self._numbers[v][1] = True
            value = self._numbers[v][0]
        else:
            value = self.value(v, datatypes)
        comparison = f"{term} <= {value}" if kind == "minInclusive" else f"{value} <= {term}"
        if bound_value is None:
            slow = "false"
        else:

            def exact(t: ox.Literal) -> bool:
                order = _exact_compare(t, bound_value)
                return order is not None and (order >= 0 if kind == "minInclusive" else order <= 0)

            slow = self.python(exact, v)
        return f"IF(isLITERAL({v}), COALESCE({comparison}, {slow}), false)"

    def less_than_ok(self, v: str, w: str) -> str:
        """sh:lessThan for one pair: SPARQL's ``v < w`` on the values as written (an
        error is a failure); numbers the store cannot hold are compared in Python."""

        def exact(a: ox.Literal, b: ox.Literal) -> bool:
            return _exact_compare(a, b) == -1

        return f"COALESCE({self.value(v)} < {self.value(w)}, {self.python(exact, v, w)})"

    # -- conformance of a node to a (nested) shape --

    def conforms(self, shape: _Shape, x: str) -> str:
        if shape.deactivated:
            return "true"
        parts: list[str] = []
        if shape.path is None:
            parts = [self.ok(c, x) for c in shape.constraints]
        else:
            p = shape.path.sparql
            values = [c for c in shape.constraints if c.kind not in _PER_FOCUS]
            if values:
                v = self.var("v")
                with self._numbers_of(v) as number:
                    all_ok = _and(*(self.ok(c, v) for c in values))
                    parts.append(f"(NOT EXISTS {{ {x} {p} {v} .{number()} FILTER(!{all_ok}) }})")
            for c in shape.constraints:
                if c.kind in _PER_FOCUS:
                    parts.append(self.holds(c, shape.path, x))
        return _and(*parts)

    def _distinct_values(
        self, x: str, path: _Path, n: int, condition: Callable[[str], str] | None = None
    ) -> str:
        """A group pattern that has a solution when x has n distinct values of the path."""
        names = [self.var("a") for _ in range(n)]
        triples = " ".join(f"{x} {path.sparql} {a} ." for a in names)
        filters = [f"!sameTerm({a}, {b})" for i, a in enumerate(names) for b in names[i + 1 :]]
        if condition:
            filters += [condition(a) for a in names]
        where = f" FILTER({_and(*filters)})" if filters else ""
        return f"{{ {triples}{where} }}"

    def holds(self, c: _Constraint, path: _Path, x: str) -> str:
        kind = c.kind
        if kind == "minCount":
            n = c.args[0]
            return "true" if n == 0 else f"(EXISTS {self._distinct_values(x, path, n)})"
        if kind == "maxCount":
            return f"(NOT EXISTS {self._distinct_values(x, path, c.args[0] + 1)})"
        if kind == "lessThan":
            v, w = self.var("v"), self.var("w")
            return (
                f"(NOT EXISTS {{ {x} {path.sparql} {v} . {x} <{c.args[0]}> {w} "
                f"FILTER(!{self.less_than_ok(v, w)}) }})"
            )
        if kind == "qualifiedMinCount":
            shape, n = c.args
            if n == 0:
                return "true"
            pattern = self._distinct_values(x, path, n, lambda a: self.conforms(shape, a))
            return f"(EXISTS {pattern})"
        raise AssertionError(kind)

    # -- top-level queries: the results --

    def emit(self, shape: _Shape, focus: _Focus, plan: _Plan) -> None:
        """Plan the queries reporting the results of a shape for the given focus nodes."""
        if shape.deactivated:
            return
        f = "?f"
        values = [c for c in shape.constraints if c.kind not in _PER_FOCUS and c.kind != "property"]
        if shape.path is None:
            for c in values:
                check = _Check(self.var("k"), shape, c.component, f)
                plan.per_focus.setdefault(focus.key, (focus, []))[1].append((check, self.ok(c, f)))
        else:
            p = shape.path.sparql
            for c in shape.constraints:
                if c.kind in _PER_FOCUS and c.kind != "lessThan":
                    check = _Check(self.var("k"), shape, c.component, None)
                    expression = self.holds(c, shape.path, f)
                    plan.per_focus.setdefault(focus.key, (focus, []))[1].append((check, expression))
            if values and focus.targets:
                plan.per_path.setdefault(p, []).append((shape, focus, values))
            elif values:
                checks = tuple(_Check(self.var("k"), shape, c.component, "?v") for c in values)
                with self._numbers_of("?v") as number:
                    binds = number() + " ".join(
                        f"BIND({self.ok(c, '?v')} AS {k.variable})"
                        for c, k in zip(values, checks, strict=True)
                    )
                all_ok = f"COALESCE({' && '.join(k.variable for k in checks)}, false)"
                text = (
                    f"SELECT DISTINCT ?f ?v {' '.join(k.variable for k in checks)} WHERE {{ "
                    f"{focus.pattern(f)} {f} {p} ?v . {binds} FILTER(!{all_ok}) }}"
                )
                plan.queries.append(_Query(text, checks))
            for c in shape.constraints:
                if c.kind == "lessThan":
                    check = _Check("?ok", shape, c.component, "?v")
                    ok = self.less_than_ok("?v", "?w")
                    pattern = f"{f} {p} ?v . {f} <{c.args[0]}> ?w . BIND({ok} AS ?ok)"
                    if focus.targets:
                        where = (
                            f"{pattern} FILTER(IF(COALESCE(?ok, false), false, "
                            f"EXISTS {{ {focus.pattern(f)} }}))"
                        )
                    else:
                        where = f"{focus.pattern(f)} {pattern} FILTER(!COALESCE(?ok, false))"
                    plan.queries.append(
                        _Query(f"SELECT DISTINCT ?f ?v ?ok WHERE {{ {where} }}", (check,))
                    )
        for c in shape.constraints:
            if c.kind == "property":
                if shape.path is None:
                    self.emit(c.args[0], focus, plan)
                else:
                    self.emit(c.args[0], _values_of(focus, shape.path, self.var("g")), plan)

    def finish(self, plan: _Plan) -> list[_Query]:
        """The queries of a plan."""
        queries = []
        for focus, items in plan.per_focus.values():
            binds = " ".join(f"BIND({expression} AS {c.variable})" for c, expression in items)
            variables = " ".join(c.variable for c, _ in items)
            all_ok = " && ".join(c.variable for c, _ in items)
            text = (
                f"SELECT DISTINCT ?f {variables} WHERE {{ {focus.pattern('?f')} {binds} "
                f"FILTER(!COALESCE({all_ok}, false)) }}"
            )
            queries.append(_Query(text, tuple(c for c, _ in items)))
        for path, entries in plan.per_path.items():
            oks: dict[object, tuple[str, str]] = {}  # signature -> (variable, expression)
            guards: dict[object, tuple[str, _Focus]] = {}  # focus key -> (variable, focus)
            checks = []
            with self._numbers_of("?v") as number:
                for shape, focus, constraints in entries:
                    guard = guards.setdefault(focus.key, (self.var("in"), focus))[0]
                    for c in constraints:
                        key = _signature(c)
                        if key not in oks:
                            oks[key] = (self.var("k"), self.ok(c, "?v"))
                        checks.append(_Check(oks[key][0], shape, c.component, "?v", guard))
                binds = number() + " ".join(
                    f"BIND({expression} AS {k})" for k, expression in oks.values()
                )
            all_ok = " && ".join(k for k, _ in oks.values())
            ks = " ".join(k for k, _ in oks.values())
            inner = (
                f"SELECT ?f ?v {ks} WHERE {{ ?f {path} ?v . {binds} "
                f"FILTER(!COALESCE({all_ok}, false)) }}"
            )
            outer = " ".join(
                f"BIND(EXISTS {{ {focus.pattern('?f')} }} AS {g})" for g, focus in guards.values()
            )
            gs = " ".join(g for g, _ in guards.values())
            text = f"SELECT DISTINCT ?f ?v {ks} {gs} WHERE {{ {{ {inner} }} {outer} }}"
            queries.append(_Query(text, tuple(checks)))
        return queries + plan.queries


def _values_of(focus: _Focus, path: _Path, inner: str) -> _Focus:
    def pattern(var: str) -> str:
        where = f"{focus.pattern(inner)} {inner} {path.sparql} {var}"
        return f"{{ SELECT DISTINCT {var} WHERE {{ {where} }} }}"

    return _Focus(("values", focus.key, path.sparql), pattern, targets=False)


def _targets(shape: _Shape, subclasses: bool) -> _Focus:
    def pattern(var: str) -> str:
        branches = []
        for c in shape.target_classes:
            if subclasses:
                branches.append(f"{{ {var} <{RDF}type>/<{RDFS}subClassOf>* <{c}> }}")
            else:
                branches.append(f"{{ {var} <{RDF}type> <{c}> }}")
        branches += [f"{{ [] <{p}> {var} }}" for p in shape.target_objects_of]
        return branches[0] if len(branches) == 1 else "{ " + " UNION ".join(branches) + " }"

    key = ("targets", tuple(sorted(shape.target_classes)), tuple(sorted(shape.target_objects_of)))
    return _Focus(key, pattern, targets=True)


def _true(term: ox.Literal | None) -> bool:
    return term is not None and term.value == "true"


def _regex_accepted(pattern: str) -> bool:
    """Whether oxigraph compiles the (translated) pattern: an invalid one is an error."""
    test = f"COALESCE(IF(REGEX('', {_string(pattern)}), true, true), false)"
    try:
        return bool(ox.Store().query(f"ASK {{ FILTER({test}) }}"))
    except (SyntaxError, OSError, ValueError):
        return False


class CompiledShapes:
    """A shapes graph compiled into SPARQL queries over a pyoxigraph store."""

    def __init__(
        self,
        queries: dict[bool, list[_Query]],
        functions: dict[ox.NamedNode, Callable],
        predicates: frozenset[str],
    ) -> None:
        self._queries = queries  # by "the data graph has rdfs:subClassOf triples"
        self._functions = functions
        self._predicates = predicates  # the only predicates the queries read

    @classmethod
    def compile(cls, shapes: Graph) -> CompiledShapes:
        """Compile the shapes; raises UnsupportedShape for constructs not supported."""
        reader = _Reader(shapes)
        nodes = sorted(reader.shape_nodes(), key=lambda n: (isinstance(n, BNode), str(n)))
        for node in nodes:
            reader.read(node)
        top = [s for s in (reader.shapes[n] for n in nodes) if s.has_targets]
        compiler = _Compiler(_regex_accepted)
        queries: dict[bool, list[_Query]] = {}
        for subclasses in (False, True):
            plan = _Plan()
            for shape in top:
                compiler.emit(shape, _targets(shape, subclasses), plan)
            queries[subclasses] = compiler.finish(plan)
        predicates = {RDF + "type", RDFS + "subClassOf"}
        for shape in reader.shapes.values():
            if shape.path is not None:
                predicates.update(re.findall(r"<([^>]*)>", shape.path.sparql))
            predicates.update(shape.target_objects_of)
            predicates.update(c.args[0] for c in shape.constraints if c.kind == "lessThan")
        return cls(queries, compiler.functions, frozenset(predicates))

    @property
    def queries(self) -> list[str]:
        """The SPARQL text of the queries (for a data graph without rdfs:subClassOf)."""
        return [q.text for q in self._queries[False]]

    def validate(self, data: ox.Store) -> list[ShapeResult]:
        """The validation results over the store's default graph (each one once).

        Literals are read as the store holds them: loaded with :func:`kept` or
        :func:`keep_written_forms` (as :meth:`validate_ntriples` and
        :meth:`validate_triples` do), as the feed wrote them; loaded otherwise, in the
        store's canonical forms (xsd:int read as xsd:integer, "45.50" as "45.5")."""
        subclasses = bool(data.query(f"ASK {{ ?a <{RDFS}subClassOf> ?b }}"))
        found: dict[ShapeResult, None] = {}
        for query in self._queries[subclasses]:
            for row in data.query(query.text, custom_functions=self._functions):
                for check in query.checks:
                    if check.guard and not _true(row[check.guard[1:]]):
                        continue
                    if _true(row[check.variable[1:]]):
                        continue
                    shape = check.shape
                    result = ShapeResult(
                        focus=written(row["f"]),
                        source_shape=shape.name,
                        severity=shape.severity,
                        path=shape.path.result_path if shape.path else None,
                        value=written(row[check.value[1:]]) if check.value else None,
                        component=check.component,
                    )
                    found.setdefault(result, None)
        return list(found)

    def validate_ntriples(self, data: bytes, *, kept: bool = False) -> list[ShapeResult]:
        """Validate N-Triples text written one statement per line (as ``Record.lines``
        and oxigraph write it): parsed and loaded in Rust, the fastest way in, with
        every literal as written (:func:`keep_written_forms`; ``kept``: the lines
        have been through :func:`kept_line` already)."""
        store = ox.Store()
        data = data if kept else keep_written_forms(data)
        store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES)
        return self.validate(store)

    def validate_triples(self, triples: Iterable[ox.Triple]) -> list[ShapeResult]:
        """Load the triples into an in-memory store and validate them, every literal
        as written (:func:`kept`).

        Loading costs more than validating (about 5 µs a triple): only the triples
        whose predicate the queries read are loaded.
        """
        read = self._predicates
        store = ox.Store()
        store.bulk_extend(
            ox.Quad(t.subject, t.predicate, kept(t.object))
            for t in triples
            if t.predicate.value in read
        )
        return self.validate(store)
