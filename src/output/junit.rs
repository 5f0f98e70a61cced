//! `--format junit`: for CI systems that show test results (GitLab, Jenkins, Azure Pipelines).
//! A workload is a test suite and every check judged on it a test case, so a pipeline's test
//! view lists what passed as well as what failed. Unreadable input is a suite of errors.

use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{Audit, workload_label};
use crate::api::{CheckResult, Finding, Report, Severity};
use crate::checks::catalogue;
use crate::input::InputError;

/// How one check ended on one workload.
enum Outcome<'a> {
    Passed,
    /// Passed, with warnings to show beside it.
    Warned(Vec<&'a Finding>),
    Failed(Vec<&'a Finding>),
    Skipped(&'a Finding),
}

struct Case<'a> {
    check_id: &'a str,
    outcome: Outcome<'a>,
}

struct Suite<'a> {
    report: &'a Report,
    cases: Vec<Case<'a>>,
    failures: usize,
    skipped: usize,
}

/// The cases of a report, in catalogue order (stable whatever the findings' order).
fn cases(report: &Report) -> Suite<'_> {
    let mut cases = Vec::new();
    for check in catalogue() {
        let findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.check_id == check.id)
            .collect();
        let failing: Vec<&Finding> = findings
            .iter()
            .copied()
            .filter(|f| f.result == CheckResult::Fail)
            .collect();
        let warning: Vec<&Finding> = findings
            .iter()
            .copied()
            .filter(|f| f.result == CheckResult::Warn)
            .collect();
        let outcome = if !failing.is_empty() {
            Outcome::Failed(failing)
        } else if !warning.is_empty() {
            Outcome::Warned(warning)
        } else if let Some(skip) = findings.first() {
            Outcome::Skipped(skip)
        } else if report.passed_checks.iter().any(|p| p == check.id) {
            Outcome::Passed
        } else {
            // Not applicable, switched off, or hidden by --min-severity.
            continue;
        };
        cases.push(Case {
            check_id: check.id,
            outcome,
        });
    }
    let failures = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
        .count();
    Suite {
        report,
        cases,
        failures,
        skipped,
    }
}

/// XML 1.0 cannot carry most control characters, even escaped: replace them rather than
/// write a file no parser accepts.
fn xml_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Element text: only `<` and `&` need escaping there (and `>` after `]]`), which keeps
/// messages quoting names readable in the raw file.
fn text(s: String) -> BytesText<'static> {
    BytesText::from_escaped(partial_escape(s).into_owned())
}

fn count(n: usize) -> String {
    n.to_string()
}

pub fn write(audit: &Audit, out: &mut dyn Write) -> io::Result<()> {
    let suites: Vec<Suite> = audit.reports.iter().map(cases).collect();
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum::<usize>() + audit.errors.len();
    let failures: usize = suites.iter().map(|s| s.failures).sum();
    let skipped: usize = suites.iter().map(|s| s.skipped).sum();

    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites")
        .with_attributes([
            ("name", "prodready"),
            ("tests", count(tests).as_str()),
            ("failures", count(failures).as_str()),
            ("errors", count(audit.errors.len()).as_str()),
            ("skipped", count(skipped).as_str()),
        ])
        .write_inner_content(|w| {
            for suite in &suites {
                write_suite(w, suite)?;
            }
            if !audit.errors.is_empty() {
                write_errors(w, &audit.errors)?;
            }
            Ok(())
        })?;
    writeln!(w.get_mut())
}

