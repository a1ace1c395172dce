# shellcheck shell=bash disable=SC2034  # variables for the scripts that source this file
# Shared settings of the local control plane scripts; sourced, never run.
#
# Every path and port is overridable from the environment, so two checkouts (or a CI runner and
# a developer) can keep separate clusters. All listeners are on 127.0.0.1.

cluster_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/cluster/versions.env
source "$cluster_dir/versions.env"

cache_root=${SCS_CACHE_DIR:-$HOME/.cache/scs}
bin_dir="$cache_root/cluster/bin-$(sha256sum "$cluster_dir/versions.env" | cut -c1-12)"

state_root=${SCS_STATE_DIR:-$HOME/.local/state/scs}
state_dir="$state_root/cluster"
pki_dir="$state_dir/pki"
run_dir="$state_dir/run"
log_dir="$state_dir/logs"
etcd_data_dir="$state_dir/etcd"
kubeconfig=${SCS_KUBECONFIG:-$state_root/kubeconfig}

host=127.0.0.1
etcd_port=${SCS_ETCD_PORT:-12379}
etcd_peer_port=${SCS_ETCD_PEER_PORT:-12380}
apiserver_port=${SCS_APISERVER_PORT:-16443}
controller_manager_port=${SCS_CONTROLLER_MANAGER_PORT:-20257}
scheduler_port=${SCS_SCHEDULER_PORT:-20259}
kwok_port=${SCS_KWOK_PORT:-20250}
metrics_server_port=${SCS_METRICS_SERVER_PORT:-20443}

service_cidr=10.96.0.0/16
cluster_cidr=10.244.0.0/16

# Start order; stop runs it backwards.
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok metrics-server)

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "error: $*" >&2; exit 1; }

# pid_of NAME: prints the recorded pid if that process is still the component we started.
# The pid file holds "<pid> <executable>"; a recycled pid runs some other program, and is
# never reported (or signalled).
pid_of() {
  local pidfile="$run_dir/$1.pid" pid want exe
  [ -f "$pidfile" ] || return 1
  read -r pid want < "$pidfile" || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [ "${exe% (deleted)}" = "$want" ] || return 1
  echo "$pid"
}

kubectl_() { "$bin_dir/kubectl" --kubeconfig "$kubeconfig" "$@"; }
