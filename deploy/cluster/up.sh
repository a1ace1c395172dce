#!/usr/bin/env bash
# Starts the local control plane on 127.0.0.1 and waits until it is usable:
# etcd -> kube-apiserver -> Kata RuntimeClass, metrics API registration and RBAC ->
# controller-manager, scheduler, KWOK, metrics-server -> node profile -> all nodes Ready ->
# metrics API Available.
#
# Idempotent: a cluster that is already running and came up completely is left alone; a
# half-running one (or one whose start failed) is stopped and started afresh. etcd's data,
# certificates and keys are kept across restarts, so the cluster's objects stay in step with
# the services' databases; SCS_CLUSTER_FRESH=1 (or `down.sh --purge`) starts from an empty etcd.
set -euo pipefail
# shellcheck source=deploy/cluster/lib.sh
source "$(dirname "$0")/lib.sh"

wait_timeout=${SCS_CLUSTER_WAIT_TIMEOUT:-120}

for c in "${components[@]}" kubectl; do
  [ -x "$bin_dir/$c" ] || die "$bin_dir/$c is missing: run 'make cluster-build' first"
done

mkdir -p "$state_dir"
exec 9>"$state_dir/.lock"
flock 9

running=0
for c in "${components[@]}"; do pid_of "$c" >/dev/null && running=$((running + 1)); done
if [ "$running" -eq "${#components[@]}" ] && [ -f "$run_dir/ready" ] \
  && kubectl_ get --raw /readyz >/dev/null 2>&1; then
  log "already running (kubeconfig: $kubeconfig)"
  exit 0
fi
if [ "$running" -gt 0 ]; then
  log "not ready ($running of ${#components[@]} processes running): restarting"
  flock -u 9
  bash "$cluster_dir/down.sh"
  flock 9
fi

# Nothing of ours runs now: a port that answers belongs to someone else.
for port in "$etcd_port" "$etcd_peer_port" "$apiserver_port" "$controller_manager_port" \
  "$scheduler_port" "$kwok_port" "$metrics_server_port"; do
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    die "$host:$port is already in use by another program (see SCS_*_PORT in lib.sh)"
  fi
done

t0=$(date +%s%N)
elapsed() {
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

mkdir -p "$run_dir" "$log_dir" "$(dirname "$kubeconfig")"
rm -f "$run_dir/ready"
if [ "${SCS_CLUSTER_FRESH:-0}" = 1 ]; then
  log "SCS_CLUSTER_FRESH=1: starting from an empty etcd"
  rm -rf "$etcd_data_dir"
fi
bash "$cluster_dir/pki.sh"

# One kubeconfig per identity, certificates embedded.
write_kubeconfig() {  # file cert-name
  local file=$1 cert=$2
  (
    umask 077
    cat >"$file.tmp" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: scs-local
  cluster:
    server: https://$host:$apiserver_port
    certificate-authority-data: $(base64 -w0 "$pki_dir/ca.crt")
users:
- name: $cert
  user:
    client-certificate-data: $(base64 -w0 "$pki_dir/$cert.crt")
    client-key-data: $(base64 -w0 "$pki_dir/$cert.key")
contexts:
- name: scs-local
  context: {cluster: scs-local, user: $cert}
current-context: scs-local
YAML
  )
  mv "$file.tmp" "$file"
}
kc_dir="$state_dir/kubeconfigs"
mkdir -p "$kc_dir"
for id in kube-controller-manager kube-scheduler kwok metrics-server; do
  write_kubeconfig "$kc_dir/$id" "$id"
done
write_kubeconfig "$kubeconfig" admin

start() {  # name args...
  local name=$1
  shift
  # setsid: the cluster outlives the shell (and a Ctrl-C) that started it.
  # 9>&-: the lock on fd 9 must not live on in the children.
  setsid "$bin_dir/$name" "$@" >"$log_dir/$name.log" 2>&1 </dev/null 9>&- &
  echo "$! $bin_dir/$name" >"$run_dir/$name.pid"
}

wait_for() {  # what timeout command...
  local what=$1 timeout=$2
  shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "$what not ready after ${timeout}s (logs: $log_dir)"
    sleep 0.3
  done
}

# A failed start leaves no process behind (the logs stay).
stop_on_failure() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  log "start failed: stopping what was started; logs in $log_dir"
  flock -u 9
  bash "$cluster_dir/down.sh" >/dev/null
  exit "$rc"
}
trap stop_on_failure EXIT

