//! The operator's Prometheus metrics. Per-workload series are built at scrape time from the
//! reports the cluster holds, so a deleted workload leaves no stale series behind; counters and
//! histograms of the operator's own work live in a registry for the process's lifetime.

use std::fmt::Write;

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

use super::report_cache::CachedReport;
use crate::api::{Severity, Verdict, WorkloadRef};
use crate::live::watch::WatchObserver;

/// The results of a report write, the `result` label of `prodready_report_writes_total`.
pub const WRITE_RESULTS: [&str; 4] = ["created", "updated", "deleted", "error"];

/// Counters of what the controller did.
pub struct Metrics {
    registry: Registry,
    pub evaluations: IntCounter,
    pub evaluation_duration: Histogram,
    pub report_writes: IntCounterVec,
    pub watch_errors: IntCounterVec,
    pub watch_restarts: IntCounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let evaluations = IntCounter::new(
            "prodready_evaluations_total",
            "Workload evaluations run by the engine",
        )
        .expect("valid metric");
        let evaluation_duration = Histogram::with_opts(
            HistogramOpts::new(
                "prodready_evaluation_duration_seconds",
                "Time to evaluate one workload",
            )
            .buckets(vec![
                0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5,
            ]),
        )
        .expect("valid metric");
        let report_writes = IntCounterVec::new(
            Opts::new(
                "prodready_report_writes_total",
                "ReadinessReport writes (created, updated, deleted, error)",
            ),
            &["result"],
        )
        .expect("valid metric");
        let watch_errors = IntCounterVec::new(
            Opts::new("prodready_watch_errors_total", "Watch errors by kind"),
            &["kind"],
        )
        .expect("valid metric");
        let watch_restarts = IntCounterVec::new(
            Opts::new(
                "prodready_watch_restarts_total",
                "Watch relists after a disconnect, by kind",
            ),
            &["kind"],
        )
        .expect("valid metric");
        for c in [
            Box::new(evaluations.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(evaluation_duration.clone()),
            Box::new(report_writes.clone()),
            Box::new(watch_errors.clone()),
            Box::new(watch_restarts.clone()),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        // Every result exists from the start, at zero: a rate over them works (and an alert on
        // errors can say "none") before the first write.
        for result in WRITE_RESULTS {
            report_writes.with_label_values(&[result]);
        }
        Metrics {
            registry,
            evaluations,
            evaluation_duration,
            report_writes,
            watch_errors,
            watch_restarts,
        }
    }

    /// The registry the process's own counters live in (the webhook adds its own).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The text exposition: the counters, plus per-workload gauges from `reports`.
    /// `finding_metrics` adds one info series per failing or warning finding. `leader` is
    /// whether this replica holds the Lease.
    ///
    /// The per-workload families are written straight as text: built as prometheus gauges they
    /// would be tens of thousands of series with owned label sets, allocated and freed on every
    /// scrape, and the allocator keeps what a scrape frees.
    pub fn render<'a>(
        &self,
        reports: impl IntoIterator<Item = &'a CachedReport> + Clone,
        finding_metrics: bool,
        leader: Option<bool>,
    ) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding into memory cannot fail");
        let mut out = String::from_utf8(out).expect("the text format is UTF-8");
        // About 1 KiB of series per workload: reserved at once rather than grown by doubling,
        // which would briefly hold up to twice the text.
        out.reserve(reports.clone().into_iter().count() * 1024);
        let statuses = || {
            reports
                .clone()
                .into_iter()
                .filter_map(|r| Some((&r.spec.workload_ref, r.status.as_ref()?)))
        };
        let mut score = Family::new(
            &mut out,
            "prodready_workload_score",
            "Readiness score, 0-100",
        );
        for (w, status) in statuses() {
            score.sample(&workload_labels(w), i64::from(status.score));
        }
        let mut ready = Family::new(
            &mut out,
            "prodready_workload_ready",
            "1 when the workload's verdict is Ready",
        );
        for (w, status) in statuses() {
            ready.sample(
                &workload_labels(w),
                i64::from(status.verdict == Verdict::Ready),
            );
        }
        let mut findings = Family::new(
            &mut out,
            "prodready_workload_findings",
            "Failing findings by severity",
        );
        for (w, status) in statuses() {
            for severity in Severity::ALL {
                findings.sample(
                    &[
                        ("kind", &w.kind),
                        ("namespace", &w.namespace),
                        ("severity", severity.as_str()),
                        ("workload", &w.name),
                    ],
                    i64::from(status.summary.failing(severity)),
                );
            }
        }
        // Live failures get a series of their own, always: they are what production alerts
        // page on, and there are few of them.
        let mut live = Family::new(
            &mut out,
            "prodready_workload_live_failures",
            "1 per failing check that is an incident now (crash loops, OOM kills, unavailable replicas...)",
        );
        for (w, status) in statuses() {
            for f in status.findings.iter().filter(|f| f.is_live_failure()) {
                live.sample(
                    &[
                        ("check", &f.check_id),
                        ("kind", &w.kind),
                        ("namespace", &w.namespace),
                        ("workload", &w.name),
                    ],
                    1,
                );
            }
        }
        let mut evaluated = Family::new(
            &mut out,
            "prodready_workload_last_evaluated_timestamp_seconds",
            "When the workload's report was last evaluated, in Unix seconds",
        );
        for (w, status) in statuses() {
            if let Some(t) = &status.last_evaluated {
                evaluated.sample(&workload_labels(w), t.0.as_second());
            }
        }
        if finding_metrics {
            let mut info = Family::new(
                &mut out,
                "prodready_finding_info",
                "One series per failing or warning finding",
            );
            for (w, status) in statuses() {
                for f in &status.findings {
                    info.sample(
                        &[
                            ("check", &f.check_id),
                            ("kind", &w.kind),
                            ("namespace", &w.namespace),
                            ("result", f.result.as_str()),
                            ("severity", f.severity.as_str()),
                            ("workload", &w.name),
                        ],
                        1,
                    );
                }
            }
        }
        if let Some(leading) = leader {
            Family::new(
                &mut out,
                "prodready_leader",
                "1 on the replica that holds the Lease and writes reports",
            )
            .sample(&[], i64::from(leading));
        }
        out
    }
}

