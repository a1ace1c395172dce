#!/usr/bin/env bash
# Generates the local cluster's keys and certificates with openssl, once: files that already
# exist are kept, so restarts reuse them and kubeconfigs stay valid.
#
#   ca             signs every serving and client certificate below
#   front-proxy-ca signs the aggregator's client certificate (request-header authentication)
#   sa             service-account token signing key pair
#   encryption     EncryptionConfiguration for Secrets at rest, with a random key
set -euo pipefail
# shellcheck source=deploy/cluster/lib.sh
source "$(dirname "$0")/lib.sh"

mkdir -p "$pki_dir"
chmod 700 "$pki_dir"
cd "$pki_dir"
days=3650

new_ca() {  # name common-name
  [ -f "$1.crt" ] && return
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days "$days" \
    -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
}

new_cert() {  # name ca subject usage [subjectAltName]
  local name=$1 ca=$2 subject=$3 usage=$4 san=${5:-}
  [ -f "$name.crt" ] && return
  local ext
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } > "$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" \
    -subj "$subject" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
    -out "$name.crt" -days "$days" -extfile "$ext" 2>/dev/null
  rm -f "$name.csr" "$ext"
}

new_ca ca scs-local-ca
new_ca front-proxy-ca scs-local-front-proxy-ca

new_cert apiserver ca /CN=kube-apiserver serverAuth \
  "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
new_cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
new_cert front-proxy-client front-proxy-ca /CN=front-proxy-client clientAuth

new_cert admin ca "/O=system:masters/CN=scs-admin" clientAuth
new_cert kube-controller-manager ca /CN=system:kube-controller-manager clientAuth
new_cert kube-scheduler ca /CN=system:kube-scheduler clientAuth
# KWOK plays every node's kubelet, so it cannot use a single system:node identity.
new_cert kwok ca "/O=system:masters/CN=kwok-controller" clientAuth
new_cert kwok-serving ca /CN=kwok-kubelet serverAuth "IP:127.0.0.1,DNS:localhost"
new_cert metrics-server ca /CN=system:metrics-server clientAuth
# The aggregator checks the name <service>.<namespace>.svc of the APIService's Service.
new_cert metrics-server-serving ca /CN=metrics-server serverAuth \
  "IP:127.0.0.1,DNS:localhost,DNS:metrics-server.kube-system.svc"

if [ ! -f sa.key ]; then
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
fi

if [ ! -f encryption.yaml ]; then
  cat > encryption.yaml <<YAML
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - aescbc:
      keys:
      - name: local-1
        secret: $(head -c 32 /dev/urandom | base64)
  - identity: {}
YAML
fi
chmod 600 ./*.key encryption.yaml
