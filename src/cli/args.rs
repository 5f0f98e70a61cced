//! The command line, as clap parses it. Kept apart from what the commands do so the contract
//! (flags, values, defaults) reads in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::api::Severity;

#[derive(Debug, Parser)]
#[command(
    name = "prodready",
    version,
    about = "Production readiness for Kubernetes workloads: a CI audit, an operator and an admission webhook",
    propagate_version = true
)]
pub struct Cli {
    /// Log verbosity on stderr; without it, RUST_LOG applies (default: warn; info for the
    /// controller).
    #[arg(long, global = true, value_enum, value_name = "LEVEL")]
    pub log_level: Option<LogLevel>,

    /// Log lines as text, or as one JSON object per line (for log collectors).
    #[arg(long, global = true, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge the workloads in manifests (files, directories, `-` for stdin) or, with
    /// `--cluster`, in a live cluster.
    Audit(AuditArgs),
    /// List the check catalogue.
    Checks(ChecksArgs),
    /// Print the CustomResourceDefinitions, generated from the Rust types.
    Crds(CrdsArgs),
    /// Run the operator: keep a ReadinessReport current for every workload in the cluster.
    Controller(ControllerArgs),
    /// Serve the validating admission webhook (HTTPS), with watches of its own.
    Webhook(WebhookArgs),
    /// Run the controller and the admission webhook in one process, sharing one set of watches.
    Run(RunArgs),
    /// Print the version.
    Version,
}

/// How to reach the cluster.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// The kubeconfig file (default: KUBECONFIG, ~/.kube/config, or the in-cluster account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

#[derive(Debug, Args)]
pub struct ControllerArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Watch and report on one namespace only (default: every namespace).
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Judge every workload again this often, for time-based checks (`90s`, `30m`, `1h`).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub resync: std::time::Duration,

    /// Serve /metrics, /healthz and /readyz on this address.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080")]
    pub http_addr: std::net::SocketAddr,

    /// Add one `prodready_finding_info` series per failing or warning finding to /metrics.
    #[arg(long)]
    pub finding_metrics: bool,

    /// Keep an OpenReports `Report` (openreports.io/v1alpha1) beside each ReadinessReport, for
    /// Policy Reporter and other policy-report tools; written once the CRD is installed.
    #[arg(long)]
    pub openreports: bool,

    /// How often a missing optional CRD (OpenReports) is looked for again.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, hide = true)]
    pub crd_recheck: std::time::Duration,

    /// Elect a leader on a Lease: only the leader writes; run 2+ replicas for availability.
    #[arg(long)]
    pub leader_elect: bool,

    /// The Lease's name.
    #[arg(long, value_name = "NAME", default_value = "prodready-controller")]
    pub lease_name: String,

    /// The Lease's namespace (default: POD_NAMESPACE, else `default`).
    #[arg(long, value_name = "NAMESPACE", env = "POD_NAMESPACE")]
    pub lease_namespace: Option<String>,
}

#[derive(Debug, Args)]
pub struct WebhookArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Serve /metrics, /healthz and /readyz on this address.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080")]
    pub http_addr: std::net::SocketAddr,

    #[command(flatten)]
    pub serving: WebhookServingArgs,

    /// Judge against the objects in these manifests instead of watching a cluster (needs
    /// --tls-cert-file): for benchmarks and for trying policies out.
    #[arg(long, value_name = "PATH", hide = true)]
    pub world_from: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub controller: ControllerArgs,

    #[command(flatten)]
    pub serving: WebhookServingArgs,
}

/// How the webhook serves and where its certificate comes from.
#[derive(Debug, Clone, Args)]
pub struct WebhookServingArgs {
    /// Serve the webhook (HTTPS, path /validate) on this address.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub webhook_addr: std::net::SocketAddr,

    /// A mounted serving certificate (PEM), e.g. from cert-manager; read again when it
    /// changes. Without it the webhook makes and renews its own.
    #[arg(long, value_name = "FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,

    /// The mounted certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,

    /// The ValidatingWebhookConfiguration whose CA bundle the webhook keeps current
    /// (self-managed certificates only).
    #[arg(long, value_name = "NAME", default_value = "prodready")]
    pub webhook_config_name: String,

    /// The Service in front of the webhook: its DNS names go into the certificate.
    #[arg(long, value_name = "NAME", default_value = "prodready-webhook")]
    pub webhook_service: String,

    /// prodready's namespace: where the certificate Secrets live, and never judged
    /// (default: POD_NAMESPACE).
    #[arg(long, value_name = "NAMESPACE", env = "POD_NAMESPACE")]
    pub webhook_namespace: Option<String>,

