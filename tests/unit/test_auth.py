"""TokenVerifier: which tokens open a connection, as whom, and how the issuer's JWKS is fetched."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.auth import LEEWAY_SECONDS, REFETCH_INTERVAL_SECONDS, TokenVerifier, fetch_jwks
from chat.errors import TokenRejected, Unavailable
from chat.ports import Identity
from chat.settings import Settings, SettingsError
from tests.support.tokens import TestIssuer

pytestmark = pytest.mark.disable_socket

ISSUER = TestIssuer()
JWKS_URL = "https://issuer.chat.test/.well-known/jwks.json"


class FakeJwksEndpoint:
    """Answers like the issuer's JWKS URL and counts the requests."""

    def __init__(self, jwks: Mapping[str, Any] | None = None, *, fail: bool = False) -> None:
        self.jwks = jwks if jwks is not None else ISSUER.jwks()
        self.fail = fail
        self.requests: list[str] = []

    def __call__(self, url: str) -> Mapping[str, Any]:
        self.requests.append(url)
        if self.fail:
            raise Unavailable("the issuer's JWKS could not be fetched")
        return self.jwks


def make_verifier(
    endpoint: FakeJwksEndpoint | None = None,
    *,
    audiences: tuple[str, ...] = (ISSUER.audience, "chat-mobile"),
    algorithms: tuple[str, ...] = ("RS256", "ES256"),
) -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER.issuer,
        audiences=audiences,
        jwks_url=JWKS_URL,
        algorithms=algorithms,
        fetch=endpoint or FakeJwksEndpoint(),
    )


def rejection(token: str | None, verifier: TokenVerifier | None = None, now: float | None = None) -> int:
    """The status a rejected token gets; fails the test when the token is accepted."""
    with pytest.raises(TokenRejected) as caught:
        (verifier or make_verifier()).verify(token, now=now)
    return caught.value.status


# Accepted tokens and the identity they carry


def test_valid_rs256_token_gives_the_user_id_name_and_expiry_of_the_token() -> None:
    now = int(time.time())
    token = ISSUER.token(sub="u-alice", name="Alice Liddell", exp=now + 600)

    assert make_verifier().verify(token) == Identity("u-alice", "Alice Liddell", now + 600)


def test_valid_es256_token_is_accepted() -> None:
    assert make_verifier().verify(ISSUER.es256_token(sub="u-ec")).user_id == "u-ec"


def test_audience_list_is_accepted_when_one_entry_is_a_configured_audience() -> None:
    token = ISSUER.token(aud=["some-other-api", "chat-mobile"])

    assert make_verifier().verify(token).user_id == "user-1"


def test_cognito_access_token_without_aud_is_accepted_by_its_client_id() -> None:
    identity = make_verifier().verify(ISSUER.cognito_access_token(sub="u-cognito"))

    assert identity.user_id == "u-cognito"


def test_cognito_id_token_with_token_use_id_is_accepted() -> None:
    assert make_verifier().verify(ISSUER.token(token_use="id")).user_id == "user-1"


@pytest.mark.parametrize(
    ("claims", "expected_name"),
    [
        ({"name": "Alice", "preferred_username": "alice", "cognito:username": "alice01"}, "Alice"),
        ({"name": None, "preferred_username": "alice", "cognito:username": "alice01"}, "alice"),
        ({"name": " ", "preferred_username": "alice"}, "alice"),
        ({"name": None, "cognito:username": "alice01"}, "alice01"),
        ({"name": None}, ""),
        ({"name": 42}, ""),
        ({"name": None, "username": "u-42"}, ""),  # Cognito signs in by email: `username` is the generated `sub`
        ({"name": None, "username": "6f1c2d3e-0a1b-4c5d-8e9f-0123456789ab"}, ""),
        ({"name": None, "username": "alice"}, "alice"),
    ],
)
def test_a_token_name_comes_from_name_then_preferred_username_then_usernames_that_are_not_generated_ids(
    claims: dict[str, Any], expected_name: str
) -> None:
    assert make_verifier().verify(ISSUER.token(sub="u-42", **claims)).name == expected_name


def test_token_expired_less_than_the_leeway_ago_is_accepted() -> None:
    now = time.time()
    token = ISSUER.token(exp=int(now) - LEEWAY_SECONDS + 5)

    assert make_verifier().verify(token, now=now).user_id == "user-1"


def test_token_issued_slightly_in_the_future_is_accepted_within_the_leeway() -> None:
    now = int(time.time())

    assert make_verifier().verify(ISSUER.token(iat=now + 10, nbf=now + 10), now=now).user_id == "user-1"


# Rejected with 401: the client needs a (new, valid) token


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token_is_rejected_with_401(token: str | None) -> None:
    assert rejection(token) == 401


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "e30.e30.", "...", "eyJhbGciOiJSUzI1NiJ9"])
def test_malformed_token_is_rejected_with_401(token: str) -> None:
    assert rejection(token) == 401


def test_unsigned_alg_none_token_is_rejected() -> None:
    assert rejection(ISSUER.alg_none_token()) == 401


