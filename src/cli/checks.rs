//! `prodready checks`: the catalogue, as a table or as data.

use std::io::{self, BufWriter, Write};

use serde::Serialize;

use super::{ListFormat, finish_stdout};
use crate::api::{Category, Needs, Severity};
use crate::checks::{Check, catalogue};

/// One catalogue entry as `checks --format json|yaml` prints it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    id: &'static str,
    category: Category,
    severity: Severity,
    needs: Needs,
    title: &'static str,
    remediation: &'static str,
}

impl From<&Check> for Entry {
    fn from(c: &Check) -> Entry {
        Entry {
            id: c.id,
            category: c.category,
            severity: c.severity,
            needs: c.needs,
            title: c.title,
            remediation: c.remediation,
        }
    }
}

pub fn run(args: &super::ChecksArgs) -> u8 {
    let entries: Vec<Entry> = catalogue().iter().map(|c| Entry::from(*c)).collect();
    let mut out = BufWriter::new(io::stdout().lock());
    let written = match args.format {
        ListFormat::Table => table(&entries, &mut out),
        ListFormat::Json => serde_json::to_writer_pretty(&mut out, &entries)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        ListFormat::Yaml => serde_yaml_ng::to_writer(&mut out, &entries).map_err(io::Error::other),
    };
    let written = written.and_then(|()| out.flush());
    drop(out);
    finish_stdout(written)
}

fn table(entries: &[Entry], out: &mut impl Write) -> io::Result<()> {
    let id_width = entries.iter().map(|e| e.id.len()).max().unwrap_or(2).max(2);
    let category_width = entries
        .iter()
        .map(|e| e.category.as_str().len())
        .max()
        .unwrap_or(8)
        .max(8);
    writeln!(
        out,
        "{:id_width$}  {:category_width$}  {:8}  {:7}  TITLE",
        "ID", "CATEGORY", "SEVERITY", "NEEDS"
    )?;
    for e in entries {
        writeln!(
            out,
            "{:id_width$}  {:category_width$}  {:8}  {:7}  {}",
            e.id,
            e.category.as_str(),
            e.severity.as_str(),
            e.needs.as_str(),
            e.title
        )?;
    }
    Ok(())
}
