"""Tracking ingest: sustained events/s and p99 latency for /v1/batch, then an exact count.

Starts `patron serve --no-worker` on a fresh database, and from a separate process posts
batches of 100 events over HTTP (keep-alive connections) for --seconds. Every event has a
unique messageId; afterwards the database must hold exactly the events the server accepted
(the event processor is left out so ingest is measured alone; run `patron worker --burst`
after to turn them into timelines).

Run: .venv/bin/python bench/ingest.py [--seconds 30] [--connections 8] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scratch import scratch_postgres

EVENTS_PER_BATCH = 100


def batch_template() -> bytes:
    """A realistic batch: page views, product views, cart adds, orders, identifies; ids filled per request."""
    events = []
    for i in range(EVENTS_PER_BATCH):
        user = f"user-REQ-{i % 10}"
        kind = i % 10
        common = {
            "messageId": f"REQ-{i}",
            "anonymousId": f"anon-REQ-{i % 10}",
            "timestamp": "2026-11-22T09:00:00.000Z",
            "context": {"library": {"name": "analytics-python", "version": "2.4.0"}, "ip": "203.0.113.7"},
        }
        if kind == 0:
            events.append(
                {
                    **common,
                    "type": "identify",
                    "userId": user,
                    "traits": {"email": f"{user}@example.com", "first_name": "Minjun", "plan": "pro"},
                }
            )
        elif kind in (1, 2, 3):
            events.append(
                {
                    **common,
                    "type": "page",
                    "name": "Product",
                    "properties": {
                        "path": "/products/42",
                        "url": "https://shop.example/products/42",
                        "title": "Linen shirt",
                    },
                }
            )
        elif kind in (4, 5, 6):
            events.append(
                {
                    **common,
                    "type": "track",
                    "event": "Product Viewed",
                    "properties": {
                        "product_id": "p-42",
                        "sku": "LS-42",
                        "name": "Linen shirt",
                        "price": 39000,
                        "currency": "KRW",
                    },
                }
            )
        elif kind in (7, 8):
            events.append(
                {
                    **common,
                    "type": "track",
                    "event": "Product Added",
                    "properties": {"product_id": "p-42", "quantity": 1, "price": 39000, "currency": "KRW"},
                }
            )
        else:
            events.append(
                {
                    **common,
                    "type": "track",
                    "userId": user,
                    "event": "Order Completed",
                    "properties": {
                        "order_id": "o-REQ",
                        "revenue": 78000,
                        "currency": "KRW",
                        "products": [{"product_id": "p-42", "quantity": 2, "price": 39000}],
                    },
                }
            )
    return json.dumps({"batch": events, "sentAt": "2026-11-22T09:00:00.000Z"}).encode()


async def _connection(
    host: str,
    port: int,
    auth: str,
    template: bytes,
    counter: list[int],
    stop_at: float,
    latencies: list[float],
    failures: list[str],
    start_gate: float,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"POST /v1/batch HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Basic {auth}\r\n"
        "Content-Type: application/json\r\n"
    )
    while time.perf_counter() < stop_at:
        counter[0] += 1
        body = template.replace(b"REQ", str(counter[0]).encode())
        writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        sent = time.perf_counter()
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        response = await reader.readexactly(length)
        if sent >= start_gate:  # ignore the warm-up
            latencies.append(time.perf_counter() - sent)
        if not status_line.startswith(b"HTTP/1.1 200") or b"rejected" in response:
            failures.append(status_line.decode().strip() + " " + response[:200].decode(errors="replace"))
    writer.close()


def load(
    host: str, port: int, write_key: str, seconds: float, connections: int, queue: multiprocessing.Queue
) -> None:
    """The load generator (runs in its own process)."""
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    template = batch_template()
    latencies: list[float] = []
    failures: list[str] = []
    counter = [0]
    started = time.perf_counter()
    warmup = 2.0
    stop_at = started + warmup + seconds

    async def main() -> None:
        await asyncio.gather(
            *(
                _connection(
                    host, port, auth, template, counter, stop_at, latencies, failures, started + warmup
                )
                for _ in range(connections)
            )
        )

    asyncio.run(main())
    queue.put(
        {
            "requests": counter[0],
            "measured_requests": len(latencies),
            "latencies": latencies,
            "failures": failures[:5],
            "failure_count": len(failures),
        }
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_all(env: dict[str, str], events: int) -> None:
    """Run `patron worker --burst` over the intake and print how fast events became timelines."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "patron", "worker", "--burst", "--json"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    took = time.perf_counter() - started
    print(f"{'':<10} processed into profiles and timelines: {events / took:>8,.0f} events/s ({took:.1f} s)")


def measure(name: str, url: str, seconds: float, connections: int, *, process: bool = False) -> dict:
    env = {**os.environ, "PATRON_DATABASE_URL": url}
    keys = json.loads(
        subprocess.run(
            [sys.executable, "-m", "patron", "init", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "patron", "serve", "--no-worker", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        generator = context.Process(
            target=load, args=("127.0.0.1", port, keys["write_key"], seconds, connections, queue)
        )
        generator.start()
        result = queue.get()
        generator.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    from sqlalchemy import text

    from patron.storage.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM event_intake")).scalar_one()
        stored += conn.execute(text("SELECT count(*) FROM events")).scalar_one()
    engine.dispose()
    sent = result["requests"] * EVENTS_PER_BATCH
    rate = result["measured_requests"] * EVENTS_PER_BATCH / seconds
    latencies = sorted(result["latencies"])
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
    ok = stored == sent and not result["failure_count"]
    print(
        f"{name:<10} {rate:>8,.0f} events/s sustained over {seconds:.0f} s  p50 "
        f"{statistics.median(latencies) * 1000:.1f} ms  p99 {p99:.1f} ms  "
        f"sent {sent:,}  stored {stored:,}  {'exact' if ok else 'MISMATCH'}"
        + (
            f"  failures {result['failure_count']}: {result['failures'][:2]}"
            if result["failure_count"]
            else ""
        )
    )
    if process:
        process_all(env, stored)
    return {
        "database": name,
        "events_per_s": round(rate),
        "p99_ms": round(p99, 1),
        "sent": sent,
        "stored": stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--process", action="store_true", help="then time the event processor on the intake")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"batches of {EVENTS_PER_BATCH}, {args.connections} connections"
    )
    with tempfile.TemporaryDirectory() as tmp:
        measure(
            "sqlite",
            f"sqlite:///{Path(tmp) / 'ingest.db'}",
            args.seconds,
            args.connections,
            process=args.process,
        )
    if not args.skip_postgres:
        with scratch_postgres() as url:
            measure(
                "postgresql",
                url,
                args.seconds,
                args.connections,
                process=args.process,
            )


if __name__ == "__main__":
    main()
