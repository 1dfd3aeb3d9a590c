#!/usr/bin/env bash
# The HA tests' API server (ctest fixtures ha.apiserver_start / ha.apiserver_stop):
#   start DIR   scripts/kube-apiserver start DIR, then what the tests expect in it: the namespace
#               peregrine, the kit's Lease and its RBAC as shipped (deploy/k3s/base/lease.yaml:
#               the pods' identity may get and update that one Lease), and a Role letting the
#               test user peregrine-test-lease-creator create and update any Lease there
#   stop DIR    scripts/kube-apiserver stop DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cmd=$1 dir=$2
case "$cmd" in
  start)
    "$root/scripts/kube-apiserver" start "$dir"
    # shellcheck disable=SC1091
    source "$dir/env"
    k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" --request-timeout 30s "$@"; }
    k create namespace peregrine
    k apply -n peregrine -f "$root/deploy/k3s/base/lease.yaml"
    k apply -f - <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: test-lease-creator, namespace: peregrine}
rules:
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "create", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: test-lease-creator, namespace: peregrine}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: test-lease-creator}
subjects:
  - {kind: User, apiGroup: rbac.authorization.k8s.io, name: peregrine-test-lease-creator}
YAML
    k -n peregrine get lease trading-service-leader ;;
  stop)
    "$root/scripts/kube-apiserver" stop "$dir" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
