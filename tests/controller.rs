//! The operator against a real control plane, running under exactly the RBAC rules of the Helm
//! chart (impersonating its ServiceAccount): reports appear, follow changes within seconds,
//! stay untouched in steady state, come back when deleted, and go with their workload.

mod support;

use support::eventually;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, CustomResourceExt};
use prodready::api::{CheckResult, ReadinessPolicy, ReadinessReport, Verdict};
use prodready::controller::{self, Config, Context};
use serde_json::json;
use support::ControlPlane;
use tokio::sync::oneshot;

/// One controller running in the test's runtime.
struct Running {
    ctx: Arc<Context>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), controller::Error>>,
}

impl Running {
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
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs a command that must succeed; returns its stdout.
fn run(cmd: &mut Command, stdin: Option<&str>) -> String {
    support::ok(cmd, stdin.map(str::as_bytes), &format!("{cmd:?}"))
}

fn kubectl_apply(cp: &ControlPlane, yaml: &str) {
    run(cp.kubectl().args(["apply", "-f", "-"]), Some(yaml));
}

/// What most tests start from: the shared control plane with the CRDs installed, an admin
/// client, and a namespace of the test's own.
struct Setup {
    cp: &'static ControlPlane,
    admin: Client,
    ns: String,
}

/// [`Setup`], or `None` when there is no control plane (outside CI): the test then returns,
/// and is reported as skipped when the test binary exits.
async fn setup(namespace_prefix: &str) -> Option<Setup> {
    let cp = support::controlplane().await?;
    install_crds(cp).await;
    Some(Setup {
        cp,
        admin: cp.client(),
        ns: cp.namespace(namespace_prefix).await,
    })
}

/// CRDs every controller of this test binary sees the same way (discovery runs at start-up).
async fn install_crds(cp: &ControlPlane) {
    cp.apply_crd(&ReadinessReport::crd()).await;
    cp.apply_crd(&ReadinessPolicy::crd()).await;
    for (kind, plural) in [
        ("ServiceMonitor", "servicemonitors"),
        ("PodMonitor", "podmonitors"),
        ("PrometheusRule", "prometheusrules"),
    ] {
        cp.apply_crd(&support::open_crd("monitoring.coreos.com", kind, plural))
            .await;
    }
}

/// The identity the chart's RBAC binds: (user, groups, namespace of the release).
struct Operator {
    user: String,
    groups: Vec<String>,
    namespace: String,
}

impl Operator {
    fn client(&self, cp: &ControlPlane) -> Client {
        let groups: Vec<&str> = self.groups.iter().map(String::as_str).collect();
        cp.client_as(&self.user, &groups)
    }

    /// The client configuration, for a client built on another runtime.
    fn config(&self, cp: &ControlPlane) -> kube::Config {
        let mut config = cp.config();
        config.auth_info.impersonate = Some(self.user.clone());
        config.auth_info.impersonate_groups = Some(self.groups.clone());
        config
    }
}

/// Installs the chart's RBAC in a namespace of its own and returns a client that acts as the
/// chart's ServiceAccount.
async fn operator_client(cp: &ControlPlane) -> (Client, String) {
    let operator = install_rbac(cp).await;
    (operator.client(cp), operator.namespace)
}

async fn install_rbac(cp: &ControlPlane) -> Operator {
    install_rbac_edited(cp, |rendered| rendered).await
}

/// The chart's RBAC, edited before it is applied (to take a permission away).
async fn install_rbac_edited(cp: &ControlPlane, edit: impl Fn(String) -> String) -> Operator {
    let ns = cp.namespace("prodready-system").await;
    let release = format!("prodready-{ns}");
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/prodready");
    let rendered = run(
        cp.helm()
            .args(["template", &release])
            .arg(&chart)
            .args(["--namespace", &ns])
            // The controller alone: no webhook configuration that the apiserver would call
            // for every workload of every test.
            .args(["--set", "webhook.enabled=false"]),
        None,
    );
    kubectl_apply(cp, &edit(rendered));
    Operator {
        user: format!("system:serviceaccount:{ns}:{release}"),
        groups: vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{ns}"),
            "system:authenticated".into(),
        ],
        namespace: ns,
    }
}

async fn start(cp: &ControlPlane, namespace: &str, tune: impl FnOnce(&mut Config)) -> Running {
    install_crds(cp).await;
    let (client, operator_ns) = operator_client(cp).await;
    let mut config = Config {
        namespace: Some(namespace.to_string()),
        identity: format!("test-{operator_ns}"),
        ..Config::default()
    };
    tune(&mut config);
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

/// Waits until the report of `name` (a Deployment unless prefixed) says `want` for `check`;
/// returns how long it took.
async fn wait_result(
    admin: &Client,
    ns: &str,
    report: &str,
    check: &str,
    want: &[CheckResult],
    timeout: Duration,
) -> Duration {
    let api: Api<ReadinessReport> = Api::namespaced(admin.clone(), ns);
    let started = Instant::now();
    eventually(
        &format!("{report}: {check} in {want:?}"),
        timeout,
        || async {
            let r = api.get_opt(report).await.ok()??;
            support::result_of(&r, check)
                .filter(|got| want.contains(got))
                .map(|_| ())
        },
    )
    .await;
    started.elapsed()
}

fn deployment(name: &str, replicas: i32) -> serde_json::Value {
    json!({
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
    })
}

async fn create<K>(client: &Client, ns: &str, value: serde_json::Value) -> K
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    let object: K = serde_json::from_value(value).expect("a valid object");
    Api::<K>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &object)
        .await
        .expect("create")
}