fn workload_labels(w: &WorkloadRef) -> [(&'static str, &str); 3] {
    [
        ("kind", &w.kind),
        ("namespace", &w.namespace),
        ("workload", &w.name),
    ]
}

/// A gauge family written as text: its `# HELP` and `# TYPE` lines come before its first
/// sample, and a family without samples writes nothing.
struct Family<'o> {
    out: &'o mut String,
    name: &'static str,
    help: &'static str,
    started: bool,
}

impl<'o> Family<'o> {
    fn new(out: &'o mut String, name: &'static str, help: &'static str) -> Family<'o> {
        Family {
            out,
            name,
            help,
            started: false,
        }
    }

    /// One sample; labels are given sorted by name, as the prometheus crate writes them.
    fn sample(&mut self, labels: &[(&str, &str)], value: i64) {
        let out = &mut *self.out;
        if !self.started {
            self.started = true;
            let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
            let _ = writeln!(out, "# TYPE {} gauge", self.name);
        }
        out.push_str(self.name);
        if !labels.is_empty() {
            out.push('{');
            for (i, (label, text)) in labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(label);
                out.push_str("=\"");
                escape_label(out, text);
                out.push('"');
            }
            out.push('}');
        }
        let _ = writeln!(out, " {value}");
    }
}

/// Label values escape backslash, double quote and line feed (the text format's rules).
fn escape_label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

impl WatchObserver for Metrics {
    fn watching(&self, watch: &str) {
        self.watch_errors.with_label_values(&[watch]);
        self.watch_restarts.with_label_values(&[watch]);
    }

    fn error(&self, watch: &str) {
        self.watch_errors.with_label_values(&[watch]).inc();
    }

