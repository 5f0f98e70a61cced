//! `--format sarif`: SARIF 2.1.0, the format code-scanning services (GitHub among them) read to
//! annotate a pull request. One run; the rules are the whole catalogue, so a rule's index is
//! its catalogue position; one result per failing or warning finding, located at the document
//! that defines the workload.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Component, Path};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Audit, RenderOptions, workload_label};
use crate::api::{CheckResult, Finding, Report, Severity};
use crate::checks::{self, Check, catalogue};
use crate::input::InputError;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The name of the fingerprint this tool computes; bump the version if its inputs change, so
/// consumers do not match old alerts against new ones.
const FINGERPRINT: &str = "prodreadyFinding/v1";
/// Relative URIs are relative to the directory the audit ran in, which for a CI job is the
/// checkout: the base code-scanning services expect.
const SRCROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation; 1],
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Text,
    help: Text,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

fn text(s: impl Into<String>) -> Text {
    Text { text: s.into() }
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    category: &'static str,
    severity: &'static str,
    needs: &'static str,
    tags: Vec<&'static str>,
    /// GitHub ranks security alerts by this CVSS-like score (a string by its convention).
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    severity: Severity,
    result: CheckResult,
    category: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a str>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

/// Severity to SARIF level: what annotates a pull request as an error, a warning or a note.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// `probe-readiness-missing` → `ProbeReadinessMissing`: SARIF wants a rule name that reads as
/// an identifier.
fn rule_name(id: &str) -> String {
    id.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn rule(check: &Check) -> Rule {
    let security = check.category == crate::api::Category::Security;
    let mut tags = vec!["kubernetes", "production-readiness"];
    if security {
        tags.push("security");
    }
    Rule {
        id: check.id,
        name: rule_name(check.id),
        short_description: text(check.title),
        help: text(check.remediation),
        default_configuration: Configuration {
            level: level(check.severity),
        },
        properties: RuleProperties {
            category: check.category.as_str(),
            severity: check.severity.as_str(),
            needs: check.needs.as_str(),
            tags,
            security_severity: security.then(|| security_severity(check.severity)),
        },
    }
}

pub fn write(audit: &Audit, options: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let base = options.base_dir.as_deref();
    let mut results = Vec::new();
    for report in &audit.reports {
        for f in &report.findings {
            if matches!(f.result, CheckResult::Fail | CheckResult::Warn) {
                results.push(result(report, f, base));
            }
        }
    }
    let mut notifications: Vec<Notification> = audit
        .errors
        .iter()
        .map(|e| error_notification(e, base))
        .collect();
    notifications.extend(audit.warnings.iter().map(|w| Notification {
        level: "warning",
        message: text(w.as_str()),
        locations: Vec::new(),
    }));
    let version = env!("CARGO_PKG_VERSION");
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "prodready",
                    version,
                    semantic_version: version,
                    rules: catalogue().iter().map(|c| rule(c)).collect(),
                },
            },
            invocations: [Invocation {
                execution_successful: audit.errors.is_empty(),
                tool_execution_notifications: notifications,
            }],
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn result<'a>(report: &'a Report, f: &'a Finding, base: Option<&Path>) -> SarifResult<'a> {
    let w = &report.workload;
    let rule_index = checks::index_of(&f.check_id).unwrap_or(usize::MAX);
    let severity_level = level(f.severity);
    // A warning is a problem still inside its grace period: never louder than a warning.
    let level = if f.result == CheckResult::Warn && severity_level == "error" {
        "warning"
    } else {
        severity_level
    };
    let qualified = format!("{}/{}/{}", w.namespace, w.kind, w.name);
    let fingerprint = fingerprint(&[
        &f.check_id,
        &qualified,
        f.container.as_deref().unwrap_or(""),
        f.object.as_deref().unwrap_or(""),
        &f.message,
    ]);
    SarifResult {
        rule_id: &f.check_id,
        rule_index,
        level,
        message: text(format!("{}: {}", workload_label(report), f.message)),
        locations: vec![Location {
            physical_location: report.source.as_ref().map(|s| PhysicalLocation {
                artifact_location: artifact(&s.file, base),
                region: Some(Region { start_line: s.line }),
            }),
            logical_locations: vec![LogicalLocation {
                name: w.name.clone(),
                fully_qualified_name: qualified,
                kind: "resource",
            }],
        }],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT, fingerprint)]),
        properties: ResultProperties {
            severity: f.severity,
            result: f.result,
            category: f.category.as_str(),
            container: f.container.as_deref(),
            object: f.object.as_deref(),
        },
    }
}

fn error_notification(e: &InputError, base: Option<&Path>) -> Notification {
    let message = match e.document {
        Some(d) => format!("document {d}: {}", e.reason),
        None => e.reason.to_string(),
    };
    Notification {
        level: "error",
        message: text(message),
        locations: vec![Location {
            physical_location: Some(PhysicalLocation {
                artifact_location: artifact(&e.file, base),
                region: e.line.map(|l| Region { start_line: l }),
            }),
            logical_locations: Vec::new(),
        }],
    }
}

/// Stable across runs and machines: it hashes what identifies a finding, not where the file
/// happens to be.
fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn artifact(file: &str, base: Option<&Path>) -> ArtifactLocation {
    if file == "stdin" {
        return ArtifactLocation {
            uri: "stdin".to_string(),
            uri_base_id: None,
        };
    }
    let path = Path::new(file);
    let relative = if path.is_absolute() {
        base.and_then(|b| path.strip_prefix(b).ok())
    } else {
        Some(path)
    };
    match relative {
        Some(rel) => ArtifactLocation {
            uri: encode_path(rel),
            uri_base_id: Some(SRCROOT),
        },
        None => ArtifactLocation {
            uri: format!("file://{}", encode_path(path)),
            uri_base_id: None,
        },
    }
}

/// A path as a URI path: forward slashes, `.` components dropped, and every byte outside the
/// unreserved set percent-encoded.
fn encode_path(path: &Path) -> String {
    let mut segments: Vec<String> = Vec::new();
    let mut absolute = false;
    for c in path.components() {
        match c {
            Component::RootDir => absolute = true,
            Component::CurDir => {}
            Component::ParentDir => segments.push("..".to_string()),
            Component::Normal(s) => segments.push(encode_segment(&s.to_string_lossy())),
            Component::Prefix(p) => segments.push(encode_segment(&p.as_os_str().to_string_lossy())),
        }
    }
    let joined = segments.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_forward_slashed_and_encoded() {
        let base = Path::new("/srv/checkout");
        assert_eq!(
            artifact("./deploy/app one.yaml", Some(base)).uri,
            "deploy/app%20one.yaml"
        );
        let a = artifact("/srv/checkout/k8s/a.yaml", Some(base));
        assert_eq!(
            (a.uri.as_str(), a.uri_base_id),
            ("k8s/a.yaml", Some(SRCROOT))
        );
        let b = artifact("/elsewhere/b#1.yaml", Some(base));
        assert_eq!(
            (b.uri.as_str(), b.uri_base_id),
            ("file:///elsewhere/b%231.yaml", None)
        );
        assert_eq!(artifact("stdin", Some(base)).uri, "stdin");
    }

    #[test]
    fn rule_names_read_as_identifiers() {
        assert_eq!(
            rule_name("probe-readiness-missing"),
            "ProbeReadinessMissing"
        );
    }
}