#[tokio::test]
async fn examples_get_reports_with_the_findings_of_the_offline_audit() {
    let Some(Setup { cp, admin, .. }) = setup("examples").await else {
        return;
    };
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    run(
        cp.kubectl()
            .args(["apply", "-f"])
            .arg(examples.join("namespace.yaml")),
        None,
    );
    run(cp.kubectl().args(["apply", "-f"]).arg(&examples), None);
    let started = Instant::now();
    let controller = start(cp, "trading", |_| {}).await;

    // What the offline audit of the same files finds.
    let mut inventory = prodready::input::Inventory::new();
    inventory.add_path(&examples);
    let policy = prodready::engine::CompiledPolicy::builtin();
    let now = jiff::Timestamp::now();
    let mut offline: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for w in inventory.workloads.iter().filter(|w| {
        w.object.meta().namespace.as_deref() == Some("trading") && w.object.is_top_level()
    }) {
        let view = w.object.view().unwrap();
        let report = prodready::engine::evaluate(&view, &inventory.world, &policy, now);
        let failing = report
            .findings
            .iter()
            .filter(|f| f.result == CheckResult::Fail)
            .filter(|f| {
                prodready::checks::by_id(&f.check_id).unwrap().needs != prodready::api::Needs::Live
            })
            .map(|f| f.check_id.to_string())
            .collect();
        offline.insert(
            format!("{}-{}", view.kind.as_str().to_lowercase(), view.name),
            failing,
        );
    }
    assert_eq!(offline.len(), 6, "six workloads in the flawed platform");

    let api: Api<ReadinessReport> = Api::namespaced(admin.clone(), "trading");
    let reports = eventually("a report per workload", Duration::from_secs(60), || async {
        let list = api.list(&ListParams::default()).await.ok()?;
        // The object and its status are two writes: wait for both.
        let complete = list.items.iter().all(|r| r.status.is_some());
        (list.items.len() >= offline.len() && complete).then_some(list.items)
    })
    .await;
    eprintln!(
        "{} reports within {:.1}s of the controller's start",
        reports.len(),
        started.elapsed().as_secs_f64()
    );
    for report in &reports {
        let name = report.metadata.name.clone().unwrap();
        let expected = offline
            .get(&name)
            .unwrap_or_else(|| panic!("unexpected report {name}"));
        let status = report.status.as_ref().expect("a status");
        assert_eq!(status.verdict, Verdict::NotReady, "{name}");
        for check in expected {
            assert_eq!(
                support::result_of(report, check),
                Some(CheckResult::Fail),
                "{name}: {check} fails offline and must fail in the cluster"
            );
        }
        let labels = report.metadata.labels.clone().unwrap();
        assert_eq!(
            labels["prodready.dev/workload-name"],
            report.spec.workload_ref.name
        );
        assert_eq!(labels["prodready.dev/release"], "trading");
        let condition = &status.conditions[0];
        assert_eq!(
            (condition.type_.as_str(), condition.status.as_str()),
            ("ProductionReady", "False")
        );
        assert!(
            report
                .metadata
                .owner_references
                .as_ref()
                .is_some_and(|o| o.len() == 1),
            "{name} is owned by its workload"
        );
    }
    // The Helm release Secrets (revision 2 failed) are read through the field-selected watch.
    assert_eq!(
        support::result_of(
            reports
                .iter()
                .find(|r| r.metadata.name.as_deref() == Some("deployment-api"))
                .unwrap(),
            "helm-release-failed"
        ),
        Some(CheckResult::Fail)
    );
    // The verdict shows by default; the condition and the release with -o wide.
    let table = run(
        cp.kubectl()
            .args(["get", "readinessreports", "-n", "trading"]),
        None,
    );
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME", "KIND", "WORKLOAD", "VERDICT", "SCORE", "CRITICAL", "HIGH", "AGE"
        ]
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("deployment-redis") && l.contains("NotReady")),
        "{table}"
    );
    let wide = run(
        cp.kubectl()
            .args(["get", "readinessreports", "-n", "trading", "-o", "wide"]),
        None,
    );
    let header = wide.lines().next().unwrap();
    for column in ["VERDICT", "PRODUCTIONREADY", "RELEASE"] {
        assert!(header.contains(column), "{column} missing in {header}");
    }
    // The CRD's category: `kubectl get prodready` lists the reports too.
    let category = run(
        cp.kubectl().args(["get", "prodready", "-n", "trading"]),
        None,
    );
    assert!(
        category
            .lines()
            .any(|l| l.starts_with("readinessreport.prodready.dev/deployment-redis")),
        "{category}"
    );
    // The summary condition is what `kubectl wait` waits for.
    run(
        cp.kubectl().args([
            "wait",
            "--for=condition=ProductionReady=False",
            "readinessreport/deployment-redis",
            "-n",
            "trading",
            "--timeout=10s",
        ]),
        None,
    );
    controller.stop().await;
}

