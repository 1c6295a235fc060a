{{/* Chart name, or nameOverride; at most 63 characters (a DNS label). */}}
{{- define "custom-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Name of every object: fullnameOverride, else "<release>-<name>", else just the release name
when it already contains the chart name (so `helm install custom-exporter .` is not doubled).
*/}}
{{- define "custom-exporter.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "custom-exporter.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "chart-version" for the helm.sh/chart label ('+' is not allowed in label values). */}}
{{- define "custom-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The labels that select the pods; they never change after the first install. */}}
{{- define "custom-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "custom-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "custom-exporter.labels" -}}
helm.sh/chart: {{ include "custom-exporter.chart" . }}
{{ include "custom-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ include "custom-exporter.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: custom-exporter
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "custom-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "custom-exporter.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "custom-exporter.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/* Namespace of every object: namespaceOverride (e.g. when an umbrella chart installs into several), else the release's. */}}
{{- define "custom-exporter.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{/*
[registry/]repository:tag, or ...:tag@digest when a digest pins the image. global.imageRegistry (set once by an
umbrella chart or a mirror) wins over image.registry, as in the prometheus-community charts.
*/}}
{{- define "custom-exporter.image" -}}
{{- $registry := (.Values.global | default dict).imageRegistry | default .Values.image.registry -}}
{{- $repository := .Values.image.repository -}}
{{- if $registry -}}
{{- $repository = printf "%s/%s" (trimSuffix "/" $registry) $repository -}}
{{- end -}}
{{- $ref := printf "%s:%s" $repository (include "custom-exporter.imageTag" .) -}}
{{- if .Values.image.digest -}}
{{- $ref = printf "%s@%s" $ref .Values.image.digest -}}
{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* Name of the ConfigMap holding config.yaml, or "" when the exporter runs without a config file. */}}
{{- define "custom-exporter.configMapName" -}}
{{- if .Values.existingConfigMap -}}
{{- .Values.existingConfigMap -}}
{{- else if .Values.config -}}
{{- include "custom-exporter.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "custom-exporter.configPath" -}}
/etc/custom-exporter/config.yaml
{{- end -}}

{{/* In-cluster URL of the metrics, used by the helm test. */}}
{{- define "custom-exporter.metricsUrl" -}}
{{- printf "%s://%s.%s.svc:%d%s" (include "custom-exporter.webScheme" .) (include "custom-exporter.fullname" .) (include "custom-exporter.namespace" .) (int .Values.service.port) .Values.web.telemetryPath -}}
{{- end -}}

{{/* The web config file's content (web.config, plus TLS from web.tlsSecret), or "" when there is none. */}}
{{- define "custom-exporter.webConfig" -}}
{{- $config := deepCopy .Values.web.config -}}
{{- if and .Values.web.tlsSecret (not (hasKey $config "tls_server_config")) -}}
{{- $_ := set $config "tls_server_config" (dict "cert_file" "/etc/custom-exporter/tls/tls.crt" "key_file" "/etc/custom-exporter/tls/tls.key") -}}
{{- end -}}
{{- if $config -}}
{{- toYaml $config -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret holding web.yml, or "" when the exporter runs without a web config. */}}
{{- define "custom-exporter.webConfigSecretName" -}}
{{- if .Values.web.existingConfigSecret -}}
{{- .Values.web.existingConfigSecret -}}
{{- else if include "custom-exporter.webConfig" . -}}
{{- printf "%s-web" (include "custom-exporter.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* https when the exporter serves TLS (known from web.config or web.tlsSecret), else http. */}}
{{- define "custom-exporter.webScheme" -}}
{{- if or .Values.web.tlsSecret (hasKey .Values.web.config "tls_server_config") -}}https{{- else -}}http{{- end -}}
{{- end -}}

{{/* "true" when every client must present a certificate: kubelet probes and the helm test cannot. */}}
{{- define "custom-exporter.clientCertRequired" -}}
{{- $tls := .Values.web.config.tls_server_config | default dict -}}
{{- if has ($tls.client_auth_type | default "NoClientCert") (list "RequireAnyClientCert" "RequireAndVerifyClientCert") -}}true{{- end -}}
{{- end -}}

{{/* A probe of `path`: HTTP(S) GET, or a TCP check when the endpoint needs a client certificate or credentials. */}}
{{- define "custom-exporter.probe" -}}
{{- if or (include "custom-exporter.clientCertRequired" .root) .root.Values.web.protectHealthEndpoints -}}
tcpSocket:
  port: web
{{- else -}}
httpGet:
  path: {{ .path }}
  port: web
  {{- if eq (include "custom-exporter.webScheme" .root) "https" }}
  scheme: HTTPS
  {{- end }}
{{- end -}}
{{- end -}}

{{/* The OTEL_* environment that turns on the OTLP push (values.otlp). */}}
{{- define "custom-exporter.otlpEnv" -}}
{{- with .Values.otlp }}
{{- if gt (int .timeoutSeconds) (int .intervalSeconds) }}
{{- fail "otlp.timeoutSeconds must not be greater than otlp.intervalSeconds" }}
{{- end }}
- name: OTEL_METRICS_EXPORTER
  value: prometheus,otlp
{{- with .endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .protocol | quote }}
- name: OTEL_METRIC_EXPORT_INTERVAL
  value: {{ mul .intervalSeconds 1000 | quote }}
- name: OTEL_METRIC_EXPORT_TIMEOUT
  value: {{ mul .timeoutSeconds 1000 | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .serviceName | default (include "custom-exporter.fullname" $) | quote }}
{{- with .resourceAttributes }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ include "custom-exporter.keyValueList" . | quote }}
{{- end }}
{{- if .headersSecret.name }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  valueFrom:
    secretKeyRef:
      name: {{ .headersSecret.name }}
      key: {{ .headersSecret.key }}
{{- end }}
{{- end }}
{{- end }}

{{/* A map as `k1=v1,k2=v2`, sorted by key. */}}
{{- define "custom-exporter.keyValueList" -}}
{{- $pairs := list }}
{{- range $key, $value := . }}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}

{{/*
"true" when the cluster serves the Prometheus Operator's API (its CRDs are installed). Without it a ServiceMonitor
or PrometheusRule would fail the whole install with "no matches for kind"; the chart leaves them out and NOTES
say why. helm template has no cluster to ask: pass --api-versions monitoring.coreos.com/v1.
*/}}
{{- define "custom-exporter.hasMonitoringApi" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" -}}true{{- end -}}
{{- end -}}

{{/*
Labels of a ServiceMonitor or PrometheusRule (the values map given): additionalLabels, the prometheus-community
name, plus the deprecated `labels`, which wins on a clash so an older values file selects the same Prometheus.
*/}}
{{- define "custom-exporter.monitoringLabels" -}}
{{- $labels := merge (deepCopy (.labels | default dict)) (.additionalLabels | default dict) -}}
{{- with $labels }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{/*
Seconds the exporter may need after SIGTERM (issue 11): up to 10 s draining in-flight scrapes (SHUTDOWN_GRACE_MS
in src/exporter.ts), then, with OTLP on, one final push bounded by otlp.timeoutSeconds.
*/}}
{{- define "custom-exporter.shutdownBudgetSeconds" -}}
{{- add 10 (ternary (int .Values.otlp.timeoutSeconds) 0 .Values.otlp.enabled) -}}
{{- end -}}

{{/*
terminationGracePeriodSeconds: the value, or derived as the shutdown budget plus 5 s for signal delivery and
process exit (at least Kubernetes' default 30). A value that leaves less fails the render: the kubelet would
SIGKILL the exporter before its final push.
*/}}
{{- define "custom-exporter.terminationGracePeriodSeconds" -}}
{{- $budget := int (include "custom-exporter.shutdownBudgetSeconds" .) -}}
{{- $needed := add $budget 5 -}}
{{- $value := .Values.terminationGracePeriodSeconds -}}
{{- if kindIs "invalid" $value -}}
{{- max 30 $needed -}}
{{- else if lt (int $value) $needed -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least %d: the exporter may need %d s after SIGTERM (10 s to drain in-flight scrapes%s) plus 5 s to exit; set it higher or to null to derive it" (int $value) $needed $budget (ternary (printf " + otlp.timeoutSeconds %d for the final push" (int .Values.otlp.timeoutSeconds)) "" .Values.otlp.enabled)) -}}
{{- else -}}
{{- $value -}}
{{- end -}}
{{- end -}}

{{/*
The scrape endpoints of the ServiceMonitor or PodMonitor (same fields in both): one plain endpoint, or one per
serviceMonitor.endpoints entry, each asking /metrics?source=… for its sources at its own interval (issue 13).
Each named endpoint sets the `endpoint` label to its name: both scrape the same port, so without it the targets
(and their `up`) of two endpoints would carry identical labels.
*/}}
{{- define "custom-exporter.monitorEndpoints" -}}
{{- $monitor := .Values.serviceMonitor -}}
{{- $endpoints := $monitor.endpoints | default (list dict) -}}
{{- range $endpoints }}
- port: web
  path: {{ $.Values.web.telemetryPath }}
  scheme: {{ $monitor.scheme }}
  interval: {{ .interval | default $monitor.interval }}
  {{- with .scrapeTimeout | default $monitor.scrapeTimeout }}
  scrapeTimeout: {{ . }}
  {{- end }}
  honorLabels: {{ $monitor.honorLabels }}
  {{- with .sources }}
  params:
    source:
      {{- toYaml . | nindent 6 }}
  {{- end }}
  {{- with $monitor.tlsConfig }}
  tlsConfig:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $monitor.basicAuth }}
  basicAuth:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- $relabelings := $monitor.relabelings }}
  {{- with .name }}
  {{- $relabelings = prepend $relabelings (dict "targetLabel" "endpoint" "replacement" .) }}
  {{- end }}
  {{- with $relabelings }}
  relabelings:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with concat $monitor.metricRelabelings (.metricRelabelings | default list) }}
  metricRelabelings:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}
