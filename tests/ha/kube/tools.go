//go:build tools

// Package tools pins the Kubernetes API server the HA tests run against: kube-apiserver and
// kubectl v1.30.14 (the release nearest K3s 1.30 that the Go module proxy serves), and etcd
// v3.5.10 (the version k8s.io/kubernetes v1.30.14 itself requires) from ./etcd.
// `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.30.14` is refused (its go.mod replaces
// every staging module with ./staging/...), so this module requires k8s.io/kubernetes and
// replaces each staging module with its published v0.30.14; scripts/kube-apiserver builds
// the binaries from it.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
