//! The Helm chart (`charts/prodready`): it lints clean, renders objects a real kube-apiserver
//! accepts, grants what the operator needs and no more (the operator runs under it), judges
//! itself production-ready, ships the generated CRDs, and its alerts and dashboard are correct:
//! every alert is unit-tested with promtool, and every query names only metrics the operator
//! exports.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::Value;
use support::{ok, promtool, run};

/// Every metric the operator exports; alerts and dashboard may name no other.
const OPERATOR_METRICS: &[&str] = &[
    "prodready_workload_score",
    "prodready_workload_ready",
    "prodready_workload_findings",
    "prodready_workload_live_failures",
    "prodready_workload_last_evaluated_timestamp_seconds",
    "prodready_finding_info",
    "prodready_evaluations_total",
    "prodready_evaluation_duration_seconds",
    "prodready_report_writes_total",
    "prodready_watch_errors_total",
    "prodready_watch_restarts_total",
    "prodready_leader",
    "prodready_openreports_writes_total",
    "prodready_webhook_reviews_total",
    "prodready_webhook_review_duration_seconds",
    "prodready_webhook_warnings_total",
    "prodready_webhook_denials_total",
    "prodready_webhook_invalid_requests_total",
    "prodready_webhook_certificate_expiry_timestamp_seconds",
];

/// The histograms, whose series carry `_bucket`, `_sum` and `_count` suffixes.
const HISTOGRAMS: &[&str] = &[
    "prodready_evaluation_duration_seconds",
    "prodready_webhook_review_duration_seconds",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn chart() -> PathBuf {
    root().join("charts/prodready")
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/helm-chart").join(name)
}

/// The value sets every rendering test covers: the defaults, the webhook with self-managed
/// certificates and OpenReports, and every optional part on (cert-manager certificates,
/// monitoring, dashboard, OpenReports, default policy).
fn value_sets() -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("defaults", vec![]),
        (
            "webhook with self-managed certificates, OpenReports",
            vec![
                "--set".into(),
                "webhook.enabled=true".into(),
                "--set".into(),
                "openreports.enabled=true".into(),
            ],
        ),
        (
            "everything on",
            vec![
                "--values".into(),
                fixture("all-on.yaml").display().to_string(),
            ],
        ),
    ]
}

/// The documents of a multi-document YAML stream, empty ones dropped.
fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found = find(objects, kind);
    assert_eq!(found.len(), 1, "expected one {kind}, found {}", found.len());
    found[0]
}

/// `helm template` of the chart as release `prodready` in namespace `prodready-system`.
fn template(cp: &support::ControlPlane, values: &[String]) -> String {
    ok(
        cp.helm()
            .args(["template", "prodready"])
            .arg(chart())
            .args(["--namespace", "prodready-system"])
            .args(values),
        None,
        "helm template",
    )
}

#[tokio::test]
async fn chart_lints_clean_with_defaults_and_with_every_option_on() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    for (name, values) in value_sets() {
        let out = ok(
            cp.helm()
                .args(["lint", "--strict"])
                .arg(chart())
                .args(&values),
            None,
            &format!("helm lint --strict ({name})"),
        );
        assert!(
            out.contains("1 chart(s) linted, 0 chart(s) failed"),
            "{out}"
        );
        assert!(!out.contains("[WARNING]"), "{name}: {out}");
    }
    // values.schema.json turns away what the templates cannot use.
    for bad in [
        "webhook.failurePolicy=Sometimes",
        "webhook.certificate.mode=vault",
        "operator.resync=hourly",
        "image.digest=latest",
        "webhok.enabled=true",
    ] {
        let out = run(
            cp.helm()
                .args(["template", "prodready"])
                .arg(chart())
                .args(["--set", bad]),
            None,
            "helm template with a bad value",
        );
        assert!(!out.status.success(), "{bad} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("values don't meet the specifications of the schema"),
            "{bad}: {stderr}"
        );
    }
    let out = run(
        cp.helm()
            .args(["template", "prodready"])
            .arg(chart())
            .args(["--set", "leaderElection.enabled=false"]),
        None,
        "helm template without leader election",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs leaderElection.enabled"));
}

#[test]
fn chart_crds_are_the_generated_crds() {
    let listing = |dir: &Path| -> BTreeMap<String, Vec<u8>> {
        fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, fs::read(&p).expect("readable CRD file"))
            })
            .collect()
    };
    let generated = listing(&root().join("crds"));
    let shipped = listing(&chart().join("crds"));
    assert!(!generated.is_empty());
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&shipped),
        names(&generated),
        "charts/prodready/crds/ must hold exactly the files of crds/: cp crds/*.yaml charts/prodready/crds/"
    );
    for (name, text) in &generated {
        assert!(
            shipped[name] == *text,
            "charts/prodready/crds/{name} differs from crds/{name}: cp crds/*.yaml charts/prodready/crds/"
        );
    }
}

