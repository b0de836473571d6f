"""The worker processes of ``huiyan serve``, each listening on its own socket (SO_REUSEPORT).

uvicorn's own workers share one listening socket, and whichever is awake first accepts every
connection waiting on it. Keep-alive connections that arrive together (a load generator's, a
hospital gateway's after a restart) then all stay with one worker while the other idles:
measured under ``benchmarks/realtime.py``, CPU by worker 96 % / 0 % for 32 connections, and
100 % / 0 % for pre-grouping's 4. With one socket per worker in an SO_REUSEPORT group the
kernel spreads new connections over the workers by a hash of their addresses.

The supervisor is kept small: it starts the workers, restarts one that dies (unless it failed
to start: the same error would repeat), and stops them all on SIGINT or SIGTERM.
"""

from __future__ import annotations

import errno
import logging
import multiprocessing
import signal
import socket
import sys
import threading
from typing import Any

log = logging.getLogger(__name__)
APP = "huiyan.service.app:create_app"
STARTUP_FAILURE = 3  # a worker's exit status when the app did not start


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def in_use(host: str, port: int) -> bool:
    """Whether something already accepts connections at host:port (another instance of the
    service would join the same SO_REUSEPORT group silently: refused instead)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    sock = listen(host, port)
    server = uvicorn.Server(uvicorn.Config(APP, factory=True, host=host, port=port, **options))
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def run(host: str, port: int, workers: int, options: dict[str, Any]) -> bool:
    """Serve with ``workers`` processes until SIGINT/SIGTERM; False when a worker failed to
    start. Raises OSError when the port cannot be bound."""
    if in_use(host, port):
        raise OSError(errno.EADDRINUSE, "another server is listening there")
    # Bound once here so that a port taken by another program fails with one clear error; closed
    # before the workers bind (a socket of the group nobody accepts on would keep the
    # connections the kernel hashes to it).
    listen(host, port).close()
    ctx = multiprocessing.get_context("spawn")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    def start() -> Any:
        p = ctx.Process(target=_worker, args=(host, port, options), name="huiyan-worker")
        p.start()
        return p

    procs = [start() for _ in range(workers)]
    failed = False
    while not stop.wait(0.5):
        for i, p in enumerate(procs):
            if p.is_alive():
                continue
            if p.exitcode == STARTUP_FAILURE:
                failed = True
                stop.set()
                break
            log.warning("worker %s exited with %s: restarted", p.pid, p.exitcode)
            procs[i] = start()
    for p in procs:
        p.terminate()
    for p in procs:
        p.join(30)
        if p.is_alive():
            p.kill()
    return not failed
