#!/usr/bin/env bash
# Stops the processes up.sh started, by their recorded pids, newest first. Safe to run when
# nothing is running. `down.sh --purge` also deletes the state (certificates, logs, data).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mkdir -p "$state_dir"
exec 9>"$state_dir/.lock"
flock 9

stop() {
  local name=$1 pid
  if ! pid=$(pid_of "$name"); then
    rm -f "$run_dir/$name.pid"
    return
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored TERM for 10s: killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$run_dir/$name.pid"
  log "stopped $name (pid $pid)"
}

rm -f "$run_dir/ready"
for ((i = ${#components[@]} - 1; i >= 0; i--)); do
  stop "${components[$i]}"
done

if [ "${1:-}" = --purge ]; then
  rm -rf "$state_dir"
  log "removed $state_dir"
fi
