"""The files of a local corpus folder, kept up to date from the kernel's change events.

In:  a corpus root (a local folder). Out: `CorpusWatch.files()`, every input file as
(path string, size, mtime_ns), in the order and with the values a walk and a stat of every
file give now (walk.walk_str, os.stat), or None when the events cannot be trusted for this
folder (the caller then walks it).

A long-lived build process (`build --watch`, `build(keep_workers=True)`) plans every rebuild
from the list of files with their size and mtime: at 10,000 files the walk and its 10,000
stat calls were ~75 ms of a ~1.1 s rebuild (serial, before any worker starts), at 1M files
~10 s a look. Here the folder is walked and stat'ed once, with an inotify watch on every
folder registered before the folder is listed; later calls read the events queued since
(never blocking) and stat again only the files they name. A change made after a folder's
watch was registered gives an event; one made before it is seen by the stat that follows.

Memory: the listing, with the build's per-file values (build._corpus_files), holds ~0.7 KB a file
in the watching process (the 100k bench corpus: 66 MB; 1M files: ~0.7 GB).

The events are used only where they are known to be complete; otherwise files() returns
None and the caller walks (as every build did before):
- Linux with inotify, and every folder on one local filesystem (ext4, xfs, btrfs, tmpfs,
  overlay, zfs, f2fs: on NFS, SMB or FUSE, changes made by another machine give no event);
- no symbolic link and no hard-linked file in the corpus (an event names the path it came
  through: a change made through another name of the file gives none here);
- every folder could be listed and watched (the kernel's limit on watches,
  /proc/sys/fs/inotify/max_user_watches, was not reached).
Anything the events do not describe file by file starts a new walk: a folder created,
removed or moved, the root itself moved or removed, the kernel's event queue overflowing.
And the folder is walked again when the last walk is more than REWALK_S old: what no event
reports (a second name given to a file from outside the corpus and the file then changed
through it; a write through a memory map) is seen within that time, as a walking build sees it
at its next look.
"""
from __future__ import annotations

import bisect
import os
import stat
import sys
import threading
import time

from presslens.ingest.sidecar import SIDECAR_NAME

try:  # Linux only; elsewhere every listing is a walk
    from inotify_simple import INotify
    from inotify_simple import flags as _F
except ImportError:  # pragma: no cover - not on Linux
    INotify = None  # type: ignore[assignment,misc]
    _F = None  # type: ignore[assignment]

# Filesystems whose changes are all made through this machine's kernel (so all give events).
LOCAL_FILESYSTEMS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs", "f2fs",
                               "reiserfs", "jfs"})


# The longest a listing goes without a walk (see the module's docstring): at 10,000 files a
# walk costs ~0.1 s, at 1M ~10 s, so once every 10 minutes is ~1.7% of a core at most.
REWALK_S = 600.0


def _mask() -> int:
    return (_F.CREATE | _F.DELETE | _F.MODIFY | _F.ATTRIB | _F.CLOSE_WRITE | _F.MOVED_FROM | _F.MOVED_TO
            | _F.DELETE_SELF | _F.MOVE_SELF | _F.ONLYDIR)


