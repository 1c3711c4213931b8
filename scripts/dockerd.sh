#!/usr/bin/env bash
# Starts or stops a private Docker daemon for tests, with networking that can
# only reach loopback: no bridge, no iptables, no forwarding (containers must
# use host networking). It never touches a system daemon.
#
#   eval "$(scripts/dockerd.sh start DIR)"   # prints `export DOCKER_HOST=...`
#   scripts/dockerd.sh stop DIR
set -euo pipefail
cmd=${1:?usage: dockerd.sh start|stop DIR}
dir=${2:?usage: dockerd.sh start|stop DIR}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    sock="$dir/docker.sock"
    if [ -S "$sock" ] && DOCKER_HOST="unix://$sock" docker version >/dev/null 2>&1; then
      echo "export DOCKER_HOST=unix://$sock"
      exit 0
    fi
    command -v dockerd >/dev/null || { echo "dockerd not installed (scripts/install-backends.sh --docker)" >&2; exit 2; }
    dockerd --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
      --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
      -H "unix://$sock" >"$dir/dockerd.log" 2>&1 &
    for _ in $(seq 1 100); do
      if DOCKER_HOST="unix://$sock" docker version >/dev/null 2>&1; then
        echo "export DOCKER_HOST=unix://$sock"
        exit 0
      fi
      sleep 0.1
    done
    echo "dockerd did not start; see $dir/dockerd.log" >&2
    tail -5 "$dir/dockerd.log" >&2 || true
    exit 1
    ;;
  stop)
    dir=$(cd "$dir" 2>/dev/null && pwd) || exit 0
    if [ -f "$dir/dockerd.pid" ]; then
      pid=$(cat "$dir/dockerd.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    umount "$dir/exec/netns/default" 2>/dev/null || true
    ;;
  *) echo "usage: dockerd.sh start|stop DIR" >&2; exit 2 ;;
esac
