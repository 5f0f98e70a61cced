//! `--format json` and `--format yaml`: one document, the shape DESIGN.md fixes. Reports are
//! the `Report` type serialised as is, the same object a ReadinessReport's status holds.

use std::io::{self, Write};

use serde::Serialize;

use super::{Audit, Totals};
use crate::api::Report;
use crate::input::InputError;

#[derive(Serialize)]
struct Document<'a> {
    reports: &'a [Report],
    summary: Summary,
    /// Present only when some input could not be read, so a clean run's shape stays minimal.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ErrorEntry<'a>>,
}

/// Failing findings by severity across every workload.
#[derive(Serialize)]
struct Summary {
    workloads: usize,
    critical: u32,
    high: u32,
    medium: u32,
    low: u32,
    info: u32,
}

#[derive(Serialize)]
struct ErrorEntry<'a> {
    file: &'a str,
    /// 1-based; null for problems with the file as a whole.
    document: Option<usize>,
    /// 1-based line where the document starts; null with `document`.
    line: Option<usize>,
    reason: &'a str,
}

fn document(audit: &Audit) -> Document<'_> {
    let t = Totals::of(&audit.reports);
    Document {
        reports: &audit.reports,
        summary: Summary {
            workloads: t.workloads,
            critical: t.findings.critical,
            high: t.findings.high,
            medium: t.findings.medium,
            low: t.findings.low,
            info: t.findings.info,
        },
        errors: audit.errors.iter().map(entry).collect(),
    }
}

fn entry(e: &InputError) -> ErrorEntry<'_> {
    ErrorEntry {
        file: &e.file,
        document: e.document,
        line: e.line,
        reason: &e.reason,
    }
}

pub fn write_json(audit: &Audit, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(audit))?;
    writeln!(out)
}

pub fn write_yaml(audit: &Audit, out: &mut dyn Write) -> io::Result<()> {
    serde_yaml_ng::to_writer(&mut *out, &document(audit)).map_err(io::Error::other)
}
