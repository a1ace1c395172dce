#!/usr/bin/env bash
# Builds the local control plane from Go modules at the versions pinned in versions.env.
#
# Binaries land in a cache outside the repository ($SCS_CACHE_DIR, default ~/.cache/scs),
# in a folder keyed by the pinned versions; a binary already there is not rebuilt.
# Each Go program is built from a small generated wrapper module, because k8s.io/kubernetes
# and etcd's server module carry `replace` directives that `go install pkg@version` refuses.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/cluster/versions.env
source "$here/versions.env"

cache_root=${SCS_CACHE_DIR:-$HOME/.cache/scs}
key=$(sha256sum "$here/versions.env" | cut -c1-12)
bin_dir="$cache_root/cluster/bin-$key"
work_dir="$cache_root/cluster/src-$key"
mkdir -p "$bin_dir" "$work_dir"

export GOFLAGS="${GOFLAGS:-} -mod=mod"
export CGO_ENABLED=0
# Two cores and 24 GiB: one link at a time keeps peak memory low.
export GOMAXPROCS=${GOMAXPROCS:-2}

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

have() { [ -x "$bin_dir/$1" ]; }

k8s_ldflags() {
  local v=$KUBERNETES_VERSION minor
  minor=$(echo "$v" | cut -d. -f2)
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s ' \
      "$pkg" "$v" "$pkg" "$pkg" "$minor"
    printf -- '-X %s.gitTreeState=clean -X %s.buildDate=1970-01-01T00:00:00Z ' "$pkg" "$pkg"
  done
  printf -- '-s -w'
}

build_kubernetes() {
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  local missing=()
  for c in "${cmds[@]}"; do have "$c" || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] && { log "kubernetes $KUBERNETES_VERSION: cached"; return; }

  local mod="$work_dir/kubernetes"
  mkdir -p "$mod"
  cd "$mod"
  if [ ! -f go.mod ]; then
    log "kubernetes $KUBERNETES_VERSION: resolving staging modules"
    go mod init scs.local/kubernetes-build >/dev/null 2>&1
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
    # Every `k8s.io/x => ./staging/src/k8s.io/x` becomes `k8s.io/x => k8s.io/x v0.<minor>.<patch>`.
    local staging_version="v0${KUBERNETES_VERSION#v1}"
    grep -E '^\s*k8s.io/[^ ]+ => ./staging/' "$gomod" | awk '{print $1}' | sort -u \
      | while read -r m; do
          go mod edit -replace "$m=$m@$staging_version"
        done
    go mod edit -require "k8s.io/kubernetes@$KUBERNETES_VERSION"
    for c in "${cmds[@]}"; do
      local pkg="k8s.io/kubernetes/cmd/$c"
      [ "$c" = kubectl ] && pkg="k8s.io/kubernetes/cmd/kubectl"
      go get -tool "$pkg@$KUBERNETES_VERSION"
    done
  fi
  for c in "${missing[@]}"; do
    log "kubernetes $KUBERNETES_VERSION: building $c"
    go build -trimpath -ldflags "$(k8s_ldflags)" -o "$bin_dir/$c.tmp" "k8s.io/kubernetes/cmd/$c"
    mv "$bin_dir/$c.tmp" "$bin_dir/$c"
  done
}

build_etcd() {
  have etcd && { log "etcd $ETCD_VERSION: cached"; return; }
  local mod="$work_dir/etcd"
  mkdir -p "$mod"
  cd "$mod"
  if [ ! -f go.mod ]; then
    log "etcd $ETCD_VERSION: resolving"
    go mod init scs.local/etcd-build >/dev/null 2>&1
    cat > main.go <<'GO'
// Command etcd starts an etcd server: the wrapper exists because etcd's own
// modules carry replace directives that `go install` refuses.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    go mod tidy
  fi
  log "etcd $ETCD_VERSION: building"
  go build -trimpath -ldflags "-s -w" -o "$bin_dir/etcd.tmp" .
  mv "$bin_dir/etcd.tmp" "$bin_dir/etcd"
}

build_tool() {  # name module-path version package [extra ldflags]
  local name=$1 version=$3 pkg=$4 ldflags=${5:-}
  have "$name" && { log "$name $version: cached"; return; }
  local mod="$work_dir/$name"
  mkdir -p "$mod"
  cd "$mod"
  if [ ! -f go.mod ]; then
    log "$name $version: resolving"
    go mod init "scs.local/$name-build" >/dev/null 2>&1
    go get -tool "$pkg@$version"
  fi
  log "$name $version: building"
  go build -trimpath -ldflags "-s -w $ldflags" -o "$bin_dir/$name.tmp" "$pkg"
  mv "$bin_dir/$name.tmp" "$bin_dir/$name"
}

start=$(date +%s)
build_etcd
build_kubernetes
build_tool kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
# metrics-server reports its version through client-go's version package.
build_tool metrics-server sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION" \
  sigs.k8s.io/metrics-server/cmd/metrics-server \
  "-X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION"
log "done in $(( $(date +%s) - start ))s: $bin_dir"
ls -la "$bin_dir"
