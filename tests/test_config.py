"""Configuration: one documented place, overridable by file and LTC_… variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, env_name, load_settings, setting_names

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", setting_names())
def test_every_setting_is_documented_in_the_readme(name):
    assert f"| `{name}` | `{env_name(name)}` |" in README


def test_environment_overrides_file_which_overrides_defaults(tmp_path):
    config = tmp_path / "ltc.toml"
    config.write_text('max_json_depth = 10\ndata_dir = "/srv/ltc"\n')
    settings = load_settings(
        environ={"LTC_CONFIG": str(config), "LTC_MAX_JSON_DEPTH": "20"},
    )
    assert settings.max_json_depth == 20
    assert str(settings.data_dir) == "/srv/ltc"


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"LTC_MAX_FEED_BYTES": "lots"}, "max_feed_bytes"),
        ({"LTC_CONFIG": "/nonexistent/ltc.toml"}, "cannot read"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_error(environ, words):
    with pytest.raises(ConfigError, match=words):
        load_settings(environ=environ)


def test_unknown_setting_in_file_is_refused(tmp_path):
    config = tmp_path / "ltc.toml"
    config.write_text("max_feed_byte = 1\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(environ={"LTC_CONFIG": str(config)})