#[tokio::test]
async fn related_objects_flip_their_checks_within_five_seconds() {
    let Some(Setup { cp, admin, ns }) = setup("flips").await else {
        return;
    };
    let controller = start(cp, &ns, |_| {}).await;
    create::<Deployment>(&admin, &ns, deployment("web", 2)).await;
    kubectl_apply(
        cp,
        &format!(
            r#"{{"apiVersion": "v1", "kind": "Service", "metadata": {{"name": "web", "namespace": "{ns}", "labels": {{"app": "web"}}}},
               "spec": {{"selector": {{"app": "web"}}, "ports": [{{"name": "http", "port": 80, "targetPort": "http"}}]}}}}"#
        ),
    );
    let fail = [CheckResult::Fail];
    let pass = [CheckResult::Pass];
    let first = wait_result(
        &admin,
        &ns,
        "deployment-web",
        "network-no-policy",
        &fail,
        Duration::from_secs(60),
    )
    .await;
    eprintln!("first report after {:.1}s", first.as_secs_f64());

    let ingress_plain = format!(
        r#"{{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {{"name": "web", "namespace": "{ns}"}},
           "spec": {{"rules": [{{"host": "web.example.com", "http": {{"paths": [{{"path": "/", "pathType": "Prefix",
             "backend": {{"service": {{"name": "web", "port": {{"number": 80}}}}}}}}]}}}}]}}}}"#
    );
    kubectl_apply(cp, &ingress_plain);
    wait_result(
        &admin,
        &ns,
        "deployment-web",
        "exposure-ingress-no-tls",
        &fail,
        Duration::from_secs(10),
    )
    .await;

    // (object to add, its kind/name, the check it makes pass)
    let cases = [
        (
            format!(
                r#"{{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {{"name": "web", "namespace": "{ns}"}},
                   "spec": {{"podSelector": {{"matchLabels": {{"app": "web"}}}}, "policyTypes": ["Ingress"]}}}}"#
            ),
            "networkpolicy/web",
            "network-no-policy",
        ),
        (
            format!(
                r#"{{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {{"name": "web", "namespace": "{ns}"}},
                   "spec": {{"maxUnavailable": 1, "selector": {{"matchLabels": {{"app": "web"}}}}}}}}"#
            ),
            "poddisruptionbudget/web",
            "availability-no-pdb",
        ),
        (
            format!(
                r#"{{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {{"name": "web", "namespace": "{ns}"}},
                   "spec": {{"minReplicas": 2, "maxReplicas": 5,
                     "scaleTargetRef": {{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}}}}"#
            ),
            "horizontalpodautoscaler/web",
            "availability-no-hpa",
        ),
        (
            format!(
                r#"{{"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {{"name": "web", "namespace": "{ns}"}},
                   "spec": {{"selector": {{"matchLabels": {{"app": "web"}}}}, "endpoints": [{{"port": "http"}}]}}}}"#
            ),
            "servicemonitor/web",
            "observability-no-metrics",
        ),
    ];
    for (manifest, object, check) in &cases {
        let before = wait_result(
            &admin,
            &ns,
            "deployment-web",
            check,
            &fail,
            Duration::from_secs(10),
        )
        .await;
        assert!(before < Duration::from_secs(5));
        kubectl_apply(cp, manifest);
        let on = wait_result(
            &admin,
            &ns,
            "deployment-web",
            check,
            &pass,
            Duration::from_secs(5),
        )
        .await;
        run(
            cp.kubectl()
                .args(["delete", "-n", &ns, object, "--wait=false"]),
            None,
        );
        let off = wait_result(
            &admin,
            &ns,
            "deployment-web",
            check,
            &fail,
            Duration::from_secs(5),
        )
        .await;
        eprintln!(
            "{check}: pass {:.2}s after adding {object}, fail {:.2}s after deleting it",
            on.as_secs_f64(),
            off.as_secs_f64()
        );
    }
    // TLS on the Ingress.
    let ingress_tls = ingress_plain.replace(
        r#""spec": {"rules""#,
        r#""spec": {"tls": [{"hosts": ["web.example.com"], "secretName": "web-tls"}], "rules""#,
    );
    kubectl_apply(cp, &ingress_tls);
    let on = wait_result(
        &admin,
        &ns,
        "deployment-web",
        "exposure-ingress-no-tls",
        &pass,
        Duration::from_secs(5),
    )
    .await;
    kubectl_apply(cp, &ingress_plain);
    let off = wait_result(
        &admin,
        &ns,
        "deployment-web",
        "exposure-ingress-no-tls",
        &fail,
        Duration::from_secs(5),
    )
    .await;
    eprintln!(
        "exposure-ingress-no-tls: pass {:.2}s after adding TLS, fail {:.2}s after removing it",
        on.as_secs_f64(),
        off.as_secs_f64()
    );
    controller.stop().await;
}

#[tokio::test]
async fn steady_state_writes_nothing_and_reports_are_restored_and_removed() {
    let Some(Setup { cp, admin, ns }) = setup("steady").await else {
        return;
    };
    for name in ["a", "b", "c"] {
        create::<Deployment>(&admin, &ns, deployment(name, 2)).await;
    }
    let controller = start(cp, &ns, |_| {}).await;
    let api: Api<ReadinessReport> = Api::namespaced(admin.clone(), &ns);
    eventually("three reports", Duration::from_secs(60), || async {
        let list = api.list(&ListParams::default()).await.ok()?;
        (list.items.len() == 3).then_some(())
    })
    .await;
    // Let the writes settle, then nothing may move for 30 s.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let versions = |list: Vec<ReadinessReport>| -> BTreeMap<String, String> {
        list.into_iter()
            .map(|r| {
                (
                    r.metadata.name.unwrap(),
                    r.metadata.resource_version.unwrap(),
                )
            })
            .collect()
    };
    let before = versions(api.list(&ListParams::default()).await.unwrap().items);
    let writes_before = controller.ctx.render_metrics();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let after = versions(api.list(&ListParams::default()).await.unwrap().items);
    assert_eq!(before, after, "no report moved in 30 s without changes");
    assert_eq!(
        writes_before
            .lines()
            .filter(|l| l.starts_with("prodready_report_writes_total"))
            .collect::<Vec<_>>(),
        controller
            .ctx
            .render_metrics()
            .lines()
            .filter(|l| l.starts_with("prodready_report_writes_total"))
            .collect::<Vec<_>>(),
    );

    // A user deletes one report and edits another: both come back. The bound is generous: the
    // watch delivers the change at once, but the test binaries share a loaded machine in CI.
    const RESTORE: Duration = Duration::from_secs(30);
    api.delete("deployment-a", &DeleteParams::default())
        .await
        .unwrap();
    api.patch_status(
        "deployment-b",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"score": 100, "verdict": "Ready"}})),
    )
    .await
    .unwrap();
    api.patch(
        "deployment-b",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"prodready.dev/workload-name": null}}})),
    )
    .await
    .unwrap();
    eventually("the removed label restored", RESTORE, || async {
        let r = api.get("deployment-b").await.ok()?;
        r.metadata
            .labels?
            .contains_key("prodready.dev/workload-name")
            .then_some(())
    })
    .await;
    eventually("the deleted report restored", RESTORE, || async {
        api.get_opt("deployment-a").await.ok()?.map(|_| ())
    })
    .await;
    eventually("the edited report restored", RESTORE, || async {
        let r = api.get("deployment-b").await.ok()?;
        (r.status?.verdict != Verdict::Ready).then_some(())
    })
    .await;

    // No garbage collector runs here: the controller removes the report of a deleted workload.
    Api::<Deployment>::namespaced(admin.clone(), &ns)
        .delete("c", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the orphaned report removed", RESTORE, || async {
        api.get_opt("deployment-c")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    let metrics = controller.ctx.render_metrics();
    assert!(metrics.contains(&format!(
        r#"prodready_workload_score{{kind="Deployment",namespace="{ns}",workload="a"}}"#
    )));
    assert!(
        !metrics.contains(r#"workload="c""#),
        "no series for a deleted workload"
    );
    controller.stop().await;
}

#[tokio::test]
async fn live_state_shows_in_reports() {
    let Some(Setup { cp, admin, ns }) = setup("live").await else {
        return;
    };
    let controller = start(cp, &ns, |_| {}).await;

    // 0 of 3 available for an hour.
    create::<Deployment>(&admin, &ns, deployment("down", 3)).await;
    let hour_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    Api::<Deployment>::namespaced(admin.clone(), &ns)
        .patch_status(
            "down",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 3, "availableReplicas": 0,
                "unavailableReplicas": 3, "observedGeneration": 1,
                "conditions": [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                                "lastTransitionTime": hour_ago.to_string(), "lastUpdateTime": hour_ago.to_string()}]}})),
        )
        .await
        .unwrap();
    let t = wait_result(
        &admin,
        &ns,
        "deployment-down",
        "live-replicas-unavailable",
        &[CheckResult::Fail],
        Duration::from_secs(30),
    )
    .await;
    eprintln!("live-replicas-unavailable after {:.2}s", t.as_secs_f64());

    // A pod of the Deployment `oom`, OOMKilled a minute ago.
    create::<Deployment>(&admin, &ns, deployment("oom", 2)).await;
    create::<Pod>(
        &admin,
        &ns,
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "oom-5f7d8-abcde", "labels": {"app": "oom", "pod-template-hash": "5f7d8"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "oom-5f7d8",
                                     "uid": "00000000-0000-0000-0000-000000000001", "controller": true}]},
            "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]}}),
    )
    .await;
    let minute_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1);
    Api::<Pod>::namespaced(admin.clone(), &ns)
        .patch_status(
            "oom-5f7d8-abcde",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"status": {"phase": "Running", "containerStatuses": [{
                "name": "app", "image": "registry.example/app:1.0", "imageID": "", "ready": true,
                "restartCount": 1, "started": true,
                "state": {"running": {"startedAt": minute_ago.to_string()}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                    "startedAt": hour_ago.to_string(), "finishedAt": minute_ago.to_string()}}}]}}),
            ),
        )
        .await
        .unwrap();
    let t = wait_result(
        &admin,
        &ns,
        "deployment-oom",
        "live-oomkilled",
        &[CheckResult::Fail],
        Duration::from_secs(30),
    )
    .await;
    eprintln!("live-oomkilled after {:.2}s", t.as_secs_f64());

    // A claim that stays Pending (no provisioner here).
    create::<PersistentVolumeClaim>(
        &admin,
        &ns,
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "none",
                     "resources": {"requests": {"storage": "1Gi"}}}}),
    )
    .await;
    Api::<PersistentVolumeClaim>::namespaced(admin.clone(), &ns)
        .patch_status(
            "data",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Pending"}})),
        )
        .await
        .unwrap();
    let mut with_claim = deployment("claims", 1);
    with_claim["spec"]["template"]["spec"]["volumes"] =
        json!([{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]);
    create::<Deployment>(&admin, &ns, with_claim).await;
    let t = wait_result(
        &admin,
        &ns,
        "deployment-claims",
        "live-pvc-pending",
        &[CheckResult::Warn, CheckResult::Fail],
        Duration::from_secs(30),
    )
    .await;
    eprintln!("live-pvc-pending after {:.2}s", t.as_secs_f64());
    controller.stop().await;
}

