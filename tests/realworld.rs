//! Real public manifests (`tests/fixtures/realworld/`), audited as a new user would, and every
//! failing or warning finding reviewed against the manifest: `expected/<corpus>.tsv` lists each
//! with the reason it is true for that workload. A finding that appears, vanishes, or changes
//! outcome or severity fails here: a false finding is fixed in the engine, a lost true one too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const NOW: &str = "2026-06-01T12:00:00Z";

/// Each corpus: its name (and expectation file), its path, and the arguments it is audited with
/// (the namespace its documentation deploys it to, when its manifests name none).
const CORPORA: &[(&str, &str, &[&str])] = &[
    ("sock-shop", "sock-shop.yaml", &[]),
    ("gatekeeper", "gatekeeper.yaml", &[]),
    ("kube-state-metrics", "kube-state-metrics", &[]),
    (
        "k8s-examples-cassandra",
        "k8s-examples/databases-cassandra",
        &[],
    ),
    ("k8s-examples-guestbook", "k8s-examples/web-guestbook", &[]),
    (
        "k8s-examples-vllm",
        "k8s-examples/AI-vllm-deployment",
        &["-n", "vllm-example"],
    ),
    ("bitnami-postgresql", "bitnami-postgresql.yaml", &[]),
    (
        "bitnami-postgresql-replication",
        "bitnami-postgresql-replication.yaml",
        &[],
    ),
    ("bitnami-redis", "bitnami-redis.yaml", &[]),
    ("bitnami-redis-sentinel", "bitnami-redis-sentinel.yaml", &[]),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realworld")
}

/// A finding as the expectations name it: workload, check, where, outcome.
type Key = (String, String, String, String);

/// The failing and warning findings of an audit, with their messages.
fn audited(path: &str, args: &[&str]) -> BTreeMap<Key, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_prodready"))
        .arg("audit")
        .arg(root().join(path))
        .args(args)
        .args(["--now", NOW, "--format", "json", "--fail-on", "none"])
        .env_remove("RUST_LOG")
        .output()
        .expect("prodready runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let mut found = BTreeMap::new();
    for report in doc["reports"].as_array().expect("reports") {
        let w = &report["workload"];
        let workload = format!(
            "{}/{}",
            w["kind"].as_str().unwrap(),
            w["name"].as_str().unwrap()
        );
        for f in report["findings"].as_array().expect("findings") {
            let result = f["result"].as_str().unwrap();
            if result != "fail" && result != "warn" {
                continue;
            }
            let at = f["container"]
                .as_str()
                .or(f["object"].as_str())
                .unwrap_or("-");
            let key = (
                workload.clone(),
                f["checkId"].as_str().unwrap().to_string(),
                at.to_string(),
                format!("{result} {}", f["severity"].as_str().unwrap()),
            );
            let message = f["message"].as_str().unwrap().to_string();
            assert!(
                found.insert(key.clone(), message).is_none(),
                "{path}: two findings read {key:?}"
            );
        }
    }
    found
}

/// The reviewed findings of a corpus, with their reasons.
fn expected(corpus: &str) -> BTreeMap<Key, String> {
    let file = root().join("expected").join(format!("{corpus}.tsv"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut rows = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        assert!(
            cells.len() == 5 && !cells[4].trim().is_empty(),
            "{}:{}: expected workload, check, at, outcome and a reason, tab-separated",
            file.display(),
            n + 1
        );
        let key = (
            cells[0].to_string(),
            cells[1].to_string(),
            cells[2].to_string(),
            cells[3].to_string(),
        );
        assert!(
            rows.insert(key, cells[4].to_string()).is_none(),
            "{}:{}: listed twice",
            file.display(),
            n + 1
        );
    }
    rows
}

#[test]
fn every_finding_on_real_manifests_is_the_reviewed_one() {
    let mut problems = Vec::new();
    for (corpus, path, args) in CORPORA {
        let found = audited(path, args);
        let reviewed = expected(corpus);
        for (key, message) in &found {
            if !reviewed.contains_key(key) {
                problems.push(format!(
                    "{corpus}: new finding, not reviewed:\n  {}\t{}\t{}\t{}\t<reason>\n  ({message})",
                    key.0, key.1, key.2, key.3
                ));
            }
        }
        for (key, reason) in &reviewed {
            if !found.contains_key(key) {
                problems.push(format!(
                    "{corpus}: reviewed finding no longer reported: {} {} {} {} ({reason})",
                    key.0, key.1, key.2, key.3
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}
