#!/usr/bin/env bash
# CI entry for the local Kubernetes control plane: `cluster.sh up` builds (binaries come from
# the cache when present) and starts the cluster, then waits until it is ready;
# `cluster.sh down` stops it. The kubeconfig lands at ${SCS_KUBECONFIG:-~/.local/state/scs/kubeconfig}.
set -euo pipefail
cluster=$(cd "$(dirname "$0")/../deploy/cluster" && pwd)

case "${1:-}" in
  up)
    bash "$cluster/build.sh"
    bash "$cluster/up.sh"
    ;;
  down)
    bash "$cluster/down.sh"
    ;;
  *)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