#[tokio::test]
async fn a_verdict_change_records_an_event_on_the_workload() {
    let Some(Setup { cp, admin, ns }) = setup("events").await else {
        return;
    };
    let controller = start(cp, &ns, |_| {}).await;
    create::<Deployment>(&admin, &ns, deployment("web", 2)).await;
    wait_result(
        &admin,
        &ns,
        "deployment-web",
        "network-no-policy",
        &[CheckResult::Fail],
        Duration::from_secs(60),
    )
    .await;
    // Privileged: the verdict drops to NotReady.
    Api::<Deployment>::namespaced(admin.clone(), &ns)
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "securityContext": {"privileged": true}}]}}}})),
        )
        .await
        .unwrap();
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(admin.clone(), &ns);
    let event = eventually(
        "a ReadinessDegraded event",
        Duration::from_secs(10),
        || async {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .into_iter()
                .find(|e| e.reason.as_deref() == Some("ReadinessDegraded"))
        },
    )
    .await;
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(
        event.regarding.as_ref().unwrap().name.as_deref(),
        Some("web")
    );
    assert!(
        event
            .note
            .as_deref()
            .unwrap_or("")
            .contains("security-privileged"),
        "{:?}",
        event.note
    );
    controller.stop().await;
}

/// Counters a dashboard or alert takes a rate of exist from the start, at zero: the errors and
/// restarts of every watch, and every result of a report write.
#[tokio::test]
async fn counters_exist_at_zero_from_the_start() {
    let Some(Setup { cp, ns, .. }) = setup("zeros").await else {
        return;
    };
    let controller = start(cp, &ns, |_| {}).await;
    let wanted: Vec<String> = ["Deployment", "Pod", "NetworkPolicy", "ReadinessReport"]
        .iter()
        .flat_map(|kind| {
            [
                format!(r#"prodready_watch_errors_total{{kind="{kind}"}} 0"#),
                format!(r#"prodready_watch_restarts_total{{kind="{kind}"}} 0"#),
            ]
        })
        .chain(
            ["created", "updated", "deleted", "error"]
                .map(|r| format!(r#"prodready_report_writes_total{{result="{r}"}} 0"#)),
        )
        .collect();
    // The watches register as they start, before their first list completes.
    eventually("the zero series", Duration::from_secs(10), || async {
        let metrics = controller.ctx.render_metrics();
        wanted
            .iter()
            .all(|series| metrics.lines().any(|l| l == series))
            .then_some(())
    })
    .await;
    controller.stop().await;
}

/// A namespace being deleted is not written to: the apiserver would refuse every new report
/// and event there. Without a namespace controller (the apiserver alone) a deleted namespace
/// stays Terminating, which is the state a real deletion passes through while its objects go.
#[tokio::test]
async fn a_terminating_namespace_is_not_written_to() {
    let Some(Setup { cp, admin, ns }) = setup("terminating").await else {
        return;
    };
    for name in ["a", "b"] {
        create::<Deployment>(&admin, &ns, deployment(name, 2)).await;
    }
    let controller = start(cp, &ns, |_| {}).await;
    let reports: Api<ReadinessReport> = Api::namespaced(admin.clone(), &ns);
    eventually("two reports", Duration::from_secs(60), || async {
        let list = reports.list(&ListParams::default()).await.ok()?;
        (list.items.len() == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let writes_before = report_writes(&controller.ctx.render_metrics());

    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(admin.clone());
    namespaces
        .delete(&ns, &DeleteParams::default())
        .await
        .unwrap();
    let terminating = namespaces.get(&ns).await.unwrap();
    assert!(terminating.metadata.deletion_timestamp.is_some());
    // The operator hears of it through its watch of Namespaces.
    tokio::time::sleep(Duration::from_secs(1)).await;

    // What the namespace controller does: the reports go first, the workloads stay a while and
    // still change.
    reports
        .delete("deployment-a", &DeleteParams::default())
        .await
        .unwrap();
    let b_before = reports.get("deployment-b").await.unwrap();
    Api::<Deployment>::namespaced(admin.clone(), &ns)
        .patch(
            "b",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "securityContext": {"privileged": true}}]}}}})),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;

    let metrics = controller.ctx.render_metrics();
    assert!(
        !metrics.lines().any(
            |l| l.starts_with(r#"prodready_report_writes_total{result="error"}"#)
                && !l.ends_with(" 0")
        ),
        "no refused writes:\n{metrics}"
    );
    assert_eq!(
        report_writes(&metrics),
        writes_before,
        "no write attempted:\n{metrics}"
    );
    assert!(
        reports.get_opt("deployment-a").await.unwrap().is_none(),
        "the deleted report is not created again"
    );
    assert_eq!(
        reports
            .get("deployment-b")
            .await
            .unwrap()
            .metadata
            .resource_version,
        b_before.metadata.resource_version,
        "the report of the changed workload is left as it was"
    );
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(admin.clone(), &ns);
    assert!(
        events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .all(|e| e.reason.as_deref() != Some("ReadinessDegraded")),
        "no event recorded"
    );
    controller.stop().await;
}

/// A replica on a runtime of its own, so that a crash can be simulated: dropping the runtime
/// stops every task at once, Lease renewal included, without a release.
struct Replica {
    runtime: Option<tokio::runtime::Runtime>,
    ctx: Arc<Context>,
    stop: Option<oneshot::Sender<()>>,
    done: Option<oneshot::Receiver<()>>,
}

impl Replica {
    async fn start(cp: &ControlPlane, operator: &Operator, config: Config) -> Replica {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (ctx_tx, ctx_rx) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let (done_tx, done) = oneshot::channel::<()>();
        let client_config = operator.config(cp);
        runtime.spawn(async move {
            let client = Client::try_from(client_config).expect("a client");
            let ctx = Context::new(client, config);
            let _ = ctx_tx.send(ctx.clone());
            let result = controller::run_with(ctx, async move {
                let _ = stopped.await;
            })
            .await;
            result.expect("the replica ends cleanly");
            let _ = done_tx.send(());
        });
        let ctx = ctx_rx.await.unwrap();
        Replica {
            runtime: Some(runtime),
            ctx,
            stop: Some(stop),
            done: Some(done),
        }
    }

    /// As a crash would: no drain, no Lease release.
    fn kill(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }

    /// As SIGTERM does: drain, release the Lease, return.
    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            tokio::time::timeout(Duration::from_secs(20), done)
                .await
                .expect("the replica stops within 20s")
                .expect("the replica ran to its end");
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The sum of `prodready_report_writes_total` over its results.
fn report_writes(metrics: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("prodready_report_writes_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn a_second_replica_takes_over_when_the_leader_dies() {
    let Some(Setup { cp, admin, ns }) = setup("leader").await else {
        return;
    };
    let operator = install_rbac(cp).await;
    create::<Deployment>(&admin, &ns, deployment("web", 2)).await;
    let config = |identity: &str| Config {
        namespace: Some(ns.clone()),
        identity: identity.to_string(),
        leader_election: Some(controller::LeaderElection {
            lease_namespace: operator.namespace.clone(),
            ..controller::LeaderElection::default()
        }),
        ..Config::default()
    };
    let mut first = Replica::start(cp, &operator, config("replica-a")).await;
    let mut second = Replica::start(cp, &operator, config("replica-b")).await;
    wait_result(
        &admin,
        &ns,
        "deployment-web",
        "network-no-policy",
        &[CheckResult::Fail],
        Duration::from_secs(60),
    )
    .await;
    let (leader, follower) = eventually("one leader", Duration::from_secs(20), || async {
        match (first.ctx.is_leader(), second.ctx.is_leader()) {
            (true, false) => Some((0, 1)),
            (false, true) => Some((1, 0)),
            _ => None,
        }
    })
    .await;
    let replicas = [&mut first, &mut second];
    // The follower keeps warm caches: it knows the workload and its report without leading,
    // and has written nothing.
    assert_eq!(replicas[follower].ctx.state.all_workloads().len(), 1);
    eventually(
        "the follower's report cache",
        Duration::from_secs(5),
        || async { (replicas[follower].ctx.reports.all().len() == 1).then_some(()) },
    )
    .await;
    // Exactly one write between the two replicas, whichever led when it was made: a loaded
    // machine may move the Lease before this point, but two replicas never both write.
    let writes: Vec<f64> = replicas
        .iter()
        .map(|r| report_writes(&r.ctx.render_metrics()))
        .collect();
    assert_eq!(
        writes.iter().sum::<f64>(),
        1.0,
        "report writes by replica: {writes:?}"
    );
    replicas[leader].kill();
    let killed = Instant::now();
    let takeover = eventually("the follower leads", Duration::from_secs(20), || async {
        replicas[follower].ctx.is_leader().then(|| killed.elapsed())
    })
    .await;
    eprintln!(
        "takeover {:.1}s after the leader died",
        takeover.as_secs_f64()
    );
    assert!(
        takeover < Duration::from_secs(15),
        "takeover took {takeover:?}"
    );
    kubectl_apply(
        cp,
        &format!(
            r#"{{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {{"name": "web", "namespace": "{ns}"}},
               "spec": {{"podSelector": {{}}, "policyTypes": ["Ingress"]}}}}"#
        ),
    );
    wait_result(
        &admin,
        &ns,
        "deployment-web",
        "network-no-policy",
        &[CheckResult::Pass],
        Duration::from_secs(5),
    )
    .await;
    // A graceful stop gives the Lease up at once.
    replicas[follower].stop().await;
    let lease: k8s_openapi::api::coordination::v1::Lease =
        Api::namespaced(admin.clone(), &operator.namespace)
            .get("prodready-controller")
            .await
            .unwrap();
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity),
        None,
        "the Lease is released on shutdown"
    );
}

