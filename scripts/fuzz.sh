#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS (default 600) each, one after
# another, growing the committed corpus in fuzz/corpus/<target>.
# Needs a nightly toolchain and cargo-fuzz (installed here if missing).
# A crash stops the script; its input is in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-600}"
shift || true
targets=("${@:-expression workload scenario}")
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
for t in ${targets[*]}; do
  echo "== fuzz target $t for ${seconds}s"
  # -timeout: one input running over 10 s counts as a hang (a crash).
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
done
