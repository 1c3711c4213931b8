#!/usr/bin/env bash
# Builds a PostgreSQL image from the host's PostgreSQL installation, for
# machines that cannot pull from a registry: the server binaries, libraries,
# share files, time zones, a shell, the shared-library closure of every
# binary, a postgres user, and an entrypoint that initialises a cluster and
# runs the server on $PGPORT. Imported as schemabench/postgres-local:<version>.
#
#   scripts/build-local-image.sh            # needs DOCKER_HOST or a running daemon
set -euo pipefail
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_ROOT=$(dirname "$PG_BIN")
version=$("$PG_BIN/postgres" --version | awk '{print $3}')
image="schemabench/postgres-local:$version"

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root$PG_ROOT" "$root/usr/share" "$root/bin" "$root/etc" "$root/tmp" "$root/var/run/postgresql"
chmod 1777 "$root/tmp"
cp -a "$PG_BIN" "$root$PG_ROOT/"
cp -a "$PG_ROOT/lib" "$root$PG_ROOT/"
rm -rf "$root$PG_ROOT/lib/bitcode" "$root$PG_ROOT/lib/llvmjit"*
share=$("$PG_BIN/pg_config" --sharedir 2>/dev/null || echo /usr/share/postgresql/15)
mkdir -p "$root$share"
cp -a "$share/." "$root$share/"
cp -a /usr/share/zoneinfo "$root/usr/share/"
cp -aL /bin/sh "$root/bin/sh"
for f in "$PG_BIN"/* "$root$PG_ROOT"/lib/*.so /bin/sh; do
  ldd "$f" 2>/dev/null | awk '/=>/ {print $3} /^\t\// {print $1}' | grep '^/' || true
done | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -aL "$lib" "$root$lib"
done
uid=$(id -u postgres 2>/dev/null || echo 101); gid=$(id -g postgres 2>/dev/null || echo 104)
echo "postgres:x:$uid:$gid::/tmp:/bin/sh" > "$root/etc/passwd"
echo "postgres:x:$gid:" > "$root/etc/group"
cat > "$root/entrypoint.sh" <<ENTRY
#!/bin/sh
set -e
PGDATA=\${PGDATA:-/tmp/pgdata}
if [ ! -s "\$PGDATA/PG_VERSION" ]; then
  $PG_BIN/initdb -D "\$PGDATA" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync >/dev/null
fi
exec $PG_BIN/postgres -D "\$PGDATA" -p "\${PGPORT:-5432}" -k /tmp -c listen_addresses=127.0.0.1 "\$@"
ENTRY
chmod 755 "$root/entrypoint.sh"
chown -R "$uid:$gid" "$root/var/run/postgresql"
tar -C "$root" -c . | docker import -c 'USER postgres' -c 'ENTRYPOINT ["/entrypoint.sh"]' - "$image" >/dev/null
echo "$image"