/// A stop that comes while the first batch of a large namespace is being judged is honoured
/// within the batch: the Lease is given up well inside a pod's grace period.
#[tokio::test]
async fn a_stop_during_the_first_batch_releases_the_lease_at_once() {
    let Some(Setup { cp, admin, ns }) = setup("stop-in-batch").await else {
        return;
    };
    let operator = install_rbac(cp).await;
    const WORKLOADS: usize = 300;
    let items: Vec<serde_json::Value> = (0..WORKLOADS)
        .map(|i| deployment(&format!("web-{i}"), 1))
        .collect();
    run(
        cp.kubectl().args(["apply", "-n", &ns, "-f", "-"]),
        Some(&json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()),
    );
    let config = Config {
        namespace: Some(ns.clone()),
        identity: "stopping".to_string(),
        // One at a time: the batch lasts a while.
        concurrency: 1,
        leader_election: Some(controller::LeaderElection {
            lease_namespace: operator.namespace.clone(),
            ..controller::LeaderElection::default()
        }),
        ..Config::default()
    };
    let mut replica = Replica::start(cp, &operator, config).await;
    let api: Api<ReadinessReport> = Api::namespaced(admin.clone(), &ns);
    eventually("the first reports", Duration::from_secs(60), || async {
        let list = api.list(&ListParams::default()).await.ok()?;
        (list.items.len() >= 3).then_some(())
    })
    .await;
    let asked = Instant::now();
    replica.stop().await;
    let took = asked.elapsed();
    let written = api.list(&ListParams::default()).await.unwrap().items.len();
    eprintln!(
        "stopped {:.2}s after asked, {written} of {WORKLOADS} reports written",
        took.as_secs_f64()
    );
    assert!(written < WORKLOADS, "the stop came within the batch");
    assert!(took < Duration::from_secs(5), "stopping took {took:?}");
    let lease: k8s_openapi::api::coordination::v1::Lease =
        Api::namespaced(admin.clone(), &operator.namespace)
            .get("prodready-controller")
            .await
            .unwrap();
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity),
        None,
        "the Lease is released on shutdown"
    );
}

