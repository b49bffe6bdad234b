"""Limits per kind of request and per client: a client who empties one allowance (SPARQL,
say) still gets the others (the validator, the query page, the public search); behind
a trusted reverse proxy each client is counted by its own address, and nobody else can
choose the address they are counted by."""

from __future__ import annotations

import threading

import pytest

from core.config import load_settings
from registry.app import create_app
from registry.clients import client_address
from registry.rate_limit import Busy, InFlight, RateLimited

QUERY = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"


@pytest.fixture(scope="module")
def settings(example_registry):
    return example_registry.settings


def limited_client(settings, **limits):
    values = {"data_dir": settings.data_dir, "base_iri": settings.base_iri, **limits}
    return create_app(load_settings(overrides=values, environ={})).test_client()


def test_an_empty_sparql_allowance_leaves_every_other_page_answering(settings):
    client = limited_client(settings, sparql_rate_limit=2)
    as_one = {"REMOTE_ADDR": "203.0.113.7"}
    # a burst of five minutes' worth (10 queries), then 429; repeats would be free
    statuses = [
        client.get(
            "/sparql", query_string={"query": f"{QUERY} OFFSET {n}"}, environ_base=as_one
        ).status_code
        for n in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    page = client.get("/sparql", headers={"Accept": "text/html"}, environ_base=as_one)
    assert page.status_code == 200  # the query page itself is free
    assert client.post("/valider", data={}, environ_base=as_one).status_code == 400  # not 429
    assert client.get("/?q=Tours", environ_base=as_one).status_code == 200
    assert client.get("/api/places?q=Tours", environ_base=as_one).status_code == 200
    other = client.get(
        "/sparql", query_string={"query": QUERY}, environ_base={"REMOTE_ADDR": "198.51.100.1"}
    )
    assert other.status_code == 200  # another client has its own allowance


def test_searches_and_exports_have_their_own_allowances(settings):
    client = limited_client(settings, search_rate_limit=3, export_rate_limit=1)
    searches = [client.get("/?q=Tours").status_code for _ in range(4)]
    assert searches == [200, 200, 200, 429]
    assert client.get("/").status_code == 200  # the bare form costs nothing
    assert client.get("/api/places.csv?q=Tours").status_code == 200
    assert client.get("/api/places.geojson?q=Tours").status_code == 429
    assert client.get("/sparql", query_string={"query": QUERY}).status_code == 200


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(settings):
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    trusted = limited_client(settings, search_rate_limit=1, trusted_proxies="127.0.0.1/32")
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):  # three clients, one proxy
        headers = {"X-Forwarded-For": address}
        assert trusted.get("/?q=Tours", headers=headers, environ_base=proxy).status_code == 200
    again = trusted.get("/?q=Tours", headers={"X-Forwarded-For": "192.0.2.1"}, environ_base=proxy)
    assert again.status_code == 429  # the first client has spent its own allowance

    untrusted = limited_client(settings, search_rate_limit=1)
    direct = {"REMOTE_ADDR": "198.51.100.9"}
    first = untrusted.get(
        "/?q=Tours", headers={"X-Forwarded-For": "192.0.2.1"}, environ_base=direct
    )
    forged = untrusted.get(
        "/?q=Tours", headers={"X-Forwarded-For": "192.0.2.2"}, environ_base=direct
    )
    assert (first.status_code, forged.status_code) == (200, 429)  # the header changed nothing


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("198.51.100.9", "192.0.2.1", "", "198.51.100.9"),
        ("198.51.100.9", "192.0.2.1", "127.0.0.1/32", "198.51.100.9"),
        ("127.0.0.1", "192.0.2.1", "127.0.0.1/32", "192.0.2.1"),
        # the client may send its own X-Forwarded-For: only the hop the proxy added counts
        ("127.0.0.1", "6.6.6.6, 192.0.2.1", "127.0.0.1/32", "192.0.2.1"),
        # two trusted proxies in a row
        ("127.0.0.1", "192.0.2.1, 10.0.0.2", "127.0.0.1/32, 10.0.0.0/8", "192.0.2.1"),
        ("127.0.0.1", "not an address", "127.0.0.1/32", "127.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1/32", "127.0.0.1"),
        ("::1", "2001:db8::5", "::1/128", "2001:db8::5"),
    ],
)
def test_the_client_address_behind_proxies(remote, forwarded, trusted, expected):
    environ = {"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_address(environ, trusted) == expected


def test_sparql_requests_in_progress_are_bounded_in_all_and_per_client():
    slots = InFlight(total=3, per_client=2)
    entered = threading.Barrier(4)
    release = threading.Event()

    def hold(client):
        with slots.hold(client):
            entered.wait(5)
            release.wait(5)

    threads = [threading.Thread(target=hold, args=(c,)) for c in ("a", "a", "b")]
    for thread in threads:
        thread.start()
    entered.wait(5)
    with pytest.raises(RateLimited), slots.hold("a"):
        pass  # a third request of one client
    with pytest.raises(Busy), slots.hold("c"):
        pass  # every slot taken
    release.set()
    for thread in threads:
        thread.join(5)
    with slots.hold("c"):
        pass  # free again


def test_an_export_is_built_once_per_generation_and_served_again(settings, monkeypatch):
    import registry.api

    built = []
    original = registry.api._geojson

    def counting(results, found):
        built.append(1)
        return original(results, found)

    monkeypatch.setattr(registry.api, "_geojson", counting)
    client = limited_client(settings)
    first = client.get("/api/places.geojson?lat=47.39&lon=0.69&radius=50")
    second = client.get("/api/places.geojson?lat=47.39&lon=0.69&radius=50")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    assert second.headers["Content-Type"] == "application/geo+json"
    assert len(built) == 1  # the second was the kept body
    client.get("/api/places.geojson?lat=47.39&lon=0.69&radius=40")
    assert len(built) == 2  # another search is another export


def test_robots_txt_points_crawlers_to_the_sitemap_and_away_from_the_machine_routes(settings):
    client = limited_client(settings)
    robots = client.get("/robots.txt", base_url="https://registre.example.org")
    assert robots.status_code == 200 and robots.mimetype == "text/plain"
    text = robots.get_data(as_text=True)
    assert "Sitemap: https://registre.example.org/sitemap.xml" in text
    assert "Disallow: /sparql" in text and "Disallow: /api/" in text
    assert client.get("/sitemap.xml").status_code == 200
