"""`make load`: a load test of the real stack on this machine only, bounded in time.

1. (Re)creates its own PostgreSQL database (``--database-url``, default ``crm_load``; a name
   without "load" is refused, because the database is dropped), migrates it and loads the demo
   data with ``--deals`` deals;
2. starts, as in production, a Redis (its own redis-server on a free port, never the shared one)
   with a Celery worker for the side effects, and gunicorn on 127.0.0.1 (``--port``, default
   8790; refused if taken) with DEBUG off and the API rate limits lifted;
3. runs locust headless (loadtest/locustfile.py) for ``--duration`` seconds with ``--users``
   simulated users: the board, the opportunity list API and board moves;
4. stops everything, prints requests, failures, p50 and p95 per request type, writes them into
   the "Load test" section of BENCHMARKS.md (``--no-markdown`` to skip) and fails if any request
   failed.

``--nodes 2`` runs two gunicorn instances (``--port`` and the next port) and two Celery workers
against the one database and the one Redis; locust sends each request to the next instance in turn
(round-robin, as a load balancer would), so a user's session is used on both. ``--nodes 1,2`` runs
the load once with one instance and once with two, one after the other on the same data, and writes
both, with their ratios, into the "Two web instances" section of BENCHMARKS.md.
"""

import argparse
import csv
import datetime
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
START, END = "<!-- load:results:start -->", "<!-- load:results:end -->"
SECTION_TITLE = "## Load test"
NODES_START, NODES_END = "<!-- load:nodes:start -->", "<!-- load:nodes:end -->"
NODES_TITLE = "## Load test: two web instances"
ENDPOINTS = ("board", "API: opportunity list", "board: move a card")


def database_name(url: str) -> str:
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    if "load" not in name:
        raise SystemExit(f"Refusing database {name!r}: the load test drops its database; use a name with 'load'.")
    return name


def recreate_database(url: str) -> None:
    import psycopg2

    name = database_name(url)
    admin = urllib.parse.urlsplit(url)._replace(path="/postgres").geturl()
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: TIME_WAIT is no owner
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(workdir: str, port: int = 0) -> tuple[subprocess.Popen, int]:
    """A throw-away in-memory redis-server on 127.0.0.1 (``port``, or a free one), for the broker and the cache."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("The load test needs redis-server (apt-get install redis-server).")
    port = port or free_port()
    process = subprocess.Popen(  # noqa: S603 (our own arguments)
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("redis-server did not start")


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own 127.0.0.1 server)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"The server did not answer {url} within {timeout:.0f} s")


def read_stats(path: Path) -> list[dict]:
    """Locust's ``*_stats.csv``: one row per request name, and the Aggregated row."""
    with path.open(newline="") as fh:
        return [
            {
                "name": row["Name"],
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50": float(row["50%"]),
                "p95": float(row["95%"]),
                "rps": float(row["Requests/s"]),
            }
            for row in csv.DictReader(fh)
        ]


def _ordered(stats: list[dict]) -> list[dict]:
    rows = [r for r in stats if r["name"] in ENDPOINTS or r["name"] == "Aggregated"]
    rows.sort(key=lambda r: (r["name"] == "Aggregated", ENDPOINTS.index(r["name"]) if r["name"] in ENDPOINTS else 0))
    return rows


def _servers(workers: int, nodes: int) -> str:
    if nodes == 1:
        return f"gunicorn ({workers} workers), PostgreSQL, Redis and one Celery worker (side effects)"
    return (
        f"{nodes} gunicorn instances ({workers} workers each, requests sent to each in turn), PostgreSQL, "
        f"Redis and {nodes} Celery workers (side effects)"
    )


