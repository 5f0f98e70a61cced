//! Any bytes as the body of a request to the webhook's `/validate`: answered or refused (400),
//! never a panic, whatever the policy mode.
#![no_main]

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use prodready::api::{ReadinessPolicy, ReadinessPolicySpec, WebhookMode, WebhookPolicy};
use prodready::engine::{CompiledPolicy, PolicySet};
use prodready::live::{LiveState, write};
use prodready::webhook::server::answer;
use prodready::webhook::{Exclusions, Webhook, WebhookMetrics};

static WEBHOOK: LazyLock<Webhook> = LazyLock::new(|| {
    let state: Arc<LiveState> = LiveState::new();
    let policy = ReadinessPolicy::new(
        "fuzz",
        ReadinessPolicySpec {
            webhook: WebhookPolicy {
                mode: WebhookMode::Enforce,
                ..WebhookPolicy::default()
            },
            ..ReadinessPolicySpec::default()
        },
    );
    *write(&state.policies) = PolicySet::new(vec![
        CompiledPolicy::from_resource(&policy).expect("a valid policy"),
    ]);
    state.sync.expect(["Deployment".to_string()]);
    state.sync.mark_synced("Deployment");
    Webhook {
        state,
        exclusions: Exclusions::new(Some("prodready")),
        metrics: WebhookMetrics::register(&prometheus::Registry::new()),
    }
});

fuzz_target!(|data: &[u8]| {
    let _ = answer(&WEBHOOK, data, Instant::now());
});
