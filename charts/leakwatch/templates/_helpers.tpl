{{/* Chart name, overridable. */}}
{{- define "leakwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects: the release name when it already contains the chart name
("leakwatch"), else "<release>-leakwatch"; at most 63 characters (a DNS label, for the Service).
*/}}
{{- define "leakwatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "leakwatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "leakwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "leakwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "leakwatch.labels" -}}
helm.sh/chart: {{ include "leakwatch.chart" . }}
{{ include "leakwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: leakwatch
{{- end }}

{{/* The operator's ServiceAccount: the subject of every binding. */}}
{{- define "leakwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "leakwatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "leakwatch.leaseName" -}}
{{- default (printf "%s-controller" (include "leakwatch.fullname" .)) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "leakwatch.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
--max-old-space-size in MiB: nodeOptions.maxOldSpaceSizeMiB when set, else
nodeOptions.maxOldSpaceSizePercent of resources.limits.memory; empty without a memory limit.
*/}}
{{- define "leakwatch.maxOldSpaceSizeMiB" -}}
{{- $explicit := int .Values.nodeOptions.maxOldSpaceSizeMiB }}
{{- if gt $explicit 0 }}
{{- $explicit }}
{{- else }}
{{- $limit := "" }}
{{- with .Values.resources }}{{ with .limits }}{{ with .memory }}
{{- $limit = kindIs "string" . | ternary . (int64 . | toString) }}
{{- end }}{{ end }}{{ end }}
{{- if $limit }}
{{- $units := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 }}
{{- if not (regexMatch "^[0-9]+([.][0-9]+)?(|k|M|G|T|Ki|Mi|Gi|Ti)$" $limit) }}
{{- fail (printf "resources.limits.memory %q: cannot derive --max-old-space-size from it; write it as <number>[Ki|Mi|Gi|Ti|k|M|G|T] or set nodeOptions.maxOldSpaceSizeMiB" $limit) }}
{{- end }}
{{- $unit := regexReplaceAll "^[0-9.]+" $limit "" }}
{{- $number := regexReplaceAll "[^0-9.]+$" $limit "" | float64 }}
{{- $mib := divf (mulf $number (get $units $unit)) 1048576 }}
{{- divf (mulf $mib (int .Values.nodeOptions.maxOldSpaceSizePercent)) 100 | floor | int }}
{{- end }}
{{- end }}
{{- end }}

{{/*
What the operator may do in the namespaces it watches: the ClusterRole's rules in a cluster-wide
install, each namespace's Role's rules in a namespace-scoped one. Nothing else: no secrets (see the
secret-reader ClusterRole), no pods delete, no wildcards.
*/}}
{{- define "leakwatch.rules" -}}
# Watch LeakWatch resources (informer: list + watch; get for re-reads before status writes).
- apiGroups: ["leakwatch.dev"]
  resources: ["leakwatches"]
  verbs: ["get", "list", "watch"]
# Report verdicts, counts, captures and conditions through the status subresource only.
- apiGroups: ["leakwatch.dev"]
  resources: ["leakwatches/status"]
  verbs: ["get", "update", "patch"]
# Discover targets: the pods a LeakWatch selects (informer), their IPs, ports, owners and restarts.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
{{- if .Values.rbac.restarts }}
# action.restart.strategy Evict: the Eviction API, which honours PodDisruptionBudgets (never a delete).
- apiGroups: [""]
  resources: ["pods/eviction"]
  verbs: ["create"]
{{- end }}
{{- if .Values.rbac.podProxy }}
# target.via APIServerProxy: fetch profiles through the API server's pod proxy (GET only).
- apiGroups: [""]
  resources: ["pods/proxy"]
  verbs: ["get"]
{{- end }}
# MemoryLeakSuspected/Detected, LeakResolved, ScrapeFailing … on pods, workloads and LeakWatches;
# patch updates an aggregated event's series instead of writing a new event per repeat.
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
# Captures (profiles + diff report) and the persisted detector state, in ConfigMaps owned by the
# LeakWatch in its own namespace; delete prunes old captures (captures.keep) and orphans.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# Name the workload of a pod (Deployment/StatefulSet/DaemonSet) for events and the status roll-up
{{- if .Values.rbac.restarts }}
# and, with action.restart.strategy RolloutRestart, patch its pod template's restartedAt annotation.
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets", "daemonsets"]
  verbs: ["get", "patch"]
{{- else }}
# (restarts disabled: rbac.restarts=false, so no patch).
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets", "daemonsets"]
  verbs: ["get"]
{{- end }}
# Resolve a pod's ReplicaSet owner to its Deployment.
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["get"]
{{- if .Values.rbac.restarts }}
# When an eviction is refused (429), name the blocking PodDisruptionBudget in RestartBlocked.
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["list"]
{{- end }}
{{- end }}
