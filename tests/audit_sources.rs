//! `prodready audit -` on what pipelines really pipe into it: `helm template`, `kustomize build`
//! (`kubectl kustomize`), and `kubectl get -o yaml` from a live cluster, whose status lets the
//! live checks run offline. The tools and the cluster are the real ones the harness builds.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `prodready audit - --format json` on `input`.
fn audit_stdin(input: &[u8]) -> (i32, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_prodready"))
        .args(["audit", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prodready starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("input written");
    let out = child.wait_with_output().expect("prodready runs");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exit code"), doc)
}

fn ok(out: Output, what: &str) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn report<'a>(doc: &'a Value, kind: &str, name: &str) -> &'a Value {
    doc["reports"]
        .as_array()
        .expect("reports")
        .iter()
        .find(|r| r["workload"]["kind"] == kind && r["workload"]["name"] == name)
        .unwrap_or_else(|| panic!("no report for {kind}/{name} in {doc}"))
}

fn result(report: &Value, check: &str) -> String {
    if report["passedChecks"]
        .as_array()
        .is_some_and(|p| p.iter().any(|c| c == check))
    {
        return "pass".into();
    }
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["checkId"] == check)
        .map_or("n/a".into(), |f| f["result"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn helm_template_output_is_judged() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let rendered = ok(
        cp.helm()
            .args(["template", "shop"])
            .arg(root().join("tests/fixtures/chart"))
            .output()
            .expect("helm runs"),
        "helm template",
    );
    let (code, doc) = audit_stdin(&rendered);
    assert_eq!(code, 0, "no critical finding in the chart");
    let api = report(&doc, "Deployment", "shop-api");
    assert_eq!(result(api, "probe-readiness-missing"), "fail");
    assert_eq!(result(api, "probe-liveness-missing"), "pass");
    assert_eq!(result(api, "exposure-public-service"), "fail");
    assert_eq!(result(api, "availability-single-replica"), "fail");
}

#[tokio::test]
async fn kustomize_build_output_is_judged() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let built = ok(
        cp.kubectl()
            .arg("kustomize")
            .arg(root().join("tests/fixtures/kustomize"))
            .output()
            .expect("kubectl runs"),
        "kubectl kustomize",
    );
    let (code, doc) = audit_stdin(&built);
    assert_eq!(code, 1, "an ephemeral datastore is critical");
    let redis = report(&doc, "Deployment", "staging-redis");
    assert_eq!(redis["workload"]["namespace"], "staging");
    assert_eq!(result(redis, "storage-ephemeral-datastore"), "fail");
    // The emptyDir at /data is that finding's cause: it is not reported a second time.
    assert_eq!(result(redis, "storage-emptydir-data"), "pass");
}

#[tokio::test]
async fn a_kubectl_dump_of_a_live_cluster_is_judged_with_its_live_state() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    cp.start_workload_controllers().await;
    let ns = cp.namespace("dump").await;
    let manifest = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: {ns}}}\nspec:\n  \
         replicas: 2\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: \
         {{labels: {{app: api}}}}\n    spec:\n      containers: [{{name: app, image: \
         registry.example.com/api:1.0}}]\n"
    );
    let mut apply = cp
        .kubectl()
        .args(["apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    apply
        .stdin
        .take()
        .unwrap()
        .write_all(manifest.as_bytes())
        .unwrap();
    ok(apply.wait_with_output().unwrap(), "kubectl apply");

    // Wait until the Deployment itself reports both pods available (its ReplicaSet says so
    // first), so the dump holds the settled live state that `kubectl get` then shows.
    ok(
        cp.kubectl()
            .args(["wait", "deployment/api", "-n", &ns, "--timeout=90s"])
            .arg("--for=jsonpath={.status.availableReplicas}=2")
            .output()
            .expect("kubectl runs"),
        "kubectl wait for two available replicas",
    );
    let dump = ok(
        cp.kubectl()
            .args([
                "get",
                "deployments,replicasets,pods,persistentvolumeclaims",
                "-n",
                &ns,
            ])
            .args(["-o", "yaml"])
            .output()
            .expect("kubectl runs"),
        "kubectl get",
    );
    let (_, doc) = audit_stdin(&dump);
    let api = report(&doc, "Deployment", "api");
    // Live state came with the dump: the live checks were judged, not skipped.
    assert_eq!(result(api, "live-replicas-unavailable"), "pass", "{api}");
    assert_eq!(result(api, "live-crashloop"), "pass", "{api}");
    assert_eq!(result(api, "live-image-pull-failure"), "pass", "{api}");
    // Owned ReplicaSets and Pods are live state of the Deployment, not workloads of their own.
    assert_eq!(doc["reports"].as_array().unwrap().len(), 1, "{doc}");
}
