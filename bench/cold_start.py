"""Cold start: each handler's import time in a fresh interpreter, against `import boto3` alone, as deployed.

As deployed: the function's folder first on `sys.path` (as `/var/task`), then the layer as `infra.layer_build`
builds it (as `/opt/python`), then the runtime's packages (boto3, botocore: this venv's); the environment the
stack sets (infra/stack.py, infra/functions.py) with active tracing, so the Powertools Tracer is on and patches
botocore at import (the X-Ray SDK finds no daemon, which costs nothing at import; segments go to UDP on
127.0.0.1). Each figure is the median of `--runs` fresh interpreters, in CPU seconds of the interpreter spent on
the import (`time.process_time()`: robust to other load on the machine, and an import is CPU-bound with its files
in the page cache; the interpreter's own start-up, the same for every row, is left out).

Columns:
- import, bytecode: the layer ships `.pyc` files for the runtime's Python (here: compiled by this Python).
- import, no bytecode: the layer ships none (as today: `/opt` is read-only, so every module of the layer is
  compiled at every cold start). boto3 and the standard library keep theirs, as the runtime ships them.
- first call: import (with bytecode) plus the first invocation, which builds the settings, the boto3 clients and
  the service. Its AWS calls go to a local stub endpoint answering AccessDenied at once (no retry, no network);
  the authorizer verifies a real RS256 token against a JWKS served on 127.0.0.1.

Honesty notes: the layer's wheels are for CPython 3.14 on aarch64; this machine runs CPython 3.11 on x86_64. The
packages with compiled code (pydantic-core, cryptography, cffi, wrapt) are taken from this venv, same versions;
everything else is the layer's own files. Ratios to `import boto3` carry over better than seconds do.

    .venv/bin/python bench/cold_start.py [--runs 10] [--quick]   # writes bench/results/cold_start.json
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "shared" / "python"), str(ROOT)]

from chat.identity import Identity  # noqa: E402
from chat.ports import FanoutJob  # noqa: E402
from chat.routes import AUTHORIZER_FUNCTION, FANOUT_FUNCTION, ROUTES, SIGN_UP_FUNCTION  # noqa: E402
from chat.tables import TABLES  # noqa: E402
from infra.layer_build import build_layer  # noqa: E402
from local.events import (  # noqa: E402
    ConnectionInfo,
    authorizer_context,
    authorizer_event,
    connect_event,
    disconnect_event,
    message_event,
)

FUNCTIONS_DIR = ROOT / "functions"
# Top-level entries of the layer holding code compiled for the runtime's platform: taken from this venv instead.
COMPILED = ("pydantic_core", "cryptography", "cffi", "wrapt", "_cffi_backend")
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])

# Runs in the fresh interpreter: argv = [mode, function dir or "", layer dir, event JSON or ""]. Prints seconds.
CHILD = r"""
import sys, time, json
mode, task_root, opt, event = sys.argv[1:5]
sys.path[:0] = [p for p in (task_root, opt) if p]
if mode == "boto3":
    t = time.process_time()
    import boto3
    print(json.dumps({"seconds": time.process_time() - t}))
    raise SystemExit
t = time.process_time()
import importlib
handler = importlib.import_module("handler").lambda_handler
imported = time.process_time() - t
if mode == "first-call":
    class Context:
        function_name = "chat-bench"; memory_limit_in_mb = 512; function_version = "$LATEST"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:chat-bench"
        aws_request_id = "5f0ab0ac-5f0a-4b0a-9f0a-5f0ab0ac5f0a"; log_group_name = "bench"; log_stream_name = "bench"
        def get_remaining_time_in_millis(self): return 30000
    t = time.process_time()
    try:
        handler(json.loads(event), Context())
    except Exception as exc:
        outcome = type(exc).__name__
    else:
        outcome = "returned"
    outcome += " after " + ", ".join(m.removeprefix("chat.") for m in ("boto3", "chat.service") if m in sys.modules)
    imported += time.process_time() - t
    print(json.dumps({"seconds": imported, "outcome": outcome, "modules": len(sys.modules)}))
else:
    print(json.dumps({"seconds": imported, "modules": len(sys.modules)}))
