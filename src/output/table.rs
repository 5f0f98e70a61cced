//! `--format table`: for a person at a terminal or reading a CI log. Grouped by workload, worst
//! first; each finding on one line with its remediation below, wrapped to stay readable in
//! 80-120 columns.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::{Audit, RenderOptions, Totals, workload_label};
use crate::api::{CheckResult, Finding, Report, Severity, Verdict};

/// Text wider than this wraps. A fixed width keeps CI logs and golden files stable; COLUMNS
/// narrows or widens it when a shell exports it.
const DEFAULT_WIDTH: usize = 100;
/// Continuation lines and remediations start here.
const INDENT: usize = 6;

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }
}

fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into()))
}

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => fg(AnsiColor::Magenta).bold(),
        Severity::High => fg(AnsiColor::Red).bold(),
        Severity::Medium => fg(AnsiColor::Yellow),
        Severity::Low => fg(AnsiColor::Cyan),
        Severity::Info => fg(AnsiColor::BrightBlack),
    }
}

fn verdict_style(v: Verdict) -> Style {
    match v {
        Verdict::NotReady => fg(AnsiColor::Red).bold(),
        Verdict::NeedsAttention => fg(AnsiColor::Yellow).bold(),
        Verdict::Ready => fg(AnsiColor::Green).bold(),
    }
}

fn dim() -> Style {
    Style::new().dimmed()
}

fn symbol(r: CheckResult) -> &'static str {
    match r {
        CheckResult::Fail => "✗",
        CheckResult::Warn => "!",
        CheckResult::Skip => "-",
        CheckResult::Pass => "✓",
    }
}

fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .map_or(DEFAULT_WIDTH, |c| c.clamp(60, 160))
}

pub fn write(audit: &Audit, options: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let p = Painter {
        color: options.color,
    };
    let width = width();
    // One check-ID column for the whole table, so findings line up from workload to workload.
    let id_width = audit
        .reports
        .iter()
        .flat_map(|r| shown(r, options))
        .map(|f| f.check_id.len())
        .max()
        .unwrap_or(0);
    for (i, report) in audit.reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        write_report(report, options, &p, width, id_width, out)?;
    }
    if !audit.reports.is_empty() {
        writeln!(out)?;
    }
    write_totals(audit, options, &p, out)
}

/// The findings the table lists for a report.
fn shown<'a>(r: &'a Report, options: &RenderOptions) -> impl Iterator<Item = &'a Finding> {
    let show_skipped = options.show_skipped;
    r.findings
        .iter()
        .filter(move |f| show_skipped || f.result != CheckResult::Skip)
}

fn write_report(
    r: &Report,
    options: &RenderOptions,
    p: &Painter,
    width: usize,
    id_width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let s = &r.summary;
    let mut counts: Vec<String> = Severity::ALL
        .iter()
        .filter(|sev| s.failing(**sev) > 0)
        .map(|sev| format!("{} {}", s.failing(*sev), sev))
        .collect();
    if counts.is_empty() {
        counts.push("nothing failing".to_string());
    }
    let mut others = Vec::new();
    if s.warnings > 0 {
        others.push(plural(s.warnings as usize, "warning", "warnings"));
    }
    others.push(format!("{} passed", s.passed));
    if s.skipped > 0 {
        others.push(format!("{} skipped", s.skipped));
    }
    writeln!(
        out,
        "{}  score {}/100  {}  {}; {}",
        p.paint(Style::new().bold(), &printable(&workload_label(r))),
        r.score,
        p.paint(verdict_style(r.verdict), r.verdict.as_str()),
        counts.join(", "),
        others.join(", ")
    )?;
    for f in shown(r, options) {
        write_finding(f, id_width, p, width, out)?;
    }
    Ok(())
}

