"""The web client: a private S3 bucket behind CloudFront (origin access control, HTTPS only, security headers,
single-page routing), with the built client (`web/dist`, built at synth when stale) and a generated
`config.json` deployed into it.

Two deployments, one per cache class: `assets/*` (named after their content by vite) first, cached for a year as
immutable and never deleted (a page loaded before a deploy still finds its chunks); then `index.html`,
`config.json`, the service worker `sw.js` (a cached one would keep the old app) and the other files with
`no-cache`, so browsers revalidate them on every load and CloudFront
keeps them for its minimum TTL (1 s); the deploy also invalidates `/*`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.web_build import build_web
from infra.web_headers import (
    ASSET_CACHE_CONTROL,
    ASSETS_PREFIX,
    HSTS_MAX_AGE_SECONDS,
    SHELL_CACHE_CONTROL,
    content_security_policy,
)

_BUCKET_DEPLOYMENT_SUPPRESSIONS = [
    NagPackSuppression(
        id="AwsSolutions-IAM4",
        reason="CDK's BucketDeployment function logs with AWSLambdaBasicExecutionRole; not ours to change.",
        applies_to=["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
    ),
    NagPackSuppression(
        id="AwsSolutions-IAM5",
        reason="CDK's BucketDeployment grants itself s3:GetObject*/List*/DeleteObject* on the CDK asset "
        "bucket and this site's bucket only, and CloudFront invalidation, which has no resource-level "
        "permissions.",
    ),
    NagPackSuppression(
        id="AwsSolutions-L1",
        reason="CDK's BucketDeployment pins its own runtime (it bundles the AWS CLI for it).",
    ),
]


class WebSite(Construct):
    """Created before the auth (its URL is the sign-in redirect); `publish` deploys the files afterwards."""

    def __init__(self, scope: Construct, construct_id: str, *, connect_sources: Sequence[str]) -> None:
        """`connect_sources`: the origins the page may call besides its own (the WebSocket, the sign-in)."""
        super().__init__(scope, construct_id)
        # Rebuilt from web/ on every deploy: nothing in it to keep.
        self.bucket = s3.Bucket(
            self,
            "Files",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        # The app shell answers any path the bucket lacks (403 through OAC, or 404): client-side routing.
        spa_fallback = [
            cloudfront.ErrorResponse(
                http_status=status,
                response_http_status=200,
                response_page_path="/index.html",
                ttl=Duration.seconds(0),
            )
            for status in (403, 404)
        ]
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="chat web client",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self._security_headers(connect_sources),
            ),
            default_root_object="index.html",
            error_responses=spa_fallback,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        NagSuppressions.add_resource_suppressions(
            self.distribution,
            [
                NagPackSuppression(
                    id="AwsSolutions-CFR1", reason="A chat is for everyone: no country is blocked by default."
                ),
                NagPackSuppression(
                    id="AwsSolutions-CFR2",
                    reason="Static files only; a WAF web ACL costs about $6 a month at idle. Add one "
                    "(web_acl_id) where the deployer needs it.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-CFR3",
                    reason="Standard logs need a log bucket with ACLs; the API's access logs record who uses the chat.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-CFR4",
                    reason="The default *.cloudfront.net certificate has a fixed TLS policy; a custom "
                    "domain's certificate would allow TLSv1.2_2021.",
                ),
            ],
        )
        NagSuppressions.add_resource_suppressions(
            self.bucket,
            [
                NagPackSuppression(
                    id="AwsSolutions-S1",
                    reason="Only CloudFront reads this bucket and only the deployment writes it: access "
                    "logs would record nothing else.",
                )
            ],
        )

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}/"

    def publish(self, config: dict[str, Any]) -> None:
        """Deploy web/dist (built now if missing or stale) with config.json, and invalidate the cache."""
        dist = str(build_web())
        assets = s3deploy.BucketDeployment(
            self,
            "DeployAssets",
            sources=[s3deploy.Source.asset(dist)],
            destination_bucket=self.bucket,
            exclude=["*"],
            include=[f"{ASSETS_PREFIX}*"],
            prune=False,
            cache_control=[s3deploy.CacheControl.from_string(ASSET_CACHE_CONTROL)],
            memory_limit=512,
        )
        shell = s3deploy.BucketDeployment(
            self,
            "DeployShell",
            sources=[s3deploy.Source.asset(dist), s3deploy.Source.json_data("config.json", config)],
            destination_bucket=self.bucket,
            exclude=[f"{ASSETS_PREFIX}*"],
            cache_control=[s3deploy.CacheControl.from_string(SHELL_CACHE_CONTROL)],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
        )
        # The new index.html names the new assets: they must be there first.
        shell.node.add_dependency(assets)
        # CDK's deployment function is one per stack, outside this construct; it runs only during deployments.
        for construct in Stack.of(self).node.children:
            if construct.node.id.startswith("Custom::CDKBucketDeployment"):
                NagSuppressions.add_resource_suppressions(
                    construct, _BUCKET_DEPLOYMENT_SUPPRESSIONS, apply_to_children=True
                )

    def _security_headers(self, connect_sources: Sequence[str]) -> cloudfront.ResponseHeadersPolicy:
        """`infra/web_headers.py`'s headers; the local stack sends the same (a test compares them)."""
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(connect_sources), override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(HSTS_MAX_AGE_SECONDS),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
            ),
        )
