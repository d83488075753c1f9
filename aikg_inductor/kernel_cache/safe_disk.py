"""diskcache folders read and written without trusting their contents: the kernel store and the search history.

Anyone with write access to such a folder can edit its database. diskcache's own ``Disk`` would unpickle a value (run
their code), and would open, read and delete whatever file a row names (diskcache joins the row's file name onto the
folder, so an absolute name wins): a row could make aikg read ``/dev/zero`` or a FIFO forever, or delete any file the
user may delete. ``SafeDisk`` refuses all of that: a value that needs unpickling, a storage mode diskcache does not
write, and a value file that is not a name diskcache itself would give (``ab/cd/<28 hex>.val``), resolves outside the
folder, is not a regular file (a symlink, FIFO or device), or is over ``MAX_VALUE_FILE_BYTES``. Reading such a record
raises ``UnsafeRecordError`` (the caller reports it as tampered); removing one leaves the named file alone.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import stat
from pathlib import Path
from typing import Any, Iterator

import diskcache
from diskcache.core import MODE_BINARY, MODE_PICKLE, MODE_RAW, MODE_TEXT

log = logging.getLogger(__name__)

# A kernel record is a few kB, a history record rarely over 1 MB; the cap only bounds what a forged row can make
# aikg read.
MAX_VALUE_FILE_BYTES = 64 * 2**20
_VALUE_FILE_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{28}\.val")  # what diskcache.Disk.filename gives


class CacheUnavailableError(RuntimeError):
    """The cache directory cannot be opened or written; the message says why."""


class UnsafeRecordError(ValueError):
    """A stored record aikg will not read: it would need unpickling, or its row names a value file outside the
    folder or one that is not a regular file. Only a writer outside aikg can have put it there."""


class SafeDisk(diskcache.Disk):
    """diskcache's serialiser minus pickle, reading and removing only value files inside its own folder."""

    def __init__(self, directory: str, **settings: Any) -> None:
        super().__init__(directory, **settings)
        self._root = os.path.realpath(directory)

    def get(self, key: Any, raw: bool) -> Any:
        # aikg writes str keys only; a pickled one comes back as its raw bytes, which no lookup by str can match.
        return super().get(key, raw) if raw else bytes(key)

    def fetch(self, mode: int, filename: Any, value: Any, read: bool) -> Any:
        if mode == MODE_RAW:
            return super().fetch(mode, filename, value, read)
        if mode == MODE_PICKLE:
            raise UnsafeRecordError("pickled value")
        if mode not in (MODE_BINARY, MODE_TEXT):
            raise UnsafeRecordError(f"unknown storage mode {mode!r}")
        data = self._read_value_file(filename)
        if mode == MODE_TEXT:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                raise UnsafeRecordError("its text value file is not UTF-8") from None
        return data

    def remove(self, file_path: Any) -> None:
        """Called by diskcache with the file name of a row it deletes or overwrites: a name that is not one of this
        folder's value files is left alone (the row itself still goes)."""
        try:
            self._checked_path(file_path)
        except UnsafeRecordError as err:
            log.warning("aikg: a tampered row of %s named a value file aikg does not delete (%s)", self._root, err)
            return
        except OSError:
            return  # already gone: nothing to delete
        super().remove(file_path)

    def _checked_path(self, filename: Any) -> str:
        """The full path of a value file this folder holds, or UnsafeRecordError (OSError if it is missing)."""
        if not isinstance(filename, str):
            raise UnsafeRecordError("its row says the value is in a file but names none")
        if not _VALUE_FILE_NAME.fullmatch(filename):
            raise UnsafeRecordError(f"its value file name {filename[:80]!r} is not one diskcache writes")
        path = os.path.join(self._directory, filename)
        if os.path.commonpath([os.path.realpath(path), self._root]) != self._root:
            raise UnsafeRecordError(f"its value file {filename} resolves outside {self._root}")
        _check_regular(os.lstat(path), filename)
        return path

    def _read_value_file(self, filename: Any) -> bytes:
        path = self._checked_path(filename)
        # O_NOFOLLOW and O_NONBLOCK: a symlink or FIFO swapped in after the check fails here instead of being
        # followed or blocking; fstat then judges the file actually opened.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            _check_regular(os.fstat(fd), filename)
            data = handle.read(MAX_VALUE_FILE_BYTES + 1)
        if len(data) > MAX_VALUE_FILE_BYTES:
            raise UnsafeRecordError(f"its value file {filename} grew over {MAX_VALUE_FILE_BYTES} bytes")
        return data


def _check_regular(st: os.stat_result, filename: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeRecordError(f"its value file {filename} is not a regular file")
    if st.st_size > MAX_VALUE_FILE_BYTES:
        raise UnsafeRecordError(f"its value file {filename} is {st.st_size} bytes, over the cap of "
                                f"{MAX_VALUE_FILE_BYTES}")


def open_safe_diskcache(folder: Path, **settings: Any) -> diskcache.Cache:
    """A writable diskcache over ``folder`` whose values are never unpickled nor read from outside it. Every setting
    diskcache knows is given here, so none is taken from the folder's database, where a writer of the folder could
    have put its own (diskcache turns them into pragmas and into the reader's arguments)."""
    return diskcache.Cache(str(folder), disk=SafeDisk, **{**diskcache.DEFAULT_SETTINGS, **settings})


# The row diskcache's get reads for a str key.
_LIVE_ROW = "FROM Cache WHERE key = ? AND raw = 1 AND (expire_time IS NULL OR expire_time > strftime('%s', 'now'))"


class ReadOnlyDiskcache:
    """The reading part of ``diskcache.Cache`` (get, iterkeys, in) over a diskcache folder opened read-only, through
    the same ``SafeDisk``. The kernel cache and the search history use it on folders this process cannot write.

    diskcache's own constructor writes (tables, settings), so it cannot open a read-only database. This reads its
    table directly (the same rows, decoded by the same ``SafeDisk``) through an sqlite connection opened with
    ``mode=ro``, or ``immutable=1`` where sqlite cannot even create its shared-memory file beside the database (a
    read-only file system); writers must then not change the database underneath, which a read-only mount ensures.
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._disk = SafeDisk(str(folder))
        self._db = self._connect(folder / "cache.db")

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        if not path.is_file():
            raise CacheUnavailableError(f"no kernel database at {path}")
        last: Exception | None = None
        for flags in ("mode=ro", "mode=ro&immutable=1"):
            try:
                db = sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True, check_same_thread=False)
                db.execute("SELECT COUNT(*) FROM Cache").fetchone()
                return db
            except sqlite3.Error as err:
                last = err
        raise CacheUnavailableError(f"cannot read the kernel database {path}: {last}")

    def get(self, key: str, default: Any = None) -> Any:
        row = self._db.execute(f"SELECT mode, filename, value {_LIVE_ROW}", (key,)).fetchone()
        return default if row is None else self._disk.fetch(row[0], row[1], row[2], False)

    def __contains__(self, key: str) -> bool:
        # As diskcache's own: whether a row exists, without reading (or judging) its value.
        return self._db.execute(f"SELECT 1 {_LIVE_ROW}", (key,)).fetchone() is not None

    def iterkeys(self) -> Iterator[Any]:
        for key, raw in self._db.execute("SELECT key, raw FROM Cache ORDER BY rowid").fetchall():
            yield self._disk.get(key, bool(raw))

    def volume(self) -> int:
        return sum(f.stat().st_size for f in self._folder.rglob("*") if f.is_file())

    def close(self) -> None:
        self._db.close()
