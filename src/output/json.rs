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

/// What follows the reports in the document.
#[derive(Serialize)]
struct Tail<'a> {
    summary: Summary,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ErrorEntry<'a>>,
}

/// Reports below this count are rendered on the calling thread.
const PARALLEL_FROM: usize = 256;

/// The same text as `serde_json::to_writer_pretty` of the whole document, but with the reports
/// (nearly all of it) rendered on every core: a 10,000-workload audit writes over 100 MiB.
pub fn write_json(audit: &Audit, out: &mut dyn Write) -> io::Result<()> {
    let doc = document(audit);
    out.write_all(b"{\n  \"reports\": ")?;
    if doc.reports.is_empty() {
        out.write_all(b"[]")?;
    } else {
        out.write_all(b"[\n")?;
        let rendered = render_all(doc.reports)?;
        for (i, report) in rendered.iter().enumerate() {
            if i > 0 {
                out.write_all(b",\n")?;
            }
            out.write_all(report)?;
        }
        out.write_all(b"\n  ]")?;
    }
    let tail = serde_json::to_vec_pretty(&Tail {
        summary: doc.summary,
        errors: doc.errors,
    })?;
    // `{\n  "summary": ...}`: the rest of the document after its opening brace.
    out.write_all(b",\n")?;
    out.write_all(&tail[2..])?;
    writeln!(out)
}

fn render_all(reports: &[Report]) -> io::Result<Vec<Vec<u8>>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || reports.len() < PARALLEL_FROM {
        return reports.iter().map(render).collect();
    }
    let chunk = reports.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = reports
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(render).collect::<io::Result<Vec<_>>>())
            })
            .collect();
        let mut all = Vec::with_capacity(reports.len());
        for w in workers {
            match w.join() {
                Ok(part) => all.extend(part?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(all)
    })
}

/// One report pretty-printed at its depth in the document (inside `reports`, four spaces).
/// Strings escape their newlines, so every raw newline is structure and takes the indent.
fn render(report: &Report) -> io::Result<Vec<u8>> {
    let text = serde_json::to_vec_pretty(report)?;
    let mut out = Vec::with_capacity(text.len() + text.len() / 8);
    out.extend_from_slice(b"    ");
    for &b in &text {
        out.push(b);
        if b == b'\n' {
            out.extend_from_slice(b"    ");
        }
    }
    Ok(out)
}

pub fn write_yaml(audit: &Audit, out: &mut dyn Write) -> io::Result<()> {
    serde_yaml_ng::to_writer(&mut *out, &document(audit)).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::judge;

    /// The text serde_json writes for the whole document at once: what `write_json` must match.
    fn whole(audit: &Audit) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(&document(audit)).unwrap();
        out.push(b'\n');
        out
    }

    fn written(audit: &Audit) -> Vec<u8> {
        let mut out = Vec::new();
        write_json(audit, &mut out).unwrap();
        out
    }

    #[test]
    fn reports_rendered_on_every_core_read_as_one_document() {
        let report = judge(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n\
             spec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: \
             {app: api}}\n    spec:\n      containers:\n      - name: app\n        image: \
             \"registry.example.com/api:1.0\"\n        env: [{name: NOTE, value: \"two\\nlines\"}]\n",
        );
        let mut audit = Audit {
            reports: Vec::new(),
            errors: vec![InputError {
                file: "bad.yaml".into(),
                document: Some(2),
                line: Some(7),
                reason: "kind is missing".into(),
            }],
            warnings: Vec::new(),
        };
        assert_eq!(written(&audit), whole(&audit), "no reports");
        audit.reports = vec![report.clone()];
        assert_eq!(written(&audit), whole(&audit), "one report");
        audit.reports = vec![report; PARALLEL_FROM * 2 + 3];
        audit.errors.clear();
        assert_eq!(
            written(&audit),
            whole(&audit),
            "reports rendered in parallel"
        );
    }
}