/// Installs the chart for real, one value set after the other: the apiserver must accept every
/// object, and the operator, run with the Deployment's arguments as the release's ServiceAccount,
/// must work under the rendered RBAC. Each release is uninstalled before the next is installed, so that no webhook
/// configuration is ever live while objects it would send for review are created (the
/// release's own objects are in its namespace, which its webhook never judges).
#[tokio::test]
async fn the_api_server_accepts_every_rendered_object() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    ok(
        cp.kubectl().args(["apply", "-f"]).arg(fixture("crds.yaml")),
        None,
        "kubectl apply the monitoring and cert-manager CRDs",
    );
    ok(
        cp.kubectl().args([
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/servicemonitors.monitoring.coreos.com",
            "crd/prometheusrules.monitoring.coreos.com",
            "crd/issuers.cert-manager.io",
            "crd/certificates.cert-manager.io",
        ]),
        None,
        "kubectl wait for the CRDs",
    );
    // The upstream OpenReports CRDs, which the chart never installs: with them, the operator
    // runs with --openreports writes its own Report under the chart's RBAC.
    ok(
        cp.kubectl()
            .args(["apply", "-f"])
            .arg(root().join("tests/fixtures/openreports")),
        None,
        "kubectl apply the OpenReports CRDs",
    );
    ok(
        cp.kubectl().args([
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/reports.openreports.io",
        ]),
        None,
        "kubectl wait for the OpenReports CRD",
    );
    for (name, values) in value_sets() {
        let ns = cp.namespace("chart-install").await;
        let release = "prodready";
        let rendered = documents(&ok(
            cp.helm()
                .args(["template", release])
                .arg(chart())
                .args(["--namespace", &ns])
                .args(&values),
            None,
            "helm template",
        ));
        ok(
            cp.helm()
                .args(["install", release])
                .arg(chart())
                .args(["--namespace", &ns, "--timeout", "60s"])
                .args(&values),
            None,
            &format!("helm install ({name})"),
        );
        // Every rendered object is there, as the apiserver stored it.
        for object in &rendered {
            let kind = object["kind"].as_str().unwrap();
            let object_name = object["metadata"]["name"].as_str().unwrap();
            let namespace = object["metadata"]["namespace"].as_str();
            let mut get = cp.kubectl();
            get.args(["get", kind, object_name, "-o", "name"]);
            if let Some(namespace) = namespace {
                get.args(["--namespace", namespace]);
            }
            ok(
                &mut get,
                None,
                &format!("{name}: kubectl get {kind}/{object_name}"),
            );
        }
        let kinds: BTreeSet<&str> = rendered
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        println!("{name}: {} objects installed: {kinds:?}", rendered.len());
        let self_managed = rendered.iter().any(|o| {
            o["kind"] == "Role"
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with("-webhook-certificates"))
        });
        let openreports = rendered
            .iter()
            .any(|o| o["kind"] == "Deployment" && o.to_string().contains("\"--openreports\""));
        check_rbac(cp, &ns, release, name, self_managed, openreports);
        run_operator_as_installed(cp, &ns, release, name, &rendered);
        ok(
            cp.helm().args([
                "uninstall",
                release,
                "--namespace",
                &ns,
                "--wait",
                "--timeout",
                "60s",
            ]),
            None,
            &format!("helm uninstall ({name})"),
        );
        let left = ok(
            cp.kubectl().args([
                "get",
                "validatingwebhookconfigurations,clusterroles,clusterrolebindings",
                "-l",
                &format!("app.kubernetes.io/instance={release}"),
                "-o",
                "name",
            ]),
            None,
            "kubectl get what the release left",
        );
        assert_eq!(left.trim(), "", "{name}: helm uninstall left {left}");
    }
    // The releases' webhooks were never called: nothing was created where they judge.
    let log = fs::read_to_string(cp.log_dir().join("kube-apiserver.log")).unwrap_or_default();
    assert!(
        !log.contains("calling webhook"),
        "the API server called a webhook of the chart while the tests ran"
    );
}

/// Runs the binary with the Deployment's own arguments and environment, as the release's
/// ServiceAccount (impersonated through a kubeconfig), on loopback ports: under the chart's RBAC
/// it must become ready, hold the Lease, judge its own Deployment and, with self-managed
/// webhook certificates, create them and set the webhook configuration's CA bundle. Value sets
/// that mount a certificate file (cert-manager) are left to the cluster.
fn run_operator_as_installed(
    cp: &support::ControlPlane,
    ns: &str,
    release: &str,
    name: &str,
    rendered: &[Value],
) {
    let deployment = one(rendered, "Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let mut args: Vec<String> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    if args.iter().any(|a| a.starts_with("--tls-cert-file")) {
        return;
    }
    let http_port = free_port();
    let webhook_port = free_port();
    for arg in args.iter_mut() {
        if arg.starts_with("--http-addr=") {
            *arg = format!("--http-addr=127.0.0.1:{http_port}");
        } else if arg.starts_with("--webhook-addr=") {
            *arg = format!("--webhook-addr=127.0.0.1:{webhook_port}");
        }
    }
    // Reached on loopback here, not through its Service: the certificate must name it.
    if args.iter().any(|a| a.starts_with("--webhook-addr=")) {
        args.push("--webhook-host=127.0.0.1".into());
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut config: Value =
        serde_yaml_ng::from_str(&fs::read_to_string(cp.kubeconfig_path()).unwrap()).unwrap();
    let user = &mut config["users"][0]["user"];
    user["as"] = format!("system:serviceaccount:{ns}:{release}").into();
    user["as-groups"] = serde_json::json!([
        "system:serviceaccounts",
        format!("system:serviceaccounts:{ns}"),
        "system:authenticated"
    ]);
    fs::write(&kubeconfig, serde_yaml_ng::to_string(&config).unwrap()).unwrap();
    let log = fs::File::create(cp.log_dir().join(format!("operator-{ns}.log"))).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_prodready"))
        .args(&args)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .env("POD_NAMESPACE", ns)
        .env("POD_NAME", "prodready-test")
        .env("HOSTNAME", "prodready-test")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("prodready starts");
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let guard = Kill(&mut child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let mut last = String::new();
    let self_managed = args.iter().any(|a| a.starts_with("--webhook-config-name"));
    let mut done = false;
    let mut last_bundle = String::new();
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = guard.0.try_wait() {
            panic!(
                "{name}: the operator exited ({status}); log in {}",
                cp.log_dir().display()
            );
        }
        let ready = http_get(http_port, "/readyz");
        let report = run(
            cp.kubectl().args([
                "get",
                "readinessreport",
                &format!(
                    "deployment-{}",
                    deployment["metadata"]["name"].as_str().unwrap()
                ),
                "-n",
                ns,
                "-o",
                "jsonpath={.status.score}",
            ]),
            None,
            "kubectl get the operator's own report",
        );
        let ca_bundle = if self_managed {
            ok(
                cp.kubectl().args([
                    "get",
                    "validatingwebhookconfiguration",
                    args.iter()
                        .find_map(|a| a.strip_prefix("--webhook-config-name="))
                        .unwrap(),
                    "-o",
                    "jsonpath={.webhooks[0].clientConfig.caBundle}",
                ]),
                None,
                "kubectl get the webhook configuration",
            )
        } else {
            "n/a".into()
        };
        let has_report = report.status.success() && !report.stdout.is_empty();
        last_bundle = ca_bundle.clone();
        last = format!(
            "readyz: {ready:?}; own report: {}; caBundle: {} bytes",
            String::from_utf8_lossy(&report.stdout),
            ca_bundle.len()
        );
        if ready
            .as_deref()
            .is_some_and(|r| r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200"))
            && has_report
            && !ca_bundle.is_empty()
        {
            done = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(
        done,
        "{name}: the operator, under the chart's RBAC, did not become ready with its report \
         and certificates within 90 s: {last}; log in {}",
        cp.log_dir().display()
    );
    if self_managed && args.iter().any(|a| a.starts_with("--webhook-addr=")) {
        // The webhook serves with the certificate it made, trusted through the bundle it put
        // in the webhook configuration: a privileged Pod is warned about.
        use base64::Engine;
        let bundle = base64::engine::general_purpose::STANDARD
            .decode(last_bundle.trim())
            .expect("the caBundle is base64");
        let review = serde_json::to_vec(&serde_json::json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "chart-1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "name": "debug", "namespace": "default", "operation": "CREATE",
                "userInfo": {"username": "test"},
                "object": {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "debug", "namespace": "default"},
                    "spec": {"containers": [{"name": "sh", "image": "busybox:1.36",
                        "securityContext": {"privileged": true}}]}}}
        }))
        .unwrap();
        let addr: std::net::SocketAddr = format!("127.0.0.1:{webhook_port}").parse().unwrap();
        // This test is synchronous; the client is async: give it a runtime of its own.
        let (status, body) = std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(support::https::post_to(addr, &bundle, &review))
        })
        .join()
        .expect("the review thread");
        assert_eq!(status, 200, "{name}: {body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["response"]["allowed"], true, "{name}: {body}");
        assert!(
            answer["response"]["warnings"]
                .as_array()
                .is_some_and(|w| w.iter().any(|w| w
                    .as_str()
                    .is_some_and(|w| w.starts_with("prodready critical security-privileged ")))),
            "{name}: {body}"
        );
    }
    let metrics = http_get(http_port, "/metrics").unwrap_or_default();
    assert!(metrics.contains("prodready_leader 1"), "{name}: {metrics}");
    // Every family the live operator exports is one the alerts and dashboard may use.
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("# TYPE prodready_"))
    {
        let family = line.split_whitespace().nth(2).unwrap();
        assert!(
            is_operator_metric(family),
            "{name}: the operator exports {family}, missing from OPERATOR_METRICS"
        );
    }
    if self_managed {
        for secret in ["prodready-webhook-tls", "prodready-webhook-ca"] {
            ok(
                cp.kubectl().args(["get", "secret", secret, "-n", ns]),
                None,
                "kubectl get a webhook certificate Secret",
            );
        }
    }
    // What the operator says of itself in the cluster, where live state and the optional kinds
    // are known (informational: the test control plane runs no pods).
    let own: Value = serde_json::from_str(&ok(
        cp.kubectl().args([
            "get",
            "readinessreport",
            &format!(
                "deployment-{}",
                deployment["metadata"]["name"].as_str().unwrap()
            ),
            "-n",
            ns,
            "-o",
            "json",
        ]),
        None,
        "kubectl get the operator's own report",
    ))
    .unwrap();
    let open: Vec<String> = own["status"]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["result"] == "fail" || f["result"] == "warn")
        .map(|f| {
            format!(
                "{} {}",
                f["result"].as_str().unwrap_or_default(),
                f["checkId"].as_str().unwrap_or_default()
            )
        })
        .collect();
    println!(
        "{name}: the operator ran under the chart's RBAC; its own report in the cluster: score {}, {open:?}",
        own["status"]["score"]
    );
    if args.iter().any(|a| a == "--openreports") {
        check_own_openreport(
            cp,
            ns,
            name,
            deployment["metadata"]["name"].as_str().unwrap(),
        );
    }
    drop(guard);
}