def filesystem_type(path: str) -> str | None:
    """The type of the filesystem `path` lies on (the longest mount point over it in
    /proc/self/mountinfo), or None when it cannot be told."""
    best, kind = "", None
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                left, _sep, right = line.partition(" - ")
                fields = left.split()
                if len(fields) < 5 or not right:
                    continue
                mount = fields[4].replace("\\040", " ")
                if (path == mount or path.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
                    best, kind = mount, right.split()[0]
    except OSError:
        return None
    return kind


class _Untrusted(Exception):
    """The corpus holds something the events do not describe reliably."""


class CorpusWatch:
    """A corpus folder's files kept from inotify events (see the module's docstring)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = os.fspath(root)
        self.inotify: INotify | None = None
        self.dirs: dict[int, str] = {}  # watch descriptor -> folder path
        self.order: list[str] = []  # folders in walk order
        self.paths: dict[str, list[str]] = {}  # folder -> its input files' paths, sorted
        self.stats: dict[str, tuple[int, int]] = {}  # path -> (size, mtime_ns)
        self.trusted = False
        # set for good once the corpus held something the events do not describe (a link,
        # a hard-linked file, another filesystem, a folder that cannot be listed or watched)
        self.disabled = False
        self.walks = 0  # how many times the folder was walked (tests, benchmarks)
        self.memo: dict[str, object] = {}  # the caller's per-file values, cleared at each walk
        self.walked_at = 0.0  # time.monotonic() of the last walk
        self._lock = threading.Lock()  # (one caller at a time: the events are read once)

    @staticmethod
    def supported(root: str | os.PathLike) -> bool:
        """inotify is available and `root` lies on a local filesystem."""
        if INotify is None or not sys.platform.startswith("linux"):
            return False
        return filesystem_type(os.path.realpath(os.fspath(root))) in LOCAL_FILESYSTEMS

    def close(self) -> None:
        if self.inotify is not None:
            self.inotify.close()
        self.inotify, self.trusted = None, False

    def files(self) -> list[tuple[str, int, int]] | None:
        """Every input file as (path, size, mtime_ns) in walk order, or None: walk instead."""
        with self._lock:
            return self._files()

    def _files(self) -> list[tuple[str, int, int]] | None:
        if self.disabled:
            return None
        try:
            if (not self.trusted or time.monotonic() - self.walked_at > REWALK_S
                    or not self._apply(self._events())):
                self._walk()
        except FileNotFoundError:  # a file or folder gone while it was walked: walk next time
            self.close()
            return None
        except (_Untrusted, OSError):
            self.close()
            self.disabled = True
            return None
        st = self.stats
        return [(p, *st[p]) for d in self.order for p in self.paths[d]]

    # -- reading the events ------------------------------------------------------------

    def _events(self) -> list:
        assert self.inotify is not None
        return self.inotify.read(timeout=0)

    def _apply(self, events: list) -> bool:
        """Stat again the files the events name; False when a new walk is needed."""
        dirty: set[tuple[str, str]] = set()
        for ev in events:
            if ev.mask & (_F.Q_OVERFLOW | _F.IGNORED | _F.DELETE_SELF | _F.MOVE_SELF | _F.UNMOUNT | _F.ISDIR):
                return False  # a folder came, went or moved; the queue overflowed
            folder = self.dirs.get(ev.wd)
            if folder is None:
                return False
            if ev.name and not ev.name.startswith("."):
                dirty.add((folder, ev.name))
        for folder, name in dirty:
            if folder == self.root and name == SIDECAR_NAME:
                continue
            path = os.path.join(folder, name)
            paths = self.paths[folder]  # (one folder's paths sort as their names do)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                if path in self.stats:
                    del self.stats[path]
                    paths.pop(bisect.bisect_left(paths, path))
                continue
            if not _plain_file(st):
                return False  # a link or a folder under a file's name: walk
            if path not in self.stats:
                bisect.insort(paths, path)
            self.stats[path] = (st.st_size, st.st_mtime_ns)
        return True

    # -- walking -----------------------------------------------------------------------

    def _walk(self) -> None:
        """List and stat every file, a watch registered on each folder before it is listed
        (the same files, order and rules as walk.walk_str)."""
        self.close()
        if not self.supported(self.root):
            raise _Untrusted()
        self.inotify = INotify()
        self.dirs, self.order, self.paths, self.stats, self.memo = {}, [], {}, {}, {}
        self.walks += 1
        self.walked_at = time.monotonic()
        if os.path.islink(self.root):
            raise _Untrusted()
        self._visit(self.root, os.stat(self.root).st_dev)
        self.trusted = True

    def _visit(self, folder: str, dev: int) -> None:
        assert self.inotify is not None
        self.dirs[self.inotify.add_watch(folder, _mask())] = folder
        self.order.append(folder)
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        paths: list[str] = []
        subfolders: list[str] = []
        for e in entries:
            if e.name.startswith("."):
                continue
            st = e.stat(follow_symlinks=False)
            if e.is_symlink() or st.st_dev != dev:
                raise _Untrusted()
            if e.is_dir(follow_symlinks=False):
                subfolders.append(e.path)
                continue
            if folder == self.root and e.name == SIDECAR_NAME:
                continue
            if not _plain_file(st):
                raise _Untrusted()
            paths.append(e.path)
            self.stats[e.path] = (st.st_size, st.st_mtime_ns)
        self.paths[folder] = paths
        for sub in subfolders:
            self._visit(sub, dev)


def _plain_file(st: os.stat_result) -> bool:
    """A regular file with one name (what the events describe completely)."""
    return stat.S_ISREG(st.st_mode) and st.st_nlink == 1
