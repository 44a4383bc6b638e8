"""Where an export may be written, and writing it so that a crash never leaves half a file.

An export never replaces a run store (the one it reads, or any SQLite file),
and ``--force`` replaces only an earlier export of labctl's own: an HDF5 file
that says it is one, or a CSV folder whose ``run.json`` lists every file in
it.  Anything else is refused, with force or without.  A file export is
written to a hidden temporary file beside the target and renamed over it; a
folder export is written to a hidden temporary folder and swapped in.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: the root attribute / run.json key that marks a file as a labctl export
FORMAT_KEY = "labctl_format"
#: the ``run.json`` key listing every file a CSV export wrote (paths relative to its folder)
MANIFEST_KEY = "files"


class ExportError(RuntimeError):
    """An export that cannot be written; the message names the path and what to do."""


def _starts_with(path: Path, magic: bytes) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(magic)) == magic
    except OSError:
        return False


def is_run_store(path: Path) -> bool:
    """True for an SQLite file (a run store, or any other database) and for its WAL and index files."""
    if path.name.endswith(("-wal", "-shm", "-journal")):
        base = path.with_name(path.name.rsplit("-", 1)[0])
        if base.is_file() and _starts_with(base, SQLITE_MAGIC):
            return True
    return path.is_file() and _starts_with(path, SQLITE_MAGIC)


def is_hdf5_export(path: Path) -> bool:
    """True for an HDF5 file whose root carries labctl's format attribute."""
    if not _starts_with(path, HDF5_MAGIC):
        return False
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return str(f.attrs.get(FORMAT_KEY, "")).startswith("labctl-run/")
    except OSError:
        return False


def csv_manifest(folder: Path) -> set[str] | None:
    """The files a CSV export says it wrote into ``folder``, or None if it is not such an export."""
    try:
        meta = json.loads((folder / "run.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or not str(meta.get(FORMAT_KEY, "")).startswith("labctl-run/"):
        return None
    files = meta.get(MANIFEST_KEY)
    return {str(f) for f in files} | {"run.json"} if isinstance(files, list) else None


def _folder_entries(folder: Path) -> Iterator[str]:
    """Every file and folder under ``folder``, as paths relative to it (folders end with /)."""
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        for name in dirs:
            yield f"{rel / name}/".removeprefix("./")
        for name in files:
            yield str(rel / name).removeprefix("./")


def _is_csv_export(folder: Path) -> tuple[bool, list[str]]:
    """(is an export of ours, the entries that are not ours)."""
    manifest = csv_manifest(folder)
    entries = list(_folder_entries(folder))
    if manifest is None:
        return False, entries
    ours = manifest | {str(Path(f).parent) + "/" for f in manifest if Path(f).parent != Path(".")}
    foreign = [e for e in entries if e not in ours]
    return not foreign, foreign


def _list(names: list[str], most: int = 4) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def check_target(path: Path, store_path: Path, force: bool, folder: bool,
                 is_ours: Callable[[Path], bool] = is_hdf5_export) -> None:
    """Refuse a target that is or holds a run store, anything not an export of ours, or an unwritable place.

    ``folder``: the export is a folder (CSV); ``is_ours`` tells an earlier file export of this format.
    """
    path = Path(path)
    real, store = Path(os.path.realpath(path)), Path(os.path.realpath(store_path))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        what = "is a file, not a folder" if parent.exists() else "does not exist"
        raise ExportError(f"cannot export to {path}: {parent} {what}")
    if real == store or real in (store.with_name(store.name + s) for s in ("-wal", "-shm", "-journal")):
        raise ExportError(f"cannot export to {path}: it is the run store being exported; choose another file")
    if real == store.parent or store.is_relative_to(real):
        raise ExportError(f"cannot export to {path}: it holds the run store {store_path}; choose another "
                          "folder")
    if path.exists() or path.is_symlink():
        if real.is_dir() != folder:
            kind = "folder" if folder else "file"
            raise ExportError(f"cannot export to {path}: it is a {'folder' if real.is_dir() else 'file'}; this "
                              f"export writes a {kind}: choose another {kind} name")
        if folder:
            ours, foreign = _is_csv_export(real)
            if not ours:
                raise ExportError(f"cannot export to {path}: it holds files labctl did not write "
                                  f"({_list(foreign) or 'no run.json'}); choose a new folder")
        elif is_run_store(real):
            raise ExportError(f"cannot export to {path}: it is a database (SQLite), which an export never "
                              "replaces; choose another file")
        elif not is_ours(real):
            raise ExportError(f"cannot export to {path}: it exists and is not an export labctl wrote, so it is "
                              "never replaced; choose another file")
        if not force:
            raise ExportError(f"cannot export to {path}: an earlier export is there (use --force to replace it)")
    if not os.access(parent, os.W_OK):
        raise ExportError(f"cannot export to {path}: the folder {parent} is not writable")


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed over it when the block ends without an error."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        yield temporary
        os.replace(temporary, path)
    except OSError as exc:
        raise ExportError(f"cannot export to {path}: {exc.strerror or exc}") from None
    finally:
        if temporary.exists():
            temporary.unlink()


@contextmanager
def atomic_folder(path: Path) -> Iterator[Path]:
    """A new temporary folder beside ``path``; swapped in for it when the block ends without an error."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.partial-{os.getpid()}")
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    try:
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir()
        yield temporary
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        if target.exists():
            target.rename(old)
        temporary.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise ExportError(f"cannot export to {path}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