/// With --openreports, the operator (under the chart's RBAC) keeps an OpenReports Report of its
/// own Deployment whose failures are those of its ReadinessReport.
fn check_own_openreport(cp: &support::ControlPlane, ns: &str, name: &str, workload: &str) {
    let get = |what: &str, object: &str| -> Option<Value> {
        let out = run(
            cp.kubectl()
                .args(["get", what, object, "-n", ns, "-o", "json"]),
            None,
            "kubectl get",
        );
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).ok())
            .flatten()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut last = String::new();
    while std::time::Instant::now() < deadline {
        let report = get(
            "reports.openreports.io",
            &format!("prodready-deployment-{workload}"),
        );
        let own = get("readinessreport", &format!("deployment-{workload}"));
        if let (Some(report), Some(own)) = (report, own) {
            let failing: u64 = ["critical", "high", "medium", "low", "info"]
                .iter()
                .map(|s| own["status"]["summary"][s].as_u64().unwrap_or(0))
                .sum();
            assert_eq!(report["source"], "prodready", "{name}");
            assert_eq!(report["scope"]["name"], workload, "{name}");
            if report["summary"]["fail"].as_u64() == Some(failing) {
                println!("{name}: its OpenReports Report: {}", report["summary"]);
                return;
            }
            last = format!("{} against {failing} failing", report["summary"]);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!(
        "{name}: no OpenReports Report of the operator's own Deployment matching its \
         ReadinessReport within 30 s ({last}); log in {}",
        cp.log_dir().display()
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A plain HTTP/1.0 GET on loopback: the status line and body, or `None` when nothing answers.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// What the release's ServiceAccount may and may not do, asked of the apiserver.
fn check_rbac(
    cp: &support::ControlPlane,
    ns: &str,
    release: &str,
    name: &str,
    self_managed: bool,
    openreports: bool,
) {
    let user = format!("system:serviceaccount:{ns}:{release}");
    let can = |args: &[&str]| -> bool {
        let out = run(
            cp.kubectl()
                .args(["auth", "can-i", "--as", &user])
                .args(args),
            None,
            "kubectl auth can-i",
        );
        String::from_utf8_lossy(&out.stdout).trim() == "yes"
    };
    // The operator's reads and writes.
    assert!(can(&["list", "deployments", "--all-namespaces"]), "{name}");
    assert!(
        can(&["watch", "networkpolicies", "--all-namespaces"]),
        "{name}"
    );
    assert!(
        can(&["patch", "readinessreports.prodready.dev", "-n", "default"]),
        "{name}"
    );
    assert!(can(&["create", "leases", "-n", ns]), "{name}");
    assert!(
        can(&["list", "secrets", "--all-namespaces"]),
        "{name}: rbac.readSecrets is on by default"
    );
    // Never anything it does not need.
    assert!(!can(&["create", "deployments", "-n", "default"]), "{name}");
    assert!(!can(&["delete", "pods", "-n", "default"]), "{name}");
    assert!(!can(&["create", "secrets", "-n", "default"]), "{name}");
    assert!(!can(&["create", "leases", "-n", "default"]), "{name}");
    assert!(
        !can(&["update", "validatingwebhookconfigurations/other"]),
        "{name}"
    );
    assert!(
        !can(&["create", "validatingwebhookconfigurations"]),
        "{name}"
    );
    assert!(!can(&["*", "*"]), "{name}");
    // OpenReports Reports only with openreports.enabled, and nothing else of that group.
    assert_eq!(
        can(&["patch", "reports.openreports.io", "-n", "default"]),
        openreports,
        "{name}"
    );
    assert!(!can(&["create", "clusterreports.openreports.io"]), "{name}");
    if self_managed {
        // Self-managed certificates: its own two Secrets and its own webhook configuration.
        for secret in ["prodready-webhook-tls", "prodready-webhook-ca"] {
            assert!(
                can(&["update", &format!("secrets/{secret}"), "-n", ns]),
                "{name}"
            );
        }
        assert!(can(&["create", "secrets", "-n", ns]), "{name}");
        assert!(
            !can(&["update", "secrets/someone-else", "-n", ns]),
            "{name}"
        );
        assert!(
            can(&["patch", "validatingwebhookconfigurations/prodready"]),
            "{name}"
        );
    } else {
        assert!(!can(&["create", "secrets", "-n", ns]), "{name}");
        assert!(
            !can(&["patch", "validatingwebhookconfigurations/prodready"]),
            "{name}"
        );
    }
}

/// OpenReports: RBAC for its Reports and the flag only with `openreports.enabled`, and never
/// the CRDs, which belong to the OpenReports project.
#[tokio::test]
async fn openreports_are_behind_a_value_and_bring_no_crd() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let off = documents(&template(cp, &[]));
    let on = documents(&template(
        cp,
        &["--set".into(), "openreports.enabled=true".into()],
    ));
    let grants = |objects: &[Value]| {
        one(objects, "ClusterRole")["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|rule| {
                rule["apiGroups"]
                    .as_array()
                    .is_some_and(|g| g.iter().any(|g| g == "openreports.io"))
            })
    };
    let flag = |objects: &[Value]| {
        one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "--openreports")
    };
    assert!(!grants(&off) && !flag(&off));
    assert!(grants(&on) && flag(&on));
    let crds: Vec<String> = fs::read_dir(chart().join("crds"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.contains("openreports"))
        .collect();
    assert!(crds.is_empty(), "the chart ships {crds:?}");
    assert!(find(&on, "CustomResourceDefinition").is_empty());
}

#[tokio::test]
async fn secret_access_is_behind_a_value() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let on = documents(&template(cp, &[]));
    let off = documents(&template(
        cp,
        &["--set".into(), "rbac.readSecrets=false".into()],
    ));
    let grants_secrets = |objects: &[Value]| {
        one(objects, "ClusterRole")["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|rule| {
                rule["resources"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r == "secrets" || r == "*"))
            })
    };
    assert!(grants_secrets(&on));
    assert!(!grants_secrets(&off));
}