fn write_finding(
    f: &Finding,
    id_width: usize,
    p: &Painter,
    width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let skipped = f.result == CheckResult::Skip;
    let (sym_style, sev_style) = match f.result {
        CheckResult::Fail => (severity_style(f.severity), severity_style(f.severity)),
        CheckResult::Warn => (fg(AnsiColor::Yellow), severity_style(f.severity)),
        _ => (dim(), dim()),
    };
    let target = f
        .container
        .as_deref()
        .or(f.object.as_deref())
        .map(printable);
    let target = target.as_deref();
    // The plain prefix decides where wrapping starts; colour codes take no columns.
    let plain_prefix = format!(
        "  {} {:8} {:id_width$}  {}",
        symbol(f.result),
        f.severity.as_str(),
        f.check_id,
        target.map(|t| format!("[{t}] ")).unwrap_or_default()
    );
    let prefix_cols = plain_prefix.chars().count();
    let painted_prefix = format!(
        "  {} {} {}  {}",
        p.paint(sym_style, symbol(f.result)),
        p.paint(sev_style, &format!("{:8}", f.severity.as_str())),
        p.paint(
            if skipped { dim() } else { Style::new() },
            &format!("{:id_width$}", f.check_id)
        ),
        target
            .map(|t| format!("[{}] ", p.paint(Style::new().bold(), t)))
            .unwrap_or_default()
    );
    let first = width.saturating_sub(prefix_cols).max(20);
    let lines = wrap(&printable(&f.message), first, width - INDENT);
    for (i, line) in lines.iter().enumerate() {
        let text = if skipped {
            p.paint(dim(), line)
        } else {
            line.to_string()
        };
        if i == 0 {
            writeln!(out, "{painted_prefix}{text}")?;
        } else {
            writeln!(out, "{:INDENT$}{text}", "")?;
        }
    }
    if !f.remediation.is_empty() && !skipped {
        let remediation = printable(&f.remediation);
        for (i, line) in wrap(&remediation, width - INDENT - 2, width - INDENT - 2)
            .iter()
            .enumerate()
        {
            let lead = if i == 0 { "→ " } else { "  " };
            writeln!(
                out,
                "{:INDENT$}{}",
                "",
                p.paint(dim(), &format!("{lead}{line}"))
            )?;
        }
    }
    Ok(())
}

fn write_totals(
    audit: &Audit,
    options: &RenderOptions,
    p: &Painter,
    out: &mut dyn Write,
) -> io::Result<()> {
    let t = Totals::of(&audit.reports);
    if t.workloads + t.namespaces == 0 {
        write!(out, "No workloads found")?;
    } else {
        let verdicts = [
            (t.not_ready, Verdict::NotReady),
            (t.needs_attention, Verdict::NeedsAttention),
            (t.ready, Verdict::Ready),
        ]
        .iter()
        .map(|(n, v)| format!("{n} {}", p.paint(verdict_style(*v), v.as_str())))
        .collect::<Vec<_>>()
        .join(", ");
        let failing = Severity::ALL
            .iter()
            .map(|s| {
                let text = format!("{} {s}", t.findings.failing(*s));
                if t.findings.failing(*s) > 0 {
                    p.paint(severity_style(*s), &text)
                } else {
                    text
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut judged = plural(t.workloads, "workload", "workloads");
        if t.namespaces > 0 {
            judged.push_str(" and ");
            judged.push_str(&plural(t.namespaces, "namespace", "namespaces"));
        }
        write!(out, "{judged}: {verdicts}; failing findings: {failing}")?;
        if t.findings.warnings > 0 {
            write!(
                out,
                "; {}",
                plural(t.findings.warnings as usize, "warning", "warnings")
            )?;
        }
        if t.findings.skipped > 0 && !options.show_skipped {
            write!(
                out,
                "; {} skipped (--show-skipped lists them)",
                t.findings.skipped
            )?;
        }
    }
    if !audit.errors.is_empty() {
        write!(
            out,
            "; {} (see stderr)",
            plural(audit.errors.len(), "input error", "input errors")
        )?;
    }
    writeln!(out)
}

/// Manifests are untrusted text: a control character in a name or a probe command must not
/// drive the reader's terminal. Whitespace is left to the word wrap, which folds it.
fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && !c.is_whitespace();
    if s.chars().any(unsafe_char) {
        s.chars()
            .map(|c| if unsafe_char(c) { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Greedy word wrap: the first line may be narrower than the rest (it shares its row with the
/// finding's prefix). A word longer than a line is kept whole rather than split.
fn wrap(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut cols = 0usize;
    for word in text.split_whitespace() {
        let limit = if lines.is_empty() { first } else { rest };
        let len = word.chars().count();
        if cols > 0 && cols + 1 + len > limit {
            lines.push(std::mem::take(&mut line));
            cols = 0;
        }
        if cols > 0 {
            line.push(' ');
            cols += 1;
        }
        line.push_str(word);
        cols += len;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_respects_both_widths_and_keeps_long_words() {
        assert_eq!(
            wrap("aa bb cc dd", 5, 8),
            vec!["aa bb".to_string(), "cc dd".to_string()]
        );
        assert_eq!(wrap("", 5, 5), vec![String::new()]);
        assert_eq!(
            wrap("short averyveryverylongword x", 6, 6),
            vec!["short", "averyveryverylongword", "x"]
        );
    }
}
