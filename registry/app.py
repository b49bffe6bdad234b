"""The registry's web application: ``create_app()`` builds it (Flask application factory).

The resources a request works with (settings, the snapshot it answers from, the query
pool, the rate limiter) are reached through ``registry.runtime``; errors become answers
in ``registry.errors``. Blueprints import those, never this module.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify

from core.config import Settings, load_settings
from core.store import StoreError
from registry import (
    api,
    assets,
    changes,
    convergences,
    dataset,
    linked_data,
    ping,
    public,
    publish_page,
    sources,
    sparql,
    validator,
)
from registry.errors import register_errors
from registry.limits import spend_allowance
from registry.runtime import SETTINGS, generation
from registry.security import security_headers

BLUEPRINTS = (
    sparql,
    api,
    changes,
    linked_data,
    sources,
    validator,
    publish_page,
    dataset,
    convergences,
    public,
    assets,
    ping,
)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application; ``settings`` default to ``load_settings()``."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(
        {SETTINGS: settings},
        MAX_CONTENT_LENGTH=settings.sparql_max_body,
        MAX_FORM_MEMORY_SIZE=settings.sparql_max_body,
        JSON_AS_ASCII=False,
    )
    for area in BLUEPRINTS:
        app.register_blueprint(area.blueprint)
    app.before_request(spend_allowance)
    app.after_request(security_headers)
    app.add_url_rule("/health", "health", health)
    register_errors(app)
    return app


def health() -> tuple[Response, int]:
    """200 with the generation served, or 503 while nothing is published."""
    try:
        return jsonify(status="ok", generation=generation()), 200
    except StoreError:
        current_app.logger.warning("health: nothing published yet")
        return jsonify(status="unavailable", generation=None), 503
