"""fsync helpers: a written file, and the directory entry of a created or renamed one, reach the disk."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_file(path: Path) -> None:
    """Flush a file's contents to stable storage."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(directory: Path) -> None:
    """Flush a directory (so a create, rename or unlink in it survives power loss)."""
    fsync_file(directory)
