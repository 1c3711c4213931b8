#!/usr/bin/env bash
# Runs a suite of scenarios and compares each with its saved baseline, as a
# nightly regression job does.
#
#   scripts/nightly.sh SUITE_FILE [--out DIR] [--baselines DIR]
#                                 [--save-baselines [--baseline-runs N]]
#                                 [--scenarios DIR] [-- EXTRA RUN OPTIONS]
#
# SUITE_FILE lists one scenario per line with its options (suites/*.txt).
# Each run's folder goes under DIR/runs; each comparison writes a Markdown
# summary and JUnit XML under DIR/compare; DIR/index.html links every
# report and summary. --save-baselines runs every scenario N times
# (--baseline-runs, default 5: a comparison then measures run-to-run
# variation; docs/nightly.md has what 3, 5 and 10 runs can catch) and saves (replaces) its baseline from those runs instead of
# comparing: refreshing baselines is deliberate (docs/nightly.md). --scenarios DIR reads each
# scenario's file from DIR instead (same names; used to check that a
# changed design is caught).
#
# Exit status: 0 no regression; 1 a regression, plan change, differing
# answers or newly failing guard in any scenario; 2 a run or comparison
# that could not be done.
set -uo pipefail
cd "$(dirname "$0")/.."

suite="${1:?usage: scripts/nightly.sh SUITE_FILE [--out DIR] [--baselines DIR] [--save-baselines]}"
shift
out="reports/nightly/$(date -u +%Y%m%dT%H%M%SZ)"
baselines="reports/baselines"
save=0
baseline_runs=5
scenario_dir=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --baselines) baselines="$2"; shift 2 ;;
    --save-baselines) save=1; shift ;;
    --baseline-runs) baseline_runs="$2"; shift 2 ;;
    --scenarios) scenario_dir="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "error: unknown option $1" >&2; exit 2 ;;
  esac
done

bin=target/release/schemabench
cargo build --release --quiet || exit 2
name=$(basename "$suite" .txt)
mkdir -p "$out/runs" "$out/compare"
status=0
rows=""
started=$(date +%s)
while read -r scenario opts; do
  case "$scenario" in ''|'#'*) continue ;; esac
  file="$scenario"
  [ -n "$scenario_dir" ] && file="$scenario_dir/$(basename "$scenario")"
  sname=$(basename "$scenario" .toml)
  echo "== $sname" >&2
  times=1
  [ "$save" -eq 1 ] && times="$baseline_runs"
  runs=()
  failed=0
  for _ in $(seq "$times"); do
    before=$(ls "$out/runs" 2>/dev/null)
    # shellcheck disable=SC2086
    "$bin" run "$file" $opts --quiet --out "$out/runs" "${extra[@]}" >&2
    rc=$?
    run_dir=$(comm -13 <(echo "$before") <(ls "$out/runs") | head -1)
    if [ -z "$run_dir" ] || [ "$rc" -ge 2 ]; then
      failed=1
      break
    fi
    [ "$rc" -eq 1 ] && status=$(( status > 1 ? status : 1 ))
    runs+=("$out/runs/$run_dir")
  done
  if [ "$failed" -eq 1 ]; then
    echo "error: $sname did not complete (exit $rc)" >&2
    status=2
    rows="$rows<tr><td>$sname</td><td>run failed (exit $rc)</td><td></td></tr>"
    continue
  fi
  run="${runs[0]}"
  base="$name-$sname"
  if [ "$save" -eq 1 ]; then
    "$bin" baseline save "$base" "${runs[@]}" --dir "$baselines" >&2 || status=2
    verdict="baseline saved"
  else
    "$bin" compare "$run" --baseline "$base" --baselines "$baselines" \
      --markdown "$out/compare/$sname.md" --junit "$out/compare/$sname.xml"
    crc=$?
    case $crc in
      0) verdict="no regression" ;;
      1) verdict="REGRESSION"; status=$(( status > 1 ? status : 1 )) ;;
      *) verdict="comparison failed (exit $crc)"; status=2 ;;
    esac
  fi
  rows="$rows<tr><td>$sname</td><td>$verdict</td><td><a href=\"runs/$run_dir/report.html\">report</a>"
  [ -f "$out/compare/$sname.md" ] && rows="$rows · <a href=\"compare/$sname.md\">comparison</a>"
  rows="$rows</td></tr>"
done < "$suite"
took=$(( $(date +%s) - started ))
cat > "$out/index.html" <<HTML
<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>schemabench nightly: $name</title>
<style>body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto}td,th{border:1px solid #ccc;padding:4px 8px}table{border-collapse:collapse}</style>
</head><body><h1>schemabench nightly: $name</h1>
<p>$(date -u +%Y-%m-%dT%H:%M:%SZ) · ${took} s · exit $status</p>
<table><tr><th>scenario</th><th>result</th><th>files</th></tr>$rows</table></body></html>
HTML
echo "suite $name: ${took} s, exit $status; index: $out/index.html" >&2
exit $status
