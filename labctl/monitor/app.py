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
import datetime as dt
import hmac
import io
import json
import tempfile
import zipfile
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
from ..store import END_STATUSES, Store, StoreError
from .figures import campaign_figures, run_figures

HERE = Path(__file__).parent
PAGE_SIZE = 50
POLL_S = 0.2                  #: how often a live stream looks at the store
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, cls=PlotlyJSONEncoder), status_code=status, media_type="application/json")


def _when(t: float | None) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S") if t else ""


def _date(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


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


def create_app(store_path: str | Path, token: str | None = None) -> Starlette:
    """The monitor on the store at ``store_path`` (opened read-only, never written)."""
    store_path = Path(store_path)

    def open_store() -> Store:
        return Store(store_path, read_only=True)

    def info_json(info: Any) -> dict:
        die = info.provenance.get("identities", {}).get("chip", "").rpartition("die ")[2]
        return {"id": info.id, "procedure": info.procedure, "status": info.status, "detail": info.detail,
                "started": _when(info.started), "ended": _when(info.ended), "parent": info.parent,
                "resumed_from": info.resumed_from, "die": die, "parameters": info.parameters}

    def page_of_runs(request: Request) -> dict:
        q = request.query_params
        try:
            page = max(1, int(q.get("page", "1")))
        except ValueError:
            page = 1
        filters = (q.get("procedure") or None, q.get("status") or None, _date(q.get("since")),
                   _date(q.get("until")), q.get("die") or None)
        with open_store() as store:
            runs, total = store.list_runs(PAGE_SIZE, (page - 1) * PAGE_SIZE, *filters)
            pages = max(1, -(-total // PAGE_SIZE))
            if page > pages:                      # past the end: the last page
                page = pages
                runs, total = store.list_runs(PAGE_SIZE, (page - 1) * PAGE_SIZE, *filters)
            procedures = store.procedure_names()
        return {"runs": [info_json(i) for i in runs], "total": total, "page": page,
                "pages": pages, "procedures": procedures,
                "filters": {k: q.get(k, "") for k in ("procedure", "status", "since", "until", "die")}}

    def run_state(store: Store, run_id: int) -> dict:
        info = store.run(run_id)
        progress = store.last_progress(run_id)
        return {"status": info.status, "detail": info.detail,
                "progress": None if progress is None else {"task": progress[0], "done": progress[1],
                                                           "total": progress[2]},
                "records": len(store.record_names(run_id)), "children": len(store.run_ids(parent=run_id))}

    def get_run(run_id: int) -> tuple[Store, Any]:
        store = open_store()
        try:
            return store, store.run(run_id)
        except StoreError:
            store.close()
            raise LookupError(run_id) from None

    async def runs_page(request: Request) -> Response:
        return templates.TemplateResponse(request, "runs.html", page_of_runs(request))

    async def api_runs(request: Request) -> Response:
        return _json(page_of_runs(request))

    def run_details(run_id: int) -> dict:
        store, info = get_run(run_id)
        with store:
            data = read_run(store, run_id)
            return {"run": info_json(info), "provenance": info.provenance, "summary": data.summary,
                    "events": [{"time": _when(t), "status": s, "detail": d} for t, s, d in store.events(run_id)],
                    "records": [{"name": n, "kind": k, "bytes": b, "unit": data.unit(n)}
                                for n, k, b in store.record_names(run_id)],
                    "files": [name for name, _, _ in store.files(run_id)],
                    "children": [info_json(store.run(c)) for c in store.run_ids(parent=run_id)],
                    "state": run_state(store, run_id)}

    async def run_page(request: Request) -> Response:
        try:
            details = run_details(request.path_params["run_id"])
        except LookupError:
            return PlainTextResponse(f"no run {request.path_params['run_id']} in this store", 404)
        return templates.TemplateResponse(request, "run.html", {**details, "json": json.dumps})

    async def api_run(request: Request) -> Response:
        try:
            return _json(run_details(request.path_params["run_id"]))
        except LookupError:
            return _json({"error": f"no run {request.path_params['run_id']}"}, 404)

    async def api_figures(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            store, info = get_run(run_id)
        except LookupError:
            return _json({"error": f"no run {run_id}"}, 404)
        with store:
            if info.procedure == "campaign":
                from ..campaign_plots import load_campaign

                return _json(campaign_figures(load_campaign(store, run_id)))
            return _json(run_figures(read_run(store, run_id)))

    async def events(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            get_run(run_id)[0].close()
        except LookupError:
            return _json({"error": f"no run {run_id}"}, 404)

        async def stream():
            last = None
            while not await request.is_disconnected():
                with open_store() as store:
                    state = run_state(store, run_id)
                if state != last:
                    last = state
                    yield f"event: update\ndata: {json.dumps(state)}\n\n"
                    if state["status"] in END_STATUSES + ("interrupted",):
                        yield "event: end\ndata: {}\n\n"
                        return
                await asyncio.sleep(POLL_S)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def run_file(request: Request) -> Response:
        run_id, name = request.path_params["run_id"], request.path_params["name"]
        try:
            store, _ = get_run(run_id)
        except LookupError:
            return PlainTextResponse(f"no run {run_id}", 404)
        with store:
            found = {n: (media, data) for n, media, data in store.files(run_id)}
        if name not in found:                      # only the run's own files, by their exact names
            return PlainTextResponse(f"run {run_id} has no file {name!r}", 404)
        media, data = found[name]
        return Response(data, media_type=media)

    async def export(request: Request) -> Response:
        from ..export import export_csv, export_hdf5

        run_id, kind = request.path_params["run_id"], request.path_params["kind"]
        if kind not in ("h5", "zip"):
            return PlainTextResponse("exports are run-ID.h5 (HDF5) or run-ID.zip (CSV)", 404)
        try:
            store, _ = get_run(run_id)
        except LookupError:
            return PlainTextResponse(f"no run {run_id}", 404)
        with store, tempfile.TemporaryDirectory() as tmp:
            if kind == "h5":
                body = export_hdf5(store, run_id, Path(tmp) / "run.h5").read_bytes()
                media = "application/x-hdf5"
            else:
                folder = export_csv(store, run_id, Path(tmp) / f"run-{run_id}")
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                    for path in sorted(folder.iterdir()):
                        archive.write(path, f"run-{run_id}/{path.name}")
                body, media = buffer.getvalue(), "application/zip"
        return Response(body, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="run-{run_id}.{kind}"'})

    async def plotly_js(request: Request) -> Response:
        import plotly

        return FileResponse(Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
                            media_type="application/javascript")

    routes = [
        Route("/", runs_page),
        Route("/runs/{run_id:int}", run_page),
        Route("/runs/{run_id:int}/files/{name:str}", run_file),
        Route("/runs/{run_id:int}/export.{kind:str}", export),
        Route("/api/runs", api_runs),
        Route("/api/runs/{run_id:int}", api_run),
        Route("/api/runs/{run_id:int}/figures", api_figures),
        Route("/api/runs/{run_id:int}/events", events),
        Route("/static/plotly.min.js", plotly_js),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(TokenGate, token=token)])
