from __future__ import annotations

import pytest

from chat.settings import TOKEN_VARIABLES, Settings, SettingsError
from chat.tables import TABLES

REQUIRED = {name for name, required in Settings.environment_variables().items() if required}


def complete_environment() -> dict[str, str]:
    env = {name: f"value-{name.lower()}" for name in REQUIRED}
    env["JWT_AUDIENCE"] = "web, mobile"
    return env


def test_every_table_has_a_settings_variable() -> None:
    assert {spec.env_var for spec in TABLES} <= REQUIRED
    settings = Settings.from_environ(complete_environment())
    assert {spec.name: settings.table_name(spec.name) for spec in TABLES}["messages"] == "value-messages_table"


def test_lists_are_read_from_comma_separated_variables() -> None:
    settings = Settings.from_environ({**complete_environment(), "MODERATION_WORDS": "darn, heck"})
    assert settings.jwt_audiences == ("web", "mobile")
    assert settings.moderation_words == ("darn", "heck")
    assert settings.jwt_algorithms == ("RS256", "ES256")


def test_a_missing_variable_is_named_in_a_clear_error() -> None:
    env = complete_environment()
    del env["MESSAGES_TABLE"]
    with pytest.raises(SettingsError, match="MESSAGES_TABLE"):
        Settings.from_environ(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JWT_ALGORITHMS", "HS256"),
        ("MODERATION_MODE", "shout"),
        ("RATE_LIMIT_FRAMES", "0"),
        ("JWT_AUDIENCE", " , "),
    ],
)
def test_invalid_values_are_refused_at_cold_start(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_environ({**complete_environment(), name: value})


def test_token_variables_are_optional_and_none_when_unset() -> None:
    env = {name: value for name, value in complete_environment().items() if name not in TOKEN_VARIABLES}
    settings = Settings.from_environ(env)

    assert set(TOKEN_VARIABLES) <= set(Settings.environment_variables())
    assert not any(Settings.environment_variables()[name] for name in TOKEN_VARIABLES)
    assert (settings.jwt_issuer, settings.jwt_audiences, settings.jwks_url) == (None, None, None)
