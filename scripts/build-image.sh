#!/usr/bin/env bash
# Builds the schemabench image (the Dockerfile's layout) from this checkout
# and the host's libraries, for machines that cannot pull base images: the
# release binary and the shared-library closure of it and of /bin/sh, CA
# certificates, the workloads and scenarios, and an unprivileged user.
# Imported as schemabench/schemabench:<version>; prints the image name.
#
#   scripts/build-image.sh            # needs DOCKER_HOST or a running daemon
#   scripts/build-image.sh --debug    # the debug binary: what the tests need,
#                                     # without a release build of every crate
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
case "${1:-}" in
  --debug) profile=debug ;;
  "") ;;
  *) echo "unknown option: $1 (accepted: --debug)" >&2; exit 2 ;;
esac
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
image="schemabench/schemabench:$version"

if [ "$profile" = release ]; then
  cargo build --release --locked --quiet --bin schemabench
else
  cargo build --locked --quiet --bin schemabench
fi
bin=target/$profile/schemabench

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/usr/share/schemabench" "$root/bin" "$root/etc/ssl/certs" \
  "$root/tmp" "$root/home/schemabench"
chmod 1777 "$root/tmp"
cp "$bin" "$root/usr/local/bin/schemabench"
strip "$root/usr/local/bin/schemabench" 2>/dev/null || true
cp -aL /bin/sh "$root/bin/sh"
for f in "$bin" /bin/sh; do
  ldd "$f" 2>/dev/null | awk '/=>/ {print $3} /^\t\// {print $1}' | grep '^/' || true
done | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -aL "$lib" "$root$lib"
done
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
fi
cp -a workloads scenarios "$root/usr/share/schemabench/"
echo "schemabench:x:10001:10001::/home/schemabench:/bin/sh" > "$root/etc/passwd"
echo "schemabench:x:10001:" > "$root/etc/group"
chown -R 10001:10001 "$root/home/schemabench"
docker rmi -f "$image" >/dev/null 2>&1 || true
tar -C "$root" -c . | docker import \
  -c 'USER 10001' -c 'WORKDIR /home/schemabench' \
  -c 'ENTRYPOINT ["/usr/local/bin/schemabench"]' - "$image" >/dev/null
echo "$image"