fn write_suite<W: Write>(w: &mut Writer<W>, suite: &Suite) -> io::Result<()> {
    let r = suite.report;
    let classname = xml_safe(&format!(
        "{}.{}.{}",
        r.workload.namespace, r.workload.kind, r.workload.name
    ));
    let name = xml_safe(&workload_label(r));
    w.create_element("testsuite")
        .with_attributes([
            ("name", name.as_str()),
            ("tests", count(suite.cases.len()).as_str()),
            ("failures", count(suite.failures).as_str()),
            ("errors", "0"),
            ("skipped", count(suite.skipped).as_str()),
        ])
        .write_inner_content(|w| {
            w.create_element("properties").write_inner_content(|w| {
                let mut props = vec![
                    ("score", r.score.to_string()),
                    ("verdict", r.verdict.as_str().to_string()),
                ];
                if let Some(s) = &r.source {
                    props.push(("file", xml_safe(&s.file)));
                    props.push(("line", s.line.to_string()));
                }
                for (k, v) in &props {
                    w.create_element("property")
                        .with_attributes([("name", *k), ("value", v.as_str())])
                        .write_empty()?;
                }
                Ok(())
            })?;
            for case in &suite.cases {
                write_case(w, case, &classname)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn write_case<W: Write>(w: &mut Writer<W>, case: &Case, classname: &str) -> io::Result<()> {
    let element = w
        .create_element("testcase")
        .with_attributes([("name", case.check_id), ("classname", classname)]);
    match &case.outcome {
        Outcome::Passed => {
            element.write_empty()?;
        }
        Outcome::Skipped(f) => {
            element.write_inner_content(|w| {
                w.create_element("skipped")
                    .with_attribute(("message", xml_safe(&f.message).as_str()))
                    .write_empty()?;
                Ok(())
            })?;
        }
        Outcome::Warned(findings) => {
            element.write_inner_content(|w| {
                w.create_element("system-out")
                    .write_text_content(text(details("warning", findings)))?;
                Ok(())
            })?;
        }
        Outcome::Failed(findings) => {
            let worst = findings
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Info);
            let mut message = findings[0].message.to_string();
            if findings.len() > 1 {
                message.push_str(&format!(" (and {} more)", findings.len() - 1));
            }
            element.write_inner_content(|w| {
                w.create_element("failure")
                    .with_attributes([
                        ("message", xml_safe(&message).as_str()),
                        ("type", worst.as_str()),
                    ])
                    .write_text_content(text(details("failure", findings)))?;
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Every finding of a case with its remediation: what a person reads in the CI's test view.
fn details(kind: &str, findings: &[&Finding]) -> String {
    let blocks: Vec<String> = findings
        .iter()
        .map(|f| {
            let mut block = match kind {
                "warning" => format!("warning ({}): {}", f.severity, f.message),
                _ => format!("{}: {}", f.severity, f.message),
            };
            if !f.remediation.is_empty() {
                block.push_str("\nRemediation: ");
                block.push_str(&f.remediation);
            }
            block
        })
        .collect();
    xml_safe(&blocks.join("\n\n"))
}

fn write_errors<W: Write>(w: &mut Writer<W>, errors: &[InputError]) -> io::Result<()> {
    w.create_element("testsuite")
        .with_attributes([
            ("name", "input"),
            ("tests", count(errors.len()).as_str()),
            ("failures", "0"),
            ("errors", count(errors.len()).as_str()),
            ("skipped", "0"),
        ])
        .write_inner_content(|w| {
            for e in errors {
                let mut name = e.file.clone();
                if let Some(d) = e.document {
                    name.push_str(&format!(": document {d}"));
                }
                if let Some(l) = e.line {
                    name.push_str(&format!(" (line {l})"));
                }
                w.create_element("testcase")
                    .with_attributes([("name", xml_safe(&name).as_str()), ("classname", "input")])
                    .write_inner_content(|w| {
                        w.create_element("error")
                            .with_attributes([
                                ("message", xml_safe(&e.reason.to_string()).as_str()),
                                ("type", "input"),
                            ])
                            .write_text_content(text(xml_safe(&e.to_string())))?;
                        Ok(())
                    })?;
            }
            Ok(())
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::xml_safe;

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(xml_safe("a\u{1}b\tc\n"), "a\u{FFFD}b\tc\n");
    }
}
