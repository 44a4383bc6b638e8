"""Reading a TOML file a user gave (a bench file, a parameter file): every failure names the file and what it is."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def read_toml(path: Path, what: str, error: type[Exception], hint: str = "") -> dict[str, Any]:
    """The TOML table of ``path``; ``error`` naming ``what`` the file is (e.g. "bench file") and the file when it
    cannot be read, is not UTF-8 text (with ``hint``, how to get a good one) or is not valid TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{what} {path}: cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path}: not a text file (TOML, UTF-8{hint})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {path}: not valid TOML: {exc}") from None
