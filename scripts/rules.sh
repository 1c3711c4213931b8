#!/usr/bin/env bash
# Runs the rules library (scenarios/rules/*.toml) and keeps its evidence.
#
#   scripts/rules.sh [--quick] [--reproduction] [--out DIR] [NAME...]
#
# Each scenario runs with the release binary; its run folder (or sweep
# folder) replaces DIR/<name>/ (default reports/rules), and docs/rules.md's
# table is regenerated from DIR with `schemabench rules-table`.
# --reproduction runs the set a second time and keeps only each verdict's
# data (result.json or sweep.json) as DIR/reproduction/<name>.json, which
# the table's "second run" column compares with the first.
# NAME... runs only those rules (file stems). --quick uses each scenario's
# smoke profile and writes nothing into the repository unless --out is
# given (its results are not for decisions).
#
# Exit status: 0 every run completed; 1 a run ended with findings (different
# answers, failed operations); 2 a run could not be done.
set -uo pipefail
cd "$(dirname "$0")/.."

quick=()
repro=0
out=""
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=(--quick); shift ;;
    --reproduction) repro=1; shift ;;
    --out) out="$2"; shift 2 ;;
    -*) echo "error: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
if [ -z "$out" ]; then
  if [ ${#quick[@]} -gt 0 ]; then out=$(mktemp -d /tmp/schemabench-rules.XXXXXX); else out=reports/rules; fi
fi

bin=target/release/schemabench
cargo build --release --quiet || exit 2
if [ ${#names[@]} -eq 0 ]; then
  for f in scenarios/rules/*.toml; do names+=("$(basename "$f" .toml)"); done
fi

work=$(mktemp -d /tmp/schemabench-rules-work.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
status=0
started=$(date +%s)
for name in "${names[@]}"; do
  file="scenarios/rules/$name.toml"
  [ -f "$file" ] || { echo "error: no $file" >&2; exit 2; }
  t0=$(date +%s)
  echo "== $name" >&2
  "$bin" run "$file" "${quick[@]}" --quiet --out "$work/$name" >&2
  rc=$?
  [ $rc -gt $status ] && status=$rc
  folder=$(find "$work/$name" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | head -1)
  if [ -z "$folder" ]; then
    echo "   no result for $name (exit $rc)" >&2
    continue
  fi
  if [ "$repro" -eq 1 ]; then
    mkdir -p "$out/reproduction"
    if [ -f "$folder/sweep.json" ]; then
      cp "$folder/sweep.json" "$out/reproduction/$name.json"
    else
      cp "$folder/result.json" "$out/reproduction/$name.json"
    fi
  else
    rm -rf "${out:?}/$name"
    mv "$folder" "$out/$name"
  fi
  echo "   $name: exit $rc in $(( $(date +%s) - t0 )) s" >&2
done
echo "rules: ${#names[@]} scenarios in $(( $(date +%s) - started )) s" >&2
if [ "$out" = reports/rules ]; then
  args=(rules-table reports/rules --update docs/rules.md)
  [ -d reports/rules/reproduction ] && args=(rules-table reports/rules --reproduction reports/rules/reproduction --update docs/rules.md)
  "$bin" "${args[@]}" || status=2
fi
exit $status
