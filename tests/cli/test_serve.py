"""``huiyan serve`` with several workers: connections spread over them, a dead worker is
replaced, a taken port is refused with a clear message, and SIGTERM stops every process."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from huiyan.cli.supervisor import supported


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path: Path, port: int, state: str) -> list[str]:
    return [
        sys.executable, "-m", "huiyan.cli.main", "serve",
        "--db", str(tmp_path / "store.duckdb"), "--state", str(tmp_path / state),
        "--port", str(port), "--workers", "2", "--attachments", str(tmp_path / "att"),
    ]  # fmt: skip


def _workers(pid: int) -> list[psutil.Process]:
    """The live worker processes (not multiprocessing's resource tracker, nor a dead worker
    the supervisor has not reaped yet)."""
    out = []
    for p in psutil.Process(pid).children():
        try:
            if "resource_tracker" not in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:  # a zombie, or gone
            continue
    return out


def _until(test, seconds: float = 90.0) -> None:  # noqa: ANN001
    end = time.monotonic() + seconds
    while not test():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.2)


def _answers(port: int) -> bool:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/api/v1/docs")
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False


def test_workers_share_connections_restart_and_stop(tmp_path: Path) -> None:
    assert supported()  # Linux: the machines huiyan runs on
    port = _free_port()
    env = dict(os.environ, HUIYAN_REALTIME_WARM="0")  # no rule compilation: not under test
    server = subprocess.Popen(
        _serve(tmp_path, port, "state.sqlite"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    conns: list[http.client.HTTPConnection] = []
    try:
        _until(lambda: _answers(port) and len(_workers(server.pid)) == 2)
        # 32 keep-alive connections opened together: each worker holds some of them (one
        # shared socket gave one worker all; here all on one has probability 2^-31).
        for _ in range(32):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.connect()
            conns.append(c)
        for c in conns:
            c.request("GET", "/api/v1/docs")
            assert c.getresponse().read()

        def held(w: psutil.Process) -> int:
            return sum(
                1
                for k in w.net_connections(kind="tcp")
                if k.status == psutil.CONN_ESTABLISHED and k.laddr.port == port
            )

        workers = _workers(server.pid)
        counts = [held(w) for w in workers]
        assert sum(counts) == 32 and min(counts) > 0, counts

        # A second server on the same port is refused (it would otherwise join the group).
        second = subprocess.run(
            _serve(tmp_path, port, "other.sqlite"),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 1
        assert "端口已被占用" in second.stdout

        # A worker that dies is replaced.
        dead = workers[0].pid
        workers[0].kill()
        _until(
            lambda: (
                len(_workers(server.pid)) == 2 and dead not in [w.pid for w in _workers(server.pid)]
            )
        )
        _until(lambda: _answers(port))
        workers = _workers(server.pid)
    finally:
        for c in conns:
            c.close()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert server.returncode == 0
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