#[tokio::test]
async fn the_binary_serves_health_and_metrics_and_stops_on_sigterm() {
    let Some(Setup { cp, admin, ns }) = setup("binary").await else {
        return;
    };
    create::<Deployment>(&admin, &ns, deployment("web", 2)).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_prodready"))
        .args(["controller", "--kubeconfig"])
        .arg(cp.kubeconfig_path())
        .args(["-n", &ns, "--http-addr", &format!("127.0.0.1:{port}")])
        .args(["--log-format", "json", "--finding-metrics"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A plain HTTP/1.0 request: the server is local and answers at once.
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
    let health = eventually("/healthz", Duration::from_secs(30), || get("/healthz")).await;
    assert!(
        health.lines().next().is_some_and(|l| l.contains(" 200 ")),
        "{health}"
    );
    let ready = eventually("/readyz 200", Duration::from_secs(30), || async {
        get("/readyz")
            .await
            .filter(|r| r.lines().next().is_some_and(|l| l.contains(" 200 ")))
    })
    .await;
    assert!(ready.ends_with("ready"));
    wait_result(
        &admin,
        &ns,
        "deployment-web",
        "network-no-policy",
        &[CheckResult::Fail],
        Duration::from_secs(30),
    )
    .await;
    let metrics = eventually("the workload's series", Duration::from_secs(10), || async {
        get("/metrics")
            .await
            .filter(|m| m.contains(&format!(r#"namespace="{ns}",workload="web""#)))
    })
    .await;
    for name in [
        "prodready_workload_score",
        "prodready_workload_ready",
        "prodready_workload_findings",
        "prodready_finding_info",
        "prodready_evaluations_total",
        "prodready_evaluation_duration_seconds_bucket",
        "prodready_report_writes_total",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }
    // SIGTERM: drains and exits 0.
    let pid = child.id() as i32;
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut logs = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut logs).unwrap();
    assert!(status.success(), "{status}: {logs}");
    // JSON lines, the reconciled workload named in the span of each write.
    let written = logs
        .lines()
        .find(|l| l.contains("report written"))
        .unwrap_or_else(|| panic!("no write logged:\n{logs}"));
    let line: serde_json::Value = serde_json::from_str(written).unwrap();
    assert_eq!(
        line["span"]["workload"],
        format!("Deployment/{ns}/web"),
        "{written}"
    );
    assert!(logs.contains("writes drained"), "{logs}");
}

fn write_chart(dir: &Path, image: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("templates/deployment.yaml"),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  replicas: 2\n  \
             selector:\n    matchLabels: {{app: shop}}\n  template:\n    metadata:\n      labels: {{app: shop}}\n    \
             spec:\n      containers:\n      - name: app\n        image: {image}\n"
        ),
    )
    .unwrap();
}

#[tokio::test]
async fn a_failed_helm_release_fails_until_an_upgrade_succeeds() {
    let Some(Setup { cp, admin, ns }) = setup("helm").await else {
        return;
    };
    let controller = start(cp, &ns, |_| {}).await;
    let chart = tempfile::tempdir().unwrap();
    write_chart(chart.path(), "registry.example/shop:1.0");
    // Nothing runs pods here: waiting for the Deployment times out and the release fails.
    let install = cp
        .helm()
        .args(["install", "shop"])
        .arg(chart.path())
        .args(["-n", &ns, "--wait", "--timeout", "3s"])
        .output()
        .unwrap();
    assert!(!install.status.success(), "the install must fail");
    let t = wait_result(
        &admin,
        &ns,
        "deployment-shop",
        "helm-release-failed",
        &[CheckResult::Fail],
        Duration::from_secs(30),
    )
    .await;
    eprintln!(
        "helm-release-failed {:.2}s after helm gave up",
        t.as_secs_f64()
    );
    let api: Api<ReadinessReport> = Api::namespaced(admin.clone(), &ns);
    let report = api.get("deployment-shop").await.unwrap();
    assert_eq!(
        report.metadata.labels.unwrap()["prodready.dev/release"],
        "shop"
    );
    write_chart(chart.path(), "registry.example/shop:1.1");
    run(
        cp.helm()
            .args(["upgrade", "shop"])
            .arg(chart.path())
            .args(["-n", &ns]),
        None,
    );
    let t = wait_result(
        &admin,
        &ns,
        "deployment-shop",
        "helm-release-failed",
        &[CheckResult::Pass],
        Duration::from_secs(10),
    )
    .await;
    eprintln!(
        "helm-release-failed passes {:.2}s after the upgrade",
        t.as_secs_f64()
    );
    controller.stop().await;
}

#[tokio::test]
async fn a_verdict_back_to_ready_records_a_restored_event() {
    let Some(Setup { cp, admin, ns }) = setup("restored").await else {
        return;
    };
    // Only security-privileged runs here, so the plain Deployment is Ready until it is made
    // privileged, and Ready again once it is not.
    kubectl_apply(
        cp,
        &format!(
            r#"{{"apiVersion": "prodready.dev/v1alpha1", "kind": "ReadinessPolicy", "metadata": {{"name": "only-privileged-{ns}"}},
               "spec": {{"namespaceSelector": {{"matchLabels": {{"kubernetes.io/metadata.name": "{ns}"}}}},
                         "disabledCategories": ["Probes", "Security", "Availability", "Resources", "Storage", "Network",
                                                "Images", "Configuration", "Exposure", "Observability", "Rollout", "Helm"],
                         "checks": [{{"id": "security-privileged", "enabled": true}}]}}}}"#
        ),
    );
    let controller = start(cp, &ns, |_| {}).await;
    create::<Deployment>(&admin, &ns, deployment("web", 2)).await;
    wait_result(
        &admin,
        &ns,
        "deployment-web",
        "security-privileged",
        &[CheckResult::Pass],
        Duration::from_secs(60),
    )
    .await;
    let privileged = |on: bool| {
        Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "securityContext": {"privileged": on}}]}}}}))
    };
    let deployments = Api::<Deployment>::namespaced(admin.clone(), &ns);
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(admin.clone(), &ns);
    let event = |reason: &'static str| {
        let events = events.clone();
        async move {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .into_iter()
                .find(|e| e.reason.as_deref() == Some(reason))
        }
    };
    deployments
        .patch("web", &PatchParams::default(), &privileged(true))
        .await
        .unwrap();
    eventually("a ReadinessDegraded event", Duration::from_secs(10), || {
        event("ReadinessDegraded")
    })
    .await;
    deployments
        .patch("web", &PatchParams::default(), &privileged(false))
        .await
        .unwrap();
    let restored = eventually("a ReadinessRestored event", Duration::from_secs(10), || {
        event("ReadinessRestored")
    })
    .await;
    assert_eq!(restored.type_.as_deref(), Some("Normal"));
    assert_eq!(
        restored.regarding.as_ref().unwrap().name.as_deref(),
        Some("web")
    );
    run(
        cp.kubectl().args([
            "delete",
            "readinesspolicy",
            &format!("only-privileged-{ns}"),
        ]),
        None,
    );
    controller.stop().await;
}

