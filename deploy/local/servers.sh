#!/usr/bin/env bash
# Installs (if missing) and starts RabbitMQ and PostgreSQL from Debian packages, on 127.0.0.1.
#
#   deploy/local/servers.sh up     install if needed, start, create the test vhost and databases
#   deploy/local/servers.sh down   stop what `up` started
#   deploy/local/servers.sh rabbitmq|postgres|down-rabbitmq   only that one
#
# Both listen on loopback only. PostgreSQL gets a role `scs` (password `scs`) and one database
# per service; RabbitMQ gets the vhost `scs-test` for the tests (services left running on `/`
# would otherwise steal the events a test waits for) and the management plugin on
# 127.0.0.1:15672.
set -euo pipefail

STATE=${SCS_STATE_DIR:-$HOME/.local/state/scs}
# The postgres user cannot enter /root, so the cluster lives under its own home.
PGDATA_DIR=${SCS_PG_DATA:-/var/lib/postgresql/scs-data}
PG_PORT=${SCS_PG_PORT:-5432}
DATABASES="scs_auth scs_quota scs_workload scs_network scs_storage scs_gpu scs_audit scs_billing scs_cluster scs_test"
mkdir -p "$STATE"

log() { printf '[servers] %s\n' "$*"; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

rabbitmq_up() {
  apt_install rabbitmq-server
  mkdir -p /etc/rabbitmq
  cat > /etc/rabbitmq/rabbitmq-env.conf <<CONF
NODE_IP_ADDRESS=127.0.0.1
NODENAME=rabbit@localhost
CONF
  cat > /etc/rabbitmq/rabbitmq.conf <<CONF
listeners.tcp.default = 127.0.0.1:5672
management.tcp.ip = 127.0.0.1
management.tcp.port = 15672
loopback_users = none
CONF
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    log "starting rabbitmq"
    rabbitmq-plugins --offline enable rabbitmq_management >/dev/null
    rabbitmq-server -detached
    for _ in $(seq 1 60); do
      rabbitmqctl -q status >/dev/null 2>&1 && break
      sleep 1
    done
    rabbitmqctl -q await_startup
  fi
  rabbitmqctl -q list_vhosts | grep -qx scs-test || rabbitmqctl -q add_vhost scs-test
  rabbitmqctl -q set_permissions -p scs-test guest '.*' '.*' '.*'
  log "rabbitmq ready on 127.0.0.1:5672 (vhost scs-test for tests)"
}

rabbitmq_down() {
  if rabbitmqctl -q status >/dev/null 2>&1; then
    log "stopping rabbitmq"
    rabbitmqctl -q stop || true
  fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1; }

postgres_up() {
  apt_install postgresql
  local bin
  bin=$(pg_bin)
  if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    log "initialising postgres in $PGDATA_DIR"
    mkdir -p "$PGDATA_DIR"
    chown -R postgres:postgres "$PGDATA_DIR"
    su postgres -c "$bin/initdb -D '$PGDATA_DIR' -A trust -U postgres >/dev/null"
  fi
  if ! su postgres -c "$bin/pg_ctl -D '$PGDATA_DIR' status" >/dev/null 2>&1; then
    log "starting postgres"
    su postgres -c "$bin/pg_ctl -D '$PGDATA_DIR' -l '$PGDATA_DIR/server.log' -w \
      -o \"-c listen_addresses=127.0.0.1 -p $PG_PORT -c max_connections=300 \
      -c unix_socket_directories=/tmp\" start" >/dev/null
  fi
  local psql="psql -h 127.0.0.1 -p $PG_PORT -U postgres -tAq"
  $psql -c "SELECT 1 FROM pg_roles WHERE rolname='scs'" | grep -q 1 \
    || $psql -c "CREATE ROLE scs LOGIN PASSWORD 'scs' CREATEDB"
  for db in $DATABASES; do
    $psql -c "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
      || $psql -c "CREATE DATABASE $db OWNER scs"
  done
  log "postgres ready on 127.0.0.1:$PG_PORT (role scs, databases: $DATABASES)"
}

postgres_down() {
  local bin
  bin=$(pg_bin 2>/dev/null) || return 0
  if [ -f "$PGDATA_DIR/PG_VERSION" ] \
    && su postgres -c "$bin/pg_ctl -D '$PGDATA_DIR' status" >/dev/null 2>&1; then
    log "stopping postgres"
    su postgres -c "$bin/pg_ctl -D '$PGDATA_DIR' -m fast stop" >/dev/null
  fi
}

case "${1:-up}" in
  up) rabbitmq_up; postgres_up ;;
  down) rabbitmq_down; postgres_down ;;
  rabbitmq) rabbitmq_up ;;
  down-rabbitmq) rabbitmq_down ;;
  postgres) postgres_up ;;
  *) echo "usage: $0 up|down|rabbitmq|postgres" >&2; exit 2 ;;
esac