"""


def lambda_environment(function: str, stub_url: str) -> dict[str, str]:
    """What Lambda and the stack set for `function` with active tracing (no POWERTOOLS_TRACE_DISABLED)."""
    environment = {spec.env_var: f"chat-{spec.name}" for spec in TABLES}
    environment.update(
        CONNECTIONS_ENDPOINT_URL=f"{stub_url}/live",
        POWERTOOLS_SERVICE_NAME="chat",
        POWERTOOLS_METRICS_NAMESPACE="ServerlessChat",
        POWERTOOLS_LOG_LEVEL="INFO",
        # Lambda's own variables (AWS_LAMBDA_FUNCTION_NAME turns the Tracer on), X-Ray's with active tracing.
        AWS_LAMBDA_FUNCTION_NAME=f"chat-{function}",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512",
        AWS_EXECUTION_ENV="AWS_Lambda_python3.14",
        LAMBDA_TASK_ROOT="/var/task",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_SESSION_TOKEN="bench",
        AWS_XRAY_CONTEXT_MISSING="LOG_ERROR",
        AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:2000",
        _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        # Only so that the first call's DynamoDB requests reach the stub: unset on AWS.
        DYNAMODB_ENDPOINT_URL=stub_url,
    )
    if function == AUTHORIZER_FUNCTION:
        environment.update(JWT_ISSUER=ISSUER.issuer, JWT_AUDIENCE=ISSUER.audience, JWKS_URL=f"{stub_url}/jwks")
    return environment


def _issuer() -> Any:
    from tests.support.tokens import TestIssuer

    return TestIssuer()


ISSUER = _issuer()


def first_event(function: str) -> dict[str, Any]:
    """An event that runs the function's real path up to its first AWS call."""
    conn = ConnectionInfo()
    context = authorizer_context(Identity("u-bench", "Bench", 4102444800).authorizer_context(), "u-bench")
    if function == AUTHORIZER_FUNCTION:
        return authorizer_event(conn, {"token": ISSUER.token(sub="u-bench", name="Bench")})
    if function == "connect":
        return connect_event(conn, context, {})
    if function == "disconnect":
        return disconnect_event(conn, context)
    if function == SIGN_UP_FUNCTION:
        attributes = {"sub": "u-bench", "name": "Bench"}
        return {"triggerSource": "PostConfirmation_ConfirmSignUp", "request": {"userAttributes": attributes}}
    if function == FANOUT_FUNCTION:  # one SQS record: a page of a big room's fan-out
        job = FanoutJob("r-bench", '{"type":"message"}', skip_connection_id=conn.connection_id)
        return {
            "Records": [
                {
                    "messageId": "m-bench",
                    "receiptHandle": "h-bench",
                    "body": job.to_json(),
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench-fanout",
                    "awsRegion": "us-east-1",
                }
            ]
        }
    route = next(r for r, f in sorted(ROUTES.items()) if f == function and not r.startswith("$"))
    body = {"action": route, "roomId": "r-bench"}
    if route == "sendMessage":
        body.update(content="hello", clientMsgId="8d6bb0f6-1f0e-4c33-9f3e-4b1e9a3f0c51")
    return message_event(conn, route, json.dumps(body), context)


@contextlib.contextmanager
def stub_endpoint() -> Iterator[str]:
    """Every AWS request is refused at once (AccessDenied is not retried); GET /jwks serves the test JWKS."""
    jwks = json.dumps(ISSUER.jwks()).encode()
    denied = b'{"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException","message":"bench stub"}'

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(200, jwks)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(400 if "dynamodb" in self.headers.get("X-Amz-Target", "").lower() else 403, denied)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def stage_layer(layer: Path, into: Path) -> Path:
    """A copy of the layer's `python/` without bytecode, its compiled packages swapped for this venv's."""
    opt = into / "python"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", *(f"{name}*" for name in COMPILED))
    shutil.copytree(layer / "python", opt, ignore=skip)
    for name in COMPILED:
        for source in SITE_PACKAGES.glob(f"{name}*"):
            if source.name.endswith(".dist-info"):
                continue
            if source.is_dir():
                shutil.copytree(source, opt / source.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, opt / source.name)
    return opt