def markdown(stats: list[dict], *, users: int, duration: int, deals: int, workers: int, nodes: int = 1) -> str:
    when = datetime.date.today().isoformat()
    rows = _ordered(stats)
    lines = [
        f"Measured {when} with `make load` on {platform.machine()} ({os.cpu_count()} CPUs, shared by everything "
        f"here): {_servers(workers, nodes)} on "
        f"127.0.0.1, the demo data with {deals:,} deals, {users} simulated "
        f"users for {duration} s (each waits 0.5–1.5 s between requests; the board and the API list three times "
        "as often as a move). Times are end to end over loopback, in milliseconds (locust rounds them to two "
        "significant digits).",
        "",
        "| request | requests | errors | p50 ms | p95 ms | req/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        name = "all requests" if r["name"] == "Aggregated" else r["name"]
        lines.append(
            f"| {name} | {r['requests']:,} | {r['failures']} | {r['p50']:.0f} | {r['p95']:.0f} | {r['rps']:.1f} |"
        )
    return "\n".join(lines)


def comparison_markdown(runs: dict[int, list[dict]], *, users: int, duration: int, deals: int, workers: int) -> str:
    """One table for the runs with 1 and with N instances: p95 and throughput of each, and their ratios."""
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    counts = sorted(runs)
    base = {r["name"]: r for r in runs[counts[0]]}
    header = ["request"] + [f"p95 ms, {n} instance{'s' if n > 1 else ''}" for n in counts]
    header += [f"p95 ratio {n}/{counts[0]}" for n in counts[1:]] + [f"req/s, {n}" for n in counts]
    header += [f"errors, {n}" for n in counts]
    lines = [
        f"Measured {when} with `make load LOAD_NODES=1,2`, one run after the other on the same data, on "
        f"{platform.machine()} ({os.cpu_count()} CPUs, shared by everything here, the load generator "
        f"included): gunicorn with {workers} workers per instance and one Celery worker per instance, one "
        f"PostgreSQL database and one Redis; the demo data with {deals:,} deals; {users} simulated users "
        f"for {duration} s each run. With two instances locust sends each request to the next one in turn, "
        "so every session is used on both. A p95 ratio below 1 means faster with more instances.",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    for row in _ordered(runs[counts[0]]):
        name = row["name"]
        others = [next((r for r in runs[n] if r["name"] == name), None) for n in counts]
        cells = ["all requests" if name == "Aggregated" else name]
        cells += [f"{o['p95']:.0f}" if o else "–" for o in others]
        cells += [f"{o['p95'] / base[name]['p95']:.2f}" if o and base[name]["p95"] else "–" for o in others[1:]]
        cells += [f"{o['rps']:.1f}" if o else "–" for o in others]
        cells += [str(o["failures"]) if o else "–" for o in others]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_section(
    body: str,
    path: Path = BENCHMARKS_MD,
    *,
    markers: tuple[str, str] = (START, END),
    title: str = SECTION_TITLE,
    intro: str = (
        "`make load` (see the README) drives the real server the way people use it: "
        "log in, open the board, list deals through the API, move cards. It fails on any error."
    ),
) -> None:
    """Replace what is between the section's markers; add the section at the end if it is missing."""
    start, end = markers
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{start}\n{body}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + f"\n\n{title}\n\n{intro}\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def node_counts(value: str) -> list[int]:
    """``--nodes``: ``1``, ``2`` or ``1,2`` (one run per count, in that order)."""
    try:
        counts = [int(part) for part in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {value!r}") from None
    if not counts or any(n < 1 or n > 8 for n in counts):
        raise argparse.ArgumentTypeError("each count must be between 1 and 8")
    return counts


def run_load(args, env: dict, token: str, nodes: int, tmp: str) -> tuple[list[dict], int]:
    """One load run against ``nodes`` gunicorn instances and Celery workers: locust's stats and its exit code."""
    ports = [args.port + i for i in range(nodes)]
    redis, redis_port = start_redis(tmp, args.redis_port)
    served = {**env, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    hosts = [f"http://127.0.0.1:{port}" for port in ports]
    print(f"=== redis-server on 127.0.0.1:{redis_port}, {nodes} Celery worker(s), gunicorn on {', '.join(hosts)}")
    processes = [redis]
    worker_logs = []
    try:
        for i, port in enumerate(ports):
            worker_logs.append(Path(tmp) / f"worker{i}-{nodes}.log")
            processes.append(
                subprocess.Popen(  # noqa: S603 (our own arguments)
                    [str(BIN / "celery"), "-A", "crm", "worker", "--concurrency", "1", "--loglevel", "WARNING"]
                    + ["-n", f"load{i}@%h", "--logfile", str(worker_logs[-1])],
                    cwd=ROOT,
                    env=served,
                    stdout=subprocess.DEVNULL,
                )
            )
            processes.append(
                subprocess.Popen(  # noqa: S603 (our own arguments)
                    [str(BIN / "gunicorn"), "crm.wsgi:application", "--bind", f"127.0.0.1:{port}"]
                    + ["--workers", str(args.workers), "--timeout", "60", "--log-level", "warning"],
                    cwd=ROOT,
                    env=served,
                )
            )
        for host in hosts:
            wait_for(f"{host}/login/", timeout=300)  # a busy machine starts gunicorn slowly
        prefix = Path(tmp) / f"load{nodes}"
        print(f"=== locust: {args.users} users for {args.duration} s", flush=True)
        locust = subprocess.run(  # noqa: S603 (our own arguments)
            [str(BIN / "locust"), "-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless"]
            + ["--host", hosts[0], "-u", str(args.users), "-r", str(args.spawn_rate)]
            + ["--run-time", f"{args.duration}s", "--stop-timeout", "10", "--csv", str(prefix)]
            + ["--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "1"],
            cwd=ROOT,
            env={**env, "LOAD_API_TOKEN": token, "LOAD_USERS": str(args.users), "LOAD_HOSTS": ",".join(hosts)},
            timeout=args.duration + 120,
        )
        stats = read_stats(prefix.with_name(f"load{nodes}_stats.csv"))
        errors = [line for log in worker_logs for line in log.read_text().splitlines() if "ERROR" in line]
        if errors:
            print("The Celery workers logged errors:", *errors[:20], sep="\n")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    return stats, locust.returncode


def verdict(stats: list[dict], returncode: int) -> str | None:
    """Why a run failed, or None."""
    total = next((r for r in stats if r["name"] == "Aggregated"), None)
    missing = [name for name in ENDPOINTS if not any(r["name"] == name and r["requests"] for r in stats)]
    failed = sum(r["failures"] for r in stats if r["name"] != "Aggregated")
    if total is None or missing or failed or returncode != 0:
        return f"{failed} failed requests, endpoints never requested: {missing}, locust exit {returncode}"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/crm_load")
    parser.add_argument("--port", type=int, default=8790, help="the first instance's port (then +1, +2…)")
    parser.add_argument("--nodes", type=node_counts, default=[1], help="gunicorn instances: 1, 2, or 1,2 to compare")
    parser.add_argument("--redis-port", type=int, default=0, help="its redis-server's port (default: a free one)")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--spawn-rate", type=float, default=4)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--deals", type=int, default=2000, help="deals in the demo data")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per instance")
    parser.add_argument("--no-markdown", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="load a database a --keep-database run left (seeding takes long on a busy machine)",
    )
    args = parser.parse_args(argv)

    database_name(args.database_url)
    for port in range(args.port, args.port + max(args.nodes)):
        if not port_is_free(port):
            raise SystemExit(f"Port {port} on 127.0.0.1 is taken: choose another with --port / LOAD_PORT.")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="crm.settings.base",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        API_THROTTLE_RATE="100000000/hour",
        API_THROTTLE_RATE_ANON="100000000/hour",
        LOG_LEVEL="WARNING",
    )
    python = str(BIN / "python")
    print(f"=== database {database_name(args.database_url)}: migrate, demo data with {args.deals} deals", flush=True)
    if not args.reuse_database:
        recreate_database(args.database_url)
    runs: dict[int, list[dict]] = {}
    failures: list[str] = []
    try:
        setup = [["compilemessages_py"], ["migrate", "--noinput", "-v0"], ["seed_demo", "--deals", str(args.deals)]]
        for command in setup[:1] if args.reuse_database else setup:
            subprocess.run(  # noqa: S603 (our own arguments)
                [python, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
            )
        # The demo data's own side effects (thousands of events) are delivered now, not during the load.
        drain = "from core.outbox import outbox_deliver_pending as d\nwhile d(limit=1000): pass"
        subprocess.run([python, "manage.py", "shell", "-c", drain], cwd=ROOT, env=env, check=True)  # noqa: S603
        token = subprocess.run(  # noqa: S603 (our own arguments)
            [python, "manage.py", "create_api_token", "manager", "--name", "load test"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

        with tempfile.TemporaryDirectory() as tmp:
            for nodes in args.nodes:
                stats, returncode = run_load(args, env, token, nodes, tmp)
                runs[nodes] = stats
                print(
                    markdown(
                        stats,
                        users=args.users,
                        duration=args.duration,
                        deals=args.deals,
                        workers=args.workers,
                        nodes=nodes,
                    )
                )
                problem = verdict(stats, returncode)
                if problem:
                    failures.append(f"{nodes} instance(s): {problem}")
    finally:
        if not args.keep_database:
            import psycopg2

            admin = urllib.parse.urlsplit(args.database_url)._replace(path="/postgres").geturl()
            conn = psycopg2.connect(admin)
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{database_name(args.database_url)}" WITH (FORCE)')
            conn.close()

    if failures:
        print("FAIL:", *failures, sep="\n")
        return 1
    if args.no_markdown:
        return 0
    figures = {"users": args.users, "duration": args.duration, "deals": args.deals, "workers": args.workers}
    if len(runs) > 1:
        body = comparison_markdown(runs, **figures)
        print(body)
        write_section(
            body,
            markers=(NODES_START, NODES_END),
            title=NODES_TITLE,
            intro=(
                "`make load LOAD_NODES=1,2 LOAD_USERS=50` (see the README): the same load against one gunicorn "
                "instance, then against two sharing one PostgreSQL and one Redis. It fails on any error."
            ),
        )
        print(f"Written to {BENCHMARKS_MD.relative_to(ROOT)} ({NODES_TITLE}).")
    elif args.nodes == [1]:
        write_section(markdown(runs[1], **figures))
        print(f"Written to {BENCHMARKS_MD.relative_to(ROOT)} ({SECTION_TITLE}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
