"""The registry service (SPARQL endpoint, linked data, API, public pages): see issue 4."""
