"""The Starlette application of ``twofold serve`` (see :mod:`twofold.serve`)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from functools import cache
from importlib.resources import files
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from twofold import learn, registry
from twofold.chain import warm
from twofold.contract import InputError, TwofoldError
from twofold.sandbox import Pool

MAX_BODY = 64 * 1024
"""Bytes of one request body."""
MAX_LINES = 50
"""Lines of one ``/api/check`` request."""
STEP_TIMEOUT = 0.5
"""Seconds of algebra per line (half the command line's default: a page answers while the learner waits)."""
BUDGET = 5.0
"""Seconds of algebra for one request's lines (waiting for a free worker not counted)."""
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


class _Limits:
    """ASGI middleware: refuse bodies over :data:`MAX_BODY` (413) and add the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            await _too_large(scope, receive, send)
            return
        received = 0

        async def limited() -> Any:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY:
                raise HTTPException(413, f"the request body exceeds {MAX_BODY} bytes")
            return message

        async def secured(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *((k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items())]
            await send(message)

        await self.app(scope, limited, secured)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"error": f"the request body exceeds {MAX_BODY} bytes"}, status_code=413)
    await response(scope, receive, send)


@cache
def _templates() -> jinja2.Environment:
    loader = jinja2.FunctionLoader(lambda name: files("twofold.serve").joinpath("templates", name).read_text(encoding="utf-8"))
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_templates().get_template(name).render(**context), status_code=status)


def create_app(workers: int = 4) -> Starlette:
    """The application; ``workers`` sandboxed step checks run at once (the rest wait for a slot)."""
    _warm()
    pool = Pool(workers)  # forked after the warm-up, so every worker starts with warm sympy caches

    async def index(request: Request) -> Response:
        return _page("index.html", families=registry.families())

    async def claim_page(request: Request) -> Response:
        try:
            claim = learn.find_claim(request.path_params["claim_id"])
        except InputError as exc:
            return _page("error.html", status=404, message=str(exc))
        return _page("claim.html", claim=claim, record=json.dumps(learn.claim_record(claim)))

    async def api_claims(request: Request) -> Response:
        return JSONResponse(learn.list_record(registry.all_claims()))

    async def api_hints(request: Request) -> Response:
        claim_id = request.path_params["claim_id"]
        return await _answer(lambda: {"claim": claim_id, "hints": learn.hints(claim_id, 10_000)})

    async def api_evidence(request: Request) -> Response:
        claim_id = request.path_params["claim_id"]
        return await _answer(lambda: _evidence(claim_id))

    async def api_check(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return _error("the body must be JSON: {\"claim\": ID, \"steps\": [\"line 1\", ...]}")
        if not isinstance(body, dict) or not isinstance(body.get("claim"), str) or not isinstance(body.get("steps"), list):
            return _error("the body must be {\"claim\": ID, \"steps\": [\"line 1\", ...]}")
        steps = body["steps"]
        if not all(isinstance(step, str) for step in steps) or not 1 <= len(steps) <= MAX_LINES:
            return _error(f"steps must be a list of 1 to {MAX_LINES} strings")
        from_statement = body.get("from_statement") is True
        return await _answer(
            lambda: learn.check(
                body["claim"], steps, from_statement=from_statement, timeout=STEP_TIMEOUT, budget=BUDGET, runner=pool.run
            ).to_dict()
        )

    routes = [
        Route("/", index),
        Route("/claim/{claim_id}", claim_page),
        Route("/api/claims", api_claims),
        Route("/api/claim/{claim_id}/hints", api_hints),
        Route("/api/claim/{claim_id}/evidence", api_evidence),
        Route("/api/check", api_check, methods=["POST"]),
        Mount("/static", StaticFiles(packages=[("twofold.serve", "static")]), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        pool.close()

    return Starlette(routes=routes, middleware=[Middleware(_Limits)], lifespan=lifespan)


def _warm() -> None:
    """Warm sympy's caches in the server process (see :func:`twofold.chain.warm`) with every symbol kind claims use."""
    kinds = {tuple(sorted(s.assumptions0.items())): s for claim in registry.all_claims() for s in claim.symbols}
    warm(list(kinds.values()))


async def _answer(work: Any) -> Response:
    """Run ``work`` on a worker thread: its document, or a 400 with the one-line message of an input error."""
    try:
        return JSONResponse(await run_in_threadpool(work))
    except TwofoldError as exc:
        return _error(str(exc))


def _error(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


@cache
def _evidence(claim_id: str) -> dict[str, Any]:
    """The claim's verdict at the quick profile, seed 0 (computed once per server)."""
    claim = learn.find_claim(claim_id)
    return learn.explain_record(claim, claim.verify(seed=0, profile="quick"))
