#!/usr/bin/env bash
# Write cost judged at equal load agrees with an insert-only control.
# Runs each question in checks/write_cost_*.toml (reads and inserts, the
# insert guard judged in the equal-load phase) and its *_control.toml
# (inserts alone), then prints the insert-latency ratio of each: the
# question's closed-loop figure (confounded by load), its equal-load figure
# (what the guard used) and the control's. The check passes when the
# equal-load figure and the control point the same way: both above 1, both
# below 1, or both inside the ±5% noise band. docs/method.md has the last figures.
#
#   scripts/write-cost-check.sh [extra `schemabench run` options, e.g. --rounds 5]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin=target/release/schemabench
out=$(mktemp -d /tmp/schemabench-wc.XXXXXX)
trap 'rm -rf "$out"' EXIT
for check in fk brin; do
  for kind in question control; do
    file=checks/write_cost_$check.toml
    [ "$kind" = control ] && file=checks/write_cost_${check}_control.toml
    "$bin" run "$file" --quiet --json --out "$out/runs" "$@" >"$out/$check-$kind.json"
  done
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
noise = 0.05
def side(r):
    return "slower" if r > 1 + noise else "faster" if r < 1 - noise else "equal"
def cell(e):
    if e is None:
        return "—"
    ci = f" [{e['ci_low']:.2f}×–{e['ci_high']:.2f}×]" if e.get("ci_low") is not None else ""
    return f"{e['ratio']:.2f}×{ci}"
checks = {"fk": ("place_order", "user_id"), "brin": ("add_reading", "brin")}
failed = 0
print("| check | engine | variant vs baseline | closed loop | at equal load (guard) | insert-only control | agree |")
print("|---|---|---|---:|---:|---:|---|")
for check, (op, variant) in checks.items():
    q = json.load(open(f"{out}/{check}-question.json"))
    c = json.load(open(f"{out}/{check}-control.json"))
    for b in q["backends"]:
        engine = b["backend"]
        def find(result, equal):
            for e in result["comparison"]["effects"]:
                if (e["backend"] == engine and e["variant"] == variant and e["op"] == op
                        and e["metric"] == "p50" and e.get("equal_load", False) == equal):
                    return e
        closed, equal, control = find(q, False), find(q, True), find(c, False)
        agree = equal is not None and control is not None and side(equal["ratio"]) == side(control["ratio"])
        failed += not agree
        base = q["scenario"]["verdict_rule"]["baseline"]
        print(f"| {check} | {engine} | {variant} vs {base}, {op} p50 | {cell(closed)} | {cell(equal)} | {cell(control)} | {'yes' if agree else 'NO'} |")
sys.exit(1 if failed else 0)
PY