/// The operator's own Deployment, judged by the operator: score 100, nothing failing, in every
/// value set. A change to the chart or to a check that breaks this is a finding against
/// prodready itself.
#[tokio::test]
async fn the_chart_judges_itself_production_ready() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    for (name, values) in value_sets() {
        let rendered = template(cp, &values);
        let out = run(
            Command::new(env!("CARGO_BIN_EXE_prodready")).args(["audit", "-", "--format", "json"]),
            Some(rendered.as_bytes()),
            "prodready audit -",
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{name}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let reports = doc["reports"].as_array().expect("reports");
        let kinds: Vec<&str> = reports
            .iter()
            .map(|r| r["workload"]["kind"].as_str().unwrap_or_default())
            .collect();
        // One workload, the operator, and its namespace's report: the webhook's Service
        // selects the operator's pods.
        assert_eq!(kinds, ["Deployment", "Namespace"], "{name}: {doc}");
        let namespace = &reports[1];
        assert_eq!(namespace["verdict"], "Ready", "{name}: {namespace}");
        // Its Services, and the NetworkPolicy and PDB the values turn on, all apply to the
        // operator's pods and target ports it declares.
        let passed: Vec<&str> = namespace["passedChecks"]
            .as_array()
            .expect("passedChecks")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for id in [
            "validity-service-selects-nothing",
            "validity-service-port-unknown",
        ] {
            assert!(passed.contains(&id), "{name}: {id} in {passed:?}");
        }
        assert!(
            passed.iter().all(|id| id.starts_with("validity-")),
            "{name}: {passed:?}"
        );
        let namespace_findings: Vec<&Value> = namespace["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["result"] == "fail" || f["result"] == "warn")
            .collect();
        assert!(
            namespace_findings.is_empty(),
            "{name}: {namespace_findings:?}"
        );
        let report = &reports[0];
        let failing: Vec<String> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["result"] == "fail" || f["result"] == "warn")
            .map(|f| format!("{} {}: {}", f["result"], f["checkId"], f["message"]))
            .collect();
        assert!(
            failing.is_empty(),
            "{name}: the operator fails its own checks:\n{}",
            failing.join("\n")
        );
        assert_eq!(report["score"], 100, "{name}: {report}");
        assert_eq!(report["verdict"], "Ready", "{name}");
        assert_eq!(out.status.code(), Some(0), "{name}");
        let passed = report["passedChecks"].as_array().map_or(0, Vec::len);
        println!("{name}: score 100, {passed} checks passed");
    }
}

