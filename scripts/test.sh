#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, unit and integration tests
# (PostgreSQL ones against throwaway clusters the project starts itself), and
# every bench in its quick smoke mode. Installs what is missing first (a C
# compiler for the bundled SQLite, rustfmt and clippy, PostgreSQL and its
# extensions via scripts/install-backends.sh) and is a no-op for things
# already present, so it is safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_missing=()
command -v cc >/dev/null 2>&1 || apt_missing+=(gcc libc6-dev)
command -v git >/dev/null 2>&1 || apt_missing+=(git)
# Headless Chromium opens report.html in tests/browser.rs.
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
# A virtualenv for kubernetes-validate (deploy/k8s in tests/deploy.rs).
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || apt_missing+=(python3-venv)
if [ ${#apt_missing[@]} -gt 0 ]; then
  log "installing ${apt_missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found; install a Rust toolchain (https://rustup.rs) and run this again" >&2
  exit 2
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    log "installing $component"
    rustup component add "$component"
  fi
done

# PostgreSQL 15 with pgvector and TimescaleDB, and Docker, for the
# PostgreSQL tests; a second or two when everything is already there.
scripts/install-backends.sh --docker

# A private Docker daemon (no bridge: containers use host networking) and a
# PostgreSQL image built from the host's installation, for the docker path.
docker_dir=$(mktemp -d /tmp/schemabench-docker.XXXXXX)
cleanup() { scripts/dockerd.sh stop "$docker_dir"; rm -rf "$docker_dir" 2>/dev/null || true; }
trap cleanup EXIT
log "starting a private Docker daemon"
eval "$(scripts/dockerd.sh start "$docker_dir")"
log "building the local PostgreSQL image"
SCHEMABENCH_DOCKER_IMAGE=$(scripts/build-local-image.sh)
log "building the schemabench image (debug binary; the Dockerfile's is release)"
SCHEMABENCH_IMAGE=$(scripts/build-image.sh --debug)
export DOCKER_HOST SCHEMABENCH_DOCKER_IMAGE SCHEMABENCH_IMAGE

# kubernetes-validate (PyPI; it carries the Kubernetes API schemas, so
# validating needs no network) for the deploy/k8s manifests.
kube_venv=${SCHEMABENCH_TOOLS:-$HOME/.cache/schemabench-tools}/kubernetes-validate
if [ ! -x "$kube_venv/bin/kubernetes-validate" ]; then
  log "installing kubernetes-validate"
  python3 -m venv "$kube_venv"
  "$kube_venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0
fi
export SCHEMABENCH_KUBE_VALIDATE="$kube_venv/bin/kubernetes-validate"

log "cargo fmt --check"
cargo fmt --all -- --check
# examples/shop is a crate of its own (a user's application), outside `--all`.
cargo fmt --manifest-path examples/shop/Cargo.toml -- --check
log "cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
log "cargo test (unit, integration, benches in smoke mode)"
cargo test --locked --all-targets
log "cargo package (the crate as published builds from its own files)"
cargo package --locked --allow-dirty --quiet
log "all tests passed"
