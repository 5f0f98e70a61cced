//! The admission webhook against a real control plane: kube-apiserver calls it over TLS through
//! a ValidatingWebhookConfiguration, and `kubectl` shows what a person deploying would see —
//! the warnings, the refusal, the ratchet on updates, cross-object checks, certificate rotation
//! under load, and a webhook that is down never blocking a deploy.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use prodready::api::ReadinessPolicy;
use prodready::controller::Metrics;
use prodready::live::LiveState;
use prodready::live::watch::{self, Scope, WatchObserver};
use prodready::webhook::certs::{self, Lifetimes};
use prodready::webhook::{self, Certificates, SelfManaged, WebhookMetrics};
use serde::Deserialize;
use serde_json::json;
use support::ControlPlane;
use support::https::{connect, post_to};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What `kubectl` printed, and whether it succeeded.
struct Kubectl {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Kubectl {
    fn prodready_warnings(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("Warning: "))
            .filter(|l| l.starts_with("prodready"))
            .collect()
    }
}

fn kubectl(cp: &ControlPlane, args: &[&str], stdin: Option<&str>) -> Kubectl {
    let out = support::run(
        cp.kubectl().args(args),
        stdin.map(str::as_bytes),
        &format!("kubectl {}", args.join(" ")),
    );
    Kubectl {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn apply(cp: &ControlPlane, yaml: &str, extra: &[&str]) -> Kubectl {
    let mut args = vec!["apply", "-f", "-"];
    args.extend_from_slice(extra);
    kubectl(cp, &args, Some(yaml))
}

fn deployment(
    ns: &str,
    name: &str,
    replicas: u32,
    container_extra: &str,
    pod_extra: &str,
) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\n\
         spec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    \
         metadata: {{labels: {{app: {name}}}}}\n    spec:\n{pod_extra}      containers:\n      - \
         name: app\n        image: registry.example.com/{name}:1.4.2\n        ports: \
         [{{containerPort: 8080}}]\n{container_extra}"
    )
}

const PRIVILEGED: &str = "        securityContext: {privileged: true}\n";
const HOST_NETWORK: &str = "      hostNetwork: true\n";

/// The monitoring kinds the example application uses; installed before any webhook starts,
/// since the webhook discovers optional kinds once at start-up.
async fn install_monitoring_crds(cp: &ControlPlane) {
    for (kind, plural) in [
        ("ServiceMonitor", "servicemonitors"),
        ("PodMonitor", "podmonitors"),
        ("PrometheusRule", "prometheusrules"),
    ] {
        cp.apply_crd(&support::open_crd("monitoring.coreos.com", kind, plural))
            .await;
    }
}

/// A webhook running in the test's runtime, registered for some namespaces.
struct Harness {
    running: Option<webhook::Running>,
    state: Arc<LiveState>,
    metrics: Arc<Metrics>,
    own_namespace: String,
    config_name: String,
    client: Client,
    _watches: Vec<tokio::task::JoinHandle<()>>,
}

impl Harness {
    fn render_metrics(&self) -> String {
        self.metrics.render([], false, None)
    }

    /// The value of one series on /metrics (0 when absent).
    fn metric(&self, series: &str) -> f64 {
        self.render_metrics()
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }

    fn stop(&mut self) {
        self.running.take();
    }
}

/// Starts a webhook with self-managed certificates (valid for 127.0.0.1), registers it for
/// `namespaces` with `failure_policy`, and waits until the apiserver calls it.
/// The webhook the chart registers (`helm template` with its defaults).
fn chart_webhook(cp: &ControlPlane) -> serde_json::Value {
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/prodready");
    let rendered = support::ok(
        cp.helm().args(["template", "prodready"]).arg(&chart),
        None,
        "helm template",
    );
    let config = serde_yaml_ng::Deserializer::from_str(&rendered)
        .filter_map(|d| serde_json::Value::deserialize(d).ok())
        .find(|d| d["kind"] == "ValidatingWebhookConfiguration")
        .expect("the chart registers a webhook");
    config["webhooks"][0].clone()
}

/// Where the test webhook's certificate comes from.
enum Certs {
    /// Made by the webhook: lifetimes and how often they are checked.
    SelfManaged(Lifetimes, Duration),
    /// Files, with the CA bundle the test puts in the webhook configuration itself.
    Mounted {
        cert: std::path::PathBuf,
        key: std::path::PathBuf,
        bundle: String,
    },
}

