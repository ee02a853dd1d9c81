"""Who may connect: the stack's own Cognito user pool (managed login, PKCE, refresh tokens) by default, or
an external OIDC issuer given by context. Either way the authorizer verifies RS256 access tokens by a JWKS."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aws_cdk import Aws, Duration, RemovalPolicy, Stack, aws_lambda
from aws_cdk import aws_cognito as cognito
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.config import ChatConfig

SCOPES = ("openid", "profile", "email")


class ChatAuth(Construct):
    issuer: str
    audiences: tuple[str, ...]
    jwks_url: str
    user_pool: cognito.UserPool | None = None
    client: cognito.UserPoolClient | None = None

    def __init__(self, scope: Construct, construct_id: str, *, config: ChatConfig, site_url: str) -> None:
        super().__init__(scope, construct_id)
        self._site_url = site_url
        self._web: dict[str, Any]
        if config.external_issuer:
            external = config.external_issuer
            self.issuer, self.audiences, self.jwks_url = (
                external.issuer,
                external.audiences,
                external.jwks_url,
            )
            # The web client finds the endpoints in the issuer's /.well-known/openid-configuration.
            self._web = {"mode": "oidc", "clientId": external.client_id}
        else:
            self._cognito(config)

    @staticmethod
    def browser_origins(config: ChatConfig, stack: Stack) -> list[str]:
        """The origins the web client calls to sign in, for its Content-Security-Policy: known from the config
        alone, before the pool exists (the site, and so its policy, is created first: its URL is the redirect).

        Cognito: its managed login domain (authorize, token, revoke and logout endpoints all live there). An
        external issuer: the issuer's origin (its discovery document), plus `config.sign_in_origins` for
        endpoints elsewhere (Google's token endpoint is on oauth2.googleapis.com): those are only in the
        discovery document, which synth does not fetch.
        """
        if config.external_issuer:
            parts = urlsplit(config.external_issuer.issuer)
            return [f"{parts.scheme}://{parts.netloc}", *config.external_issuer.sign_in_origins]
        return [f"https://{ChatAuth.domain_prefix(config, stack)}.auth.{Aws.REGION}.amazoncognito.com"]

    @staticmethod
    def domain_prefix(config: ChatConfig, stack: Stack) -> str:
        """The managed login's `https://<prefix>.auth.<region>.amazoncognito.com` (unique per region)."""
        return config.auth_domain_prefix or f"{stack.stack_name.lower()}-{Aws.ACCOUNT_ID}"

    def add_sign_up_trigger(self, function: aws_lambda.IFunction) -> None:
        """Run `function` when a user confirms their sign-up (Cognito only). The pool names the function, so
        the function's configuration must not name the pool: that would be a dependency cycle."""
        if self.user_pool is None:
            raise ValueError("an external issuer has no sign-up trigger")
        self.user_pool.add_trigger(cognito.UserPoolOperation.POST_CONFIRMATION, function)

    def web_settings(self) -> dict[str, Any]:
        """The `auth` part of the web client's config.json."""
        return {**self._web, "issuer": self.issuer, "scopes": list(SCOPES), "redirectUri": self._site_url}

    def _cognito(self, config: ChatConfig) -> None:
        pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            # Managed login's sign-up page asks for every required attribute: the name becomes the chat profile
            # (the sign-up trigger stores it; access tokens carry no name).
            standard_attributes=cognito.StandardAttributes(
                fullname=cognito.StandardAttribute(required=True, mutable=True),
                preferred_username=cognito.StandardAttribute(required=False, mutable=True),
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Essentials: the tier that includes managed login.
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            # The chat's users, kept or deleted with the chat's data (messages name their senders by user id).
            removal_policy=RemovalPolicy.RETAIN if config.retain_history else RemovalPolicy.DESTROY,
        )
        NagSuppressions.add_resource_suppressions(
            pool,
            [
                NagPackSuppression(
                    id="AwsSolutions-COG2",
                    reason="MFA is offered (TOTP) but not forced: a chat sign-up must stay one step.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-COG8",
                    reason="The Plus feature plan costs per monthly active user; Essentials includes managed "
                    "login, and a deployer who wants threat protection switches the plan.",
                ),
            ],
        )
        domain = pool.add_domain(
            "LoginDomain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=self.domain_prefix(config, Stack.of(self))),
            managed_login_version=cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
        )
        # A public client for a browser app: no secret, authorization code with PKCE, refresh tokens. The site
        # signs in and out at its root; so does each of the deployer's other origins (devOrigins), for instance
        # the Vite dev server, which answers with the deployed config.json redirecting to itself.
        redirect_urls = [self._site_url, *(f"{origin}/" for origin in config.dev_origins)]
        client = pool.add_client(
            "WebClient",
            generate_secret=False,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.custom(scope) for scope in SCOPES],
                callback_urls=redirect_urls,
                logout_urls=redirect_urls,
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            enable_token_revocation=True,
        )
        # Managed login shows no page until the client has a style; Cognito's default one is enough.
        cognito.CfnManagedLoginBranding(
            self,
            "LoginBranding",
            user_pool_id=pool.user_pool_id,
            client_id=client.user_pool_client_id,
            use_cognito_provided_values=True,
        )
        self.user_pool, self.client = pool, client
        self.issuer = f"https://cognito-idp.{Aws.REGION}.{Aws.URL_SUFFIX}/{pool.user_pool_id}"
        self.jwks_url = f"{self.issuer}/.well-known/jwks.json"
        # Cognito's access tokens carry the app client id in `client_id` (they have no `aud`).
        self.audiences = (client.user_pool_client_id,)
        login = domain.base_url()
        self._web = {
            "mode": "cognito",
            "clientId": client.user_pool_client_id,
            "authorizationEndpoint": f"{login}/oauth2/authorize",
            "tokenEndpoint": f"{login}/oauth2/token",
            "logoutEndpoint": f"{login}/logout",
        }
