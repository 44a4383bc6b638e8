"""The optional extras and the modules each brings: a missing one is a one-line hint, not a traceback."""

from __future__ import annotations

import importlib.util

#: extra -> the modules it installs that labctl imports
EXTRAS: dict[str, tuple[str, ...]] = {
    "campaign": ("dask", "distributed"),
    "monitor": ("starlette", "uvicorn", "plotly", "jinja2"),
    "xarray": ("xarray",),
    "console": ("IPython",),
    "notebook": ("IPython", "ipywidgets"),
    "train": ("torch",),
    "faces": ("skimage",),
    "bluesky": ("bluesky", "event_model", "ophyd_async", "zmq", "tiled", "xarray", "h5netcdf"),
}


class MissingExtra(ImportError):
    """An optional extra is not installed; the message says what needs it and how to install it."""


def require(extra: str, what: str) -> None:
    """Raise :class:`MissingExtra` if a module of ``extra`` is missing; ``what`` names what needs it."""
    missing = [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtra(f"{what} needs the {extra} extra ({', '.join(missing)} not installed): "
                           f"pip install -e '.[{extra}]' in the labctl clone (or pip install 'labctl[{extra}]' "
                           "where labctl is installed as a package)")
