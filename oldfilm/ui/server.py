"""The HTTP side: a Starlette app (JSON API + the static page) and ``serve`` (uvicorn on a socket we bind).

Why Starlette and not Gradio: the page needs a scrubber, a before/after slider, a job list that outlives the
tab and a plot — plain HTML/JS does that in a few hundred lines, with two small dependencies (starlette,
uvicorn) and nothing fetched from a CDN, so it works offline; Gradio brings FastAPI, pydantic, pandas and
huggingface_hub among many others, its default theme loads web fonts and it sends analytics unless told not
to. Uploads come as the raw request body (no multipart parser needed), streamed to the work folder with a
size limit.

Mutating requests must carry ``X-Oldfilm: 1`` (a page on another site cannot send that header without the
server's consent), and the Host header must name this machine, so other sites cannot drive the app.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from oldfilm.errors import InputError, OldFilmError, UsageError
from oldfilm.ui import views
from oldfilm.ui.jobs import JobManager
from oldfilm.ui.workspace import Workspace

STATIC = Path(__file__).parent / "static"
Handler = Callable[[Request], Awaitable[Response]]


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _api(fn: Callable[..., Any], mutating: bool = False) -> Handler:
    """Wrap a handler: our errors become ``{"error": sentence}`` with status 400; blocking work runs in a thread."""

    async def endpoint(request: Request) -> Response:
        if mutating and request.headers.get("x-oldfilm") != "1":
            return _error("missing X-Oldfilm header", 403)
        try:
            result = await fn(request)
        except OldFilmError as e:
            return _error(str(e))
        return result if isinstance(result, Response) else JSONResponse(result)

    return endpoint


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise UsageError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise UsageError("the request body must be a JSON object")
    return body


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a whole number") from None


def create_app(work: Path, max_upload_mb: float = 2048, allowed_hosts: tuple[str, ...] = ()) -> Starlette:
    """The app over work folder ``work`` (created if missing); uploads larger than ``max_upload_mb`` are refused."""
    ws = Workspace(work, int(max_upload_mb * 2**20))
    state: dict[str, JobManager] = {}

    def jobs() -> JobManager:
        return state["jobs"]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["jobs"] = JobManager(ws)
        try:
            yield
        finally:
            await run_in_threadpool(state.pop("jobs").close)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def get_options(request: Request) -> dict[str, Any]:
        return {**views.options(), "max_upload_mb": max_upload_mb, "work": str(ws.root)}

    async def list_videos(request: Request) -> dict[str, Any]:
        return {"videos": [v.as_dict() for v in await run_in_threadpool(ws.videos)]}

    async def upload(request: Request) -> dict[str, Any]:
        name = Path(request.query_params.get("name", "upload")).name
        size = request.headers.get("content-length")
        if size is not None and int(size) > ws.max_upload:
            raise InputError(f"{name}: too big ({int(size) / 2**20:.1f} MiB; the limit is {max_upload_mb:g} MiB)")
        vid, part = ws.upload_path(name)
        written = 0
        try:
            with part.open("wb") as f:
                async for chunk in request.stream():
                    written += len(chunk)
                    if written > ws.max_upload:
                        raise InputError(f"{name}: too big (the limit is {max_upload_mb:g} MiB)")
                    f.write(chunk)
        except BaseException:
            ws.remove_upload(vid)
            raise
        if written == 0:
            ws.remove_upload(vid)
            raise InputError(f"{name}: the file is empty")
        return (await run_in_threadpool(ws.add_upload, vid, name, part)).as_dict()

    async def open_path(request: Request) -> dict[str, Any]:
        return (await run_in_threadpool(ws.add_path, str((await _json(request)).get("path", "")))).as_dict()

    async def open_demo(request: Request) -> dict[str, Any]:
        return (await run_in_threadpool(ws.add_demo, str((await _json(request)).get("name", "")))).as_dict()

    async def get_video(request: Request) -> dict[str, Any]:
        video = ws.video(request.path_params["vid"])
        ref = ws.colour(video.id)
        return {**video.as_dict(), "colour": None if ref is None else {"frame": ref.frame}}

    async def get_frame(request: Request) -> Response:
        video = ws.video(request.path_params["vid"])
        k = _int(request.query_params.get("i", 0), "the frame number")
        data = await run_in_threadpool(lambda: views.png(views.frame(video, k)))
        return Response(data, media_type="image/png")

    async def preview(request: Request) -> dict[str, Any]:
        video, body = ws.video(request.path_params["vid"]), await _json(request)
        return await run_in_threadpool(views.before_after, video, _int(body.get("frame", 0), "frame"),
                                       str(body.get("method", "classical")), str(body.get("preset", "auto")))

    async def set_colour(request: Request) -> dict[str, Any]:
        vid = request.path_params["vid"]
        raw = request.query_params.get("frame", "")
        frame = None if raw in ("", "exemplar") else _int(raw, "the keyframe")
        data = await request.body()
        ref = await run_in_threadpool(ws.set_colour, vid, data, frame)
        return {"frame": ref.frame}

    async def colour_preview(request: Request) -> dict[str, Any]:
        video, body = ws.video(request.path_params["vid"]), await _json(request)
        ref = ws.colour(video.id)
        if ref is None:
            raise UsageError("upload a coloured keyframe or an exemplar photo first")
        return await run_in_threadpool(views.colour_preview, video, ref, _int(body.get("frame", 0), "frame"))

    async def video_metrics(request: Request) -> dict[str, Any]:
        video = ws.video(request.path_params["vid"])
        return await run_in_threadpool(views.metrics, video.source, video.frames,
                                       ws.video_dir(video.id) / "metrics.json")

    async def list_jobs(request: Request) -> dict[str, Any]:
        return {"jobs": [j.as_dict() for j in jobs().jobs()]}

    async def submit(request: Request) -> dict[str, Any]:
        body = await _json(request)
        video = ws.video(str(body.get("video", "")))
        method, preset = str(body.get("method", "classical")), str(body.get("preset", "auto"))
        kind = str(body.get("kind", "restore"))
        if kind == "restore":
            views.check_method(method, preset)
        return jobs().submit(video, kind, method=method, preset=preset, codec=str(body.get("codec", "h264")),
                             colour=bool(body.get("colour", False))).as_dict()

    async def get_job(request: Request) -> dict[str, Any]:
        return jobs().get(request.path_params["jid"]).as_dict()

    async def cancel_job(request: Request) -> dict[str, Any]:
        return jobs().cancel(request.path_params["jid"]).as_dict()

    async def download(request: Request) -> Response:
        path = jobs().output(request.path_params["jid"])
        return FileResponse(path, filename=path.name)

    async def job_metrics(request: Request) -> dict[str, Any]:
        job = jobs().get(request.path_params["jid"])
        out = jobs().output(job.id)
        return await run_in_threadpool(views.metrics, out, job.done, out.with_name("metrics.json"))

    routes = [
        Route("/", index),
        Route("/api/options", _api(get_options)),
        Route("/api/videos", _api(list_videos)),
        Route("/api/videos/upload", _api(upload, True), methods=["POST"]),
        Route("/api/videos/open", _api(open_path, True), methods=["POST"]),
        Route("/api/videos/demo", _api(open_demo, True), methods=["POST"]),
        Route("/api/videos/{vid}", _api(get_video)),
        Route("/api/videos/{vid}/frame", _api(get_frame)),
        Route("/api/videos/{vid}/preview", _api(preview, True), methods=["POST"]),
        Route("/api/videos/{vid}/colour", _api(set_colour, True), methods=["POST"]),
        Route("/api/videos/{vid}/colour-preview", _api(colour_preview, True), methods=["POST"]),
        Route("/api/videos/{vid}/metrics", _api(video_metrics)),
        Route("/api/jobs", _api(list_jobs)),
        Route("/api/jobs/new", _api(submit, True), methods=["POST"]),
        Route("/api/jobs/{jid}", _api(get_job)),
        Route("/api/jobs/{jid}/cancel", _api(cancel_job, True), methods=["POST"]),
        Route("/api/jobs/{jid}/download", _api(download)),
        Route("/api/jobs/{jid}/metrics", _api(job_metrics)),
        Mount("/static", StaticFiles(directory=STATIC)),
    ]
    hosts = ["127.0.0.1", "localhost", "[::1]", *allowed_hosts]
    return Starlette(routes=routes, lifespan=lifespan,
                     middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one); UsageError when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port} ({e.strerror}); pick another --port") from None
    sock.listen(64)
    return sock


def serve(work: Path, host: str = "127.0.0.1", port: int = 8765, max_upload_mb: float = 2048) -> None:
    """Serve until Ctrl-C; prints the address to open. Jobs still running at the end are cancelled."""
    import uvicorn

    sock = bind(host, port)
    port = sock.getsockname()[1]
    extra = () if host in ("127.0.0.1", "localhost", "::1") else (host, socket.gethostname())
    app = create_app(work, max_upload_mb=max_upload_mb, allowed_hosts=extra)
    shown = f"[{host}]" if ":" in host else host
    print(f"oldfilm ui: open http://{shown}:{port}/  (work folder {Path(work).resolve()}; Ctrl-C to stop)",
          flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)).run(sockets=[sock])