/// The command line the Deployment gives the operator is one the binary accepts: every flag
/// exists and every value parses (clap reads them all before it meets the final `--help`).
#[tokio::test]
async fn the_operator_accepts_the_deployments_command_line() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    for (name, values) in value_sets() {
        let objects = documents(&template(cp, &values));
        let container = &one(&objects, "Deployment")["spec"]["template"]["spec"]["containers"][0];
        let args: Vec<&str> = container["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("a string argument"))
            .collect();
        let out = run(
            Command::new(env!("CARGO_BIN_EXE_prodready"))
                .args(&args)
                .arg("--help"),
            None,
            "prodready <the chart's arguments> --help",
        );
        assert!(
            out.status.success(),
            "{name}: prodready refuses the chart's command line {args:?}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The ValidatingWebhookConfiguration's safety settings and scope.
#[tokio::test]
async fn the_webhook_configuration_is_safe_by_default() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let objects = documents(&template(
        cp,
        &["--set".into(), "webhook.enabled=true".into()],
    ));
    let config = one(&objects, "ValidatingWebhookConfiguration");
    let webhooks = config["webhooks"].as_array().unwrap();
    assert_eq!(webhooks.len(), 1);
    let hook = &webhooks[0];
    assert_eq!(hook["failurePolicy"], "Ignore");
    assert_eq!(hook["timeoutSeconds"], 3);
    assert_eq!(hook["sideEffects"], "None");
    assert_eq!(hook["admissionReviewVersions"], serde_json::json!(["v1"]));
    assert_eq!(hook["clientConfig"]["service"]["path"], "/validate");
    assert_eq!(hook["clientConfig"]["service"]["port"], 443);
    let expression = &hook["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(expression["key"], "kubernetes.io/metadata.name");
    assert_eq!(expression["operator"], "NotIn");
    let excluded = expression["values"].as_array().unwrap();
    assert!(
        excluded.contains(&"kube-system".into()) && excluded.contains(&"prodready-system".into())
    );
    assert_eq!(
        hook["objectSelector"]["matchExpressions"][0],
        serde_json::json!({"key": "prodready.dev/ignore", "operator": "NotIn", "values": ["true"]})
    );
    let mut resources = BTreeSet::new();
    for rule in hook["rules"].as_array().unwrap() {
        assert_eq!(rule["operations"], serde_json::json!(["CREATE", "UPDATE"]));
        for r in rule["resources"].as_array().unwrap() {
            resources.insert(format!(
                "{}/{}",
                rule["apiGroups"][0].as_str().unwrap(),
                r.as_str().unwrap()
            ));
        }
    }
    let want: BTreeSet<String> = [
        "apps/deployments",
        "apps/statefulsets",
        "apps/daemonsets",
        "apps/replicasets",
        "batch/cronjobs",
        "batch/jobs",
        "/pods",
    ]
    .map(String::from)
    .into();
    assert_eq!(resources, want);
    // The Service behind it, and the flags that tie the operator to both.
    let services = find(&objects, "Service");
    let webhook_service = services
        .iter()
        .find(|s| s["metadata"]["name"] == hook["clientConfig"]["service"]["name"])
        .expect("the webhook's Service");
    assert_eq!(webhook_service["spec"]["ports"][0]["port"], 443);
    assert_eq!(webhook_service["spec"]["ports"][0]["targetPort"], "webhook");
    let deployment = one(&objects, "Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "run");
    for flag in [
        "--webhook-addr=0.0.0.0:8443",
        "--webhook-config-name=prodready",
        "--webhook-service=prodready-webhook",
        "--webhook-namespace=prodready-system",
        "--cert-secret=prodready-webhook-tls",
        "--ca-secret=prodready-webhook-ca",
        "--leader-elect",
        "--http-addr=0.0.0.0:8080",
    ] {
        assert!(args.contains(&flag), "{flag} missing from {args:?}");
    }
    let port = |name: &str| {
        container["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["containerPort"].clone())
    };
    assert_eq!(port("webhook"), Some(8443.into()));
    assert_eq!(port("metrics"), Some(8080.into()));

    // cert-manager: the Secret mounted, the CA injected, the files passed.
    let objects = documents(&template(
        cp,
        &[
            "--values".into(),
            fixture("all-on.yaml").display().to_string(),
        ],
    ));
    let config = one(&objects, "ValidatingWebhookConfiguration");
    assert_eq!(
        config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        "prodready-system/prodready-webhook"
    );
    let certificate = one(&objects, "Certificate");
    assert_eq!(certificate["metadata"]["name"], "prodready-webhook");
    let dns: Vec<&str> = certificate["spec"]["dnsNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        dns.contains(&"prodready-webhook.prodready-system.svc"),
        "{dns:?}"
    );
    one(&objects, "Issuer");
    let pod = &one(&objects, "Deployment")["spec"]["template"]["spec"];
    assert_eq!(
        pod["volumes"][0]["secret"]["secretName"],
        certificate["spec"]["secretName"]
    );
    let args = pod["containers"][0]["args"].as_array().unwrap();
    assert!(args.contains(&"--tls-cert-file=/etc/prodready/webhook-tls/tls.crt".into()));
    assert!(
        !args
            .iter()
            .any(|a| a.as_str().unwrap().starts_with("--webhook-config-name"))
    );
    assert!(find(&objects, "Role").iter().all(|r| {
        !r["metadata"]["name"]
            .as_str()
            .unwrap()
            .ends_with("webhook-certificates")
    }));
}

#[derive(Deserialize)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
struct RuleGroup {
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    alert: Option<String>,
    expr: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

fn alert_rules() -> Vec<Rule> {
    let path = chart().join("files/alerts.yaml");
    let file: RuleFile = serde_yaml_ng::from_str(&fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.groups.into_iter().flat_map(|g| g.rules).collect()
}

#[test]
fn alerts_pass_promtool_check_and_unit_tests() {
    let Some(mut check) = promtool() else {
        return;
    };
    let out = ok(
        check
            .args(["check", "rules"])
            .arg(chart().join("files/alerts.yaml")),
        None,
        "promtool check rules",
    );
    let count = alert_rules().len();
    assert!(
        out.contains(&format!("SUCCESS: {count} rules found")),
        "{out}"
    );
    let out = ok(
        promtool()
            .expect("found above")
            .args(["test", "rules"])
            .arg(fixture("alerts.test.yaml")),
        None,
        "promtool test rules",
    );
    assert!(out.contains("SUCCESS"), "{out}");
}

/// The live-failure alert pages on incidents only: a crash loop pages, a low-severity Helm
/// finding (a live check, but a risk rather than an incident) does not. The series are those the
/// operator exports for two reports, evaluated by promtool against the alert rules.
#[test]
fn a_low_severity_helm_finding_does_not_page_while_a_crash_loop_does() {
    use prodready::api::{
        CheckResult, Finding, ReadinessReport, ReadinessReportSpec, Report, Severity, WorkloadRef,
    };
    use prodready::controller::{CachedReport, Metrics};

    let report = |name: &str, check: &'static str, severity: Severity| {
        let mut r = ReadinessReport::new(
            &format!("deployment-{name}"),
            ReadinessReportSpec {
                workload_ref: WorkloadRef {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    namespace: "payments-prod".into(),
                    name: name.into(),
                },
            },
        );
        r.status = Some(Report {
            findings: vec![Finding {
                check_id: check.into(),
                severity,
                result: CheckResult::Fail,
                category: prodready::checks::by_id(check).unwrap().category,
                message: "".into(),
                remediation: "".into(),
                container: None,
                object: None,
            }],
            ..Report::default()
        });
        CachedReport::of(r)
    };
    let reports = [
        report("api", "live-crashloop", Severity::Critical),
        report("web", "helm-autoscaling-disabled", Severity::Low),
    ];
    let text = Metrics::new().render(&reports, false, Some(true));
    let input_series: Vec<Value> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            serde_json::json!({"series": series, "values": format!("{value}x15")})
        })
        .collect();
    let Some(mut promtool) = promtool() else {
        return;
    };
    let tests = serde_json::json!({
        "rule_files": [chart().join("files/alerts.yaml")],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": input_series,
            "alert_rule_test": [{
                "eval_time": "10m",
                "alertname": "ProdreadyLiveFailures",
                "exp_alerts": [{
                    "exp_labels": {
                        "severity": "critical", "namespace": "payments-prod",
                        "kind": "Deployment", "workload": "api", "check": "live-crashloop",
                    },
                    "exp_annotations": {
                        "summary": "Deployment payments-prod/api fails live-crashloop",
                        "description": "Deployment payments-prod/api is failing at run time: \
                                        live-crashloop (crash loops, OOM kills, unavailable \
                                        replicas, image pull failures...).",
                        "runbook_url": "https://github.com/prodready/prodready/blob/main/docs/runbooks.md#prodreadylivefailures",
                    },
                }],
            }],
        }],
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents.test.yaml");
    fs::write(&path, serde_yaml_ng::to_string(&tests).unwrap()).unwrap();
    let out = ok(
        promtool.args(["test", "rules"]).arg(&path),
        None,
        "promtool test rules (incidents page, risks do not)",
    );
    assert!(out.contains("SUCCESS"), "{out}");
}

#[derive(Deserialize)]
struct RuleTests {
    tests: Vec<RuleTest>,
}

#[derive(Deserialize)]
struct RuleTest {
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
}

#[derive(Deserialize)]
struct AlertTest {
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<Value>,
}

/// Each alert: a runbook section, a runbook_url pointing at it, and unit tests that see it fire
/// and see it stay quiet.
#[test]
fn every_alert_has_a_runbook_and_tests_that_fire_it_and_keep_it_quiet() {
    let runbooks = fs::read_to_string(root().join("docs/runbooks.md")).unwrap();
    let headings: BTreeSet<&str> = runbooks
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(str::trim)
        .collect();
    let tests: RuleTests =
        serde_yaml_ng::from_str(&fs::read_to_string(fixture("alerts.test.yaml")).unwrap()).unwrap();
    let cases: Vec<&AlertTest> = tests
        .tests
        .iter()
        .flat_map(|t| &t.alert_rule_test)
        .collect();
    let alerts: Vec<String> = alert_rules().into_iter().filter_map(|r| r.alert).collect();
    assert!(alerts.len() >= 10, "{alerts:?}");
    for rule in alert_rules() {
        let Some(alert) = rule.alert else { continue };
        assert!(
            headings.contains(alert.as_str()),
            "docs/runbooks.md has no section `## {alert}`"
        );
        assert_eq!(
            rule.annotations.get("runbook_url").map(String::as_str),
            Some(
                format!(
                    "https://github.com/prodready/prodready/blob/main/docs/runbooks.md#{}",
                    alert.to_lowercase()
                )
                .as_str()
            ),
            "{alert}"
        );
        for key in ["summary", "description"] {
            assert!(rule.annotations.contains_key(key), "{alert} has no {key}");
        }
        let mine: Vec<&&AlertTest> = cases.iter().filter(|c| c.alertname == alert).collect();
        assert!(
            mine.iter().any(|c| !c.exp_alerts.is_empty()),
            "no test sees {alert} fire"
        );
        assert!(
            mine.iter().any(|c| c.exp_alerts.is_empty()),
            "no test sees {alert} stay quiet"
        );
    }
    for case in &cases {
        assert!(
            alerts.contains(&case.alertname),
            "a test of an unknown alert {}",
            case.alertname
        );
    }
}

/// The PrometheusRule is files/alerts.yaml: as it is with the defaults, with the values'
/// namespaces, age limit and runbook address otherwise.
#[tokio::test]
async fn the_prometheus_rule_is_the_alerts_file() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let file: Value =
        serde_yaml_ng::from_str(&fs::read_to_string(chart().join("files/alerts.yaml")).unwrap())
            .unwrap();
    let objects = documents(&template(
        cp,
        &["--set".into(), "metrics.prometheusRule.enabled=true".into()],
    ));
    assert_eq!(one(&objects, "PrometheusRule")["spec"], file);
    for (resync, limit) in [("90s", "2 * 90"), ("45m", "2 * 2700"), ("1d", "2 * 86400")] {
        let objects = documents(&template(
            cp,
            &[
                "--set".into(),
                "metrics.prometheusRule.enabled=true".into(),
                "--set".into(),
                format!("operator.resync={resync}"),
            ],
        ));
        let text = serde_json::to_string(&one(&objects, "PrometheusRule")["spec"]).unwrap();
        assert!(text.contains(&format!("> {limit}\\n")), "{resync}: {text}");
    }

    let objects = documents(&template(
        cp,
        &[
            "--values".into(),
            fixture("all-on.yaml").display().to_string(),
        ],
    ));
    let spec = &one(&objects, "PrometheusRule")["spec"];
    let text = serde_json::to_string(spec).unwrap();
    assert!(text.contains(r#"namespace=~\"prod-.*\""#), "{text}");
    assert!(text.contains("> 2 * 1800"), "{text}");
    assert!(text.contains("https://runbooks.example.internal/prodready.md#prodreadynoleader"));
    for default in [
        "(.+-)?prod(uction)?(-.+)?",
        "2 * 3600",
        "github.com/prodready",
    ] {
        assert!(!text.contains(default), "{default} was not replaced");
    }
    assert_eq!(
        spec["groups"].as_array().map(Vec::len),
        file["groups"].as_array().map(Vec::len)
    );
    // The rendered rules are still valid.
    if let Some(mut promtool) = promtool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rendered.yaml");
        fs::write(&path, serde_yaml_ng::to_string(spec).unwrap()).unwrap();
        ok(
            promtool.args(["check", "rules"]).arg(&path),
            None,
            "promtool check rules (rendered)",
        );
    }
}

/// The metric names a PromQL expression (or Grafana query) reads: identifiers that are not
/// functions, keywords, label names, strings, durations or dashboard variables.
fn metric_names(expr: &str) -> BTreeSet<String> {
    // Aggregation operators may stand apart from their parenthesis: `sum by (le) (...)`.
    const KEYWORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "inf",
        "nan",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
    ];
    // Strings, label matchers, ranges and variables first: what is left is functions, keywords,
    // numbers, operators, label lists of by/without/on, and metric names.
    let mut text = String::new();
    let mut chars = expr.chars().peekable();
    let mut depth_braces = 0;
    let mut depth_brackets = 0;
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                let quote = c;
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == quote {
                        break;
                    }
                }
                text.push(' ');
            }
            '{' => depth_braces += 1,
            '}' => depth_braces -= 1,
            '[' => depth_brackets += 1,
            ']' => depth_brackets -= 1,
            '$' => {
                while chars
                    .peek()
                    .is_some_and(|d| d.is_alphanumeric() || *d == '_' || *d == '{' || *d == '}')
                {
                    chars.next();
                }
                text.push(' ');
            }
            _ if depth_braces == 0 && depth_brackets == 0 => text.push(c),
            _ => {}
        }
    }
    let tokens = tokenize(&text);
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].as_str();
        let next = tokens.get(i + 1).map(String::as_str);
        if [
            "by",
            "without",
            "on",
            "ignoring",
            "group_left",
            "group_right",
        ]
        .contains(&token)
            && next == Some("(")
        {
            // Skip the label list.
            while i < tokens.len() && tokens[i] != ")" {
                i += 1;
            }
        } else if token == "label_values" && next == Some("(") {
            // label_values(metric, label): the last argument is a label.
            let close = tokens[i..]
                .iter()
                .position(|t| t == ")")
                .map(|p| p + i)
                .unwrap_or(tokens.len());
            if let Some(comma) = tokens[i..close].iter().rposition(|t| t == ",") {
                for t in &tokens[i + 2..i + comma] {
                    if is_identifier(t) {
                        names.insert(t.clone());
                    }
                }
            }
            i = close;
        } else if is_identifier(token)
            && next != Some("(")
            && !KEYWORDS.contains(&token.to_lowercase().as_str())
        {
            names.insert(token.to_string());
        }
        i += 1;
    }
    names
}

