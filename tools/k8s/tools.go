//go:build tools

// Package tools pins the Kubernetes binaries the test control plane is built from:
// kube-apiserver, kube-controller-manager and kubectl, all from one k8s.io/kubernetes release.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
