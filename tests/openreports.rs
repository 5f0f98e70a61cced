//! OpenReports against a real control plane with the upstream CRDs (tests/fixtures/openreports):
//! they install; `prodready audit --format openreports` applies with a strict server-side dry
//! run; the operator, under the chart's RBAC, keeps one Report per workload that the schema
//! accepts, in step with its verdict, untouched in steady state, restored when edited or
//! deleted, removed with its workload by the garbage collector; and without the CRD it keeps
//! working, says so once, counts what it could not write, and writes once the CRD is installed.

mod support;

use support::eventually;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use kube::{Client, CustomResourceExt};
use prodready::api::{ReadinessPolicy, ReadinessReport, Verdict};
use prodready::controller::{self, Config, Context};
use serde_json::{Value, json};
use support::ControlPlane;
use tokio::sync::oneshot;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn upstream_crds() -> PathBuf {
    root().join("tests/fixtures/openreports")
}

fn run(cmd: &mut Command, stdin: Option<&str>) -> String {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The upstream CRDs, as a user installs them. Tests sharing a control plane take turns: two
/// client-side applies of a new CRD at once race (one of them is told it already exists).
fn install_upstream_crds(cp: &ControlPlane) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    run(
        cp.kubectl().args(["apply", "-f"]).arg(upstream_crds()),
        None,
    );
    run(
        cp.kubectl().args([
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/reports.openreports.io",
            "crd/clusterreports.openreports.io",
        ]),
        None,
    );
}

async fn install_prodready_crds(cp: &ControlPlane) {
    cp.apply_crd(&ReadinessReport::crd()).await;
    cp.apply_crd(&ReadinessPolicy::crd()).await;
}

fn reports_api(client: &Client, ns: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("openreports.io", "v1alpha1", "Report"),
        "reports",
    );
    Api::namespaced_with(client.clone(), ns, &resource)
}

/// The identity the chart's RBAC (with `openreports.enabled`) binds.
struct Operator {
    user: String,
    groups: Vec<String>,
}

impl Operator {
    fn client(&self, cp: &ControlPlane) -> Client {
        let groups: Vec<&str> = self.groups.iter().map(String::as_str).collect();
        cp.client_as(&self.user, &groups)
    }

    /// A kubeconfig that acts as the operator, for the binary.
    fn kubeconfig(&self, cp: &ControlPlane, path: &Path) {
        let mut config: Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(cp.kubeconfig_path()).unwrap())
                .unwrap();
        let user = &mut config["users"][0]["user"];
        user["as"] = self.user.clone().into();
        user["as-groups"] = json!(self.groups);
        std::fs::write(path, serde_yaml_ng::to_string(&config).unwrap()).unwrap();
    }
}

/// The chart's RBAC with OpenReports on, in a namespace of its own.
async fn install_rbac(cp: &ControlPlane) -> Operator {
    let ns = cp.namespace("prodready-system").await;
    let release = format!("prodready-{ns}");
    let rendered = run(
        cp.helm()
            .args(["template", &release])
            .arg(root().join("charts/prodready"))
            .args(["--namespace", &ns])
            .args(["--set", "webhook.enabled=false"])
            .args(["--set", "openreports.enabled=true"]),
        None,
    );
    run(cp.kubectl().args(["apply", "-f", "-"]), Some(&rendered));
    Operator {
        user: format!("system:serviceaccount:{ns}:{release}"),
        groups: vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{ns}"),
            "system:authenticated".into(),
        ],
    }
}

/// One controller running in the test's runtime.
struct Running {
    ctx: Arc<Context>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), controller::Error>>,
}