    fn restart(&self, watch: &str) {
        self.watch_restarts.with_label_values(&[watch]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{CheckResult, ReadinessReport, ReadinessReportSpec, Report, Summary};

    fn report(name: &str, score: u8, verdict: Verdict) -> CachedReport {
        let mut r = ReadinessReport::new(
            &format!("deployment-{name}"),
            ReadinessReportSpec {
                workload_ref: WorkloadRef {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    namespace: "shop".into(),
                    name: name.into(),
                },
            },
        );
        r.status = Some(Report {
            score,
            verdict,
            summary: Summary {
                high: 2,
                ..Summary::default()
            },
            findings: [
                "live-crashloop",
                "probe-readiness-missing",
                "helm-autoscaling-disabled",
            ]
            .into_iter()
            .map(|id| crate::api::Finding {
                check_id: id.into(),
                severity: Severity::High,
                result: CheckResult::Fail,
                category: crate::checks::by_id(id).unwrap().category,
                message: "".into(),
                remediation: "".into(),
                container: None,
                object: None,
            })
            .collect(),
            last_evaluated: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                jiff::Timestamp::from_second(1_780_000_000).unwrap(),
            )),
            ..Report::default()
        });
        CachedReport::of(r)
    }

    #[test]
    fn workload_series_come_from_the_reports_of_the_scrape() {
        let metrics = Metrics::new();
        metrics.evaluations.inc();
        metrics.watch_errors.with_label_values(&["Pod"]).inc();
        let reports = [
            report("api", 72, Verdict::NeedsAttention),
            report("web", 100, Verdict::Ready),
        ];
        let text = metrics.render(&reports, false, Some(true));
        assert!(text.contains(
            r#"prodready_workload_score{kind="Deployment",namespace="shop",workload="api"} 72"#
        ));
        assert!(text.contains(
            r#"prodready_workload_ready{kind="Deployment",namespace="shop",workload="web"} 1"#
        ));
        assert!(text.contains(r#"prodready_workload_findings{kind="Deployment",namespace="shop",severity="high",workload="api"} 2"#));
        assert!(text.contains("prodready_evaluations_total 1"));
        assert!(text.contains(r#"prodready_watch_errors_total{kind="Pod"} 1"#));
        assert!(text.contains("prodready_leader 1"));
        assert!(text.contains(r#"prodready_workload_live_failures{check="live-crashloop",kind="Deployment",namespace="shop",workload="api"} 1"#));
        assert!(
            !text.contains(r#"check="probe-readiness-missing""#),
            "not a live check"
        );
        assert!(
            !text.contains(r#"check="helm-autoscaling-disabled""#),
            "a live check, but not an incident"
        );
        assert!(text.contains(r#"prodready_workload_last_evaluated_timestamp_seconds{kind="Deployment",namespace="shop",workload="api"} 1780000000"#));
        // A workload gone from the reports is gone from the next scrape.
        let text = metrics.render(&reports[1..], false, Some(true));
        assert!(!text.contains(r#"workload="api""#));
    }

    #[test]
    fn counters_are_at_zero_before_anything_happens() {
        let metrics = Metrics::new();
        metrics.watching("Deployment");
        let text = metrics.render([], false, None);
        for series in [
            r#"prodready_report_writes_total{result="created"} 0"#,
            r#"prodready_report_writes_total{result="updated"} 0"#,
            r#"prodready_report_writes_total{result="deleted"} 0"#,
            r#"prodready_report_writes_total{result="error"} 0"#,
            r#"prodready_watch_errors_total{kind="Deployment"} 0"#,
            r#"prodready_watch_restarts_total{kind="Deployment"} 0"#,
        ] {
            assert!(text.lines().any(|l| l == series), "{series}:\n{text}");
        }
    }

    #[test]
    fn label_values_are_escaped_and_empty_families_left_out() {
        let metrics = Metrics::new();
        let mut odd = report("api", 50, Verdict::NotReady);
        odd.spec.workload_ref.name = "a\"b\\c\nd".into();
        let text = metrics.render([&odd], true, None);
        assert!(
            text.contains(r#"prodready_workload_score{kind="Deployment",namespace="shop",workload="a\"b\\c\nd"} 50"#),
            "{text}"
        );
        assert!(text.contains(r#"prodready_finding_info{check="live-crashloop",kind="Deployment",namespace="shop",result="fail",severity="high",workload="a\"b\\c\nd"} 1"#), "{text}");
        assert_eq!(
            text.matches("# TYPE prodready_workload_score gauge")
                .count(),
            1
        );
        // The webhook process alone has no reports: no empty workload families.
        let text = metrics.render([], false, None);
        assert!(!text.contains("prodready_workload"), "{text}");
        assert!(!text.contains("prodready_leader"));
    }
}
