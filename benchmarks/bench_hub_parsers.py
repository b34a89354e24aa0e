"""Lines/s per core of the public hub's parser stacks, on the shared benchmark logs.

    .venv/bin/python benchmarks/bench_hub_parsers.py [--lines N] [--hub ../shared/crowdsec-hub]

Stacks (as a CrowdSec install with the sshd and nginx collections runs them):
  ssh:   syslog-logs, sshd-logs, dateparse-enrich           on `gen_logs.py ssh`
  nginx: syslog-logs (non-syslog), nginx-logs, http-logs, dateparse-enrich on `gen_logs.py nginx`
Also prints evaluations/s of a typical scenario filter (http-probing) on parsed nginx events.
One process, one core; best of three runs.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from engine.content import Content
from engine.expr import compile_expr
from engine.runtime import Runtime, RuntimeOptions

ROOT = Path(__file__).resolve().parents[1]
INGEST = 1795327200.0  # 2026-11-22T06:00:00Z

STACKS = {
    "ssh": ("syslog", ["s00-raw/crowdsecurity/syslog-logs.yaml", "s01-parse/crowdsecurity/sshd-logs.yaml",
                       "s02-enrich/crowdsecurity/dateparse-enrich.yaml"]),
    "nginx": ("nginx", ["s00-raw/crowdsecurity/syslog-logs.yaml", "s01-parse/crowdsecurity/nginx-logs.yaml",
                        "s02-enrich/crowdsecurity/http-logs.yaml",
                        "s02-enrich/crowdsecurity/dateparse-enrich.yaml"]),
}


def generate(kind: str, lines: int, bench_dir: Path, out: Path) -> list[str]:
    subprocess.run([sys.executable, str(bench_dir / "gen_logs.py"), kind, "-n", str(lines),
                    "--seed", "1", "-o", str(out)], check=True)
    return out.read_text().splitlines()


def load(hub: Path, files: list[str]) -> Content:
    runtime = Runtime(RuntimeOptions(data_dir=hub / "data"))
    parsers = [hub / "hub" / "parsers" / f for f in files]
    return Content.load(parsers, [], hub / "patterns", runtime=runtime)


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--hub", type=Path, default=ROOT.parent / "shared" / "crowdsec-hub")
    parser.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for kind, (log_type, files) in STACKS.items():
            lines = generate(kind, args.lines, args.bench, Path(tmp) / f"{kind}.log")
            content = load(args.hub, files)
            labels = {"type": log_type}
            parsed: list = []

            def run() -> None:
                parsed.clear()
                for line in lines:
                    evt = content.parse(line, source=f"/var/log/{kind}.log", module="file",
                                        labels=labels, ingest_ts=INGEST)
                    if evt is not None:
                        parsed.append(evt)

            cpu = best(run)
            print(f"{kind:5s} stack: {len(lines) / cpu:10,.0f} lines/s per core "
                  f"({len(parsed)}/{len(lines)} parsed, {cpu * 1e6 / len(lines):.1f} µs/line)")
            if kind == "nginx":
                doc = yaml.safe_load((args.hub / "hub/scenarios/crowdsecurity/http-probing.yaml").read_text())
                expr = compile_expr(doc["filter"], functions=content.runtime.functions, names=("evt",))
                envs = [{"evt": evt} for evt in parsed]
                hits = sum(1 for env in envs if expr(env))
                cpu = best(lambda: [expr(env) for env in envs])
                print(f"http-probing filter: {len(envs) / cpu:10,.0f} evaluations/s ({hits} true)")


if __name__ == "__main__":
    main()