def run_child(mode: str, function: str, opt: Path, environment: dict[str, str], *, bytecode: bool) -> dict[str, Any]:
    env = {"PATH": os.environ.get("PATH", ""), **environment}
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    task_root = str(FUNCTIONS_DIR / function) if function else ""
    event = json.dumps(first_event(function)) if mode == "first-call" else ""
    with tempfile.TemporaryDirectory() as cwd:
        process = subprocess.run(
            [sys.executable, "-c", CHILD, mode, task_root, str(opt) if function else "", event],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    if process.returncode:
        raise RuntimeError(f"{mode} {function}: {process.stderr[-3000:]}")
    return dict(json.loads(process.stdout.strip().splitlines()[-1]))


def tree_size(path: Path) -> tuple[int, int]:
    """Bytes of the files under `path` (no bytecode) and of their deflated zip, as CDK uploads an asset."""
    files = [f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            archive.write(f, f.relative_to(path))
    return sum(f.stat().st_size for f in files), buffer.tell()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--functions", nargs="*", help="default: every function")
    parser.add_argument("--quick", action="store_true", help="3 runs")
    args = parser.parse_args()
    if args.quick:
        args.runs = 3
    functions = args.functions or sorted(p.name for p in FUNCTIONS_DIR.iterdir() if (p / "handler.py").is_file())
    layer, _ = build_layer()
    print(f"Python {sys.version.split()[0]} on {sys.platform}/{os.uname().machine}; median of {args.runs} runs.")
    print(f"Layer {layer.name}: compiled packages from this venv ({', '.join(COMPILED)}), the rest as shipped.")
    with tempfile.TemporaryDirectory() as scratch, stub_endpoint() as stub_url:
        plain = stage_layer(layer, Path(scratch) / "plain")
        compiled = stage_layer(layer, Path(scratch) / "compiled")
        compileall.compile_dir(compiled, quiet=1, workers=1)
        # Round-robin: each round samples every cell once, so that other load on the machine, which drifts, weighs
        # on the baseline and the handlers alike.
        cells: dict[tuple[str, str], list[float]] = {}
        outcomes: dict[str, str] = {}
        plan = [("boto3", "", plain, lambda_environment("bench", stub_url), True)]
        for function in functions:
            environment = lambda_environment(function, stub_url)
            plan += [
                ("import", function, compiled, environment, True),
                ("import-no-bytecode", function, plain, environment, False),
                ("first-call", function, compiled, environment, True),
            ]
        for _ in range(args.runs):
            for mode, function, opt, environment, bytecode in plan:
                sample = run_child(mode.removesuffix("-no-bytecode"), function, opt, environment, bytecode=bytecode)
                cells.setdefault((mode, function), []).append(sample["seconds"])
                if mode == "first-call":
                    outcomes[function] = sample["outcome"]
        median = {cell: statistics.median(samples) for cell, samples in cells.items()}
        baseline = median["boto3", ""]
        print(f"\nimport boto3 alone: {baseline * 1000:.0f} ms (= 1.00x)\n")
        print(
            f"{'function':<13} {'import, bytecode':>18} {'import, no bytecode':>21} "
            f"{'with first call':>17} {'asset (zip)':>12}"
        )
        for function in functions:
            with_pyc, without, first = (
                median[mode, function] for mode in ("import", "import-no-bytecode", "first-call")
            )
            _, zipped = tree_size(FUNCTIONS_DIR / function)
            print(
                f"{function:<13} {with_pyc * 1000:>8.0f} ms {with_pyc / baseline:>5.2f}x "
                f"{without * 1000:>10.0f} ms {without / baseline:>5.2f}x "
                f"{first * 1000:>7.0f} ms {first / baseline:>5.2f}x {zipped:>10,} B"
            )
        print("\nHow each first call ended (its first AWS call refused by the stub):")
        print("  " + ", ".join(f"{f}: {o}" for f, o in outcomes.items()))
    raw, zipped = tree_size(layer)
    print(f"Layer as shipped (aarch64 wheels): {raw / 1e6:.1f} MB of files, {zipped / 1e6:.1f} MB zipped.")
    write_results(
        {
            "runs": args.runs,
            "python": sys.version.split()[0],
            "platform": f"{sys.platform}/{os.uname().machine}",
            "boto3_s": baseline,
            "functions": {
                function: {
                    "import_s": median["import", function],
                    "import_no_bytecode_s": median["import-no-bytecode", function],
                    "first_call_s": median["first-call", function],
                    "first_call_outcome": outcomes.get(function, ""),
                }
                for function in functions
            },
            "layer_bytes": raw,
            "layer_zipped_bytes": zipped,
        }
    )


def write_results(data: dict[str, Any]) -> None:
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "cold_start.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print("wrote bench/results/cold_start.json")


if __name__ == "__main__":
    main()
