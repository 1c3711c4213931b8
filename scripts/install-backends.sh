#!/usr/bin/env bash
# Installs what the PostgreSQL backend needs, skipping whatever is present:
#   - PostgreSQL 15 server and dev packages (apt)
#   - pgvector 0.8.0 and TimescaleDB 2.19.3 (Apache-only build), built from
#     Debian trixie's source packages fetched with a private apt state (the
#     system's apt sources are not touched), installed into PostgreSQL 15
#   - with --docker: docker.io
# Re-running it on a ready machine takes a second or two.
set -euo pipefail

PG_MAJOR=15
PGVECTOR_VERSION=0.8.0
TIMESCALEDB_VERSION=2.19.3
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PG_BIN/pg_config

docker=false
for arg in "$@"; do
  case "$arg" in
    --docker) docker=true ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (accepted: --docker)" >&2; exit 2 ;;
  esac
done

log() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pkgs=()
[ -x "$PG_BIN/postgres" ] && [ -x "$PG_BIN/pgbench" ] || pkgs+=(postgresql-$PG_MAJOR postgresql-client-$PG_MAJOR)
[ -x "$PG_CONFIG" ] && [ -f "$($PG_CONFIG --includedir-server 2>/dev/null)/postgres.h" ] || pkgs+=(postgresql-server-dev-$PG_MAJOR)
command -v cmake >/dev/null 2>&1 || pkgs+=(cmake)
command -v make >/dev/null 2>&1 || pkgs+=(make)
command -v gcc >/dev/null 2>&1 || pkgs+=(gcc)
if $docker && ! command -v dockerd >/dev/null 2>&1; then pkgs+=(docker.io); fi
if [ ${#pkgs[@]} -gt 0 ]; then
  log "apt: installing ${pkgs[*]}"
  # Packages must not start services: a packaged dockerd would come up with
  # its default bridge (a private-range network), and a packaged PostgreSQL
  # cluster is never used. Deny service starts for the install.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    trap 'as_root rm -f "$policy"' EXIT
  fi
  apt_install "${pkgs[@]}"
  as_root rm -f "$policy" 2>/dev/null || true
  trap - EXIT
fi
# Never let systemd start the packaged Docker daemon (socket activation
# included): schemabench starts its own, without a bridge (scripts/dockerd.sh).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  for unit in docker.socket docker.service; do
    if systemctl list-unit-files "$unit" >/dev/null 2>&1; then
      as_root systemctl disable --now "$unit" >/dev/null 2>&1 || true
      as_root systemctl mask "$unit" >/dev/null 2>&1 || true
    fi
  done
fi

extdir=$($PG_CONFIG --sharedir)/extension
have_vector=false; have_tsdb=false
[ -f "$extdir/vector--$PGVECTOR_VERSION.sql" ] && have_vector=true
[ -f "$extdir/timescaledb--$TIMESCALEDB_VERSION.sql" ] && have_tsdb=true
if $have_vector && $have_tsdb; then
  log "PostgreSQL $PG_MAJOR with pgvector $PGVECTOR_VERSION and TimescaleDB $TIMESCALEDB_VERSION is ready"
  exit 0
fi

# Debian trixie's source packages, with a private apt state.
S=$(mktemp -d)
trap 'rm -rf "$S"' EXIT
chmod 755 "$S"  # apt's download user must be able to write there
mkdir -p "$S/lists/partial" "$S/cache/archives/partial"
MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
if [ -z "$MIRROR" ]; then
  MIRROR=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$MIRROR" ] || { echo "cannot find a Debian mirror in the apt sources" >&2; exit 2; }
echo "deb-src $MIRROR trixie main" > "$S/sources.list"
O=(-o Dir::Etc::sourcelist="$S/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$S/lists" -o Dir::Cache="$S/cache")
log "fetching source packages from $MIRROR (trixie)"
as_root apt-get "${O[@]}" update -qq
wanted=()
$have_vector || wanted+=(pgvector)
$have_tsdb || wanted+=(timescaledb)
(cd "$S" && as_root apt-get "${O[@]}" source --download-only "${wanted[@]}" >/dev/null)

unpack() { # name version -> directory
  local orig
  orig=$(ls "$S"/"$1"_"$2"*.orig.tar.* | head -1)
  mkdir -p "$S/$1-src"
  tar -xf "$orig" -C "$S/$1-src" --strip-components=1
  echo "$S/$1-src"
}

if ! $have_vector; then
  log "building pgvector $PGVECTOR_VERSION"
  d=$(unpack pgvector "$PGVECTOR_VERSION")
  make -C "$d" -s PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
  as_root make -C "$d" -s PG_CONFIG="$PG_CONFIG" OPTFLAGS="" install >/dev/null
fi
if ! $have_tsdb; then
  log "building TimescaleDB $TIMESCALEDB_VERSION (Apache-only)"
  d=$(unpack timescaledb "$TIMESCALEDB_VERSION")
  cmake -S "$d" -B "$d/build" -DPG_CONFIG="$PG_CONFIG" -DAPACHE_ONLY=ON -DREGRESS_CHECKS=OFF \
    -DTAP_CHECKS=OFF -DUSE_TELEMETRY=OFF -DSEND_TELEMETRY_DEFAULT=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
  make -C "$d/build" -s -j"$(nproc)" >/dev/null
  as_root make -C "$d/build" -s install >/dev/null
fi
[ -f "$extdir/vector--$PGVECTOR_VERSION.sql" ] || { echo "pgvector $PGVECTOR_VERSION did not install" >&2; exit 1; }
[ -f "$extdir/timescaledb--$TIMESCALEDB_VERSION.sql" ] || { echo "TimescaleDB $TIMESCALEDB_VERSION did not install" >&2; exit 1; }
log "PostgreSQL $PG_MAJOR with pgvector $PGVECTOR_VERSION and TimescaleDB $TIMESCALEDB_VERSION is ready"