log "starting etcd $ETCD_VERSION on $host:$etcd_port"
start etcd --name=scs --data-dir="$etcd_data_dir" \
  --listen-client-urls="http://$host:$etcd_port" --advertise-client-urls="http://$host:$etcd_port" \
  --listen-peer-urls="http://$host:$etcd_peer_port" \
  --initial-advertise-peer-urls="http://$host:$etcd_peer_port" \
  --initial-cluster="scs=http://$host:$etcd_peer_port" \
  --auto-compaction-retention=1 --quota-backend-bytes=2147483648 \
  --unsafe-no-fsync --log-level=warn
wait_for etcd 30 curl -sf "http://$host:$etcd_port/health"

log "starting kube-apiserver $KUBERNETES_VERSION on https://$host:$apiserver_port"
start kube-apiserver \
  --bind-address="$host" --secure-port="$apiserver_port" --advertise-address="$host" \
  --endpoint-reconciler-type=none \
  --etcd-servers="http://$host:$etcd_port" \
  --tls-cert-file="$pki_dir/apiserver.crt" --tls-private-key-file="$pki_dir/apiserver.key" \
  --client-ca-file="$pki_dir/ca.crt" \
  --kubelet-client-certificate="$pki_dir/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$pki_dir/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$pki_dir/ca.crt" \
  --kubelet-preferred-address-types=InternalIP \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$pki_dir/sa.pub" \
  --service-account-signing-key-file="$pki_dir/sa.key" \
  --service-cluster-ip-range="$service_cidr" \
  --authorization-mode=Node,RBAC \
  --enable-admission-plugins=NodeRestriction \
  --encryption-provider-config="$pki_dir/encryption.yaml" \
  --requestheader-client-ca-file="$pki_dir/front-proxy-ca.crt" \
  --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User \
  --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$pki_dir/front-proxy-client.crt" \
  --proxy-client-key-file="$pki_dir/front-proxy-client.key" \
  --allow-privileged=true \
  --profiling=false
wait_for kube-apiserver 60 kubectl_ get --raw /readyz

# Before metrics-server starts: it exits when its RBAC is not there yet.
log "applying the Kata RuntimeClass and the metrics API"
kubectl_ apply -f "$cluster_dir/manifests/runtimeclass.yaml" >/dev/null
sed -e "s|@PORT@|$metrics_server_port|" -e "s|@CA_BUNDLE@|$(base64 -w0 "$pki_dir/ca.crt")|" \
  "$cluster_dir/manifests/metrics-server.yaml" | kubectl_ apply -f - >/dev/null

log "starting controller-manager, scheduler, KWOK $KWOK_VERSION, metrics-server $METRICS_SERVER_VERSION"
start kube-controller-manager \
  --kubeconfig="$kc_dir/kube-controller-manager" \
  --authentication-kubeconfig="$kc_dir/kube-controller-manager" \
  --authorization-kubeconfig="$kc_dir/kube-controller-manager" \
  --bind-address="$host" --secure-port="$controller_manager_port" \
  --leader-elect=false \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$pki_dir/sa.key" \
  --root-ca-file="$pki_dir/ca.crt" \
  --cluster-signing-cert-file="$pki_dir/ca.crt" --cluster-signing-key-file="$pki_dir/ca.key" \
  --allocate-node-cidrs=true --cluster-cidr="$cluster_cidr" --node-cidr-mask-size=24 \
  --service-cluster-ip-range="$service_cidr" \
  --kube-api-qps=100 --kube-api-burst=200 \
  --horizontal-pod-autoscaler-sync-period=5s \
  --horizontal-pod-autoscaler-downscale-stabilization=15s \
  --horizontal-pod-autoscaler-cpu-initialization-period=60s \
  --horizontal-pod-autoscaler-initial-readiness-delay=10s \
  --profiling=false

