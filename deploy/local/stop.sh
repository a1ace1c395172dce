#!/usr/bin/env bash
# `make stop`: stop the suite started by `make run`, then what `make run` itself started
# (RabbitMQ, the local cluster). With --started-only the suite is assumed stopped already.
set -euo pipefail
cd "$(dirname "$0")/../.."
STATE=${SCS_STATE_DIR:-$HOME/.local/state/scs}

if [ "${1:-}" != "--started-only" ] && [ -f "$STATE/suite.pid" ]; then
  pid=$(cat "$STATE/suite.pid")
  if kill -0 "$pid" 2>/dev/null; then
    echo "[stop] stopping the suite (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$STATE/suite.pid"
fi
if [ -f "$STATE/run-started" ]; then
  grep -qx cluster "$STATE/run-started" && bash deploy/cluster/down.sh
  grep -qx rabbitmq "$STATE/run-started" && bash deploy/local/servers.sh down-rabbitmq
  rm -f "$STATE/run-started"
fi
