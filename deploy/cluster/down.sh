#!/usr/bin/env bash
# Stops the processes up.sh started, by their recorded pids: first everything that talks to
# etcd, then etcd. Safe to run when nothing is running. `down.sh --purge` also deletes the state
# (certificates, logs, data).
set -euo pipefail
# shellcheck source=deploy/cluster/lib.sh
source "$(dirname "$0")/lib.sh"

mkdir -p "$state_dir"
exec 9>"$state_dir/.lock"
flock 9
rm -f "$run_dir/ready"

stop() {  # names...: TERM them together, KILL whatever still runs after 15 s
  local name pid pids=() names=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$name")
    fi
    rm -f "$run_dir/$name.pid"
  done
  local i deadline=$(( $(date +%s) + 15 ))
  for i in "${!pids[@]}"; do
    while kill -0 "${pids[$i]}" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
      sleep 0.1
    done
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      log "${names[$i]} (pid ${pids[$i]}) ignored TERM for 15s: killing"
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
    log "stopped ${names[$i]} (pid ${pids[$i]})"
  done
}

stop metrics-server kwok kube-scheduler kube-controller-manager kube-apiserver
stop etcd

if [ "${1:-}" = --purge ]; then
  rm -rf "$state_dir"
  log "removed $state_dir"
fi
