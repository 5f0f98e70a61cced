use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Severity;

/// Which checks run, at what severity, with which thresholds, in which namespaces, and what the
/// admission webhook does there. Cluster-scoped; the CLI's `--policy` reads the same document.
/// When several policies select a namespace, the highest `priority` wins (then the name).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "prodready.dev",
    version = "v1alpha1",
    kind = "ReadinessPolicy",
    doc = "Which readiness checks run where, at what severity, and what admission does.",
    shortname = "rdp",
    category = "prodready",
    printcolumn = r#"{"name":"Webhook","type":"string","jsonPath":".spec.webhook.mode"}"#,
    printcolumn = r#"{"name":"Deny","type":"string","jsonPath":".spec.webhook.denySeverity"}"#,
    printcolumn = r#"{"name":"Priority","type":"integer","jsonPath":".spec.priority"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessPolicySpec {
    /// Namespaces this policy applies to; absent selects every namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Higher wins when several policies select one namespace.
    #[serde(default)]
    pub priority: i32,
    /// Per-check settings; checks not listed run with their defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckPolicy>,
    /// Categories switched off as a whole (for example `Helm`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_categories: Vec<super::Category>,
    #[serde(default)]
    pub parameters: Parameters,
    #[serde(default)]
    pub exemptions: ExemptionPolicy,
    #[serde(default)]
    pub webhook: WebhookPolicy,
}

/// Settings of one check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckPolicy {
    /// The check ID, as `prodready checks` lists it.
    pub id: String,
    /// `false` switches the check off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Replaces the check's severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// `false` makes the check impossible to exempt by annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemptible: Option<bool>,
}

/// Whether `prodready.dev/exempt` annotations are honoured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExemptionPolicy {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Exemptions without a `prodready.dev/exempt-reason` are ignored.
    #[serde(default)]
    pub require_reason: bool,
}

impl Default for ExemptionPolicy {
    fn default() -> Self {
        ExemptionPolicy {
            enabled: true,
            require_reason: false,
        }
    }
}

/// What the admission webhook does in the namespaces this policy selects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum WebhookMode {
    /// Not judged at admission.
    Off,
    /// Allowed, with a summary warning and one per failing finding at or above `warnSeverity`.
    #[default]
    Warn,
    /// Denied when a failing finding is at or above `denySeverity`.
    Enforce,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookPolicy {
    #[serde(default)]
    pub mode: WebhookMode,
    #[serde(default = "critical")]
    pub deny_severity: Severity,
    /// Failing findings at or above this come back as warnings of their own, besides the
    /// summary line every judged object gets.
    #[serde(default = "high")]
    pub warn_severity: Severity,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        WebhookPolicy {
            mode: WebhookMode::Warn,
            deny_severity: Severity::Critical,
            warn_severity: Severity::High,
        }
    }
}

fn yes() -> bool {
    true
}

fn critical() -> Severity {
    Severity::Critical
}

fn high() -> Severity {
    Severity::High
}

macro_rules! parameters {
    ($( $(#[doc = $doc:literal])* $field:ident : $ty:ty = $default:expr; )*) => {
        /// Thresholds and name lists the checks use. Every field has a default; a policy sets
        /// only what it changes.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "camelCase", default)]
        pub struct Parameters {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl Default for Parameters {
            fn default() -> Self {
                Parameters { $( $field: $default, )* }
            }
        }
    };
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

parameters! {
    /// Fewest replicas a Deployment or StatefulSet should run.
    min_replicas: i32 = 2;
    /// How long a live failure (unavailable replicas, unready pods, pending release) may last
    /// before it fails rather than warns.
    grace_period_seconds: i64 = 300;
    /// How far back restarts and OOM kills count.
    restart_window_seconds: i64 = 3600;
    /// Shortest terminationGracePeriodSeconds for a container behind a Service.
    min_termination_grace_seconds: i64 = 5;
    /// Shortest time liveness gives a starting container before killing it (without a
    /// startupProbe).
    min_liveness_tolerance_seconds: i64 = 10;
    /// Image name fragments that identify a datastore.
    datastore_images: Vec<String> = strings(&[
        "postgres", "postgis", "timescaledb", "mysql", "mariadb", "percona", "mongo", "redis",
        "valkey", "keydb", "dragonfly", "elasticsearch", "opensearch", "kafka", "zookeeper",
        "rabbitmq", "etcd", "cassandra", "scylla", "clickhouse", "minio", "influxdb", "neo4j",
        "couchdb", "memgraph", "nats",
    ]);
    /// Image name fragments that identify an ingress controller or gateway proxy: its
    /// LoadBalancer or NodePort Service is what it is for. A container whose arguments name an
    /// ingress or gateway class counts too.
    ingress_controller_images: Vec<String> = strings(&[
        "ingress-nginx", "nginx-ingress", "ingress-controller", "traefik", "haproxy-ingress",
        "kubernetes-ingress", "kong", "contour", "envoy", "proxyv2", "emissary", "ambassador",
        "skipper", "gloo", "apisix", "pomerium",
    ]);
    /// Mount paths that hold data (a prefix match).
    data_paths: Vec<String> = strings(&[
        "/data", "/var/lib/", "/bitnami/", "/var/opt/", "/srv/", "/registry", "/db",
        "/var/data", "/opt/data", "/storage",
    ]);
    /// Fragments of environment variable and ConfigMap key names that hold credentials.
    secret_name_patterns: Vec<String> = strings(&[
        "PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "API_KEY", "APIKEY",
        "PRIVATE_KEY", "CREDENTIAL", "ACCESS_KEY", "AUTH_KEY", "CLIENT_SECRET",
    ]);
    /// Capabilities too dangerous to add.
    dangerous_capabilities: Vec<String> = strings(&[
        "ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "SYS_RAWIO", "SYS_BOOT",
        "SYS_TIME", "DAC_READ_SEARCH", "BPF", "PERFMON", "NET_RAW", "SETFCAP", "MAC_ADMIN",
    ]);
    /// Host suffixes that are inside the cluster (plain http:// to them is allowed).
    cluster_host_suffixes: Vec<String> = strings(&[
        ".svc", ".svc.cluster.local", ".cluster.local", ".local", "localhost", "127.0.0.1",
    ]);
    /// Commands that mark a CronJob as a backup.
    backup_commands: Vec<String> = strings(&[
        "pg_dump", "pg_dumpall", "pg_basebackup", "pgbackrest", "wal-g", "barman", "mysqldump",
        "mariadb-dump", "mariabackup", "xtrabackup", "mongodump", "redis-cli --rdb", "etcdctl snapshot",
        "velero backup", "restic backup", "kopia snapshot", "clickhouse-backup", "elasticsearch-snapshot",
    ]);
    /// Whether a Deployment with a Service counts as serving traffic (for availability-no-hpa).
    hpa_required_for_services: bool = true;
}
