"""Which allowance each request spends (``registry.runtime.RATE_LIMITS``), per client
address: SPARQL queries, validations, exports, and the public search and API each have
their own bucket, so emptying one leaves the others answering. The HTML query page, the
forms, static files and documents describing the registry cost nothing.

A SPARQL query spends its token only when it is evaluated (``spend_sparql``, called by
the endpoint): a conditional request answered 304, or an answer served again from memory
(same generation, query, format and graphs), costs nothing — a federating engine such as
Comunica repeats many of its sub-queries, and they must not empty its allowance. For
the same reason the SPARQL allowance refills at ``sparql_rate_limit`` a minute but holds
five minutes of it (``registry.runtime.BURSTS``)."""

from __future__ import annotations

from flask import request

from registry.runtime import client, rate_limiter

# endpoint → the kind of request it is; endpoints not listed are free
KINDS = {
    "validator.validate": "validator",
    "api.places_geojson": "export",
    "api.places_csv": "export",
    "dataset.dump": "export",
    "api.places": "search",
    "api.place": "search",
    "api.networks": "search",
    "api.themes": "search",
    "public.search_page": "search",
    "public.widget": "search",
    "public.place": "search",
    "public.suggestions": "search",
    "public.map_data": "search",
    "convergences.convergences_page": "search",
    "changes.changes": "changes",
    "changes.changes_atom": "changes",
}
# these pages are a form when asked without parameters: free then
FORMS = {"public.search_page", "public.widget"}


def spend_allowance() -> None:
    """``before_request``: take one token of the request's kind (429 when spent)."""
    if request.method == "OPTIONS" or request.endpoint not in KINDS:
        return
    if request.endpoint in FORMS and not _asks_something():
        return
    rate_limiter(KINDS[request.endpoint]).take(client())


def _asks_something() -> bool:
    return bool(request.args)


def spend_sparql() -> None:
    """Take one token of the client's SPARQL allowance (429 when spent): called by the
    endpoint when a query is about to be evaluated, not for answers it already has."""
    rate_limiter("sparql").take(client())
