#!/usr/bin/env bash
# Shows which control-plane processes run, whether the apiserver is ready, and the nodes.
# Exit status 0 only when every process runs and the apiserver answers /readyz.
set -uo pipefail
# shellcheck source=deploy/cluster/lib.sh
source "$(dirname "$0")/lib.sh"

ok=0
for c in "${components[@]}"; do
  if pid=$(pid_of "$c"); then
    printf '%-24s running (pid %s)\n' "$c" "$pid"
  else
    printf '%-24s stopped\n' "$c"
    ok=1
  fi
done
if kubectl_ get --raw /readyz >/dev/null 2>&1; then
  echo "apiserver                https://$host:$apiserver_port ready"
  echo "kubeconfig               $kubeconfig"
  kubectl_ get nodes -L nvidia.com/gpu.product -L kubernetes.io/arch
else
  echo "apiserver                not answering"
  ok=1
fi
exit $ok
