"""`ligging edit`: serve the live editor of one case on 127.0.0.1, for this user's browser only.

The server binds 127.0.0.1 on a free (or given) port and prints one line,
`ligging edit: http://127.0.0.1:PORT/?token=TOKEN`. Every request must carry the token
(query `token` or header `X-Ligging-Token`), a Host of 127.0.0.1:PORT or localhost:PORT
(so a rebound DNS name cannot reach it) and, when it has one, an Origin of that same
server (so no other site can drive it): anything else gets 403 before any route runs.
Request bodies are capped; static files come from a fixed list shipped in the package.
Bad edits answer 400 with a one-line message the page shows; nothing answers with a
traceback. Ctrl-C or SIGTERM stops it; the case file is written only by Save.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import signal
import socket
import sys
import webbrowser
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from checker.engine.evaluate import Engine
from checker.io.case_edit import read_case_text, validate
from checker.views.editor.session import EditRefused, EditSession
from dsl.diagnostics import Diagnostic, LiggingError, Span

MAX_BODY = 64 * 1024
STATIC = {"editor.js": "text/javascript", "editor.css": "text/css"}
TOKEN_HEADER = "x-ligging-token"
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class Guard:
    """ASGI middleware: token, Host and Origin checked and the body size capped on every request."""

    def __init__(self, app: ASGIApp, token: str, port: int) -> None:
        self.app = app
        self.token = token
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{h}" for h in self.hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        reason = self.refusal(scope, headers)
        if reason is not None:
            await _plain(send, 403, f"forbidden: {reason}")
            return
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            await _plain(send, 413, f"request body larger than {MAX_BODY} bytes")
            return
        await self.app(scope, receive, _secured(send))

    def refusal(self, scope: Scope, headers: dict[str, str]) -> str | None:
        """Return why a request is refused, or None when it may pass."""
        if headers.get("host") not in self.hosts:
            return "unexpected Host"
        origin = headers.get("origin")
        if origin is not None and origin not in self.origins:
            return "foreign Origin"
        query = dict(_query(scope.get("query_string", b"").decode("latin-1")))
        given = headers.get(TOKEN_HEADER) or query.get("token", "")
        if not secrets.compare_digest(given.encode("utf-8", "replace"), self.token.encode()):
            return "missing or wrong token"
        return None


class _TooLarge(EditRefused):
    """A request body (sent without Content-Length) grew past MAX_BODY."""


def _query(text: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(text, keep_blank_values=True)


def _secured(send: Send) -> Send:
    """Wrap `send` so every response carries the security headers."""

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            names = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.lower().encode() not in names]
            message = {**message, "headers": list(message.get("headers", [])) + extra}
        await send(message)

    return wrapped


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _asset(name: str) -> str:
    return (resources.files("checker.views.editor") / "static" / name).read_text(encoding="utf-8")


def create_app(session: EditSession, token: str, port: int, layout: bool = False) -> ASGIApp:
    """Return the guarded ASGI application serving one editing session."""

    def answer(work: Callable[[], dict[str, Any]]) -> Response:
        try:
            return JSONResponse(work())
        except EditRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception as exc:  # a bug must not show a traceback in the page; one line on stderr
            sys.stderr.write(f"ligging edit: internal error: {type(exc).__name__}: {exc}\n")
            return JSONResponse({"error": f"internal error ({type(exc).__name__}); the case is unchanged"}, status_code=500)

    def refused(exc: EditRefused) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=413 if isinstance(exc, _TooLarge) else 400)

    async def body(request: Request) -> dict[str, Any]:
        raw = b""
        async for chunk in request.stream():  # counted as it arrives: a body without Content-Length is capped too
            raw += chunk
            if len(raw) > MAX_BODY:
                raise _TooLarge(f"request body larger than {MAX_BODY} bytes")
        try:
            data = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise EditRefused("the request is not JSON") from None
        if not isinstance(data, dict):
            raise EditRefused("the request must be a JSON object")
        return data

    async def page(request: Request) -> Response:
        html = _asset("index.html").replace("{{TOKEN}}", token).replace("{{LAYOUT}}", "1" if layout else "0")
        return Response(html, media_type="text/html; charset=utf-8")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return PlainTextResponse("not found", status_code=404)
        return Response(_asset(name), media_type=f"{STATIC[name]}; charset=utf-8")

    async def state(request: Request) -> Response:
        return answer(session.state)

    async def suggestions(request: Request) -> Response:
        if session.suggested is None:  # each candidate move is re-checked: off the event loop, so drags stay live
            try:
                found = await run_in_threadpool(session.find_suggestions, session.version, session.section,
                                                session.findings)
            except Exception as exc:
                sys.stderr.write(f"ligging edit: suggestions failed: {type(exc).__name__}: {exc}\n")
                return JSONResponse({"error": f"looking for moves failed ({type(exc).__name__})"}, status_code=500)
            session.keep_suggestions(*found)
        return answer(session.suggestions_json)

    async def explain(request: Request) -> Response:
        rule = request.path_params["rule"]
        return answer(lambda: {"rule": rule, "text": session.explain(rule)})

    async def preview(request: Request) -> Response:
        try:
            data = await body(request)
            obj_id, values = data.get("id"), data.get("values")
            if not isinstance(obj_id, str) or not isinstance(values, dict):
                raise EditRefused("preview needs an id and values")
        except EditRefused as exc:
            return refused(exc)
        return answer(lambda: session.preview(obj_id, values))

    async def edit(request: Request) -> Response:
        try:
            data = await body(request)
        except EditRefused as exc:
            return refused(exc)
        return answer(lambda: session.edit(data))

    async def undo(request: Request) -> Response:
        return answer(session.undo)

    async def redo(request: Request) -> Response:
        return answer(session.redo)

    async def save(request: Request) -> Response:
        return answer(session.save)

    async def propose(request: Request) -> Response:
        version, section = session.snapshot()
        try:
            proposal = await run_in_threadpool(session.solve, version, section)
        except Exception as exc:
            sys.stderr.write(f"ligging edit: layout failed: {type(exc).__name__}: {exc}\n")
            return JSONResponse({"error": f"the layout solver failed ({type(exc).__name__})"}, status_code=500)
        return answer(lambda: session.offer(proposal))

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        Route("/api/state", state, methods=["GET"]),
        Route("/api/suggestions", suggestions, methods=["POST"]),
        Route("/api/explain/{rule}", explain, methods=["GET"]),
        Route("/api/preview", preview, methods=["POST"]),
        Route("/api/edit", edit, methods=["POST"]),
        Route("/api/undo", undo, methods=["POST"]),
        Route("/api/redo", redo, methods=["POST"]),
        Route("/api/save", save, methods=["POST"]),
        Route("/api/layout", propose, methods=["POST"]),
    ]
    return Guard(Starlette(routes=routes), token, port)


def bind(port: int) -> socket.socket:
    """Return a listening socket on 127.0.0.1 (port 0: a free one chosen by the system)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    sock.listen(16)
    sock.set_inheritable(True)
    return sock


