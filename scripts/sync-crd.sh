#!/usr/bin/env bash
# Copies the LeakWatch CRD from crds/ (the source of truth) into the Helm chart's crds/ folder.
# Run it after every change to crds/; test/unit/dockerfile.test.ts fails while the two differ.
#   scripts/sync-crd.sh          copy
#   scripts/sync-crd.sh --check  exit 1 (and say which file) when the chart's copy is stale
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/crds
dst=$root/charts/leakwatch/crds

mode=copy
case ${1:-} in
  "") ;;
  --check) mode=check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

status=0
for file in "$src"/*.yaml; do
  name=$(basename "$file")
  if [ "$mode" = check ]; then
    if ! cmp -s "$file" "$dst/$name"; then
      echo "sync-crd: charts/leakwatch/crds/$name differs from crds/$name (run scripts/sync-crd.sh)" >&2
      status=1
    fi
  else
    mkdir -p "$dst"
    cp "$file" "$dst/$name"
    echo "sync-crd: crds/$name -> charts/leakwatch/crds/$name"
  fi
done
# A CRD removed from crds/ must not linger in the chart.
for file in "$dst"/*.yaml; do
  [ -e "$file" ] || continue
  name=$(basename "$file")
  if [ ! -e "$src/$name" ]; then
    if [ "$mode" = check ]; then
      echo "sync-crd: charts/leakwatch/crds/$name has no source in crds/" >&2
      status=1
    else
      rm "$file"
      echo "sync-crd: removed charts/leakwatch/crds/$name (gone from crds/)"
    fi
  fi
done
exit $status