def test_hs256_token_signed_with_the_public_key_as_hmac_secret_is_rejected() -> None:
    assert rejection(ISSUER.hs256_with_public_key_token()) == 401


def test_token_whose_claims_were_changed_after_signing_is_rejected() -> None:
    assert rejection(ISSUER.tampered_token()) == 401


def test_token_signed_by_another_key_under_the_issuers_kid_is_rejected() -> None:
    impostor_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    assert rejection(ISSUER.token(key=impostor_key)) == 401


def test_expired_token_is_rejected() -> None:
    assert rejection(ISSUER.expired_token()) == 401


def test_token_expired_just_past_the_leeway_is_rejected() -> None:
    now = time.time()

    assert rejection(ISSUER.token(exp=int(now) - LEEWAY_SECONDS - 1), now=now) == 401


def test_token_verified_after_its_expiry_is_rejected() -> None:
    token = ISSUER.token(exp=int(time.time()) + 60)

    assert rejection(token, now=time.time() + 60 + LEEWAY_SECONDS + 1) == 401


@pytest.mark.parametrize("exp", [None, "tomorrow", True, float("nan"), float("inf")])
def test_token_without_a_numeric_finite_exp_is_rejected(exp: object) -> None:
    assert rejection(ISSUER.token(exp=exp)) == 401


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_token_not_valid_until_later_is_rejected(claim: str) -> None:
    now = int(time.time())
    not_before: dict[str, Any] = {claim: now + LEEWAY_SECONDS + 60}

    assert rejection(ISSUER.token(**not_before), now=now) == 401


def test_token_from_another_issuer_is_rejected() -> None:
    assert rejection(ISSUER.wrong_issuer_token()) == 401


def test_token_without_an_issuer_is_rejected() -> None:
    assert rejection(ISSUER.token(iss=None)) == 401


def test_token_for_another_audience_is_rejected() -> None:
    assert rejection(ISSUER.wrong_audience_token()) == 401


def test_audience_list_without_a_configured_audience_is_rejected() -> None:
    assert rejection(ISSUER.token(aud=["api-a", "api-b"])) == 401


def test_token_with_aud_for_another_app_is_rejected_even_when_its_client_id_matches() -> None:
    assert rejection(ISSUER.token(aud="another-app", client_id=ISSUER.audience)) == 401


@pytest.mark.parametrize("client_id", [None, "another-client", ["chat-web"]])
def test_token_without_aud_is_rejected_unless_its_client_id_is_a_configured_audience(
    client_id: object,
) -> None:
    assert rejection(ISSUER.cognito_access_token(client_id=client_id)) == 401


def test_token_with_an_unknown_kid_is_rejected() -> None:
    assert rejection(ISSUER.unknown_kid_token()) == 401


def test_token_without_a_kid_is_rejected() -> None:
    assert rejection(ISSUER.token(headers={"kid": None})) == 401


def test_es256_token_is_rejected_when_only_rs256_is_allowed() -> None:
    assert rejection(ISSUER.es256_token(), make_verifier(algorithms=("RS256",))) == 401


def test_token_whose_alg_does_not_fit_the_type_of_the_key_its_kid_names_is_rejected() -> None:
    es256_naming_the_rsa_key = ISSUER.token(algorithm="ES256", headers={"kid": "rsa-1"})
    rs256_naming_the_ec_key = ISSUER.token(algorithm="RS256", headers={"kid": "ec-1"})

    assert rejection(es256_naming_the_rsa_key) == 401
    assert rejection(rs256_naming_the_ec_key) == 401


def test_token_whose_alg_differs_from_the_alg_its_jwk_declares_is_rejected() -> None:
    verifier = make_verifier(algorithms=("RS256", "RS384"))
    rs384_with_the_rs256_key = ISSUER.token(algorithm="RS384")

    assert rejection(rs384_with_the_rs256_key, verifier) == 401


# Rejected with 403: the token is genuine but may not open a connection


@pytest.mark.parametrize("token_use", ["refresh", "custom", ""])
def test_token_for_another_use_than_access_or_id_is_forbidden(token_use: str) -> None:
    assert rejection(ISSUER.token(token_use=token_use)) == 403


@pytest.mark.parametrize("sub", [None, "", "   ", 42])
def test_token_without_a_usable_sub_is_forbidden(sub: Any) -> None:
    assert rejection(ISSUER.token(sub=sub)) == 403


def test_verifier_refuses_symmetric_algorithms_in_its_allow_list() -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        make_verifier(algorithms=("RS256", "HS256"))


# Settings: only the authorizer needs the token variables, and it names the ones that are missing


def _settings(**token_variables: str) -> Settings:
    tables = {name: "t" for name, required in Settings.environment_variables().items() if required}
    return Settings.from_environ({**tables, **token_variables})