def serve(case: Path, engine: Engine, port: int = 0, open_browser: bool = True, layout: bool = False) -> None:
    """Serve the editor of one case until Ctrl-C or SIGTERM; print its one-line address first."""
    import uvicorn

    opened = read_case_text(case)
    validate(opened.text, str(opened.path))  # a broken case is the usual one-line error, before any server starts
    session = EditSession(opened, engine, str(opened.path))
    try:
        sock = bind(port)
    except OSError as exc:
        message = f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}"
        raise LiggingError(Diagnostic(Span("--port", 1, 1), message)) from None
    actual = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    url = f"http://127.0.0.1:{actual}/?token={token}"
    app = create_app(session, token, actual, layout)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", server_header=False)
    server = uvicorn.Server(config)
    sys.stdout.write(f"ligging edit: {url}\n")
    sys.stdout.flush()
    if open_browser:
        with contextlib.suppress(Exception):  # no browser on this machine: the printed address is enough
            webbrowser.open(url)
    # uvicorn stops on SIGINT/SIGTERM and then raises the signal again for the handler it found:
    # these quiet ones make Ctrl-C and SIGTERM an ordinary exit (0) instead of a traceback or 143
    quiet = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        for sig, handler in quiet.items():
            signal.signal(sig, handler)
    if session.text != session.saved:
        sys.stderr.write(f"ligging edit: stopped with unsaved changes; {session.display} is as it was last saved\n")


def _ignore(signum: int, frame: object) -> None:
    """Take a signal that uvicorn has already acted on (it stopped the server)."""
