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
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
