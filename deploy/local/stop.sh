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
# `make run` stops what it started when its suite ends, and so may this script: whoever moves
# the list away first does it, so the two never race over it.
claimed="$STATE/run-started.stopping.$$"
if mv "$STATE/run-started" "$claimed" 2>/dev/null; then
  if grep -qx cluster "$claimed"; then bash deploy/cluster/down.sh; fi
  if grep -qx rabbitmq "$claimed"; then bash deploy/local/servers.sh down-rabbitmq; fi
  rm -f "$claimed"
fi
