"""The monitor's web application (Starlette): pages, a JSON API, live updates by server-sent events.

It reads the run store read-only, a connection per request, and has no
other coupling to running procedures: whatever writes the store (the
command line, the console, a script, a campaign) shows up by itself.
Ids from the URL are integers or the route does not match; an unknown run
is 404; files are served only by the names the run has.  Bound to anything
but the loopback address, every request needs the token printed at start
(``?token=`` once, then a cookie).
"""

from __future__ import annotations

import asyncio
import hmac
import io
import json
import tempfile
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from plotly.utils import PlotlyJSONEncoder
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..rundata import read_run
from ..store import END_STATUSES, Store
from .figures import campaign_figures, run_figures
from .views import StoreView

HERE = Path(__file__).parent
POLL_S = 0.2                  #: how often a live stream looks at the store
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, cls=PlotlyJSONEncoder), status_code=status, media_type="application/json")


def _no_run(run_id: int, as_json: bool = False) -> Response:
    return _json({"error": f"no run {run_id}"}, 404) if as_json else \
        PlainTextResponse(f"no run {run_id} in this store", 404)


class TokenGate(BaseHTTPMiddleware):
    """Every request must carry the token (query once, then the cookie), when one is set."""

    def __init__(self, app: Any, token: str | None) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        if self.token is None:
            return await call_next(request)
        given = request.query_params.get("token") or request.cookies.get("labctl_token") or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return PlainTextResponse("this monitor needs its token: open the address it printed at start", 401)
        response = await call_next(request)
        if request.query_params.get("token"):
            response.set_cookie("labctl_token", self.token, httponly=True, samesite="strict")
        return response


class Monitor:
    """The request handlers, one method per route, on a :class:`~.views.StoreView`."""

    def __init__(self, view: StoreView) -> None:
        self.view = view

    async def runs_page(self, request: Request) -> Response:
        return templates.TemplateResponse(request, "runs.html", self.view.page(dict(request.query_params)))

    async def api_runs(self, request: Request) -> Response:
        return _json(self.view.page(dict(request.query_params)))

    async def run_page(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            details = self.view.details(run_id)
        except LookupError:
            return _no_run(run_id)
        return templates.TemplateResponse(request, "run.html", {**details, "json": json.dumps})

    async def api_run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            return _json(self.view.details(run_id))
        except LookupError:
            return _no_run(run_id, as_json=True)

    async def api_figures(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            store, info = self.view.run(run_id)
        except LookupError:
            return _no_run(run_id, as_json=True)
        with store:
            if info.procedure == "campaign":
                from ..campaign_plots import load_campaign

                return _json(campaign_figures(load_campaign(store, run_id)))
            return _json(run_figures(read_run(store, run_id)))

    async def events(self, request: Request) -> Response:
        """Server-sent events: the run's state whenever it changes, then ``end`` when the run has ended."""
        run_id = request.path_params["run_id"]
        try:
            self.view.run(run_id)[0].close()
        except LookupError:
            return _no_run(run_id, as_json=True)
        return StreamingResponse(self._changes(request, run_id), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def _changes(self, request: Request, run_id: int) -> AsyncIterator[str]:
        last = None
        while not await request.is_disconnected():
            with self.view.open() as store:
                state = self.view.state(store, run_id)
            if state != last:
                last = state
                yield f"event: update\ndata: {json.dumps(state)}\n\n"
                if state["status"] in END_STATUSES + ("interrupted",):
                    yield "event: end\ndata: {}\n\n"
                    return
            await asyncio.sleep(POLL_S)

    async def run_file(self, request: Request) -> Response:
        run_id, name = request.path_params["run_id"], request.path_params["name"]
        try:
            store, _ = self.view.run(run_id)
        except LookupError:
            return _no_run(run_id)
        with store:
            found = {n: (media, data) for n, media, data in store.files(run_id)}
        if name not in found:                      # only the run's own files, by their exact names
            return PlainTextResponse(f"run {run_id} has no file {name!r}", 404)
        media, data = found[name]
        return Response(data, media_type=media)

    async def export(self, request: Request) -> Response:
        run_id, kind = request.path_params["run_id"], request.path_params["kind"]
        if kind not in ("h5", "zip"):
            return PlainTextResponse("exports are run-ID.h5 (HDF5) or run-ID.zip (CSV)", 404)
        try:
            store, _ = self.view.run(run_id)
        except LookupError:
            return _no_run(run_id)
        with store, tempfile.TemporaryDirectory() as tmp:
            body, media = _exported(store, run_id, kind, Path(tmp))
        return Response(body, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="run-{run_id}.{kind}"'})

    async def plotly_js(self, request: Request) -> Response:
        import plotly

        return FileResponse(Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
                            media_type="application/javascript")


def _exported(store: Store, run_id: int, kind: str, folder: Path) -> tuple[bytes, str]:
    """A run exported as HDF5 (``h5``) or as its CSV folder zipped (``zip``), child runs included."""
    from ..export import export_csv, export_hdf5

    if kind == "h5":
        return export_hdf5(store, run_id, folder / "run.h5").read_bytes(), "application/x-hdf5"
    exported = export_csv(store, run_id, folder / f"run-{run_id}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in exported.rglob("*") if p.is_file()):
            archive.write(path, f"run-{run_id}/{path.relative_to(exported)}")
    return buffer.getvalue(), "application/zip"


def create_app(store_path: str | Path, token: str | None = None) -> Starlette:
    """The monitor on the store at ``store_path`` (opened read-only, never written)."""
    m = Monitor(StoreView(store_path))
    routes = [
        Route("/", m.runs_page),
        Route("/runs/{run_id:int}", m.run_page),
        Route("/runs/{run_id:int}/files/{name:str}", m.run_file),
        Route("/runs/{run_id:int}/export.{kind:str}", m.export),
        Route("/api/runs", m.api_runs),
        Route("/api/runs/{run_id:int}", m.api_run),
        Route("/api/runs/{run_id:int}/figures", m.api_figures),
        Route("/api/runs/{run_id:int}/events", m.events),
        Route("/static/plotly.min.js", m.plotly_js),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(TokenGate, token=token)])