impl Running {
    async fn start(client: Client, config: Config) -> Running {
        let ctx = Context::new(client, config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(controller::run_with(ctx.clone(), async move {
            let _ = stopped.await;
        }));
        Running {
            ctx,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(20), &mut self.task)
            .await
            .expect("the controller stops within 20s")
            .expect("the controller task does not panic")
            .expect("the controller ends cleanly");
    }

    /// The lines of one metric family in /metrics.
    fn metric(&self, family: &str) -> Vec<String> {
        self.ctx
            .render_metrics()
            .lines()
            .filter(|l| l.starts_with(family))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0",
                                         "ports": [{"name": "http", "containerPort": 8080}]}]}
            }
        }
    }))
    .unwrap()
}

/// `[pass, fail, warn, error, skip]` of a Report's summary.
fn summary_of(report: &Value) -> [u64; 5] {
    ["pass", "fail", "warn", "error", "skip"].map(|k| report["summary"][k].as_u64().unwrap_or(0))
}

/// What a ReadinessReport's status says the Report's summary must be.
fn expected_summary(readiness: &ReadinessReport) -> Option<[u64; 5]> {
    let s = readiness.status.as_ref()?.summary;
    Some([
        u64::from(s.passed),
        u64::from(s.failing_total()),
        u64::from(s.warnings),
        0,
        u64::from(s.skipped),
    ])
}

/// `(name, summary)` of each Report of `ns` in `kubectl get reports -A`: the printer columns
/// the upstream CRD defines (NAMESPACE NAME PASS FAIL WARN ERROR SKIP AGE).
fn kubectl_get_reports(cp: &ControlPlane, ns: &str) -> BTreeMap<String, [u64; 5]> {
    let table = run(cp.kubectl().args(["get", "reports", "-A"]), None);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "PASS",
            "FAIL",
            "WARN",
            "ERROR",
            "SKIP",
            "AGE"
        ],
        "{table}"
    );
    table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| cells[0] == ns)
        .map(|cells| {
            let n = |i: usize| cells[i].parse::<u64>().unwrap();
            (cells[1].to_string(), [n(2), n(3), n(4), n(5), n(6)])
        })
        .collect()
}

#[tokio::test]
async fn the_upstream_crds_install_and_the_audit_output_applies() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    install_upstream_crds(cp);
    let crd = Api::<CustomResourceDefinition>::all(cp.client())
        .get("reports.openreports.io")
        .await
        .unwrap();
    assert_eq!(crd.spec.scope, "Namespaced");
    assert_eq!(crd.spec.versions[0].name, "v1alpha1");

    let examples = root().join("examples");
    for namespaces in [
        examples.join("namespace.yaml"),
        examples.join("fixed/namespace.yaml"),
    ] {
        run(cp.kubectl().args(["apply", "-f"]).arg(namespaces), None);
    }
    let audit = |format: &str| {
        run(
            Command::new(env!("CARGO_BIN_EXE_prodready"))
                .args(["audit", "--fail-on", "none", "--format", format])
                .arg(&examples),
            None,
        )
    };
    let list = audit("openreports");
    let judged: Value = serde_json::from_str(&audit("json")).unwrap();
    let reports = judged["reports"].as_array().unwrap();
    let items: Value = serde_yaml_ng::from_str(&list).unwrap();
    assert_eq!(items["kind"], "List");
    assert_eq!(items["items"].as_array().unwrap().len(), reports.len());

    // Strict: a field the upstream schema does not know is an error, not pruned.
    let dry = run(
        cp.kubectl()
            .args(["apply", "--dry-run=server", "--validate=strict", "-f", "-"]),
        Some(&list),
    );
    let accepted: Vec<&str> = dry
        .lines()
        .filter(|l| l.starts_with("report.openreports.io/") && l.ends_with("(server dry run)"))
        .collect();
    assert_eq!(accepted.len(), reports.len(), "{dry}");

    // Applied for real, `kubectl get reports` shows each workload's counts.
    run(
        cp.kubectl().args(["apply", "--validate=strict", "-f", "-"]),
        Some(&list),
    );
    let listed = kubectl_get_reports(cp, "trading");
    for r in reports
        .iter()
        .filter(|r| r["workload"]["namespace"] == "trading")
    {
        let s = &r["summary"];
        let n = |k: &str| s[k].as_u64().unwrap();
        let name = format!(
            "prodready-{}-{}",
            r["workload"]["kind"].as_str().unwrap().to_lowercase(),
            r["workload"]["name"].as_str().unwrap()
        );
        assert_eq!(
            listed.get(&name),
            Some(&[
                n("passed"),
                n("critical") + n("high") + n("medium") + n("low") + n("info"),
                n("warnings"),
                0,
                n("skipped"),
            ]),
            "{name}: {listed:?}"
        );
    }
    // Six workloads, and the namespace's own Report: objects left there by renames select or
    // route to nothing the input holds (warnings offline, where the input may not be the whole
    // namespace), and an Ingress routes to a port its Service lacks (proven).
    assert_eq!(
        listed.len(),
        7,
        "six workloads and the namespace in trading: {listed:?}"
    );
    assert_eq!(
        listed.get("prodready-namespace-trading"),
        Some(&[0, 1, 6, 0, 0]),
        "{listed:?}"
    );
}

