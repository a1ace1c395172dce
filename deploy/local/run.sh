#!/usr/bin/env bash
# `make run`: the whole suite on embedded defaults, from a fresh clone.
#
# Starts RabbitMQ on 127.0.0.1 when none answers, builds (first time) and starts the local
# Kubernetes control plane, migrates each service's SQLite database, bootstraps the first cloud
# admin, then runs every service and the gateway in one process. Ctrl-C (or `make stop` from
# another shell) stops the suite and whatever this script started.
set -euo pipefail
cd "$(dirname "$0")/../.."

STATE=${SCS_STATE_DIR:-$HOME/.local/state/scs}
mkdir -p "$STATE"
PIDFILE="$STATE/suite.pid"
STARTED="$STATE/run-started"
: > "$STARTED"

reachable() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

if ! reachable 127.0.0.1 5672; then
  bash deploy/local/servers.sh rabbitmq
  echo rabbitmq >> "$STARTED"
fi
if [ -z "${KUBECONFIG:-}" ]; then
  cluster_was_up=$(bash deploy/cluster/status.sh >/dev/null 2>&1 && echo yes || echo no)
  make --no-print-directory cluster-up
  [ "$cluster_was_up" = yes ] || echo cluster >> "$STARTED"
fi

.venv/bin/scs-migrate
.venv/bin/scs-auth-bootstrap

host=${SCS_GATEWAY_HOST:-127.0.0.1}
port=${SCS_GATEWAY_PORT:-8080}
cat <<MSG

  Secure Container Service
  API:          http://$host:$port/api/v1   (OpenAPI: /api/v1/openapi.json)
  Admin login:  see $STATE/admin-credentials
  Kubeconfig:   ${KUBECONFIG:-$STATE/kubeconfig}
  Stop:         Ctrl-C here, or \`make stop\` in another shell

MSG

.venv/bin/python -m runner &
echo $! > "$PIDFILE"
trap 'kill -TERM "$(cat "$PIDFILE")" 2>/dev/null || true' INT TERM
wait "$(cat "$PIDFILE")" || true
# `wait` returns early when a trapped signal arrives; let the suite finish its shutdown.
while kill -0 "$(cat "$PIDFILE")" 2>/dev/null; do sleep 0.2; done
rm -f "$PIDFILE"
bash deploy/local/stop.sh --started-only
