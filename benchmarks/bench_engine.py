"""Quick engine throughput figures (single process, pure Python).

    .venv/bin/python benchmarks/bench_engine.py [--lines N] [--evals N]

Prints evaluations/s of the ssh-bf filter expression and lines/s of the default sshd stack
(parse → route → pour_event → pour), best of a few repetitions.
"""
from __future__ import annotations

import argparse
import calendar
import time
from pathlib import Path

from engine.content import Content
from engine.event import Event
from engine.expr import compile_expr

CONTENT = Path(__file__).resolve().parents[1] / "crowdstream" / "defaults"
INGEST = float(calendar.timegm((2026, 11, 22, 6, 30, 0)))


def make_lines(count: int) -> list[str]:
    """Mostly failed logins from 500 addresses, some noise the parsers drop."""
    lines = []
    for i in range(count):
        sec = (i // 20) % 3600
        stamp = f"Nov 22 {5 + sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}"
        ip = f"203.0.113.{i % 40 + 1}"
        if i % 10 == 9:
            lines.append(f"{stamp} web-01 CRON[{i}]: pam_unix(cron:session): session closed for user root")
        elif i % 3 == 0:
            lines.append(f"{stamp} web-01 sshd[{i}]: Invalid user admin{i % 7} from {ip} port {1024 + i % 5000}")
        else:
            lines.append(f"{stamp} web-01 sshd[{i}]: Failed password for root from {ip} port {1024 + i % 5000} ssh2")
    return lines


def best_rate(fn, count: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def bench_expr(evals: int, repeat: int) -> tuple[float, float]:
    expr = compile_expr("evt.Meta.log_type == 'ssh_failed-auth'", names=("evt",))
    evt = Event()
    evt.Meta["log_type"] = "ssh_failed-auth"
    env = {"evt": evt}
    call, fn = expr, expr.fn

    def run_call() -> None:
        for _ in range(evals):
            call(env)

    def run_fn() -> None:
        for _ in range(evals):
            fn(env)
    return best_rate(run_call, evals, repeat), best_rate(run_fn, evals, repeat)


#: hub-shaped expressions beyond the plain filter: let, predicates over a queue, pipes, time
EXPR_SHAPES = (
    "let request = lower(evt.Parsed.request); request contains '/php' && evt.Meta.http_status in ['404', '403']",
    "any(['Authentication failure', 'Password mismatch', 'auth failed'], {evt.Parsed.msg contains #})",
    "count(queue.Queue, #.Meta.log_type == 'ssh_failed-auth') >= 4",
    "len(queue.Queue) >= 4 && queue.Queue[-1].Time - queue.Queue[-4].Time > duration('10m')",
    "evt.Parsed.request | trimSuffix('/') | lower() | hasSuffix('.php')",
)


def bench_expr_shapes(evals: int, repeat: int) -> list[tuple[str, float]]:
    from engine.gotime import GoTime
    queue = []
    for i in range(6):
        e = Event()
        e.Meta["log_type"] = "ssh_failed-auth"
        e.Time = GoTime.from_unix(1_700_000_000 + 300 * i)
        queue.append(e)
    evt = Event()
    evt.Meta["http_status"] = "404"
    evt.Parsed["request"] = "/PHP/index.php/"
    evt.Parsed["msg"] = "pam: auth failed for user"
    env = {"evt": evt, "queue": type("Q", (), {"Queue": queue})(), "leaky": None}
    rates = []
    for source in EXPR_SHAPES:
        fn = compile_expr(source, names=("evt", "queue", "leaky")).fn
        fn(env)

        def run() -> None:
            for _ in range(evals):
                fn(env)
        rates.append((source, best_rate(run, evals, repeat)))
    return rates


def bench_stack(count: int, repeat: int) -> tuple[float, float, int]:
    content = Content.load([CONTENT / "parsers"], [CONTENT / "scenarios"], CONTENT / "patterns")
    lines = make_lines(count)
    labels = {"type": "syslog"}
    alerts: list[dict] = []

    def parse_only() -> None:
        for line in lines:
            content.parse(line, source="/var/log/auth.log", module="file", labels=labels, ingest_ts=INGEST)

    def full() -> None:
        alerts.clear()
        states: dict[str, dict[str, dict]] = {}
        for line in lines:
            evt = content.parse(line, source="/var/log/auth.log", module="file", labels=labels, ingest_ts=INGEST)
            if evt is None:
                continue
            routes = content.route(evt)
            if not routes:
                continue
            ts, event = content.event_time(evt), content.pour_event(evt)
            for key, names in routes:
                key_states = states.setdefault(key, {})
                alerts.extend(a for o in content.pour(key, names, ts, event, key_states) for a in o.alerts)
    return best_rate(parse_only, count, repeat), best_rate(full, count, repeat), len(alerts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--evals", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    call_rate, fn_rate = bench_expr(args.evals, args.repeat)
    print(f"expr  evt.Meta.log_type == 'ssh_failed-auth': {call_rate:,.0f} evals/s "
          f"(CompiledExpr call), {fn_rate:,.0f} evals/s (.fn)")
    for source, rate in bench_expr_shapes(max(args.evals // 10, 1), args.repeat):
        print(f"expr  {rate:>12,.0f} evals/s  {source}")
    parse_rate, full_rate, alerts = bench_stack(args.lines, args.repeat)
    print(f"stack default sshd content, {args.lines:,} lines: parse {parse_rate:,.0f} lines/s, "
          f"parse+route+pour {full_rate:,.0f} lines/s ({alerts} alerts)")


if __name__ == "__main__":
    main()
