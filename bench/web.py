"""Web benchmark: server time per page on a sample workspace, and overview requests per second with
8 concurrent clients on loopback.

The workspace is the sample company at ``--contacts`` contacts after a full `marketops run`, built once
and cached under bench/.data/. The server is `marketops serve`'s app under uvicorn in its own process
(one worker, as `marketops serve` runs it). Each page is requested once to warm it (the first request
after a run computes and caches the page's analyses), then ``--repeat`` times in a row; the time is
what the server reports in its ``Server-Timing`` header (the app's own time, without the network), the
client-side time is in the note. Peer: the health check on the same server, the framework's floor.

    python bench/web.py --contacts 20000 1000000
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import DATA, _generator_version, sample

PAGES = ("/", "/channels", "/attribution", "/funnel", "/quality", "/quality/quarantine", "/review", "/imports",
         "/people", "/people?q=smith", "/runs", "/settings")
ADMIN = ("bench@marketops.test", "bench password 123")
CLIENTS = 8
LOAD_SECONDS = 10.0


def workspace(contacts: int) -> Path:
    """The sample workspace after a full run, with one admin; built once per size and generator version."""
    root = DATA / f"web_ws_{contacts}_{_generator_version()}"
    if (root / ".done").exists():
        return root
    from marketops.pipeline import run_pipeline
    from marketops.state.db import init_db, session_scope
    from marketops.state.users import create_user
    from marketops.workspace import Workspace

    shutil.rmtree(root, ignore_errors=True)
    src = sample(contacts)
    ws = Workspace.init(root)
    shutil.rmtree(ws.inbox)
    shutil.copytree(src / "inbox", ws.inbox)
    t = time.perf_counter()
    run = run_pipeline(ws)
    if run.status != "succeeded":
        raise RuntimeError(f"the sample run failed: {run.error}")
    url = ws.app_database_url
    ws.close()
    init_db(url)
    with session_scope(url) as s:
        create_user(s, ADMIN[0], ADMIN[1], role="admin", name="Bench")
    (root / ".done").write_text(f"{time.perf_counter() - t:.1f}")
    return root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(root: Path, port: int) -> subprocess.Popen:
    code = ("import uvicorn, pathlib; from marketops.app import create_app; "
            f"uvicorn.run(create_app(pathlib.Path({str(root)!r})), host='127.0.0.1', port={port}, log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start: " + (proc.stderr.read() or b"").decode()[-2000:])


def _signed_in(base: str):
    import httpx

    client = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in failed: {r.status_code}")
    return client


def _server_ms(response) -> float:
    """The app's own time from ``Server-Timing: app;dur=12.3``."""
    match = re.search(r"app;dur=([0-9.]+)", response.headers.get("server-timing", ""))
    if not match:
        raise RuntimeError(f"{response.request.url} has no Server-Timing header")
    return float(match.group(1))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _time_page(client, path: str, repeat: int) -> dict:
    first = client.get(path)
    if first.status_code != 200:
        raise RuntimeError(f"{path} answered {first.status_code}: {first.text[:300]}")
    server, wall = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        r = client.get(path)
        wall.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{path} answered {r.status_code}")
        server.append(_server_ms(r))
    return {"first_ms": _server_ms(first), "median_ms": statistics.median(server), "p95_ms": _p95(server),
            "wall_median_ms": statistics.median(wall)}


def _throughput(base: str, path: str, seconds: float) -> float:
    """Requests per second on ``path`` with CLIENTS signed-in clients hammering it."""
    clients = [_signed_in(base) for _ in range(CLIENTS)]
    done = [0] * CLIENTS
    stop = time.monotonic() + seconds

    def work(i: int) -> None:
        while time.monotonic() < stop:
            if clients[i].get(path).status_code == 200:
                done[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    for c in clients:
        c.close()
    return sum(done) / elapsed


def run(sizes: list[int], repeat: int = 20) -> list[dict]:
    rows = []
    for contacts in sizes:
        root = workspace(contacts)
        port = _free_port()
        server = _serve(root, port)
        base = f"http://127.0.0.1:{port}"
        try:
            client = _signed_in(base)
            floor = _time_page(client, "/health", repeat)
            for path in PAGES:
                try:
                    r = _time_page(client, path, repeat)
                except RuntimeError as e:  # one broken page must not hide the others' figures
                    rows.append({"bench": f"web {path}", "size": f"{contacts:,} contacts", "note": str(e)[:200]})
                    continue
                rows.append({
                    "bench": f"web {path}", "size": f"{contacts:,} contacts", "rows": repeat,
                    "seconds": round(r["p95_ms"] / 1000, 4), "peer": "/health on the same server",
                    "peer_seconds": round(floor["p95_ms"] / 1000, 4),
                    "ratio": round(r["p95_ms"] / max(floor["p95_ms"], 1e-3), 1),
                    "note": f"server p95 {r['p95_ms']:.1f} ms, median {r['median_ms']:.1f} ms, first (cold) "
                            f"{r['first_ms']:.0f} ms; client median {r['wall_median_ms']:.1f} ms"})
            client.close()
            rps = _throughput(base, "/", LOAD_SECONDS)
            health_rps = _throughput(base, "/health", LOAD_SECONDS / 2)
            rows.append({"bench": "web / with 8 clients", "size": f"{contacts:,} contacts", "rows": CLIENTS,
                         "seconds": round(1 / rps, 4) if rps else None, "rows_per_s": round(rps, 1),
                         "peer": "/health, 8 clients", "peer_seconds": round(1 / health_rps, 4),
                         "ratio": round(health_rps / rps, 1) if rps else None,
                         "note": f"{rps:.0f} overview requests/s vs {health_rps:.0f} health checks/s"})
        finally:
            server.terminate()
            server.wait(timeout=30)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--contacts", type=int, nargs="+", default=[20_000])
    p.add_argument("--repeat", type=int, default=20)
    args = p.parse_args()
    from run import print_results

    print_results(run(args.contacts, args.repeat))


if __name__ == "__main__":
    main()
