#!/usr/bin/env bash
# schemabench against pgbench, side by side on one throwaway cluster:
# select-only at 1, 2 and 8 clients over TCP and the unix socket, pipelined
# select-only at 2 clients, the TPC-B-like script, and loading 1M accounts
# (`pgbench -i -s 10` against schemabench's loader). Alternates pgbench and
# schemabench runs (3 pairs of 20 s per configuration by default), waits for
# an idle machine before each, and writes the table into docs/performance.md.
# About 25 minutes with the defaults; any `schemabench selfbench` option
# passes through (e.g. --duration 5s --pairs 1 for a quick look).
#
#   scripts/bench-vs-pgbench.sh [selfbench options]
#   scripts/bench-vs-pgbench.sh --memory   # harness RSS: a 1-minute against a 10-minute run
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-backends.sh
cargo build --release --locked --quiet
bin=target/release/schemabench

if [ "${1:-}" = "--memory" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  for d in 1m 10m; do
    "$bin" run selfbench/vs_pgbench.toml --provisioner local --clients 8 --warmup 1s --duration "$d" \
      --rounds 1 --quiet --json --out "$out" >"$out/$d.json"
    python3 - "$out/$d.json" "$d" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ops = sum(o["count"] for o in r["backends"][0]["variants"][0]["ops"])
print(f"{sys.argv[2]:>4}: {ops:>12,} operations, peak RSS {r['run']['peak_rss_bytes'] / 2**20:.1f} MiB")
PY
  done
  exit 0
fi

exec "$bin" selfbench --write docs/performance.md "$@"