async fn start(cp: &ControlPlane, namespaces: &[&str], failure_policy: &str) -> Harness {
    start_with(
        cp,
        namespaces,
        failure_policy,
        Certs::SelfManaged(Lifetimes::default(), Duration::from_secs(60)),
    )
    .await
}

async fn start_with(
    cp: &ControlPlane,
    namespaces: &[&str],
    failure_policy: &str,
    certs: Certs,
) -> Harness {
    install_monitoring_crds(cp).await;
    let client = cp.client();
    let own = cp.namespace("prodready-system").await;
    let port = support::controlplane::free_port().expect("a free port");
    let config_name = format!("prodready-{own}");
    let configs: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let mut client_config = json!({"url": format!("https://127.0.0.1:{port}/validate")});
    if let Certs::Mounted { bundle, .. } = &certs {
        use base64::Engine;
        client_config["caBundle"] = json!(base64::engine::general_purpose::STANDARD.encode(bundle));
    }
    // What is sent to the webhook is the chart's: its rules and match conditions.
    let chart = chart_webhook(cp);
    let vwc: ValidatingWebhookConfiguration = serde_json::from_value(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": config_name},
        "webhooks": [{
            "name": "workloads.prodready.dev",
            "clientConfig": client_config,
            "rules": chart["rules"],
            "matchConditions": chart["matchConditions"],
            "matchPolicy": chart["matchPolicy"],
            "namespaceSelector": {"matchExpressions": [{
                "key": "kubernetes.io/metadata.name", "operator": "In", "values": namespaces}]},
            "failurePolicy": failure_policy,
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 5
        }]
    }))
    .unwrap();
    configs
        .create(&PostParams::default(), &vwc)
        .await
        .expect("creating the webhook configuration");

    let state = LiveState::new();
    let metrics = Arc::new(Metrics::new());
    let webhook_metrics = WebhookMetrics::register(metrics.registry());
    let (sink, mut keys) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(async move { while keys.recv().await.is_some() {} });
    let observer: Arc<dyn WatchObserver> = metrics.clone();
    let (names, watches) =
        watch::spawn_all(&client, &Scope::default(), state.clone(), sink, observer).await;
    state.sync.expect(names);
    let config = webhook::Config {
        addr: format!("127.0.0.1:{port}").parse().unwrap(),
        certificates: match certs {
            Certs::SelfManaged(lifetimes, check_every) => Certificates::SelfManaged(SelfManaged {
                namespace: own.clone(),
                ca_secret: "prodready-webhook-ca".into(),
                cert_secret: "prodready-webhook-tls".into(),
                hosts: vec!["127.0.0.1".into()],
                webhook_config: Some(config_name.clone()),
                lifetimes,
                check_every,
            }),
            Certs::Mounted { cert, key, .. } => Certificates::Mounted { cert, key },
        },
        own_namespace: Some(own.clone()),
    };
    let running = tokio::time::timeout(
        Duration::from_secs(30),
        webhook::start(Some(client.clone()), config, state.clone(), webhook_metrics),
    )
    .await
    .expect("the webhook starts within 30s")
    .expect("the webhook starts");
    let harness = Harness {
        running: Some(running),
        state,
        metrics,
        own_namespace: own,
        config_name,
        client,
        _watches: watches,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !harness.state.sync.all_synced() {
        assert!(
            Instant::now() < deadline,
            "watches synced within 60s; pending: {:?}",
            harness.state.sync.pending()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    harness
}

/// Waits until the apiserver calls the webhook for `ns` (the CA bundle has reached it): a
/// server-side dry run of a privileged Deployment comes back with prodready's word on it.
fn await_webhook(cp: &ControlPlane, ns: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = apply(
            cp,
            &deployment(ns, "probe", 1, PRIVILEGED, ""),
            &["--dry-run=server"],
        );
        if !out.prodready_warnings().is_empty() || out.stderr.contains("denied the request") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the apiserver did not reach the webhook within 30s: {}",
            out.stderr
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

async fn policy(cp: &ControlPlane, name: &str, namespaces: &[&str], spec: serde_json::Value) {
    let api: Api<ReadinessPolicy> = Api::all(cp.client());
    let mut spec = spec;
    spec["namespaceSelector"] = json!({"matchExpressions": [{
        "key": "kubernetes.io/metadata.name", "operator": "In", "values": namespaces}]});
    let policy = json!({"apiVersion": "prodready.dev/v1alpha1", "kind": "ReadinessPolicy",
        "metadata": {"name": name}, "spec": spec});
    api.patch(
        name,
        &PatchParams::apply("prodready-test").force(),
        &Patch::Apply(&policy),
    )
    .await
    .expect("applying the policy");
}

/// Waits until the webhook's live state has the policy (watched, like every object).
async fn await_policy(harness: &Harness, name: &str, mode: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = prodready::live::read(&harness.state.policy_sources)
            .get(name)
            .map(|p| format!("{:?}", p.spec.webhook.mode));
        if seen.as_deref() == Some(mode) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "policy {name} in {mode} seen by the webhook"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Puts `ns` under a ReadinessPolicy `enforce-<ns>` in Enforce mode (with `extra` spec fields)
/// and waits until the webhook has it.
async fn enforce(cp: &ControlPlane, harness: &Harness, ns: &str, extra: serde_json::Value) {
    let name = format!("enforce-{ns}");
    let mut spec = extra;
    spec["webhook"] = json!({"mode": "Enforce"});
    policy(cp, &name, &[ns], spec).await;
    await_policy(harness, &name, "Enforce").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_mode_applies_and_kubectl_shows_the_warnings() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("warn").await;
    let harness = start(cp, &[&ns], "Fail").await;
    await_webhook(cp, &ns);

    let out = apply(cp, &deployment(&ns, "api", 2, PRIVILEGED, ""), &[]);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout.contains("deployment.apps/api created"),
        "{}",
        out.stdout
    );
    let warnings = out.prodready_warnings();
    assert_eq!(
        warnings.first().copied(),
        Some(
            format!(
                "prodready: Deployment/api NotReady, score 54/100: 1 critical, 2 high, 9 medium, \
                 6 low, 1 info failing; details: kubectl describe rdr deployment-api -n {ns}"
            )
            .as_str()
        ),
        "{}",
        out.stderr
    );
    assert!(
        warnings.contains(
            &"prodready critical security-privileged Deployment/api: container \"app\" is \
              privileged: it has every capability and the node's devices, so a compromised \
              process owns the node"
        ),
        "{}",
        out.stderr
    );
    // Below the default warnSeverity (high): counted in the summary, not spelled out.
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("probe-liveness-missing")),
        "{}",
        out.stderr
    );

    // A dry run is judged the same, and creates nothing.
    let out = apply(
        cp,
        &deployment(&ns, "dry", 2, PRIVILEGED, ""),
        &["--dry-run=server"],
    );
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("(server dry run)"), "{}", out.stdout);
    assert!(
        out.prodready_warnings()
            .iter()
            .any(|w| w.starts_with("prodready critical security-privileged Deployment/dry: ")),
        "{}",
        out.stderr
    );
    let deployments: Api<Deployment> = Api::namespaced(cp.client(), &ns);
    assert!(deployments.get_opt("dry").await.unwrap().is_none());

    let metrics = harness.render_metrics();
    assert!(
        metrics.contains(
            r#"prodready_webhook_reviews_total{decision="warn",kind="Deployment",operation="CREATE"}"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"prodready_webhook_warnings_total{check="security-privileged"}"#),
        "{metrics}"
    );
}

/// What a newcomer's first deployment gets: one summary line and the few findings worth
/// reading there, then nothing new when they annotate it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_nginx_deployment_gets_a_summary_and_at_most_five_findings() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("nginx").await;
    let _harness = start(cp, &[&ns], "Fail").await;
    await_webhook(cp, &ns);

    let out = kubectl(
        cp,
        &["create", "deployment", "nginx", "--image=nginx", "-n", &ns],
        None,
    );
    assert!(out.ok, "{}", out.stderr);
    let warnings = out.prodready_warnings();
    let summary = format!(
        "prodready: Deployment/nginx NeedsAttention, score 58/100: 3 high, 7 medium, 7 low, 1 \
         info failing; details: kubectl describe rdr deployment-nginx -n {ns}"
    );
    assert_eq!(
        warnings.first().copied(),
        Some(summary.as_str()),
        "{}",
        out.stderr
    );
    assert!(warnings.len() <= 6, "{}", out.stderr);
    assert!(
        warnings[1..]
            .iter()
            .all(|w| w.starts_with("prodready critical ") || w.starts_with("prodready high ")),
        "{}",
        out.stderr
    );
    assert!(
        warnings.contains(
            &"prodready high image-tag-mutable Deployment/nginx: container \"nginx\" uses image \
              \"nginx\" without a tag: each pull may get different code, so replicas and \
              rollbacks do not run what was tested"
        ),
        "{}",
        out.stderr
    );

    // An update that introduces no finding gets the summary alone.
    let out = kubectl(
        cp,
        &["annotate", "deployment", "nginx", "-n", &ns, "team=web"],
        None,
    );
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        out.prodready_warnings(),
        [summary.as_str()],
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_refuses_with_the_findings_and_their_fixes() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("enforce").await;
    let harness = start(cp, &[&ns], "Fail").await;
    enforce(cp, &harness, &ns, json!({})).await;
    await_webhook(cp, &ns);

    let out = apply(cp, &deployment(&ns, "api", 2, PRIVILEGED, ""), &[]);
    assert!(!out.ok, "refused: {}", out.stdout);
    let expected = format!(
        "admission webhook \"workloads.prodready.dev\" denied the request: prodready: Deployment \
         {ns}/api is not production-ready: it has 1 failing check at or above critical \
         (ReadinessPolicy \"enforce-{ns}\", mode Enforce):\n- security-privileged (critical, \
         container app): container \"app\" is privileged: it has every capability and the \
         node's devices, so a compromised process owns the node. Fix: Remove \
         securityContext.privileged: true; add only the capabilities the container needs \
         (capabilities.add) and mount only the devices it uses.\nTo accept a failure on \
         purpose, annotate the workload prodready.dev/exempt: \"<check-id>\" with the reason \
         in prodready.dev/exempt-reason."
    );
    assert!(out.stderr.contains(&expected), "{}", out.stderr);
    // The refused check is stated once, in the denial; the rest is still warned about.
    assert_eq!(
        out.stderr.matches("security-privileged").count(),
        1,
        "{}",
        out.stderr
    );
    assert!(
        out.prodready_warnings()
            .iter()
            .any(|w| w.starts_with("prodready high security-run-as-root Deployment/api: ")),
        "{}",
        out.stderr
    );
    let deployments: Api<Deployment> = Api::namespaced(cp.client(), &ns);
    assert!(deployments.get_opt("api").await.unwrap().is_none());

    // A dry run is refused the same way.
    let out = apply(
        cp,
        &deployment(&ns, "api", 2, PRIVILEGED, ""),
        &["--dry-run=server"],
    );
    assert!(!out.ok);
    assert!(out.stderr.contains(&expected), "{}", out.stderr);

    // Without the critical failure it is applied, with its warnings.
    let out = apply(cp, &deployment(&ns, "api", 2, "", ""), &[]);
    assert!(out.ok, "{}", out.stderr);

    // An exemption the policy allows lets the privileged one through.
    let exempt = deployment(&ns, "agent", 1, PRIVILEGED, "").replacen(
        "metadata: {name: agent,",
        "metadata: {annotations: {prodready.dev/exempt: security-privileged, \
         prodready.dev/exempt-reason: 'node agent, reviewed'}, name: agent,",
        1,
    );
    let out = apply(cp, &exempt, &[]);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        !out.prodready_warnings()
            .iter()
            .any(|w| w.contains("security-privileged")),
        "{}",
        out.stderr
    );

    // The refusal and its dry run, besides the probes that waited for the webhook.
    assert!(
        harness.metric(r#"prodready_webhook_denials_total{check="security-privileged"}"#) >= 3.0,
        "{}",
        harness.render_metrics()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_is_refused_only_for_what_it_makes_worse() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("ratchet").await;
    // The legacy violator exists before enforcement starts.
    let legacy = deployment(&ns, "legacy", 2, PRIVILEGED, "");
    let out = apply(cp, &legacy, &[]);
    assert!(out.ok, "{}", out.stderr);
    let harness = start(cp, &[&ns], "Fail").await;
    enforce(cp, &harness, &ns, json!({})).await;
    await_webhook(cp, &ns);

    // Scaling it changes nothing it is judged on: allowed, with the summary alone.
    let out = apply(cp, &deployment(&ns, "legacy", 4, PRIVILEGED, ""), &[]);
    assert!(
        out.ok,
        "scaling a legacy violator is allowed: {}",
        out.stderr
    );
    assert!(
        out.stdout.contains("deployment.apps/legacy configured"),
        "{}",
        out.stdout
    );
    let warnings = out.prodready_warnings();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(
        warnings[0].starts_with("prodready: Deployment/legacy NotReady, score "),
        "{}",
        out.stderr
    );

    // Adding a new critical failure is refused, and the message says it is new.
    let out = apply(
        cp,
        &deployment(&ns, "legacy", 4, PRIVILEGED, HOST_NETWORK),
        &[],
    );
    assert!(!out.ok, "{}", out.stdout);
    assert!(
        out.stderr.contains(&format!(
            "prodready: Deployment {ns}/legacy is not production-ready: this change introduces \
             1 new failing check at or above critical"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("\n- security-host-namespaces (critical"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("\n- security-privileged"),
        "{}",
        out.stderr
    );
    drop(harness);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingress_without_tls_refuses_its_deployment_until_it_gains_tls() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("ingress").await;
    let harness = start(cp, &[&ns], "Fail").await;
    // Plain-text ingress made critical for this namespace.
    enforce(
        cp,
        &harness,
        &ns,
        json!({"checks": [{"id": "exposure-ingress-no-tls", "severity": "critical"}]}),
    )
    .await;
    let ingress = |tls: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: shop, namespace: {ns}}}\nspec:\n  \
             selector: {{app: shop}}\n  ports: [{{port: 80, targetPort: 8080}}]\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: shop, namespace: \
             {ns}}}\nspec:\n{tls}  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      \
             - path: /\n        pathType: Prefix\n        backend: {{service: {{name: shop, port: \
             {{number: 80}}}}}}\n"
        )
    };
    let out = apply(cp, &ingress(""), &[]);
    assert!(out.ok, "{}", out.stderr);
    await_webhook(cp, &ns);
    let shop = deployment(&ns, "shop", 2, "", "");
    // The Ingress reaches the webhook's World through its watch within moments.
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        let out = apply(cp, &shop, &["--dry-run=server"]);
        if !out.ok || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(!refused.ok, "refused for the Ingress: {}", refused.stdout);
    assert!(
        refused.stderr.contains(&format!(
            "\n- exposure-ingress-no-tls (critical): Ingress {ns}/shop routes"
        )) || refused
            .stderr
            .contains("\n- exposure-ingress-no-tls (critical"),
        "{}",
        refused.stderr
    );

    let out = apply(
        cp,
        &ingress("  tls: [{hosts: [shop.example.com], secretName: shop-tls}]\n"),
        &[],
    );
    assert!(out.ok, "{}", out.stderr);
    let deadline = Instant::now() + Duration::from_secs(10);
    let allowed = loop {
        let out = apply(cp, &shop, &[]);
        if out.ok || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        allowed.ok,
        "allowed once the Ingress has TLS: {}",
        allowed.stderr
    );
    assert!(
        !allowed
            .prodready_warnings()
            .iter()
            .any(|w| w.contains(" exposure-ingress-no-tls ")),
        "{}",
        allowed.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_production_ready_application_is_applied_silently() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = "trading-fixed";
    let harness = start(cp, &[ns], "Fail").await;
    let fixed = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fixed");
    let dir = fixed.to_str().unwrap();
    // First everything, so that every related object is in the cluster...
    let namespace = fixed.join("namespace.yaml");
    let out = kubectl(cp, &["apply", "-f", namespace.to_str().unwrap()], None);
    assert!(out.ok, "{}", out.stderr);
    let out = kubectl(cp, &["apply", "-f", dir], None);
    assert!(out.ok, "{}", out.stderr);
    await_webhook(cp, ns);
    // ...then each workload anew, judged with all of them in the webhook's World.
    let out = kubectl(
        cp,
        &[
            "delete",
            "-n",
            ns,
            "deployment,statefulset,cronjob",
            "--all",
            "--wait=false",
        ],
        None,
    );
    assert!(out.ok, "{}", out.stderr);
    let deadline = Instant::now() + Duration::from_secs(20);
    while prodready::live::read(&harness.state.workloads)
        .in_namespace(ns)
        .next()
        .is_some()
    {
        assert!(
            Instant::now() < deadline,
            "the deletions reached the webhook's watches"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = kubectl(cp, &["apply", "-f", dir], None);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout.contains("deployment.apps/api created"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.prodready_warnings(),
        Vec::<&str>::new(),
        "{}",
        out.stderr
    );
    let metrics = harness.render_metrics();
    assert!(
        metrics.contains(
            r#"prodready_webhook_reviews_total{decision="allow",kind="Deployment",operation="CREATE"}"#
        ),
        "{metrics}"
    );
}

/// The apiserver does not send the webhook a Pod that a controller owns (its owner was judged):
/// one review fewer for every Pod a ReplicaSet creates. An unowned Pod, or one whose owner is
/// not its controller, is still judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owned_pods_are_not_sent_to_the_webhook() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("owned").await;
    let harness = start(cp, &[&ns], "Fail").await;
    await_webhook(cp, &ns);
    let pod_reviews = || -> f64 {
        harness
            .render_metrics()
            .lines()
            .filter(|l| {
                l.starts_with("prodready_webhook_reviews_total{") && l.contains(r#"kind="Pod""#)
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let pod = |name: &str, owner: Option<bool>| {
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]}});
        if let Some(controller) = owner {
            pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1",
                "kind": "ReplicaSet", "name": "web-5f7d8",
                "uid": "00000000-0000-0000-0000-000000000001", "controller": controller}]);
        }
        serde_json::to_string(&pod).unwrap()
    };
    assert!(apply(cp, &pod("owned", Some(true)), &[]).ok);
    assert_eq!(pod_reviews(), 0.0, "an owned Pod is not sent");
    assert!(apply(cp, &pod("bare", None), &[]).ok);
    assert_eq!(pod_reviews(), 1.0, "a bare Pod is judged");
    assert!(apply(cp, &pod("adopted", Some(false)), &[]).ok);
    assert_eq!(
        pod_reviews(),
        2.0,
        "a Pod whose owner is not its controller is judged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_webhook_with_failure_policy_ignore_never_blocks_a_deploy() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("down").await;
    let mut harness = start(cp, &[&ns], "Ignore").await;
    enforce(cp, &harness, &ns, json!({})).await;
    await_webhook(cp, &ns);
    let out = apply(cp, &deployment(&ns, "api", 2, PRIVILEGED, ""), &[]);
    assert!(!out.ok, "refused while the webhook runs");

    harness.stop();
    let out = apply(cp, &deployment(&ns, "api", 2, PRIVILEGED, ""), &[]);
    assert!(out.ok, "applied with the webhook down: {}", out.stderr);
    assert!(out.prodready_warnings().is_empty(), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_rotate_under_a_stream_of_admissions_without_a_failed_review() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("rotate").await;
    // Short lives: the serving certificate renews every ~10 s, the CA at ~27 s.
    let lifetimes = Lifetimes {
        ca: Duration::from_secs(40),
        serving: Duration::from_secs(15),
        propagation: Duration::from_secs(2),
    };
    let harness = start_with(
        cp,
        &[&ns],
        "Fail",
        Certs::SelfManaged(lifetimes, Duration::from_millis(500)),
    )
    .await;
    await_webhook(cp, &ns);
    let secrets: Api<Secret> = Api::namespaced(harness.client.clone(), &harness.own_namespace);
    let ca_created = |s: &Secret| s.annotations().get("prodready.dev/ca-created-at").cloned();
    let first_ca = ca_created(&secrets.get("prodready-webhook-ca").await.unwrap());
    let first_expiry = harness.running.as_ref().unwrap().store.not_after();

    let deployments: Api<Deployment> = Api::namespaced(cp.client(), &ns);
    let object: Deployment =
        serde_yaml_ng::from_str(&deployment(&ns, "stream", 1, PRIVILEGED, "")).unwrap();
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let reviews = AtomicUsize::new(0);
    let mut failures = Vec::new();
    let mut serving_changes = 0;
    let mut last_expiry = first_expiry;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(45) {
        if let Err(e) = deployments.create(&dry_run, &object).await {
            failures.push(format!("{:.1}s: {e}", started.elapsed().as_secs_f64()));
        }
        reviews.fetch_add(1, Ordering::Relaxed);
        let expiry = harness.running.as_ref().unwrap().store.not_after();
        if expiry != last_expiry {
            serving_changes += 1;
            last_expiry = expiry;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last_ca = ca_created(&secrets.get("prodready-webhook-ca").await.unwrap());
    let config: Api<ValidatingWebhookConfiguration> = Api::all(harness.client.clone());
    let bundle = config
        .get(&harness.config_name)
        .await
        .unwrap()
        .webhooks
        .unwrap()[0]
        .client_config
        .ca_bundle
        .clone()
        .unwrap();
    let trusted = String::from_utf8(bundle.0)
        .unwrap()
        .matches("BEGIN CERTIFICATE")
        .count();
    let count = reviews.load(Ordering::Relaxed);
    eprintln!(
        "rotation: {count} reviews in 45 s, {serving_changes} serving certificate changes, CA \
         {first_ca:?} -> {last_ca:?}, {trusted} CAs trusted, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "failed reviews: {failures:#?}");
    assert!(count > 100, "a stream of admissions: {count}");
    assert!(
        serving_changes >= 3,
        "the serving certificate rotated: {serving_changes}"
    );
    assert_ne!(first_ca, last_ca, "the CA rotated");
    assert!(trusted >= 2, "the old CA stays trusted beside the new one");
}

/// Sends one raw HTTP/1.1 request to the webhook over TLS (trusting its CA) and returns the
/// status code and body.
async fn post_raw(harness: &Harness, body: &[u8]) -> (u16, String) {
    let secrets: Api<Secret> = Api::namespaced(harness.client.clone(), &harness.own_namespace);
    let ca = secrets.get("prodready-webhook-ca").await.unwrap();
    let bundle = ca.data.unwrap()["bundle.crt"].0.clone();
    let addr = harness.running.as_ref().unwrap().local_addr;
    post_to(addr, &bundle, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_bodies_get_400_with_a_clear_message() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("malformed").await;
    let harness = start(cp, &[&ns], "Fail").await;
    let (status, body) = post_raw(&harness, b"{not json").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.starts_with("the body is not an admission.k8s.io/v1 AdmissionReview: "),
        "{body}"
    );
    let (status, body) = post_raw(
        &harness,
        br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.starts_with("the AdmissionReview has no request"),
        "{body}"
    );
    let huge = vec![b' '; 9 * 1024 * 1024];
    let (status, body) = post_raw(&harness, &huge).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.starts_with("cannot read the request body (at most 8 MiB)"),
        "{body}"
    );
    // The webhook still answers real reviews after all that.
    await_webhook(cp, &ns);
    assert_eq!(
        harness.metric("prodready_webhook_invalid_requests_total"),
        3.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mounted_certificate_is_served_and_reloaded_when_its_files_change() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("mounted").await;
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let lifetimes = Lifetimes::default();
    let now = jiff::Timestamp::now().as_second();
    let hosts = ["127.0.0.1".to_string()];
    // As cert-manager would: a CA of its own, a certificate it renews in place later.
    let first_ca = certs::new_ca(now, &lifetimes, None).unwrap();
    let first = certs::issue_serving(&first_ca, &hosts, now, &lifetimes).unwrap();
    let next_ca = certs::new_ca(now, &lifetimes, None).unwrap();
    let next = certs::issue_serving(&next_ca, &hosts, now, &lifetimes).unwrap();
    std::fs::write(&cert, &first.pair.cert).unwrap();
    std::fs::write(&key, &first.pair.key).unwrap();
    let bundle = format!("{}{}", first_ca.pair.cert, next_ca.pair.cert);
    let harness = start_with(
        cp,
        &[&ns],
        "Fail",
        Certs::Mounted {
            cert: cert.clone(),
            key: key.clone(),
            bundle,
        },
    )
    .await;
    await_webhook(cp, &ns);
    let addr = harness.running.as_ref().unwrap().local_addr;
    connect(addr, first_ca.pair.cert.as_bytes())
        .await
        .expect("the mounted certificate is served");

    std::fs::write(&key, &next.pair.key).unwrap();
    std::fs::write(&cert, &next.pair.cert).unwrap();
    let started = Instant::now();
    while connect(addr, next_ca.pair.cert.as_bytes()).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the renewed files are served within 30s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "mounted certificate reloaded {:.1}s after its files changed",
        started.elapsed().as_secs_f64()
    );
    await_webhook(cp, &ns);
}

/// The AdmissionReview the apiserver sends for a CREATE of the Deployment `object`.
fn create_review(uid: &str, object: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": uid, "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": object["metadata"]["name"], "namespace": object["metadata"]["namespace"],
            "operation": "CREATE", "userInfo": {"username": "ci"}, "object": object}
    }))
    .unwrap()
}

