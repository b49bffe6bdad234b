"""Normalisation: every feed says things the same way before validation."""

from __future__ import annotations

from harvester.normalise import genid_prefix, normalise
from harvester.parse import parse_feed

S = "https://schema.org/"


def _normalised(turtle: str, source: str = "reseau") -> set[tuple[str, str, str]]:
    triples = normalise(parse_feed(turtle.encode(), syntax="turtle"), source)
    return {(t.subject.value, t.predicate.value, t.object.value) for t in triples}


def test_http_schema_org_becomes_https():
    found = _normalised(
        '<https://ex.org/a> a <http://schema.org/Place> ; <http://schema.org/name> "A" .'
    )
    assert ("https://ex.org/a", S + "name", "A") in found
    assert all("http://schema.org/" not in part for triple in found for part in triple)


def test_blank_nodes_get_the_same_iri_whatever_their_labels():
    first = _normalised(
        '<https://ex.org/a> <https://schema.org/address> _:x . _:x <https://schema.org/postalCode> "37000" .'
    )
    second = _normalised(
        '<https://ex.org/a> <https://schema.org/address> [ <https://schema.org/postalCode> "37000" ] .'
    )
    assert first == second
    (address,) = {o for s, p, o in first if p == S + "address"}
    assert address.startswith(genid_prefix("reseau"))


def test_skolem_iris_are_scoped_to_the_source():
    doc = "<https://ex.org/a> <https://schema.org/geo> [ <https://schema.org/latitude> 47.0 ] ."
    iri_a = {o for s, p, o in _normalised(doc, "a") if p == S + "geo"}
    iri_b = {o for s, p, o in _normalised(doc, "b") if p == S + "geo"}
    assert iri_a != iri_b


def test_different_content_gets_different_iris():
    doc = """<https://ex.org/a> <https://schema.org/openingHoursSpecification>
        [ <https://schema.org/opens> "09:00:00" ], [ <https://schema.org/opens> "14:00:00" ] ."""
    hours = {o for s, p, o in _normalised(doc) if p == S + "openingHoursSpecification"}
    assert len(hours) == 2


def test_organisation_location_shortcut_becomes_a_presence():
    found = _normalised(
        """<https://ex.org/org/1> a <https://schema.org/Organization> ;
               <https://schema.org/location> <https://other.org/lieu/9> ."""
    )
    ltc = "https://w3id.org/ltc/ns#"
    (presence,) = {s for s, p, o in found if o == ltc + "Presence"}
    assert (presence, ltc + "organisation", "https://ex.org/org/1") in found
    assert (presence, ltc + "place", "https://other.org/lieu/9") in found
    assert not any(p == S + "location" for s, p, o in found)


def test_event_location_is_kept():
    found = _normalised(
        "<https://ex.org/e> a <https://schema.org/Event> ; <https://schema.org/location> <https://ex.org/l> ."
    )
    assert ("https://ex.org/e", S + "location", "https://ex.org/l") in found


def test_wkt_point_is_derived_from_coordinates():
    found = _normalised(
        """<https://ex.org/a> <https://schema.org/geo> [
             <https://schema.org/latitude> 47.39 ; <https://schema.org/longitude> 0.68 ] ."""
    )
    geosparql = "http://www.opengis.net/ont/geosparql#"
    (geometry,) = {o for s, p, o in found if p == geosparql + "hasGeometry"}
    assert (geometry, geosparql + "asWKT", "POINT(0.68 47.39)") in found


def test_no_wkt_for_coordinates_out_of_range():
    found = _normalised(
        """<https://ex.org/a> <https://schema.org/geo> [
             <https://schema.org/latitude> 147.39 ; <https://schema.org/longitude> 0.68 ] ."""
    )
    assert not any(p.endswith("asWKT") for s, p, o in found)


def test_a_date_written_as_date_time_is_retyped_as_a_date():
    triples = normalise(
        parse_feed(
            b"<https://ex.org/a> <https://schema.org/dateModified> "
            b'"2026-10-01"^^<http://www.w3.org/2001/XMLSchema#dateTime> .',
            syntax="turtle",
        ),
        "s",
    )
    assert triples[0].object.datatype.value == "http://www.w3.org/2001/XMLSchema#date"
