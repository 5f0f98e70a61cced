//! The operator's Prometheus metrics. Per-workload series are built at scrape time from the
//! reports the cluster holds, so a deleted workload leaves no stale series behind; counters and
//! histograms of the operator's own work live in a registry for the process's lifetime.

use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
};

use crate::api::{CheckResult, Needs, ReadinessReport, Severity, Verdict};
use crate::live::watch::WatchObserver;

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
    pub fn render<'a>(
        &self,
        reports: impl IntoIterator<Item = &'a ReadinessReport>,
        finding_metrics: bool,
        leader: Option<bool>,
    ) -> String {
        let scrape = Registry::new();
        let labels = &["namespace", "kind", "workload"];
        let score = GaugeVec::new(
            Opts::new("prodready_workload_score", "Readiness score, 0-100"),
            labels,
        )
        .expect("valid metric");
        let ready = GaugeVec::new(
            Opts::new(
                "prodready_workload_ready",
                "1 when the workload's verdict is Ready",
            ),
            labels,
        )
        .expect("valid metric");
        let findings = GaugeVec::new(
            Opts::new(
                "prodready_workload_findings",
                "Failing findings by severity",
            ),
            &["namespace", "kind", "workload", "severity"],
        )
        .expect("valid metric");
        let finding_info = GaugeVec::new(
            Opts::new(
                "prodready_finding_info",
                "One series per failing or warning finding",
            ),
            &[
                "namespace",
                "kind",
                "workload",
                "check",
                "severity",
                "result",
            ],
        )
        .expect("valid metric");
        // Live failures get a series of their own, always: they are what production alerts
        // page on, and there are few of them.
        let live_failures = GaugeVec::new(
            Opts::new(
                "prodready_workload_live_failures",
                "1 per failing live check (crash loops, OOM kills, unavailable replicas...)",
            ),
            &["namespace", "kind", "workload", "check"],
        )
        .expect("valid metric");
        let last_evaluated = GaugeVec::new(
            Opts::new(
                "prodready_workload_last_evaluated_timestamp_seconds",
                "When the workload's report was last evaluated, in Unix seconds",
            ),
            labels,
        )
        .expect("valid metric");
        for report in reports {
            let Some(status) = &report.status else {
                continue;
            };
            let w = &report.spec.workload_ref;
            let l = [w.namespace.as_str(), w.kind.as_str(), w.name.as_str()];
            score.with_label_values(&l).set(f64::from(status.score));
            if let Some(t) = &status.last_evaluated {
                last_evaluated
                    .with_label_values(&l)
                    .set(t.0.as_second() as f64);
            }
            for f in status.findings.iter().filter(|f| {
                f.result == CheckResult::Fail
                    && crate::checks::by_id(&f.check_id).is_some_and(|c| c.needs == Needs::Live)
            }) {
                live_failures
                    .with_label_values(&[l[0], l[1], l[2], f.check_id.as_ref()])
                    .set(1.0);
            }
            ready
                .with_label_values(&l)
                .set(if status.verdict == Verdict::Ready {
                    1.0
                } else {
                    0.0
                });
            for severity in Severity::ALL {
                findings
                    .with_label_values(&[l[0], l[1], l[2], severity.as_str()])
                    .set(f64::from(status.summary.failing(severity)));
            }
            if finding_metrics {
                for f in status
                    .findings
                    .iter()
                    .filter(|f| matches!(f.result, CheckResult::Fail | CheckResult::Warn))
                {
                    finding_info
                        .with_label_values(&[
                            l[0],
                            l[1],
                            l[2],
                            f.check_id.as_ref(),
                            f.severity.as_str(),
                            f.result.as_str(),
                        ])
                        .set(1.0);
                }
            }
        }
        let mut collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(score),
            Box::new(ready),
            Box::new(findings),
            Box::new(live_failures),
            Box::new(last_evaluated),
        ];
        if let Some(leading) = leader {
            let gauge = prometheus::Gauge::new(
                "prodready_leader",
                "1 on the replica that holds the Lease and writes reports",
            )
            .expect("valid metric");
            gauge.set(if leading { 1.0 } else { 0.0 });
            collectors.push(Box::new(gauge));
        }
        if finding_metrics {
            collectors.push(Box::new(finding_info));
        }
        for c in collectors {
            scrape.register(c).expect("metric names are unique");
        }
        let mut families = self.registry.gather();
        families.extend(scrape.gather());
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&families, &mut out)
            .expect("text encoding into memory cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl WatchObserver for Metrics {
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
    use crate::api::{ReadinessReportSpec, Report, Summary, WorkloadRef};

    fn report(name: &str, score: u8, verdict: Verdict) -> ReadinessReport {
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
            findings: ["live-crashloop", "probe-readiness-missing"]
                .into_iter()
                .map(|id| crate::api::Finding {
                    check_id: id.into(),
                    severity: Severity::High,
                    result: CheckResult::Fail,
                    category: crate::checks::by_id(id).unwrap().category,
                    message: String::new(),
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
        r
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
        assert!(text.contains(r#"prodready_workload_last_evaluated_timestamp_seconds{kind="Deployment",namespace="shop",workload="api"} 1780000000"#));
        // A workload gone from the reports is gone from the next scrape.
        let text = metrics.render(&reports[1..], false, Some(true));
        assert!(!text.contains(r#"workload="api""#));
    }
}
