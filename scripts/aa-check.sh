#!/usr/bin/env bash
# A/A check of the statistics: runs checks/aa_identical.toml (two variants
# with the same DDL) N times per engine and counts the runs in which any
# effect (any operation, any metric) was classed better or worse. Every such
# call is a false alarm; docs/method.md states the target (at most 1 of 20
# per engine) and the last figures.
#
#   scripts/aa-check.sh [runs per engine, default 20] [engines, default "sqlite postgres"]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
engines=${2:-sqlite postgres}
cargo build --release --locked --quiet
bin=target/release/schemabench
out=$(mktemp -d /tmp/schemabench-aa.XXXXXX)
trap 'rm -rf "$out"' EXIT
for engine in $engines; do
  split=0
  for i in $(seq 1 "$runs"); do
    "$bin" run checks/aa_identical.toml --backend "$engine" --quiet --json --out "$out/runs" >"$out/$engine-$i.json" || true
    calls=$(python3 - "$out/$engine-$i.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
calls = [f"{e['op'] or ''} {e['metric']} {e['ratio']:.3f} [{e['ci_low']:.3f}-{e['ci_high']:.3f}] {e['class']}"
         for e in r["comparison"]["effects"] if e["class"] in ("better", "worse")]
print("; ".join(calls))
PY
)
    if [ -n "$calls" ]; then
      split=$((split + 1))
      echo "$engine run $i: $calls"
    fi
  done
  echo "$engine: $split of $runs runs called identical designs different"
done
