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

# The broker of SCS_AMQP_URI (default amqp://guest:guest@127.0.0.1:5672/): started here when it
# is the local one and does not answer; a vhost it names is created when missing.
AMQP_URI=${SCS_AMQP_URI:-amqp://guest:guest@127.0.0.1:5672/}
read -r amqp_host amqp_port amqp_vhost < <(.venv/bin/python - "$AMQP_URI" <<'PY'
import sys
from urllib.parse import unquote, urlsplit
uri = urlsplit(sys.argv[1])
print(uri.hostname or "127.0.0.1", uri.port or 5672, unquote(uri.path[1:]) or "/")
PY
)
local_broker=no
case "$amqp_host" in 127.0.0.1|localhost) local_broker=yes ;; esac
if ! reachable "$amqp_host" "$amqp_port"; then
  if [ "$local_broker" = yes ] && [ "$amqp_port" = 5672 ]; then
    bash deploy/local/servers.sh rabbitmq
    echo rabbitmq >> "$STARTED"
  else
    echo "[run] no message broker answers on $amqp_host:$amqp_port (SCS_AMQP_URI)" >&2
    exit 1
  fi
fi
if [ "$local_broker" = yes ] && [ "$amqp_vhost" != / ] && command -v rabbitmqctl >/dev/null \
    && rabbitmqctl -q status >/dev/null 2>&1; then
  if ! rabbitmqctl -q list_vhosts | grep -qxF "$amqp_vhost"; then
    echo "[run] creating RabbitMQ vhost $amqp_vhost (SCS_AMQP_URI)"
    rabbitmqctl -q add_vhost "$amqp_vhost"
    amqp_user=$(.venv/bin/python -c 'import sys; from urllib.parse import urlsplit, unquote; print(unquote(urlsplit(sys.argv[1]).username or "guest"))' "$AMQP_URI")
    rabbitmqctl -q set_permissions -p "$amqp_vhost" "$amqp_user" '.*' '.*' '.*'
  fi
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

.venv/bin/python -m runner &
suite_pid=$!
echo "$suite_pid" > "$PIDFILE"
trap 'kill -TERM "$suite_pid" 2>/dev/null || true' INT TERM

# The banner once the gateway answers (the services start in a few seconds).
for _ in $(seq 1 600); do
  kill -0 "$suite_pid" 2>/dev/null || break
  reachable "$host" "$port" && break
  sleep 0.1
done
if kill -0 "$suite_pid" 2>/dev/null; then
  cat <<MSG

  Secure Container Service
  API:          http://$host:$port/api/v1   (OpenAPI: /api/v1/openapi.json)
  Admin login:  see $STATE/admin-credentials
  Kubeconfig:   ${KUBECONFIG:-$STATE/kubeconfig}
  Try it:       make demo   (in another shell)
  Stop:         Ctrl-C here, or \`make stop\` in another shell

MSG
fi

wait "$suite_pid" || true
# `wait` returns early when a trapped signal arrives; let the suite finish its shutdown.
while kill -0 "$suite_pid" 2>/dev/null; do sleep 0.2; done
rm -f "$PIDFILE"
bash deploy/local/stop.sh --started-only
