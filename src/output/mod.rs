//! Renders the outcome of an audit: one file per format. Every format reads the same `Audit`,
//! so they can only differ in presentation, never in what was found.

mod json;
mod junit;
pub mod openreports;
mod sarif;
mod table;

use std::cmp::Ordering;
use std::io::{self, Write};
use std::path::PathBuf;

use crate::api::{CheckResult, Report, Severity, Summary, Verdict};
use crate::input::InputError;

/// What an audit produced: the reports (sorted worst first), the documents that could not be
/// read, and warnings about objects that were read but are partly unusable.
#[derive(Debug, Default)]
pub struct Audit {
    pub reports: Vec<Report>,
    pub errors: Vec<InputError>,
    pub warnings: Vec<String>,
}

/// The output formats of `prodready audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Yaml,
    Sarif,
    Junit,
    /// A List of OpenReports `Report`s, for `kubectl apply`.
    OpenReports,
}

/// Presentation choices that do not change what was found.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// ANSI colour in the table.
    pub color: bool,
    /// Skipped checks in the table.
    pub show_skipped: bool,
    /// The directory file locations are made relative to (SARIF URIs); absolute paths outside
    /// it stay absolute.
    pub base_dir: Option<PathBuf>,
    /// The evaluation time, for formats that stamp results (OpenReports); the clock otherwise.
    pub now: Option<jiff::Timestamp>,
}

/// Writes the audit in a format.
pub fn render(
    format: Format,
    audit: &Audit,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::write(audit, options, out),
        Format::Json => json::write_json(audit, out),
        Format::Yaml => json::write_yaml(audit, out),
        Format::Sarif => sarif::write(audit, options, out),
        Format::Junit => junit::write(audit, out),
        Format::OpenReports => openreports::write(audit, options, out),
    }
}

/// Counts over all reports, for closing lines and summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Reports on workloads.
    pub workloads: usize,
    /// Reports on namespaces (the objects in them no workload owns).
    pub namespaces: usize,
    pub not_ready: usize,
    pub needs_attention: usize,
    pub ready: usize,
    /// Every report's summary added up: each finding counts whether or not it is shown.
    pub findings: Summary,
}

impl Totals {
    pub fn of(reports: &[Report]) -> Totals {
        let mut t = Totals::default();
        for r in reports {
            if r.workload.is_namespace() {
                t.namespaces += 1;
            } else {
                t.workloads += 1;
            }
            match r.verdict {
                Verdict::NotReady => t.not_ready += 1,
                Verdict::NeedsAttention => t.needs_attention += 1,
                Verdict::Ready => t.ready += 1,
            }
            t.findings += r.summary;
        }
        t
    }
}

fn verdict_rank(v: Verdict) -> u8 {
    match v {
        Verdict::NotReady => 0,
        Verdict::NeedsAttention => 1,
        Verdict::Ready => 2,
    }
}

/// Worst first: by verdict, then lowest score, then namespace, kind and name; the source
/// location last, so duplicates in the input still print in a stable order.
pub fn compare_reports(a: &Report, b: &Report) -> Ordering {
    verdict_rank(a.verdict)
        .cmp(&verdict_rank(b.verdict))
        .then(a.score.cmp(&b.score))
        .then_with(|| a.workload.namespace.cmp(&b.workload.namespace))
        .then_with(|| a.workload.kind.cmp(&b.workload.kind))
        .then_with(|| a.workload.name.cmp(&b.workload.name))
        .then_with(|| {
            let key = |r: &Report| {
                r.source
                    .as_ref()
                    .map(|s| (s.file.clone(), s.document, s.line))
            };
            key(a).cmp(&key(b))
        })
}

/// Drops failing and warning findings below `min` from what is shown. Summaries keep counting
/// them: `--min-severity` changes the view, not the verdict.
pub fn retain_shown(reports: &mut [Report], min: Severity) {
    if min == Severity::Info {
        return;
    }
    for r in reports {
        r.findings.retain(|f| match f.result {
            CheckResult::Fail | CheckResult::Warn => f.severity >= min,
            CheckResult::Pass | CheckResult::Skip => true,
        });
    }
}

/// `Kind namespace/name`, the way a person reads a workload's name (`Namespace name` for a
/// namespace's own report).
pub(crate) fn workload_label(r: &Report) -> String {
    if r.workload.is_namespace() {
        return format!("{} {}", r.workload.kind, r.workload.name);
    }
    format!(
        "{} {}/{}",
        r.workload.kind, r.workload.namespace, r.workload.name
    )
}