#[tokio::test]
async fn the_operator_keeps_a_report_per_workload_in_step_with_its_verdict() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    install_prodready_crds(cp).await;
    install_upstream_crds(cp);
    let operator = install_rbac(cp).await;
    let admin = cp.client();
    let ns = cp.namespace("openreports").await;
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), &ns);
    for name in ["a", "b"] {
        deployments
            .create(&PostParams::default(), &deployment(name, 2))
            .await
            .unwrap();
    }
    let controller = Running::start(
        operator.client(cp),
        Config {
            namespace: Some(ns.clone()),
            identity: format!("test-{ns}"),
            openreports: true,
            // Every workload judged again every 5 s: steady state includes re-judging.
            resync: Duration::from_secs(5),
            crd_recheck: Duration::from_secs(1),
            ..Config::default()
        },
    )
    .await;
    let reports = reports_api(&admin, &ns);
    let readiness: Api<ReadinessReport> = Api::namespaced(admin.clone(), &ns);
    // Each Report's summary is its ReadinessReport's.
    let in_step = || async {
        let list = reports.list(&ListParams::default()).await.ok()?;
        let mut out = BTreeMap::new();
        for r in list.items {
            let value = serde_json::to_value(&r).unwrap();
            let workload = value["scope"]["name"].as_str()?.to_string();
            let rr = readiness
                .get_opt(&format!("deployment-{workload}"))
                .await
                .ok()??;
            (expected_summary(&rr)? == summary_of(&value)).then_some(())?;
            out.insert(workload, (value, rr));
        }
        (out.len() == 2).then_some(out)
    };
    let both = eventually(
        "a Report per workload, in step",
        Duration::from_secs(60),
        in_step,
    )
    .await;
    for (workload, (report, rr)) in &both {
        let name = format!("prodready-deployment-{workload}");
        assert_eq!(report["metadata"]["name"], name.as_str());
        let labels = &report["metadata"]["labels"];
        assert_eq!(labels["app.kubernetes.io/managed-by"], "prodready");
        assert_eq!(labels["prodready.dev/workload-name"], workload.as_str());
        let uid = deployments
            .get(workload)
            .await
            .unwrap()
            .metadata
            .uid
            .unwrap();
        let owners = report["metadata"]["ownerReferences"].as_array().unwrap();
        assert_eq!(owners.len(), 1);
        assert_eq!(owners[0]["kind"], "Deployment");
        assert_eq!(owners[0]["uid"], uid.as_str());
        assert_eq!(
            report["scope"],
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": ns,
                   "name": workload, "uid": uid})
        );
        assert_eq!(report["source"], "prodready");
        let status = rr.status.as_ref().unwrap();
        let results = report["results"].as_array().unwrap();
        assert_eq!(
            results.len(),
            status.findings.len() + status.passed_checks.len()
        );
        for f in &status.findings {
            let r = results
                .iter()
                .find(|r| {
                    r["policy"] == f.check_id.as_ref()
                        && r["properties"]["container"].as_str() == f.container.as_deref()
                })
                .unwrap_or_else(|| panic!("{name}: no result for {}", f.check_id));
            assert_eq!(r["result"], f.result.as_str());
            assert_eq!(r["severity"], f.severity.as_str());
            assert_eq!(r["category"], f.category.as_str());
            assert_eq!(r["message"], f.message.as_ref());
            assert_eq!(r["source"], "prodready");
            assert!(r["timestamp"]["seconds"].as_i64().unwrap() > 0);
        }
    }
    // `kubectl get reports -A`: one line per workload, with the right counts.
    let listed = kubectl_get_reports(cp, &ns);
    assert_eq!(
        listed,
        both.iter()
            .map(|(w, (r, _))| (format!("prodready-deployment-{w}"), summary_of(r)))
            .collect()
    );

    // A change of verdict: a privileged container makes b NotReady, and its Report says so.
    assert_eq!(
        both["b"].1.status.as_ref().unwrap().verdict,
        Verdict::NeedsAttention
    );
    let before = summary_of(&both["b"].0);
    deployments
        .patch(
            "b",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "securityContext": {"privileged": true}}]}}}})),
        )
        .await
        .unwrap();
    let result_of = |report: &Value, policy: &str| {
        report["results"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["policy"] == policy))
            .map(|r| (r["result"].clone(), r["severity"].clone()))
    };
    assert_eq!(
        result_of(&both["b"].0, "security-privileged"),
        Some((json!("pass"), Value::Null))
    );
    let after = eventually(
        "b's Report in step with its new verdict",
        Duration::from_secs(10),
        || async {
            let value =
                serde_json::to_value(reports.get("prodready-deployment-b").await.ok()?).unwrap();
            let rr = readiness.get("deployment-b").await.ok()?;
            (rr.status.as_ref()?.verdict == Verdict::NotReady
                && expected_summary(&rr) == Some(summary_of(&value)))
            .then_some(value)
        },
    )
    .await;
    assert_eq!(
        result_of(&after, "security-privileged"),
        Some((json!("fail"), json!("critical")))
    );
    assert_ne!(summary_of(&after), before);

    // Steady state: judged again every 5 s for 20 s, nothing is written.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let versions = || async {
        reports
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|r| {
                (
                    r.metadata.name.unwrap(),
                    r.metadata.resource_version.unwrap(),
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    let family = "prodready_openreports_writes_total";
    let (versions_before, writes_before) = (versions().await, controller.metric(family));
    let evaluations_before = controller.metric("prodready_evaluations_total");
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(versions().await, versions_before, "no Report moved in 20 s");
    assert_eq!(controller.metric(family), writes_before);
    assert_ne!(
        controller.metric("prodready_evaluations_total"),
        evaluations_before,
        "the workloads were judged again meanwhile"
    );
    eprintln!("{}", writes_before.join("\n"));

    // A Report someone deletes or edits comes back.
    reports
        .delete("prodready-deployment-a", &DeleteParams::default())
        .await
        .unwrap();
    reports
        .patch(
            "prodready-deployment-b",
            &PatchParams::default(),
            &Patch::Merge(json!({"summary": {"fail": 99}})),
        )
        .await
        .unwrap();
    eventually("the Reports restored", Duration::from_secs(10), || async {
        let a = reports.get_opt("prodready-deployment-a").await.ok()??;
        let b = serde_json::to_value(reports.get("prodready-deployment-b").await.ok()?).unwrap();
        (summary_of(&b) == summary_of(&after) && a.metadata.name.is_some()).then_some(())
    })
    .await;
    controller.stop().await;
}

/// A dedicated control plane without the OpenReports CRD: the operator (the binary, under the
/// chart's RBAC) keeps judging, logs the missing CRD once, counts the Reports it could not
/// write, writes them once the CRD is installed, and the garbage collector removes a Report
/// with its workload.
#[tokio::test]
async fn without_the_crd_it_keeps_working_and_writes_once_the_crd_is_installed() {
    let Some(cp) = support::dedicated_controlplane().await else {
        return;
    };
    install_prodready_crds(&cp).await;
    let operator = install_rbac(&cp).await;
    let admin = cp.client();
    let ns = cp.namespace("no-crd").await;
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), &ns);
    deployments
        .create(&PostParams::default(), &deployment("web", 2))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    operator.kubeconfig(&cp, &kubeconfig);
    let log_path = dir.path().join("operator.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_prodready"))
        .args(["controller", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["-n", &ns, "--http-addr", &format!("127.0.0.1:{port}")])
        .args([
            "--openreports",
            "--crd-recheck",
            "1s",
            "--log-format",
            "json",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Kill(child);
    let get = |path: &'static str| async move {
        use std::io::Read;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
            .ok()?;
        let mut text = String::new();
        stream.read_to_string(&mut text).ok()?;
        Some(text)
    };
    let counter = |metrics: &str, result: &str| -> Option<u64> {
        let prefix = format!("prodready_openreports_writes_total{{result=\"{result}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
    };
    // It keeps working: the ReadinessReport is written, /readyz answers.
    let readiness: Api<ReadinessReport> = Api::namespaced(admin.clone(), &ns);
    eventually("the ReadinessReport", Duration::from_secs(60), || async {
        readiness
            .get_opt("deployment-web")
            .await
            .ok()??
            .status
            .map(|_| ())
    })
    .await;
    let ready = get("/readyz").await.unwrap_or_default();
    assert!(
        ready.lines().next().is_some_and(|l| l.contains(" 200 ")),
        "{ready}"
    );
    // The Report it could not write is counted; nothing was created.
    let metrics = eventually("crd_missing counted", Duration::from_secs(10), || async {
        get("/metrics")
            .await
            .filter(|m| counter(m, "crd_missing").is_some_and(|n| n >= 1))
    })
    .await;
    assert_eq!(counter(&metrics, "created"), Some(0), "{metrics}");
    // Several looks later, it has said so once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let logs = || std::fs::read_to_string(&log_path).unwrap();
    let said = |text: &str, needle: &str| text.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(
        said(&logs(), "OpenReports CRD not installed"),
        1,
        "{}",
        logs()
    );
    let reports = reports_api(&admin, &ns);

    // The CRD installed: the Report follows within seconds, without a restart.
    install_upstream_crds(&cp);
    let installed = Instant::now();
    let report = eventually(
        "the Report once the CRD is there",
        Duration::from_secs(30),
        || async { reports.get_opt("prodready-deployment-web").await.ok()? },
    )
    .await;
    eprintln!(
        "Report written {:.1}s after the CRD was installed",
        installed.elapsed().as_secs_f64()
    );
    let rr = readiness.get("deployment-web").await.unwrap();
    assert_eq!(
        expected_summary(&rr),
        Some(summary_of(&serde_json::to_value(&report).unwrap()))
    );
    let metrics = get("/metrics").await.unwrap_or_default();
    assert_eq!(counter(&metrics, "created"), Some(1), "{metrics}");
    assert_eq!(said(&logs(), "OpenReports CRD installed"), 1, "{}", logs());
    assert_eq!(
        said(&logs(), "OpenReports CRD not installed"),
        1,
        "{}",
        logs()
    );

    // The garbage collector removes the Report with its workload (through the owner reference).
    cp.start_workload_controllers().await;
    deployments
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    eventually(
        "the Report removed with its workload",
        Duration::from_secs(60),
        || async {
            reports
                .get_opt("prodready-deployment-web")
                .await
                .ok()?
                .is_none()
                .then_some(())
        },
    )
    .await;
}
