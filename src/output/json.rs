//! `--format json` and `--format yaml`: one document, the shape DESIGN.md fixes. Reports are
//! the `Report` type serialised as is, the same object a ReadinessReport's status holds.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

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
    /// Namespace reports (objects no workload owns); left out when there are none.
    #[serde(skip_serializing_if = "is_zero")]
    namespaces: usize,
    critical: u32,
    high: u32,
    medium: u32,
    low: u32,
    info: u32,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct ErrorEntry<'a> {
    file: &'a str,
    /// 1-based; null for problems with the file as a whole.
    document: Option<usize>,
    /// 1-based line where the document starts; null with `document`.
    line: Option<usize>,
    reason: String,
}

fn document(audit: &Audit) -> Document<'_> {
    let t = Totals::of(&audit.reports);
    Document {
        reports: &audit.reports,
        summary: Summary {
            workloads: t.workloads,
            namespaces: t.namespaces,
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
        reason: e.reason.to_string(),
    }
}

/// What follows the reports in the document.
#[derive(Serialize)]
struct Tail<'a> {
    summary: Summary,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ErrorEntry<'a>>,
}

/// Reports rendered together by one task: a few hundred KiB of JSON, enough to make handing
/// them over negligible.
const BLOCK: usize = 16;
/// Blocks rendered at once while the ones before them are written: keeps the memory in flight
/// to a few MiB instead of the whole 100 MiB document.
const WINDOW: usize = 16;
/// Blocks below this count are rendered on the calling thread.
const PARALLEL_FROM: usize = 16;

/// The same text as `serde_json::to_writer_pretty` of the whole document, but with the reports
/// (nearly all of it) rendered on every core and written in order as they come: a
/// 10,000-workload audit writes over 100 MiB.
pub fn write_json(audit: &Audit, out: &mut dyn Write) -> io::Result<()> {
    let doc = document(audit);
    out.write_all(b"{\n  \"reports\": ")?;
    if doc.reports.is_empty() {
        out.write_all(b"[]")?;
    } else {
        out.write_all(b"[\n")?;
        write_reports(doc.reports, out)?;
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

fn write_reports(reports: &[Report], out: &mut dyn Write) -> io::Result<()> {
    let blocks: Vec<(bool, &[Report])> = reports
        .chunks(BLOCK)
        .enumerate()
        .map(|(i, block)| (i == 0, block))
        .collect();
    crate::parallel::in_order(
        &blocks,
        WINDOW,
        PARALLEL_FROM,
        |(first, block)| {
            let mut text = Vec::with_capacity(block.len() * 8192);
            render_block(block, *first, &mut text).map(|()| text)
        },
        |_, text| out.write_all(&text?),
    )
}

/// Reports as they sit inside the document's `reports` array, separated by commas; `first`
/// when the block opens the array.
fn render_block(reports: &[Report], first: bool, out: &mut Vec<u8>) -> io::Result<()> {
    for (i, report) in reports.iter().enumerate() {
        if i > 0 || !first {
            out.extend_from_slice(b",\n");
        }
        out.extend_from_slice(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut *out, Nested::new(2));
        report.serialize(&mut ser)?;
    }
    Ok(())
}

/// serde_json's pretty printer (two-space indent), starting `depth` levels deep: a report is
/// written in place inside the document rather than printed alone and re-indented.
struct Nested {
    depth: usize,
    has_value: bool,
}

impl Nested {
    fn new(depth: usize) -> Nested {
        Nested {
            depth,
            has_value: false,
        }
    }

    fn indent<W: ?Sized + Write>(&self, out: &mut W) -> io::Result<()> {
        for _ in 0..self.depth {
            out.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        out.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            out.write_all(b"\n")?;
            self.indent(out)?;
        }
        out.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(out)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        out.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            out.write_all(b"\n")?;
            self.indent(out)?;
        }
        out.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(out)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
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
                reason: crate::input::Reason::Missing("kind"),
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