#[tokio::test]
async fn editing_a_policy_judges_its_namespaces_again() {
    let Some(Setup { cp, admin, ns }) = setup("policy").await else {
        return;
    };
    let controller = start(cp, &ns, |_| {}).await;
    create::<Deployment>(&admin, &ns, deployment("web", 2)).await;
    wait_result(
        &admin,
        &ns,
        "deployment-web",
        "network-no-policy",
        &[CheckResult::Fail],
        Duration::from_secs(60),
    )
    .await;
    let policy_name = format!("off-{ns}");
    let policy = |severity: &str| {
        format!(
            r#"{{"apiVersion": "prodready.dev/v1alpha1", "kind": "ReadinessPolicy", "metadata": {{"name": "{policy_name}"}},
               "spec": {{"namespaceSelector": {{"matchLabels": {{"kubernetes.io/metadata.name": "{ns}"}}}},
                         "checks": [{{"id": "network-no-policy", "severity": "{severity}"}}]}}}}"#
        )
    };
    let severity_of = || async {
        let r: ReadinessReport = Api::namespaced(admin.clone(), &ns)
            .get("deployment-web")
            .await
            .ok()?;
        r.status?
            .findings
            .iter()
            .find(|f| f.check_id == "network-no-policy")
            .map(|f| f.severity)
    };
    kubectl_apply(cp, &policy("critical"));
    eventually(
        "critical under the policy",
        Duration::from_secs(5),
        || async { (severity_of().await? == prodready::api::Severity::Critical).then_some(()) },
    )
    .await;
    kubectl_apply(cp, &policy("low"));
    eventually("low after the edit", Duration::from_secs(5), || async {
        (severity_of().await? == prodready::api::Severity::Low).then_some(())
    })
    .await;
    run(
        cp.kubectl()
            .args(["delete", "readinesspolicy", &policy_name]),
        None,
    );
    eventually(
        "the default once deleted",
        Duration::from_secs(5),
        || async { (severity_of().await? == prodready::api::Severity::Medium).then_some(()) },
    )
    .await;
    controller.stop().await;
}

#[tokio::test]
async fn reports_converge_after_an_apiserver_restart() {
    let Some(cp) = support::dedicated_controlplane().await else {
        return;
    };
    let cp = &cp;
    install_crds(cp).await;
    let admin = cp.client();
    let ns = cp.namespace("restart").await;
    for name in ["a", "b"] {
        create::<Deployment>(&admin, &ns, deployment(name, 2)).await;
    }
    let operator = install_rbac(cp).await;
    let mut replica = Replica::start(
        cp,
        &operator,
        Config {
            namespace: Some(ns.clone()),
            ..Config::default()
        },
    )
    .await;
    let api: Api<ReadinessReport> = Api::namespaced(admin.clone(), &ns);
    eventually("two reports", Duration::from_secs(60), || async {
        (api.list(&ListParams::default()).await.ok()?.items.len() == 2).then_some(())
    })
    .await;

    cp.stop_apiserver();
    tokio::time::sleep(Duration::from_secs(2)).await;
    cp.start_apiserver().await;
    let restarted = Instant::now();
    // Changes made once it is back: a new workload, a deleted one, a policy for all.
    let admin = cp.client();
    let api: Api<ReadinessReport> = Api::namespaced(admin.clone(), &ns);
    create::<Deployment>(&admin, &ns, deployment("c", 2)).await;
    Api::<Deployment>::namespaced(admin.clone(), &ns)
        .delete("a", &DeleteParams::default())
        .await
        .unwrap();
    let names = eventually(
        "reports of b and c only",
        Duration::from_secs(60),
        || async {
            let list = api.list(&ListParams::default()).await.ok()?;
            let names: Vec<String> = list
                .items
                .iter()
                .filter_map(|r| r.metadata.name.clone())
                .collect();
            (names == ["deployment-b", "deployment-c"]).then_some(names)
        },
    )
    .await;
    eprintln!(
        "converged {:.1}s after the apiserver came back: {names:?}",
        restarted.elapsed().as_secs_f64()
    );
    replica.stop().await;
    drop(replica);
}

