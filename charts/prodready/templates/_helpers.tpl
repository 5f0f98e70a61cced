{{- define "prodready.fullname" -}}
{{- if contains "prodready" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-prodready" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "prodready.serviceAccountName" -}}
{{- default (include "prodready.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "prodready.labels" -}}
app.kubernetes.io/name: prodready
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* The operator's pods: what the Services, the PDB, the NetworkPolicy and spreading select. */}}
{{- define "prodready.selectorLabels" -}}
app.kubernetes.io/name: prodready
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "prodready.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "prodready.webhookName" -}}
{{- include "prodready.fullname" . -}}
{{- end -}}

{{- define "prodready.webhookServiceName" -}}
{{- printf "%s-webhook" (include "prodready.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prodready.metricsServiceName" -}}
{{- printf "%s-metrics" (include "prodready.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The Secrets holding the webhook's serving certificate and (self-managed) its CA. */}}
{{- define "prodready.certSecretName" -}}
{{- printf "%s-webhook-tls" (include "prodready.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prodready.caSecretName" -}}
{{- printf "%s-webhook-ca" (include "prodready.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prodready.certManager" -}}
{{- if and .Values.webhook.enabled (eq .Values.webhook.certificate.mode "cert-manager") -}}true{{- end -}}
{{- end -}}

{{- define "prodready.selfManagedCerts" -}}
{{- if and .Values.webhook.enabled (eq .Values.webhook.certificate.mode "self-managed") -}}true{{- end -}}
{{- end -}}

{{/* The resync period in seconds, from 90s, 30m, 1h, 1d or plain seconds. */}}
{{- define "prodready.resyncSeconds" -}}
{{- $r := toString .Values.operator.resync -}}
{{- if hasSuffix "d" $r -}}{{ mul (trimSuffix "d" $r | atoi) 86400 }}
{{- else if hasSuffix "h" $r -}}{{ mul (trimSuffix "h" $r | atoi) 3600 }}
{{- else if hasSuffix "m" $r -}}{{ mul (trimSuffix "m" $r | atoi) 60 }}
{{- else if hasSuffix "s" $r -}}{{ trimSuffix "s" $r | atoi }}
{{- else -}}{{ atoi $r }}
{{- end -}}
{{- end -}}
