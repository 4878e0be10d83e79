#!/usr/bin/env bash
# Builds the Go binaries the tests and the demo run, from the modules pinned under tools/:
#   k8s   → kube-apiserver, kube-controller-manager, kubectl  (one k8s.io/kubernetes release)
#   etcd  → etcd
#   helm  → helm
#   leaky → leaky-app (examples/leaky-app)
# Each set is cached under ${LEAKWATCH_CACHE:-~/.cache/leakwatch}/bin/<set>-<hash of its pins>,
# so it is rebuilt only when its go.mod/go.sum (or the Go version) changes.
# Prints one line per binary: NAME=/absolute/path.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${LEAKWATCH_CACHE:-$HOME/.cache/leakwatch}
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(k8s etcd)

go_version=$(go env GOVERSION)

build_set() {
  local set=$1 dir pkgs=() bins=() ldflags='-s -w' 
  case $set in
    k8s)
      dir=$root/tools/k8s
      pkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl)
      bins=(kube-apiserver kube-controller-manager kubectl)
      # Stamp the release into the binaries (a module build would report v0.0.0-master), so
      # `kubectl version` and charts' kubeVersion checks see the real version.
      local release minor v=k8s.io/component-base/version
      release=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' "$dir/go.mod")
      minor=$(echo "$release" | cut -d. -f2)
      ldflags="$ldflags -X $v.gitVersion=$release -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
      ;;
    etcd) dir=$root/tools/etcd; pkgs=(.); bins=(etcd) ;;
    helm) dir=$root/tools/helm; pkgs=(helm.sh/helm/v4/cmd/helm); bins=(helm) ;;
    leaky) dir=$root/examples/leaky-app; pkgs=(.); bins=(leaky-app) ;;
    *) echo "build-tools: unknown set '$set' (k8s, etcd, helm, leaky)" >&2; exit 2 ;;
  esac
  local key
  key=$({ cat "$dir"/go.mod "$dir"/go.sum "$dir"/*.go 2>/dev/null || true; } | { echo "$go_version $ldflags"; cat; } | sha256sum | cut -c1-16)
  local out=$cache/bin/$set-$key
  if [ ! -f "$out/.complete" ]; then
    echo "build-tools: building $set into $out (first run only; the k8s set takes several minutes)" >&2
    rm -rf "$out.tmp" && mkdir -p "$out.tmp"
    (cd "$dir" && go build -trimpath -ldflags="$ldflags" -o "$out.tmp/" "${pkgs[@]}")
    touch "$out.tmp/.complete"
    rm -rf "$out" && mv "$out.tmp" "$out"
  fi
  for b in "${bins[@]}"; do echo "$b=$out/$b"; done
}

for set in "${sets[@]}"; do build_set "$set"; done
