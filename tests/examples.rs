//! The bundled examples are the product's demonstration: the flawed application fails in every
//! category with the findings its hand-written audits named, and its fixed twin scores 100.
//! Their output in every format is kept as golden files. Each directory holds the whole of its
//! namespaces, so they are audited `--complete`: what they do not hold does not exist.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::golden::{golden, without_version};

const NOW: &str = "2026-06-01T12:00:00Z";

fn audit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prodready"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .args(["audit", "--complete", "--now", NOW])
        .args(args)
        .output()
        .expect("prodready runs")
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json"]);
    let out = audit(&all);
    let doc = serde_json::from_slice(&out.stdout).expect("JSON output");
    (out.status.code().expect("exit code"), doc)
}

fn reports(doc: &Value) -> &Vec<Value> {
    doc["reports"].as_array().expect("reports")
}

fn name(report: &Value) -> String {
    format!(
        "{}/{}",
        report["workload"]["kind"].as_str().unwrap(),
        report["workload"]["name"].as_str().unwrap()
    )
}

/// (check, result) pairs of a workload's findings.
fn outcomes(doc: &Value, workload: &str) -> Vec<(String, String)> {
    let report = reports(doc)
        .iter()
        .find(|r| name(r) == workload)
        .unwrap_or_else(|| panic!("no report for {workload}"));
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["checkId"].as_str().unwrap().to_string(),
                f["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn fails(doc: &Value, workload: &str, check: &str) -> bool {
    outcomes(doc, workload).contains(&(check.to_string(), "fail".to_string()))
}

#[test]
fn the_fixed_twin_scores_100_with_nothing_failing() {
    let (code, doc) = json(&["examples/fixed/", "--fail-on", "info"]);
    assert_eq!(code, 0);
    // Eight workloads and the namespace's own report (its Services route somewhere).
    assert_eq!(reports(&doc).len(), 9);
    for r in reports(&doc) {
        assert_eq!(r["score"], 100, "{}", name(r));
        assert_eq!(r["verdict"], "Ready", "{}", name(r));
        for f in r["findings"].as_array().unwrap() {
            assert_eq!(
                f["result"],
                "skip",
                "{}: {} {}",
                name(r),
                f["checkId"],
                f["message"]
            );
        }
    }
}

#[test]
fn the_flawed_app_fails_in_every_category() {
    let (code, doc) = json(&["examples/"]);
    assert_eq!(code, 1, "critical findings fail the audit");
    let mut categories: Vec<&str> = reports(&doc)
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .filter(|f| f["result"] == "fail")
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    categories.sort_unstable();
    categories.dedup();
    assert_eq!(
        categories,
        vec![
            "Availability",
            "Configuration",
            "Exposure",
            "Helm",
            "Images",
            "Network",
            "Observability",
            "Probes",
            "Resources",
            "Rollout",
            "Security",
            "Storage",
            "Validity"
        ]
    );
}

#[test]
fn the_flawed_app_shows_what_its_auditors_found() {
    let (_, doc) = json(&["examples/"]);
    // Seed 001: the risk API's probes are inverted; Redis runs single and ephemeral; the Feast
    // registry lives on an emptyDir; TimescaleDB has no backups; connection strings ask for no
    // TLS; insecure fallbacks can be switched on.
    assert!(fails(&doc, "Deployment/risk-api", "probe-inverted"));
    assert!(fails(
        &doc,
        "Deployment/redis",
        "storage-ephemeral-datastore"
    ));
    assert!(fails(
        &doc,
        "Deployment/redis",
        "availability-single-replica"
    ));
    assert!(fails(&doc, "Deployment/feast", "storage-emptydir-data"));
    assert!(fails(&doc, "StatefulSet/timescaledb", "storage-no-backup"));
    assert!(fails(&doc, "Deployment/risk-api", "config-insecure-flag"));
    assert!(fails(&doc, "Deployment/risk-api", "security-run-as-root"));
    // Seeds 000, 002, 004: hardcoded credentials, no TLS at the edge, CORS for any origin.
    assert!(fails(&doc, "Deployment/risk-api", "config-literal-secret"));
    assert!(fails(&doc, "Deployment/api", "exposure-ingress-no-tls"));
    assert!(fails(&doc, "Deployment/api", "exposure-cors-wildcard"));
    assert!(fails(&doc, "Deployment/api", "config-plaintext-connection"));
    // Seed 000: autoscaling disabled by default; and the release itself failed.
    assert!(fails(&doc, "Deployment/api", "helm-release-failed"));
    assert!(fails(&doc, "Deployment/api", "helm-autoscaling-disabled"));
}

#[test]
fn every_format_on_the_examples_is_golden() {
    for (format, file) in [
        ("table", "examples.table.txt"),
        ("json", "examples.json"),
        ("yaml", "examples.yaml"),
        ("sarif", "examples.sarif.json"),
        ("junit", "examples.junit.xml"),
    ] {
        let out = audit(&["examples/", "--format", format, "--color", "never"]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8(out.stdout).expect("UTF-8 output");
        golden(file, &without_version(&text));
    }
}