fn is_identifier(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
}

/// Identifiers, numbers and single punctuation characters.
fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '.' {
            current.push(c);
        } else {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn is_operator_metric(name: &str) -> bool {
    OPERATOR_METRICS.contains(&name)
        || HISTOGRAMS.iter().any(|h| {
            name.strip_prefix(h)
                .is_some_and(|suffix| ["_bucket", "_sum", "_count"].contains(&suffix))
        })
}

#[test]
fn metric_names_are_found_in_queries() {
    let names = |e: &str| metric_names(e).into_iter().collect::<Vec<_>>();
    assert_eq!(
        names(
            r#"sum by (namespace) (rate(a_total{x="y",z=~"$ns"}[5m])) / on (namespace) group_left b offset 1h"#
        ),
        ["a_total", "b"]
    );
    assert_eq!(
        names(
            "histogram_quantile(0.99, sum by (le) (rate(h_bucket[$__rate_interval]))) > bool 1e3"
        ),
        ["h_bucket"]
    );
    assert_eq!(
        names("label_values(prodready_workload_score, namespace)"),
        ["prodready_workload_score"]
    );
    assert_eq!(names("(max(up) or vector(0)) < 1"), ["up"]);
    assert_eq!(names("time() - max_over_time(x[1h:1m])"), ["x"]);
}

/// Every `expr` in a JSON document, wherever it is nested.
fn exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr", Value::String(e)) => out.push(e.clone()),
                    ("query", Value::String(q)) => out.push(q.clone()),
                    _ => exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| exprs(v, out)),
        _ => {}
    }
}