fn audit_json(args: &[&str], cp: Option<&ControlPlane>) -> (i32, serde_json::Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prodready"));
    cmd.arg("audit").args(args).args(["--format", "json"]);
    if let Some(cp) = cp {
        cmd.arg("--kubeconfig").arg(cp.kubeconfig_path());
    }
    let out = cmd.output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), json)
}

/// `name -> failing check IDs that need no live state`.
fn failing_static(audit: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    audit["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let failing = r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["result"] == "fail")
                .map(|f| f["checkId"].as_str().unwrap().to_string())
                .filter(|id| {
                    prodready::checks::by_id(id).unwrap().needs != prodready::api::Needs::Live
                })
                .collect();
            (r["workload"]["name"].as_str().unwrap().to_string(), failing)
        })
        .collect()
}

#[tokio::test]
async fn audit_cluster_judges_what_the_offline_audit_judges() {
    let Some(Setup { cp, .. }) = setup("audit").await else {
        return;
    };
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    run(
        cp.kubectl()
            .args(["apply", "-f"])
            .arg(examples.join("namespace.yaml")),
        None,
    );
    run(cp.kubectl().args(["apply", "-f"]).arg(&examples), None);
    let flawed: Vec<String> = std::fs::read_dir(&examples)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "yaml").then(|| p.display().to_string())
        })
        .collect();
    let flawed: Vec<&str> = flawed.iter().map(String::as_str).collect();
    let (_, offline) = audit_json(&flawed, None);
    let started = Instant::now();
    let (code, live) = audit_json(&["--cluster", "-n", "trading"], Some(cp));
    eprintln!("audit --cluster in {:.2}s", started.elapsed().as_secs_f64());
    assert_eq!(code, 1, "critical findings fail the audit by default");
    let offline = failing_static(&offline);
    let live = failing_static(&live);
    assert_eq!(
        offline.keys().collect::<Vec<_>>(),
        live.keys().collect::<Vec<_>>()
    );
    for (name, checks) in &offline {
        for check in checks {
            assert!(
                live[name].contains(check),
                "{name}: {check} fails offline but not in the cluster"
            );
        }
    }
    // -A reaches other namespaces too.
    let (_, everything) = audit_json(&["--cluster", "-A", "--fail-on", "none"], Some(cp));
    let namespaces: std::collections::BTreeSet<&str> = everything["reports"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["workload"]["namespace"].as_str())
        .collect();
    assert!(namespaces.contains("trading"), "{namespaces:?}");
}

#[tokio::test]
async fn the_chart_grants_reads_and_only_its_own_writes() {
    let Some(Setup { cp, admin, ns }) = setup("rbac").await else {
        return;
    };
    create::<Deployment>(&admin, &ns, deployment("web", 2)).await;
    let operator = install_rbac(cp).await;
    let client = operator.client(cp);
    let forbidden = |result: Result<_, kube::Error>, what: &str| match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("{what} must be forbidden, got {other:?}"),
    };
    // Reads everything it judges.
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    deployments.get("web").await.expect("reads workloads");
    Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), &ns)
        .list(&ListParams::default())
        .await
        .expect("lists Secrets for key names and Helm releases");
    // Writes nothing of what it judges.
    forbidden(
        deployments
            .patch(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": 3}})),
            )
            .await
            .map(|_| ()),
        "patching a Deployment",
    );
    forbidden(
        deployments
            .delete("web", &DeleteParams::default())
            .await
            .map(|_| ()),
        "deleting a Deployment",
    );
    forbidden(
        Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(client.clone(), &ns)
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap(),
            )
            .await
            .map(|_| ()),
        "creating a ConfigMap",
    );
    forbidden(
        Api::<ReadinessPolicy>::all(client.clone())
            .delete("anything", &DeleteParams::default())
            .await
            .map(|_| ()),
        "deleting a ReadinessPolicy",
    );
    // Leases only in its own namespace.
    let lease: k8s_openapi::api::coordination::v1::Lease =
        serde_json::from_value(json!({"metadata": {"name": "elsewhere"}, "spec": {}})).unwrap();
    forbidden(
        Api::<k8s_openapi::api::coordination::v1::Lease>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &lease)
            .await
            .map(|_| ()),
        "creating a Lease outside its namespace",
    );
}

#[tokio::test]
async fn a_kind_it_may_not_read_leaves_its_checks_skipped_and_the_rest_judged() {
    let Some(Setup { cp, admin, ns }) = setup("no-netpol").await else {
        return;
    };
    create::<Deployment>(&admin, &ns, deployment("web", 2)).await;
    let operator = install_rbac_edited(cp, |rendered| {
        let edited = rendered.replace(
            "resources: [ingresses, networkpolicies]",
            "resources: [ingresses]",
        );
        assert_ne!(
            edited, rendered,
            "the chart's rule for NetworkPolicies moved"
        );
        edited
    })
    .await;
    // The default sync timeout (60 s) is never reached: a refused list is given up on at once.
    let ctx = Context::new(
        operator.client(cp),
        Config {
            namespace: Some(ns.clone()),
            ..Config::default()
        },
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(controller::run_with(ctx.clone(), async move {
        let _ = stopped.await;
    }));
    let controller = Running {
        ctx,
        stop: Some(stop),
        task,
    };
    wait_result(
        &admin,
        &ns,
        "deployment-web",
        "network-no-policy",
        &[CheckResult::Skip],
        Duration::from_secs(30),
    )
    .await;
    wait_result(
        &admin,
        &ns,
        "deployment-web",
        "availability-no-pdb",
        &[CheckResult::Fail],
        Duration::from_secs(5),
    )
    .await;
    assert!(
        controller.ctx.is_ready(),
        "ready: a kind it may not list holds nothing up"
    );
    let metrics = controller.ctx.render_metrics();
    assert!(
        metrics.contains(r#"prodready_watch_errors_total{kind="NetworkPolicy"} 1"#),
        "{metrics}"
    );
    controller.stop().await;
}
