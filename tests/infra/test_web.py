"""The web client on AWS: a private bucket behind CloudFront, the built client deployed in two cache classes with
its generated config.json, and a Content-Security-Policy that names exactly the WebSocket and sign-in origins,
with the same headers the local stack sends."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template
from cdk_template import resolve
from stack_synth import Synth

from infra.auth import ChatAuth
from infra.config import ChatConfig
from infra.web_build import WebProject
from infra.web_headers import (
    ASSET_CACHE_CONTROL,
    FRAME_OPTIONS,
    HSTS_MAX_AGE_SECONDS,
    MANIFEST,
    REFERRER_POLICY,
    SERVICE_WORKER,
    SHELL_CACHE_CONTROL,
    security_headers,
)

# Values for the template's references, to read its strings as CloudFormation would make them.
ACCOUNT, REGION, API_ID = "123456789012", "eu-west-1", "a1b2c3d4e5"


def _refs(synth: Synth) -> dict[str, str]:
    return {
        "AWS::AccountId": ACCOUNT,
        "AWS::Region": REGION,
        "AWS::URLSuffix": "amazonaws.com",
        synth.logical_id(synth.stack.endpoint.api): API_ID,
    }


def _headers(synth: Synth) -> dict[str, Any]:
    (policy,) = synth.of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
    return dict(policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"])


def _csp(synth: Synth) -> str:
    return resolve(_headers(synth)["ContentSecurityPolicy"]["ContentSecurityPolicy"], _refs(synth), {})


def _deployments(synth: Synth) -> dict[str, dict[str, Any]]:
    """The bucket deployments by the cache class of what they upload."""
    return {
        d["Properties"]["SystemMetadata"]["cache-control"]: d
        for d in synth.of_type("Custom::CDKBucketDeployment").values()
    }


def _source_dirs(synth: Synth, deployment: dict[str, Any]) -> list[Path]:
    return [synth.asset_dir({"S3Key": key}) for key in deployment["Properties"]["SourceObjectKeys"]]


def test_the_policy_allows_exactly_the_websocket_and_the_managed_login_domain(cognito: Synth) -> None:
    login = f"https://serverlesschat-{ACCOUNT}.auth.{REGION}.amazoncognito.com"
    assert _csp(cognito) == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        f"connect-src 'self' wss://{API_ID}.execute-api.{REGION}.amazonaws.com {login}; "
        "worker-src 'self'; manifest-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    # The very domain the pool gets, and the one config.json sends the browser to.
    (domain,) = cognito.of_type("AWS::Cognito::UserPoolDomain").values()
    prefix = resolve(domain["Properties"]["Domain"], _refs(cognito), {})
    assert login == f"https://{prefix}.auth.{REGION}.amazoncognito.com"


def test_a_chosen_login_domain_prefix_is_the_one_the_policy_allows() -> None:
    stack = Stack(App(), "Chat")
    config = ChatConfig(auth_domain_prefix="acme-chat")
    ChatAuth(stack, "Auth", config=config, site_url="https://chat.example/")
    Template.from_stack(stack).has_resource_properties("AWS::Cognito::UserPoolDomain", {"Domain": "acme-chat"})
    (origin,) = ChatAuth.browser_origins(config, stack)
    assert stack.resolve(origin) == {
        "Fn::Join": ["", ["https://acme-chat.auth.", {"Ref": "AWS::Region"}, ".amazoncognito.com"]]
    }


def test_with_an_external_issuer_the_policy_allows_its_origin_and_the_given_sign_in_origins(external: Synth) -> None:
    assert (
        f"connect-src 'self' wss://{API_ID}.execute-api.{REGION}.amazonaws.com "
        "https://login.example.com https://tokens.example.net;"
    ) in _csp(external)
    assert "amazoncognito" not in _csp(external)


def test_cloudfront_sends_the_headers_the_local_stack_sends(cognito: Synth) -> None:
    headers = _headers(cognito)
    local = security_headers(["wss://example"])
    assert headers["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": HSTS_MAX_AGE_SECONDS,
        "IncludeSubdomains": True,
        "Override": True,
    }
    assert local["Strict-Transport-Security"] == f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains"
    assert headers["FrameOptions"]["FrameOption"] == FRAME_OPTIONS == local["X-Frame-Options"]
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == REFERRER_POLICY == local["Referrer-Policy"]
    assert headers["ContentTypeOptions"] == {"Override": True} and local["X-Content-Type-Options"] == "nosniff"
    assert all(h["Override"] for h in headers.values())


def test_the_bucket_is_private_and_served_over_https_as_a_single_page_app(cognito: Synth) -> None:
    cognito.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            }
        },
    )
    cognito.template.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {"OriginAccessControlConfig": Match.object_like({"OriginAccessControlOriginType": "s3"})},
    )
    (distribution,) = cognito.of_type("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"
    assert {(e["ErrorCode"], e["ResponseCode"], e["ResponsePagePath"]) for e in config["CustomErrorResponses"]} == {
        (403, 200, "/index.html"),
        (404, 200, "/index.html"),
    }


def test_the_built_client_is_deployed_not_its_sources(cognito: Synth) -> None:
    for deployment in _deployments(cognito).values():
        built = _source_dirs(cognito, deployment)[0]
        assert (built / "index.html").is_file() and any((built / "assets").iterdir())
        assert not {"src", "node_modules", "package.json"} & {p.name for p in built.iterdir()}
        assert (built / "index.html").read_bytes() == (WebProject().dist / "index.html").read_bytes()


def test_hashed_assets_are_uploaded_first_as_immutable_and_kept_for_pages_loaded_before_a_deploy(
    cognito: Synth,
) -> None:
    deployments = _deployments(cognito)
    assert set(deployments) == {ASSET_CACHE_CONTROL, SHELL_CACHE_CONTROL}
    assets = deployments[ASSET_CACHE_CONTROL]["Properties"]
    assert (assets["Exclude"], assets["Include"], assets["Prune"]) == (["*"], ["assets/*"], False)
    assert "DistributionId" not in assets, "new names need no invalidation"
    shell_id, shell = next(
        (k, d)
        for k, d in cognito.of_type("Custom::CDKBucketDeployment").items()
        if d["Properties"]["SystemMetadata"]["cache-control"] == SHELL_CACHE_CONTROL
    )
    assets_id = next(k for k in cognito.of_type("Custom::CDKBucketDeployment") if k != shell_id)
    assert assets_id in shell.get("DependsOn", [])


def test_the_app_shell_and_config_json_are_revalidated_on_every_load_and_invalidated_on_deploy(
    cognito: Synth,
) -> None:
    shell = _deployments(cognito)[SHELL_CACHE_CONTROL]["Properties"]
    assert shell["Exclude"] == ["assets/*"] and shell.get("Prune", True) is True
    assert shell["DistributionPaths"] == ["/*"] and "DistributionId" in shell
    assert SHELL_CACHE_CONTROL == "no-cache"


def test_the_service_worker_and_the_manifest_are_deployed_with_the_shell_and_revalidated_on_every_load(
    cognito: Synth,
) -> None:
    """A cached sw.js would keep the old app for as long as it is cached: it goes with index.html (no-cache, and
    the deploy's invalidation of /*), and the CSP lets the page register it and read the manifest."""
    shell = _deployments(cognito)[SHELL_CACHE_CONTROL]
    (built,) = [d for d in _source_dirs(cognito, shell) if (d / "index.html").is_file()]
    worker = (built / SERVICE_WORKER).read_text()
    assert worker == (WebProject().dist / SERVICE_WORKER).read_text()
    assert '"/index.html"' in worker and "__PRECACHE__" not in worker
    # Every hashed asset of this build is precached: the worker and the assets come from the same build.
    for asset in (built / "assets").iterdir():
        if not asset.name.endswith(".map"):
            assert f'"/assets/{asset.name}"' in worker
    manifest = json.loads((built / MANIFEST).read_text())
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    for icon in manifest["icons"]:
        assert (built / icon["src"].lstrip("/")).is_file()
    assert not any(
        fnmatch(name, pattern) for name in (SERVICE_WORKER, MANIFEST) for pattern in shell["Properties"]["Exclude"]
    )
    assert SHELL_CACHE_CONTROL == "no-cache"
    assert "worker-src 'self';" in _csp(cognito) and "manifest-src 'self';" in _csp(cognito)


def test_config_json_names_the_websocket_and_the_sign_in_endpoints(cognito: Synth) -> None:
    shell = _deployments(cognito)[SHELL_CACHE_CONTROL]
    markers = {k: json.dumps(v) for m in shell["Properties"]["SourceMarkers"] for k, v in m.items()}
    (config_file,) = [d / "config.json" for d in _source_dirs(cognito, shell) if (d / "config.json").is_file()]
    # Each token is a marker that the deployment replaces with its JSON-encoded value.
    config = json.loads(re.sub(r"<<marker:0xbaba:\d+>>", lambda m: json.dumps(m[0]), config_file.read_text()))
    assert markers[config["websocketUrl"]].startswith('{"Fn::Join": ["", ["\\"wss://"')
    auth = config["auth"]
    assert auth["mode"] == "cognito" and "openid" in auth["scopes"]
    client_id = cognito.logical_id(cognito.stack.auth.client)
    assert client_id in markers[auth["clientId"]]
    for endpoint in ("authorizationEndpoint", "tokenEndpoint", "issuer", "redirectUri"):
        assert markers[auth[endpoint]].startswith('{"Fn::Join": ["", ["\\"https://'), endpoint
