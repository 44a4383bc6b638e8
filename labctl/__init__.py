"""labctl: chip interface, bench configuration, run engine and command line for the MX64 bench."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("labctl")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"


def __getattr__(name: str):
    """``labctl.load_run(id)`` (a stored run's data) and ``labctl.run_procedure(name, ...)`` for notebooks and
    scripts (imported on first use)."""
    if name == "load_run":
        from .rundata import load_run

        return load_run
    if name == "run_procedure":
        from .scripting import run_procedure

        return run_procedure
    raise AttributeError(f"module 'labctl' has no attribute {name!r}")


def load_ipython_extension(shell) -> None:
    """``%load_ext labctl`` in IPython or Jupyter: a bench, its instruments and the labctl magics."""
    from .console.ipython import load_ipython_extension as load

    load(shell)
