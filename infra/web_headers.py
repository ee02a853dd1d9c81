"""The headers the web client is served with, on CloudFront (`infra/web.py`) and on the local stack
(`local/webclient.py`) alike, so that a page the policy would break on AWS breaks locally first.

Standard library only: the local stack imports it with its own requirements. The values may hold CDK tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

# Vite names every file under assets/ after a hash of its content: a new build is a new name.
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
# index.html, config.json and the service worker (sw.js) name everything else: the browser asks again (a 304
# when unchanged), so a deploy is seen on the next load and the new worker installs at once.
SHELL_CACHE_CONTROL = "no-cache"
ASSETS_PREFIX = "assets/"
# Written by the build (web/pwa/plugin.ts) at the root, so that its scope is the whole site.
SERVICE_WORKER = "sw.js"
MANIFEST = "manifest.webmanifest"

HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600
FRAME_OPTIONS = "DENY"
REFERRER_POLICY = "strict-origin-when-cross-origin"


def content_security_policy(connect_sources: Sequence[str]) -> str:
    """The app's own files only; network calls to itself, the WebSocket and the sign-in origins only.

    `style-src 'self'` allows the stylesheets and the styles that scripts set through the CSSOM (React's `style`
    prop), not `style="…"` attributes in HTML nor `<style>` elements. Avatars are any https image. The service
    worker and the web app manifest come from the site itself.
    """
    connect = " ".join(["'self'", *connect_sources])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: https:",
            f"connect-src {connect}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(connect_sources: Sequence[str]) -> dict[str, str]:
    """Every header CloudFront's response headers policy adds, as the local stack sends them."""
    return {
        "Content-Security-Policy": content_security_policy(connect_sources),
        "Strict-Transport-Security": f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": FRAME_OPTIONS,
        "Referrer-Policy": REFERRER_POLICY,
    }