def test_verifier_is_built_from_the_token_settings() -> None:
    settings = _settings(JWT_ISSUER=ISSUER.issuer, JWT_AUDIENCE=f"{ISSUER.audience},chat-mobile", JWKS_URL=JWKS_URL)
    endpoint = FakeJwksEndpoint()

    identity = TokenVerifier.from_settings(settings, fetch=endpoint).verify(ISSUER.token(sub="u-1"))

    assert identity.user_id == "u-1" and endpoint.requests == [JWKS_URL]


def test_verifier_without_token_settings_names_every_missing_variable() -> None:
    with pytest.raises(SettingsError) as missing:
        TokenVerifier.from_settings(_settings(JWT_AUDIENCE="chat-web"))

    assert "JWT_ISSUER" in str(missing.value) and "JWKS_URL" in str(missing.value)
    assert "JWT_AUDIENCE" not in str(missing.value)


# The issuer's JWKS: fetched once, refetched for new keys, never hammered


def test_jwks_is_fetched_once_for_many_verifications() -> None:
    endpoint = FakeJwksEndpoint()
    verifier = make_verifier(endpoint)

    for user in range(20):
        verifier.verify(ISSUER.token(sub=f"u-{user}"))
        verifier.verify(ISSUER.es256_token(sub=f"u-{user}"))

    assert endpoint.requests == [JWKS_URL]


def test_flood_of_unknown_kids_refetches_the_jwks_at_most_once_a_minute() -> None:
    endpoint = FakeJwksEndpoint()
    verifier = make_verifier(endpoint)
    start = time.time()
    verifier.verify(ISSUER.token(), now=start)

    for n in range(100):
        rejection(ISSUER.unknown_kid_token(f"bogus-{n}"), verifier, now=start + n * 0.5)
    assert len(endpoint.requests) == 1

    for n in range(100):
        rejection(ISSUER.unknown_kid_token(f"bogus-{n}"), verifier, now=start + REFETCH_INTERVAL_SECONDS + n * 0.5)
    assert len(endpoint.requests) == 2


def test_key_published_after_the_first_fetch_is_found_by_a_refetch() -> None:
    rsa_only = {"keys": [k for k in ISSUER.jwks()["keys"] if k["kty"] == "RSA"]}
    endpoint = FakeJwksEndpoint(rsa_only)
    verifier = make_verifier(endpoint)
    start = time.time()
    verifier.verify(ISSUER.token(), now=start)

    endpoint.jwks = ISSUER.jwks()  # the issuer rotates in its EC key
    identity = verifier.verify(ISSUER.es256_token(), now=start + REFETCH_INTERVAL_SECONDS)

    assert identity.user_id == "user-1"
    assert len(endpoint.requests) == 2


def test_unreachable_jwks_is_unavailable_not_a_rejection_and_is_not_retried_within_a_minute() -> None:
    endpoint = FakeJwksEndpoint(fail=True)
    verifier = make_verifier(endpoint)
    start = time.time()

    for n in range(10):
        with pytest.raises(Unavailable):
            verifier.verify(ISSUER.token(), now=start + n)
    assert len(endpoint.requests) == 1

    endpoint.fail = False
    assert verifier.verify(ISSUER.token(), now=start + REFETCH_INTERVAL_SECONDS).user_id == "user-1"


def test_keys_fetched_before_keep_working_when_a_refetch_fails() -> None:
    endpoint = FakeJwksEndpoint()
    verifier = make_verifier(endpoint)
    start = time.time()
    verifier.verify(ISSUER.token(), now=start)

    endpoint.fail = True
    with pytest.raises(Unavailable):
        verifier.verify(ISSUER.unknown_kid_token(), now=start + REFETCH_INTERVAL_SECONDS)

    assert verifier.verify(ISSUER.token(), now=start + REFETCH_INTERVAL_SECONDS + 1).user_id == "user-1"


def test_jwks_keys_meant_for_encryption_cannot_verify_tokens() -> None:
    jwks = {"keys": [{**k, "use": "enc"} if k["kid"] == "rsa-1" else k for k in ISSUER.jwks()["keys"]]}
    verifier = make_verifier(FakeJwksEndpoint(jwks))

    assert rejection(ISSUER.token(), verifier) == 401


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://issuer.test/jwks.json"])
def test_jwks_is_only_fetched_over_http_or_https(url: str) -> None:
    with pytest.raises(Unavailable):
        fetch_jwks(url)


# Robustness: whatever arrives, the answer is an identity or a TokenRejected (never a 500)


@given(st.text(max_size=300))
def test_arbitrary_text_is_rejected_with_401(text: str) -> None:
    assert rejection(text) == 401


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    claims=st.dictionaries(
        st.sampled_from(["sub", "name", "exp", "nbf", "iat", "aud", "client_id", "token_use", "iss"]),
        json_values,
    )
)
def test_any_claims_signed_by_the_issuer_give_an_identity_or_a_rejection(claims: dict[str, Any]) -> None:
    try:
        identity = make_verifier().verify(ISSUER.token(**claims))
    except TokenRejected as rejected:
        assert rejected.status in (401, 403)
    else:
        assert identity.user_id.strip()
        assert identity.token_expires_at > time.time() - LEEWAY_SECONDS
