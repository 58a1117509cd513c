"""A real `streamlit run app.py` in a subprocess, for the browser tests and the load
benchmark (one starter instead of two copies). Not used by the app itself."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent


class ServerDidNotStart(RuntimeError):
    """The server exited or did not answer in time; the message ends with its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(store_dir: Path, corpus_dir: Path, log_path: Path,
                     timeout: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start the dashboard on `store_dir` (refreshed only from `corpus_dir`; a folder that
    does not exist serves the store as it is), with no password, output to `log_path`;
    yield (base URL, process) once /_stcore/health answers; stop it afterwards. Raises
    ServerDidNotStart (with the log's end) when it does not start within `timeout` seconds."""
    port = free_port()
    env = dict(os.environ, PRESSLENS_STORE=str(store_dir), PRESSLENS_CORPUS=str(corpus_dir))
    env.pop("PRESSLENS_PASSWORD", None)
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.fileWatcherType", "none"],  # usage statistics: off in .streamlit/config.toml
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.time() + timeout
            while True:
                try:
                    if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    raise ServerDidNotStart(f"streamlit did not start: {Path(log_path).read_text()[-2000:]}")
                time.sleep(0.3)
            yield base, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