    /// The Secret holding the serving certificate.
    #[arg(long, value_name = "NAME", default_value = "prodready-webhook-tls")]
    pub cert_secret: String,

    /// The Secret holding the CA.
    #[arg(long, value_name = "NAME", default_value = "prodready-webhook-ca")]
    pub ca_secret: String,

    /// Another name (DNS or IP address) the serving certificate is valid for; repeatable.
    #[arg(long = "webhook-host", value_name = "HOST")]
    pub webhook_hosts: Vec<String>,

    /// How long a self-managed serving certificate lives; renewed at two thirds.
    #[arg(long, value_name = "DURATION", default_value = "365d", value_parser = parse_duration)]
    pub cert_validity: std::time::Duration,

    /// How long the self-managed CA lives; renewed at two thirds, the old one trusted until it
    /// expires.
    #[arg(long, value_name = "DURATION", default_value = "1825d", value_parser = parse_duration)]
    pub ca_validity: std::time::Duration,

    /// How often the self-managed certificates are checked.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_duration)]
    pub cert_check_interval: std::time::Duration,
}

/// `90s`, `30m`, `1h`, `30d`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, super::Error> {
    use super::Error;
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| Error::NotADuration(text.to_string()))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(Error::DurationUnit(text.to_string())),
    };
    let seconds = n
        .checked_mul(unit)
        .ok_or_else(|| Error::DurationTooLong(text.to_string()))?;
    if seconds == 0 {
        return Err(Error::ZeroDuration);
    }
    Ok(std::time::Duration::from_secs(seconds))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Manifests to read: YAML or JSON files, directories (read recursively), `-` for stdin.
    #[arg(
        required_unless_present = "cluster",
        conflicts_with = "cluster",
        value_name = "PATH"
    )]
    pub paths: Vec<PathBuf>,

    /// Judge a live cluster (through the kubeconfig) instead of manifests.
    #[arg(long)]
    pub cluster: bool,

    #[command(flatten)]
    pub cluster_args: ClusterArgs,

    /// With --cluster: the namespace to judge (default: the kubeconfig context's). With
    /// manifests: the namespace those that name none will be applied to (default: `default`).
    #[arg(
        long,
        short = 'n',
        value_name = "NAMESPACE",
        conflicts_with = "all_namespaces"
    )]
    pub namespace: Option<String>,

    /// The manifests are the whole of their namespaces: an object they do not hold does not
    /// exist, so a missing NetworkPolicy, PDB, Secret, ConfigMap or backup job fails instead of
    /// skipping or warning.
    #[arg(long, conflicts_with = "cluster")]
    pub complete: bool,

    /// With --cluster: judge every namespace.
    #[arg(long, short = 'A', requires = "cluster")]
    pub all_namespaces: bool,

    /// A file with one or more ReadinessPolicy documents (the highest priority that selects a
    /// workload's namespace applies; the built-in default otherwise).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// How to print the reports: for a person, for a program, for code scanning (SARIF), for
    /// a CI test view (JUnit) or for policy-report tools (OpenReports).
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,

    /// Exit 1 when a failing finding is at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Critical)]
    pub fail_on: FailOn,

    /// Show only failing and warning findings at or above this severity (summary counts are
    /// unchanged).
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = SeverityArg::Info)]
    pub min_severity: SeverityArg,

    /// Show skipped checks in the table (other formats always carry them).
    #[arg(long)]
    pub show_skipped: bool,

    /// Colour the table: `auto` when stdout is a terminal and NO_COLOR is unset.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The evaluation time (RFC 3339) instead of the clock: makes live checks reproducible.
    #[arg(long, value_name = "TIMESTAMP", hide = true)]
    pub now: Option<jiff::Timestamp>,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// `json` and `yaml` add each check's remediation.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct CrdsArgs {
    /// Write one file per CRD (`<plural>.<group>.yaml`) into this directory instead of printing
    /// them.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Table,
    Json,
    Yaml,
    Sarif,
    Junit,
    /// A List of OpenReports `Report`s (openreports.io/v1alpha1), for `kubectl apply`.
    Openreports,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Yaml,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// A severity as the command line spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Severity {
        match s {
            SeverityArg::Critical => Severity::Critical,
            SeverityArg::High => Severity::High,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Info => Severity::Info,
        }
    }
}

/// `--fail-on`: a severity, or `none` to never fail on findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
    None,
}

impl FailOn {
    /// The lowest severity that fails the run; `None` when findings never do.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::None => None,
        }
    }
}
