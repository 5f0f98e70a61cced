//! What the webhook counts: reviews and their decisions, how long they take, which checks warn
//! and deny, and when its certificates expire.

use prometheus::{GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};

use super::review::Decision;

#[derive(Clone)]
pub struct WebhookMetrics {
    pub reviews: IntCounterVec,
    pub duration: Histogram,
    pub warnings: IntCounterVec,
    pub denials: IntCounterVec,
    pub invalid: IntCounter,
    pub certificate_expiry: GaugeVec,
}

impl WebhookMetrics {
    /// Registers the webhook's series in `registry` (the one `/metrics` serves).
    pub fn register(registry: &Registry) -> WebhookMetrics {
        let reviews = IntCounterVec::new(
            Opts::new(
                "prodready_webhook_reviews_total",
                "Admission reviews answered, by kind, operation and decision (allow, warn, deny)",
            ),
            &["kind", "operation", "decision"],
        )
        .expect("valid metric");
        let duration = Histogram::with_opts(
            HistogramOpts::new(
                "prodready_webhook_review_duration_seconds",
                "Time to answer one admission review, from the body read to the answer",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ]),
        )
        .expect("valid metric");
        let warnings = IntCounterVec::new(
            Opts::new(
                "prodready_webhook_warnings_total",
                "Warnings returned at admission, by check",
            ),
            &["check"],
        )
        .expect("valid metric");
        let denials = IntCounterVec::new(
            Opts::new(
                "prodready_webhook_denials_total",
                "Admissions refused, by the check that refused them",
            ),
            &["check"],
        )
        .expect("valid metric");
        let invalid = IntCounter::new(
            "prodready_webhook_invalid_requests_total",
            "Requests that were not a readable AdmissionReview (answered 400)",
        )
        .expect("valid metric");
        let certificate_expiry = GaugeVec::new(
            Opts::new(
                "prodready_webhook_certificate_expiry_timestamp_seconds",
                "When the webhook's certificates expire (serving, ca), in Unix seconds",
            ),
            &["certificate"],
        )
        .expect("valid metric");
        for c in [
            Box::new(reviews.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(warnings.clone()),
            Box::new(denials.clone()),
            Box::new(invalid.clone()),
            Box::new(certificate_expiry.clone()),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        // Every check that can refuse an admission has its series from the start, at zero, so
        // that a rate over denials works before the first one.
        for check in crate::checks::catalogue() {
            if super::review::judged_at_admission(check) {
                denials.with_label_values(&[check.id]);
            }
        }
        WebhookMetrics {
            reviews,
            duration,
            warnings,
            denials,
            invalid,
            certificate_expiry,
        }
    }

    pub fn record(&self, kind: &str, operation: &str, decision: &Decision, seconds: f64) {
        self.reviews
            .with_label_values(&[kind, operation, decision.label()])
            .inc();
        self.duration.observe(seconds);
        for check in decision.warned_checks() {
            self.warnings.with_label_values(&[check.as_ref()]).inc();
        }
        for check in decision.denied_checks() {
            self.denials.with_label_values(&[check.as_ref()]).inc();
        }
    }

    pub fn certificate_expires(&self, certificate: &str, unix: i64) {
        self.certificate_expiry
            .with_label_values(&[certificate])
            .set(unix as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_are_at_zero_for_every_check_that_can_deny() {
        let registry = Registry::new();
        WebhookMetrics::register(&registry);
        let mut text = Vec::new();
        prometheus::Encoder::encode(
            &prometheus::TextEncoder::new(),
            &registry.gather(),
            &mut text,
        )
        .unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.lines()
                .any(|l| l == r#"prodready_webhook_denials_total{check="security-privileged"} 0"#),
            "{text}"
        );
        // Live checks judge the running version, never an admission.
        assert!(!text.contains(r#"check="live-crashloop""#), "{text}");
    }
}