#[test]
fn dashboard_is_valid_and_reads_only_operator_metrics() {
    let path = chart().join("files/dashboard.json");
    let dashboard: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()));
    assert_eq!(dashboard["uid"], "prodready");
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    for panel in panels {
        assert!(
            ids.insert(panel["id"].as_i64().expect("panel id")),
            "duplicate panel id {}",
            panel["id"]
        );
        assert!(panel["title"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let mut queries = Vec::new();
    exprs(&dashboard, &mut queries);
    queries.retain(|q| q != "prometheus");
    assert!(queries.len() >= 20, "{queries:?}");
    let mut used = BTreeSet::new();
    for query in &queries {
        let names = metric_names(query);
        assert!(!names.is_empty(), "no metric in {query}");
        for name in names {
            assert!(
                is_operator_metric(&name),
                "the dashboard reads {name}, which the operator does not export: {query}"
            );
            used.insert(name);
        }
    }
    // The dashboard covers readiness, findings, the operator and the webhook.
    for metric in [
        "prodready_workload_score",
        "prodready_workload_findings",
        "prodready_finding_info",
        "prodready_report_writes_total",
        "prodready_watch_errors_total",
        "prodready_webhook_reviews_total",
        "prodready_webhook_review_duration_seconds_bucket",
    ] {
        assert!(
            used.contains(metric),
            "the dashboard does not show {metric}"
        );
    }
    for rule in alert_rules() {
        for name in metric_names(&rule.expr) {
            assert!(
                is_operator_metric(&name),
                "alert {:?} reads {name}: {}",
                rule.alert,
                rule.expr
            );
        }
    }
    // Every query parses: promtool checks them as recording rules.
    if let Some(mut promtool) = promtool() {
        let rules: Vec<Value> = queries
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let expr = q
                    .replace("$__rate_interval", "5m")
                    .replace("$cluster", ".*")
                    .replace("$namespace", ".*");
                serde_json::json!({"record": format!("dashboard:query_{i}"), "expr": expr})
            })
            .filter(|r| !r["expr"].as_str().unwrap().starts_with("label_values"))
            .collect();
        let file = serde_json::json!({"groups": [{"name": "dashboard", "rules": rules}]});
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dashboard-queries.yaml");
        fs::write(&path, serde_yaml_ng::to_string(&file).unwrap()).unwrap();
        ok(
            promtool.args(["check", "rules"]).arg(&path),
            None,
            "promtool check rules (dashboard queries)",
        );
    }
}