cat >"$state_dir/kube-scheduler.yaml" <<YAML
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $kc_dir/kube-scheduler
  qps: 100
  burst: 200
leaderElection:
  leaderElect: false
YAML
start kube-scheduler --config="$state_dir/kube-scheduler.yaml" \
  --authentication-kubeconfig="$kc_dir/kube-scheduler" \
  --authorization-kubeconfig="$kc_dir/kube-scheduler" \
  --bind-address="$host" --secure-port="$scheduler_port" --profiling=false

now=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
printf '%s stdout F %s\n' \
  "$now" "container started (emulated by KWOK: no process runs)" \
  "$now" "listening" >"$state_dir/emulated-container.log"
sed "s|@STATE_DIR@|$state_dir|g" "$cluster_dir/kwok.yaml" >"$state_dir/kwok.yaml"
start kwok --kubeconfig="$kc_dir/kwok" --config="$state_dir/kwok.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-ip="$host" --node-port="$kwok_port" --server-address="$host:$kwok_port" \
  --tls-cert-file="$pki_dir/kwok-serving.crt" --tls-private-key-file="$pki_dir/kwok-serving.key" \
  --cidr=10.245.0.0/16

start metrics-server \
  --bind-address="$host" --secure-port="$metrics_server_port" \
  --tls-cert-file="$pki_dir/metrics-server-serving.crt" \
  --tls-private-key-file="$pki_dir/metrics-server-serving.key" \
  --kubeconfig="$kc_dir/metrics-server" \
  --authentication-kubeconfig="$kc_dir/metrics-server" \
  --authorization-kubeconfig="$kc_dir/metrics-server" \
  --kubelet-preferred-address-types=InternalIP --kubelet-use-node-status-port \
  --kubelet-certificate-authority="$pki_dir/ca.crt" \
  --metric-resolution=10s --kubelet-request-timeout=5s

log "applying the node profile"
python=python3
[ -x "$cluster_dir/../../.venv/bin/python" ] && python="$cluster_dir/../../.venv/bin/python"
"$python" "$cluster_dir/render_nodes.py" "$cluster_dir/nodes.yaml" >"$state_dir/nodes.json"
# apply, not create: with etcd kept across restarts the nodes may exist already.
kubectl_ apply -f "$state_dir/nodes.json" >/dev/null
expected=$("$python" -c 'import json, sys; print(len(json.load(sys.stdin)["items"]))' \
  <"$state_dir/nodes.json")

# Ready, a pod CIDR from node IPAM, and no not-ready taint left by the node lifecycle controller.
# shellcheck disable=SC2016  # a Go template, not shell
ready_nodes_template='{{range .items}}{{$ok := false}}
{{- range .status.conditions}}{{if and (eq .type "Ready") (eq .status "True")}}{{$ok = true}}{{end}}{{end}}
{{- range .spec.taints}}{{if eq .key "node.kubernetes.io/not-ready"}}{{$ok = false}}{{end}}{{end}}
{{- if and $ok .spec.podCIDR}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}'
nodes_ready() {
  local n
  n=$(kubectl_ get nodes -o go-template="$ready_nodes_template" | grep -c .)
  [ "$n" -eq "$expected" ]
}
wait_for "nodes" "$wait_timeout" nodes_ready
log "all $expected nodes Ready after $(elapsed)s"

wait_for "metrics API" "$wait_timeout" kubectl_ wait --for=condition=Available --timeout=5s \
  apiservice/v1beta1.metrics.k8s.io
touch "$run_dir/ready"
trap - EXIT
log "metrics API available after $(elapsed)s; kubeconfig: $kubeconfig"