/// The apiserver records an object's managed fields before it calls the admission webhooks, so
/// every review carries them. Such an object, as the apiserver serves it back from a dry run,
/// is read on the webhook's fast path, and its managed fields are not kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_as_the_apiserver_admits_it_is_read_on_the_fast_path() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("wh-managed").await;
    let deployments: Api<Deployment> = Api::namespaced(cp.client(), &ns);
    let manifest = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api", "labels": {"app": "api"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
            "template": {"metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/api:1.0",
                    "ports": [{"containerPort": 8080}]}]}}}
    });
    let admitted = deployments
        .patch(
            "api",
            &PatchParams::apply("kubectl").dry_run(),
            &Patch::Apply(&manifest),
        )
        .await
        .expect("a server-side dry run of the apply");
    let managed = admitted
        .metadata
        .managed_fields
        .as_deref()
        .expect("the apiserver recorded managed fields");
    assert!(
        managed
            .iter()
            .any(|m| m.manager.as_deref() == Some("kubectl")
                && m.operation.as_deref() == Some("Apply")
                && m.fields_v1.is_some()),
        "{managed:?}"
    );
    let body = create_review("5e1f", &serde_json::to_value(&admitted).unwrap());
    let review = webhook::wire::read(&body).expect("the fast path reads the admitted object");
    let object = review.request.object.as_ref().expect("the object");
    let workload = webhook::review::Admitted::workload(object, &ns)
        .unwrap()
        .expect("a top-level workload");
    assert_eq!(workload.meta().managed_fields, None);
    assert_eq!(workload.meta().name.as_deref(), Some("api"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_command_judges_against_manifests_without_a_cluster() {
    // `prodready webhook` as a process, with a mounted certificate and its World read from the
    // fixed example application: no control plane involved.
    let dir = tempfile::tempdir().unwrap();
    let lifetimes = Lifetimes::default();
    let now = jiff::Timestamp::now().as_second();
    let ca = certs::new_ca(now, &lifetimes, None).unwrap();
    let serving = certs::issue_serving(&ca, &["127.0.0.1".to_string()], now, &lifetimes).unwrap();
    std::fs::write(dir.path().join("tls.crt"), &serving.pair.cert).unwrap();
    std::fs::write(dir.path().join("tls.key"), &serving.pair.key).unwrap();
    let port = support::controlplane::free_port().unwrap();
    let http = support::controlplane::free_port().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fixed");
    /// Stops the process however the test ends, a failed assertion included.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Command::new(env!("CARGO_BIN_EXE_prodready"))
        .args(["webhook", "--world-from"])
        .arg(&examples)
        .arg("--tls-cert-file")
        .arg(dir.path().join("tls.crt"))
        .arg("--tls-key-file")
        .arg(dir.path().join("tls.key"))
        .args(["--webhook-addr", &format!("127.0.0.1:{port}")])
        .args(["--http-addr", &format!("127.0.0.1:{http}")])
        .env_remove("POD_NAMESPACE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prodready webhook starts");
    let child = Stop(child);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "listening within 20s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The fixed api Deployment, as kubectl would send it, is production-ready: no warning.
    let text = std::fs::read_to_string(examples.join("api.yaml")).unwrap();
    let api = serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| <serde_json::Value as serde::Deserialize>::deserialize(d).unwrap())
        .find(|d| d["kind"] == "Deployment")
        .unwrap();
    let review = |object: &serde_json::Value| create_review("u-1", object);
    let (status, body) = post_to(addr, ca.pair.cert.as_bytes(), &review(&api)).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["response"]["uid"], "u-1");
    assert_eq!(answer["response"]["allowed"], true);
    assert!(answer["response"]["warnings"].is_null(), "{body}");
    // Made privileged, it is warned about (the default policy warns).
    let mut worse = api.clone();
    worse["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] =
        json!(true);
    let (_, body) = post_to(addr, ca.pair.cert.as_bytes(), &review(&worse)).await;
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let warnings: Vec<&str> = answer["response"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(
        warnings,
        [
            "prodready: Deployment/api NotReady, score 91/100: 1 critical, 1 high failing; \
             details: kubectl describe rdr deployment-api -n trading-fixed",
            "prodready critical security-privileged Deployment/api: container \"api\" is \
             privileged: it has every capability and the node's devices, so a compromised \
             process owns the node",
            "prodready high security-privilege-escalation Deployment/api: container \"api\" \
             can escalate privileges whatever allowPrivilegeEscalation says: it is privileged"
        ]
    );
    let metrics = http_get(&format!("127.0.0.1:{http}"), "/metrics").await;
    drop(child);
    assert!(
        metrics.contains(
            r#"prodready_webhook_reviews_total{decision="warn",kind="Deployment",operation="CREATE"} 1"#
        ),
        "{metrics}"
    );
}

/// A plain HTTP/1.1 GET, for /metrics.
async fn http_get(addr: &str, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}