/// The dashboard on a fleet's Prometheus: every query selects the chosen clusters and keeps
/// clusters apart, so the same namespace and workload names in two clusters are two workloads;
/// with one cluster (no cluster label) it counts as before. promtool evaluates the panels'
/// queries against both series sets.
#[test]
fn dashboard_keeps_the_clusters_of_a_fleet_apart() {
    let dashboard: Value =
        serde_json::from_str(&fs::read_to_string(chart().join("files/dashboard.json")).unwrap())
            .unwrap();
    let variables: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(variables, ["datasource", "cluster", "namespace"]);
    let mut queries = Vec::new();
    exprs(&dashboard["panels"], &mut queries);
    for q in &queries {
        for name in metric_names(q) {
            assert!(
                q.contains(&format!("{name}{{cluster=~\"$cluster\"")),
                "{name} is read without the cluster selector: {q}"
            );
        }
        assert!(
            !q.contains("by (namespace"),
            "a per-workload aggregation merges clusters: {q}"
        );
    }
    let Some(mut promtool) = promtool() else {
        return;
    };
    let panel = |title: &str| -> String {
        let panels = dashboard["panels"].as_array().unwrap();
        let panel = panels.iter().find(|p| p["title"] == title).unwrap();
        panel["targets"][0]["expr"].as_str().unwrap().to_string()
    };
    let with = |query: &str, cluster: &str| {
        query
            .replace("$cluster", cluster)
            .replace("$namespace", ".*")
            .replace("$__rate_interval", "5m")
    };
    let score = |cluster: &str, pod: &str, value: u32| {
        let cluster = if cluster.is_empty() {
            String::new()
        } else {
            format!("cluster=\"{cluster}\",")
        };
        serde_json::json!({
            "series": format!("prodready_workload_score{{{cluster}namespace=\"shop\",kind=\"Deployment\",workload=\"api\",pod=\"{pod}\"}}"),
            "values": format!("{value}x10"),
        })
    };
    let sample = |labels: &str, value: f64| serde_json::json!({"labels": labels, "value": value});
    let expect = |expr: String, samples: Vec<Value>| serde_json::json!({"expr": expr, "eval_time": "5m", "exp_samples": samples});
    let (workloads, average, worst) = (
        panel("Workloads"),
        panel("Average score"),
        panel("Worst workloads"),
    );
    let tests = serde_json::json!({
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                // Both replicas of each cluster export the series.
                "input_series": [
                    score("eu-1", "prodready-a", 80), score("eu-1", "prodready-b", 80),
                    score("us-1", "prodready-a", 40), score("us-1", "prodready-b", 40),
                ],
                "promql_expr_test": [
                    expect(with(&workloads, ".*"), vec![sample("{}", 2.0)]),
                    expect(with(&workloads, "eu-1"), vec![sample("{}", 1.0)]),
                    expect(with(&average, ".*"), vec![sample("{}", 60.0)]),
                    expect(with(&average, "us-1"), vec![sample("{}", 40.0)]),
                    expect(with(&worst, ".*"), vec![
                        sample(r#"{cluster="eu-1", kind="Deployment", namespace="shop", workload="api"}"#, 80.0),
                        sample(r#"{cluster="us-1", kind="Deployment", namespace="shop", workload="api"}"#, 40.0),
                    ]),
                ],
            },
            {
                "interval": "1m",
                "input_series": [score("", "prodready-a", 70), score("", "prodready-b", 70)],
                "promql_expr_test": [
                    expect(with(&workloads, ".*"), vec![sample("{}", 1.0)]),
                    expect(with(&worst, ".*"), vec![
                        sample(r#"{kind="Deployment", namespace="shop", workload="api"}"#, 70.0),
                    ]),
                ],
            },
        ],
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dashboard.test.yaml");
    fs::write(&path, serde_yaml_ng::to_string(&tests).unwrap()).unwrap();
    let out = ok(
        promtool.args(["test", "rules"]).arg(&path),
        None,
        "promtool test rules (dashboard queries on a fleet)",
    );
    assert!(out.contains("SUCCESS"), "{out}");
}

#[tokio::test]
async fn the_dashboard_config_map_holds_the_dashboard() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let objects = documents(&template(
        cp,
        &[
            "--values".into(),
            fixture("all-on.yaml").display().to_string(),
        ],
    ));
    let config_map = find(&objects, "ConfigMap")
        .into_iter()
        .find(|c| c["metadata"]["labels"]["grafana_dashboard"] == "1")
        .expect("a ConfigMap labelled grafana_dashboard: \"1\"");
    let shipped: Value =
        serde_json::from_str(config_map["data"]["prodready.json"].as_str().unwrap()).unwrap();
    let file: Value =
        serde_json::from_str(&fs::read_to_string(chart().join("files/dashboard.json")).unwrap())
            .unwrap();
    assert_eq!(shipped, file);
}

/// NOTES.txt tells what to run next.
#[tokio::test]
async fn the_install_notes_say_what_to_run_next() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let out = ok(
        cp.helm().args(["install", "notes"]).arg(chart()).args([
            "--namespace",
            "notes",
            "--dry-run=client",
        ]),
        None,
        "helm install --dry-run",
    );
    assert!(out.contains("kubectl get readinessreports -A"), "{out}");
}
