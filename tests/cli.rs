//! The `prodready` binary as a pipeline runs it: exit codes, error messages, every output
//! format (against golden files), and the generated CRDs.
//!
//! Golden files live in `tests/golden/`; regenerate them with
//! `UPDATE_GOLDEN=1 cargo test --test cli` and review the diff.

mod support;

use support::golden::{golden, without_version};

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Every run judges at this instant, so live checks and goldens never depend on the clock.
const NOW: &str = "2026-06-01T12:00:00Z";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, run from the repository root (fixture paths in reports stay relative and
/// stable) with nothing from the caller's environment that changes the output.
fn prodready() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prodready"));
    cmd.current_dir(root())
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    cmd
}

fn run(args: &[&str]) -> Output {
    prodready().args(args).output().expect("prodready runs")
}

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = prodready()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prodready starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin)
        .expect("stdin written");
    child.wait_with_output().expect("prodready runs")
}

/// `audit` with a fixed clock. The fixtures here exercise the command line, not the catalogue
/// (the unit tests and `tests/examples.rs` do that): unless a test brings its own policy, only
/// the probe checks run, so each fixture's expected findings stay few and deliberate.
fn audit(args: &[&str]) -> Output {
    let mut all = vec!["audit", "--now", NOW];
    if !args.contains(&"--policy") {
        all.extend_from_slice(&["--policy", PROBES_ONLY]);
    }
    all.extend_from_slice(args);
    run(&all)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", stdout(o)))
}

/// `Kind namespace/name` of every report, in printed order.
fn workloads(doc: &Value) -> Vec<String> {
    doc["reports"]
        .as_array()
        .expect("reports")
        .iter()
        .map(|r| {
            let w = &r["workload"];
            format!(
                "{} {}/{}",
                w["kind"].as_str().unwrap(),
                w["namespace"].as_str().unwrap(),
                w["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn report<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["reports"]
        .as_array()
        .expect("reports")
        .iter()
        .find(|r| r["workload"]["name"] == name)
        .unwrap_or_else(|| panic!("no report for {name} in {doc:#}"))
}

/// (checkId, severity, result) of a report's findings.
fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["checkId"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has_finding(report: &Value, check: &str, severity: &str, result: &str) -> bool {
    findings(report).contains(&(check.into(), severity.into(), result.into()))
}

const AUDIT_SET: &str = "tests/fixtures/audit";
const BROKEN: &str = "tests/fixtures/broken.yaml";
const SHOP: &str = "tests/fixtures/audit/shop.yaml";
const STRICT: &str = "tests/fixtures/policy/strict.yaml";
const PROBES_ONLY: &str = "tests/fixtures/policy/probes-only.yaml";

// ---------------------------------------------------------------------------------------------
// Exit codes

#[test]
fn exit_0_when_nothing_fails_at_or_above_fail_on() {
    // The fixtures fail high and medium checks, none critical: the default gate passes.
    let o = audit(&[AUDIT_SET]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let o = audit(&[AUDIT_SET, "--fail-on", "none", "--policy", STRICT]);
    assert_eq!(code(&o), 0, "--fail-on none never fails on findings");
}

#[test]
fn exit_1_when_a_failing_finding_reaches_fail_on() {
    for level in ["high", "medium", "low", "info"] {
        let o = audit(&[AUDIT_SET, "--fail-on", level]);
        assert_eq!(code(&o), 1, "--fail-on {level}");
    }
    // A policy that raises a check to critical trips the default gate.
    let o = audit(&[AUDIT_SET, "--policy", STRICT]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    // Only failures count: workloads with nothing failing pass even at --fail-on info.
    let o = audit(&[
        "tests/fixtures/audit/platform",
        "--fail-on",
        "info",
        "--policy",
        "tests/fixtures/policy/by-namespace.yaml",
    ]);
    assert_eq!(code(&o), 0, "platform-relaxed leaves nothing failing");
}

#[test]
fn fail_on_is_judged_before_min_severity_hides_findings() {
    let o = audit(&[
        AUDIT_SET,
        "--format",
        "json",
        "--min-severity",
        "critical",
        "--fail-on",
        "medium",
    ]);
    assert_eq!(code(&o), 1);
    let doc = json(&o);
    assert_eq!(doc["summary"]["high"], 2, "summary counts stay unchanged");
}

#[test]
fn exit_2_on_malformed_documents_and_the_good_ones_are_still_judged() {
    let o = audit(&[BROKEN, "--format", "json", "--fail-on", "none"]);
    assert_eq!(code(&o), 2, "input errors win over every gate");
    let err = stderr(&o);
    let expected = [
        "error: tests/fixtures/broken.yaml: document 2 (line 23): not valid YAML or JSON",
        "error: tests/fixtures/broken.yaml: document 3 (line 24): Deployment: spec.replicas: invalid type: string \"three\", expected i32",
        "error: tests/fixtures/broken.yaml: document 4 (line 35): unknown kind \"Deploymnet\"",
        "error: tests/fixtures/broken.yaml: document 5 (line 41): ConfigMap: metadata.name is missing",
        "error: tests/fixtures/broken.yaml: document 6 (line 48): Deployment no-template: no pod template to judge (spec.template.spec is missing)",
    ];
    for e in expected {
        assert!(
            err.lines().any(|l| l.starts_with(e)),
            "missing {e:?} in:\n{err}"
        );
    }
    assert_eq!(err.lines().count(), expected.len(), "{err}");
    let doc = json(&o);
    assert_eq!(
        workloads(&doc),
        ["Deployment shop/before", "Deployment shop/after"]
    );
    let errors = doc["errors"].as_array().expect("errors in the JSON");
    assert_eq!(errors.len(), 5);
    assert_eq!(errors[1]["file"], BROKEN);
    assert_eq!(errors[1]["document"], 3);
    assert_eq!(errors[1]["line"], 24);
    assert!(
        errors[1]["reason"]
            .as_str()
            .unwrap()
            .contains("spec.replicas")
    );

    // Every format still prints the good workloads.
    for format in ["table", "yaml", "sarif", "junit", "openreports"] {
        let o = audit(&[BROKEN, "--format", format]);
        assert_eq!(code(&o), 2, "{format}");
        assert!(stdout(&o).contains("before"), "{format}: {}", stdout(&o));
        assert!(stdout(&o).contains("after"), "{format}");
    }
}

#[test]
fn exit_2_for_missing_files_and_without_paths() {
    let o = audit(&["tests/fixtures/does-not-exist.yaml"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).starts_with("error: tests/fixtures/does-not-exist.yaml: cannot read"),
        "{}",
        stderr(&o)
    );
    let o = run(&["audit"]);
    assert_eq!(code(&o), 2, "no paths is a usage error");
    assert!(stderr(&o).contains("Usage"), "{}", stderr(&o));
    let o = run(&["audit", SHOP, "--fail-on", "severe"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("possible values"), "{}", stderr(&o));
}

// ---------------------------------------------------------------------------------------------
// Input

#[test]
fn stdin_is_read_with_dash() {
    let text = std::fs::read(root().join(SHOP)).unwrap();
    let o = run_with_stdin(&["audit", "-", "--format", "json"], &text);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(
        workloads(&doc),
        [
            "Deployment shop/api",
            "Deployment shop/web",
            // Its Services were judged: they route to its workloads.
            "Namespace shop/shop"
        ]
    );
    assert_eq!(report(&doc, "web")["source"]["file"], "stdin");
    assert_eq!(report(&doc, "web")["source"]["line"], 40);

    let o = run_with_stdin(&["audit", "-"], b"kind: [\n");
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).starts_with("error: stdin: document 1 (line "),
        "{}",
        stderr(&o)
    );

    // stdin mixes with files.
    let o = run_with_stdin(
        &[
            "audit",
            "--format",
            "json",
            "tests/fixtures/audit/platform",
            "-",
        ],
        &text,
    );
    assert_eq!(json(&o)["summary"]["workloads"], 5);
}

/// `-n` gives namespace-less manifests the namespace they will be applied to; `--complete`
/// declares the input the whole namespace, so what it lacks is missing.
#[test]
fn manifests_take_a_namespace_and_can_be_declared_complete() {
    let manifest = b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  \
        replicas: 2\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: \
        {app: api}}\n    spec:\n      containers: [{name: app, image: 'api:1', envFrom: \
        [{secretRef: {name: api-env}}]}]\n";
    let missing = |args: &[&str]| {
        let mut all = vec!["audit", "--now", NOW, "--format", "json", "-"];
        all.extend_from_slice(args);
        let o = run_with_stdin(&all, manifest);
        let doc = json(&o);
        let r = &doc["reports"][0];
        let outcome: Vec<String> = findings(r)
            .into_iter()
            .filter(|(id, _, _)| id == "config-missing-reference" || id == "network-no-policy")
            .map(|(id, _, result)| format!("{id} {result}"))
            .collect();
        (workloads(&doc), outcome, code(&o))
    };
    assert_eq!(
        missing(&[]),
        (
            vec!["Deployment default/api".to_string()],
            vec![
                "config-missing-reference skip".to_string(),
                "network-no-policy skip".to_string()
            ],
            0
        )
    );
    let (names, outcome, exit) = missing(&["-n", "shop", "--complete", "--fail-on", "high"]);
    assert_eq!(names, ["Deployment shop/api"]);
    assert_eq!(
        outcome,
        ["config-missing-reference fail", "network-no-policy fail"]
    );
    assert_eq!(exit, 1);
    // --complete is about manifests: a cluster is complete already.
    let o = run(&["audit", "--cluster", "--complete"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn directories_are_read_recursively() {
    let o = audit(&[AUDIT_SET, "--format", "json"]);
    let doc = json(&o);
    let mut names = workloads(&doc);
    names.sort();
    assert_eq!(
        names,
        [
            "CronJob platform/report",
            "Deployment platform/legacy",
            "Deployment shop/api",
            "Deployment shop/web",
            "Namespace shop/shop",
            "StatefulSet platform/cache",
        ]
    );
    assert_eq!(
        report(&doc, "cache")["source"]["file"],
        "tests/fixtures/audit/platform/workers.yaml"
    );
}

#[test]
fn reports_are_sorted_worst_first() {
    let doc = json(&audit(&[AUDIT_SET, "--format", "json", "--policy", STRICT]));
    assert_eq!(
        workloads(&doc),
        [
            "Deployment shop/api",        // NotReady
            "StatefulSet platform/cache", // NeedsAttention
            "CronJob platform/report",    // Ready, score 100, then namespace, kind, name
            "Deployment platform/legacy",
            "Deployment shop/web",
            "Namespace shop/shop",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Flags

#[test]
fn min_severity_hides_findings_but_not_their_counts() {
    let doc = json(&audit(&[
        SHOP,
        "--format",
        "json",
        "--min-severity",
        "high",
    ]));
    let api = report(&doc, "api");
    assert!(has_finding(api, "probe-readiness-missing", "high", "fail"));
    assert!(!has_finding(
        api,
        "probe-liveness-missing",
        "medium",
        "fail"
    ));
    assert_eq!(api["summary"]["medium"], 1);
    assert_eq!(doc["summary"]["medium"], 1);

    let table = stdout(&audit(&[SHOP, "--min-severity", "high"]));
    assert!(table.contains("probe-readiness-missing"), "{table}");
    assert!(!table.contains("probe-liveness-missing"), "{table}");
    assert!(table.contains("1 high, 1 medium"), "{table}");
}

#[test]
fn skipped_checks_show_only_when_asked() {
    let hidden = stdout(&audit(&[AUDIT_SET]));
    assert!(!hidden.contains("exempt by annotation"), "{hidden}");
    assert!(hidden.contains("--show-skipped"), "{hidden}");
    let shown = stdout(&audit(&[AUDIT_SET, "--show-skipped"]));
    // The table wraps long messages; compare words, not line breaks.
    let shown = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        shown.contains(
            "exempt by annotation prodready.dev/exempt: pulls work from a queue; its supervisor restarts it when it hangs"
        ),
        "{shown}"
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let escape = "\u{1b}[";
    assert!(stdout(&audit(&[SHOP, "--color", "always"])).contains(escape));
    assert!(!stdout(&audit(&[SHOP, "--color", "never"])).contains(escape));
    // Captured stdout is not a terminal.
    assert!(!stdout(&audit(&[SHOP])).contains(escape));
    let o = prodready()
        .args(["audit", SHOP, "--color", "always"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(stdout(&o).contains(escape), "`always` overrides NO_COLOR");
}

#[test]
fn output_writes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    let o = audit(&[SHOP, "--format", "json", "--output", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(doc["summary"]["workloads"], 2);

    let o = audit(&[SHOP, "--output", "/nonexistent-dir/report.txt"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot write /nonexistent-dir/report.txt"));
}

// ---------------------------------------------------------------------------------------------
// Policies

#[test]
fn a_policy_disables_a_check_and_overrides_a_severity() {
    let doc = json(&audit(&[SHOP, "--format", "json", "--policy", STRICT]));
    let api = report(&doc, "api");
    assert!(has_finding(
        api,
        "probe-readiness-missing",
        "critical",
        "fail"
    ));
    assert!(
        !findings(api)
            .iter()
            .any(|(id, _, _)| id == "probe-liveness-missing"),
        "{api:#}"
    );
    assert!(
        !api["passedChecks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id == "probe-liveness-missing"),
        "a disabled check does not run at all"
    );
    assert_eq!(api["verdict"], "NotReady");
    assert_eq!(doc["summary"]["critical"], 1);
}

#[test]
fn policies_apply_by_namespace() {
    let doc = json(&audit(&[
        AUDIT_SET,
        "--format",
        "json",
        "--policy",
        "tests/fixtures/policy/by-namespace.yaml",
    ]));
    // platform-relaxed switches Probes off in `platform`; everywhere-else raises readiness.
    // What is left of the cache is a warning: its governing Service is not in the input.
    let cache = report(&doc, "cache");
    let left: Vec<(&str, &str)> = cache["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["checkId"].as_str().unwrap(),
                f["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(left, [("validity-statefulset-service-missing", "warn")]);
    assert_eq!(cache["verdict"], "Ready");
    assert!(has_finding(
        report(&doc, "api"),
        "probe-readiness-missing",
        "critical",
        "fail"
    ));
}

#[test]
fn an_unusable_policy_file_is_exit_2_with_a_clear_message() {
    let o = audit(&[SHOP, "--policy", "tests/fixtures/policy/unknown-check.yaml"]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        "error: tests/fixtures/policy/unknown-check.yaml: document 1 (line 1): policy typo: \
         unknown check id \"probe-readiness-mising\" in spec.checks (see `prodready checks`)\n"
    );
    assert!(
        o.stdout.is_empty(),
        "nothing is judged under a broken policy"
    );

    let o = audit(&[SHOP, "--policy", SHOP]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("tests/fixtures/audit/shop.yaml: no ReadinessPolicy found"),
        "{}",
        stderr(&o)
    );

    let o = audit(&[SHOP, "--policy", BROKEN]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("document 2 (line 23)"),
        "{}",
        stderr(&o)
    );

    let o = audit(&[SHOP, "--policy", "tests/fixtures/policy/missing.yaml"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("missing.yaml: cannot read"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------------------------------------
// Formats against golden files

#[test]
fn golden_audit_in_every_format() {
    for (format, file) in [
        ("table", "audit.table.txt"),
        ("json", "audit.json"),
        ("yaml", "audit.yaml"),
        ("sarif", "audit.sarif.json"),
        ("junit", "audit.junit.xml"),
    ] {
        let o = audit(&[AUDIT_SET, "--format", format, "--show-skipped"]);
        assert_eq!(code(&o), 0, "{format}: {}", stderr(&o));
        golden(file, &without_version(&stdout(&o)));
    }
}

#[test]
fn golden_input_errors_in_every_format() {
    for (format, file) in [
        ("table", "errors.table.txt"),
        ("json", "errors.json"),
        ("yaml", "errors.yaml"),
        ("sarif", "errors.sarif.json"),
        ("junit", "errors.junit.xml"),
    ] {
        let o = audit(&[BROKEN, "--format", format]);
        assert_eq!(code(&o), 2, "{format}");
        golden(file, &without_version(&stdout(&o)));
        golden("errors.stderr.txt", &stderr(&o));
    }
}

/// `--format openreports` stamps its results with the evaluation time (`--now`, pinned by
/// `audit`).
#[test]
fn golden_audit_as_openreports() {
    let o = audit(&[AUDIT_SET, "--format", "openreports"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    golden("audit.openreports.yaml", &stdout(&o));
    // One Report per workload, whose results are the JSON report's findings and passed checks.
    let list: Value = serde_yaml_ng::from_slice(&o.stdout).expect("valid YAML");
    let reports = json(&audit(&[AUDIT_SET, "--format", "json"]));
    let items = list["items"].as_array().unwrap();
    let reports = reports["reports"].as_array().unwrap();
    assert_eq!(items.len(), reports.len());
    for (item, report) in items.iter().zip(reports) {
        assert_eq!(item["scope"]["name"], report["workload"]["name"]);
        let results = item["results"].as_array().unwrap();
        let passed = report["passedChecks"].as_array().map_or(0, Vec::len);
        assert_eq!(
            results.len(),
            report["findings"].as_array().unwrap().len() + passed
        );
        assert_eq!(item["summary"]["pass"], passed);
    }
}

#[test]
fn json_and_yaml_carry_the_same_document() {
    let from_json = json(&audit(&[AUDIT_SET, "--format", "json"]));
    let yaml = audit(&[AUDIT_SET, "--format", "yaml"]);
    let from_yaml: Value = serde_yaml_ng::from_slice(&yaml.stdout).expect("valid YAML");
    assert_eq!(from_json, from_yaml);
    let keys: Vec<&String> = from_json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["reports", "summary"], "no errors key without errors");
    let summary: Vec<&String> = from_json["summary"].as_object().unwrap().keys().collect();
    // `namespaces`: the shop namespace's Services are judged in a report of their own.
    let mut expected = [
        "workloads",
        "namespaces",
        "critical",
        "high",
        "medium",
        "low",
        "info",
    ];
    expected.sort();
    assert_eq!(summary, expected);
}

// ---------------------------------------------------------------------------------------------
// SARIF

fn sarif_validator() -> jsonschema::Validator {
    let mut schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json"))
            .unwrap(),
    )
    .unwrap();
    // The published schema's patterns for `language` (of a run and of a tool component) have a
    // stray `]`, which is not a valid ECMA-262 regular expression, so a strict validator refuses
    // the schema. prodready writes no `language`; the patterns are corrected here rather than in
    // the vendored copy, which stays byte-for-byte what was published.
    for owner in ["run", "toolComponent"] {
        let language = schema
            .pointer_mut(&format!("/definitions/{owner}/properties/language/pattern"))
            .unwrap_or_else(|| panic!("the schema's {owner}.language pattern"));
        assert_eq!(language, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *language = Value::from("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid_sarif(validator: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let validator = sarif_validator();
    for args in [
        vec![AUDIT_SET],
        vec![BROKEN],
        vec!["tests/fixtures/special-characters.yaml"],
    ] {
        let mut all = args.clone();
        all.extend(["--format", "sarif"]);
        let doc = json(&audit(&all));
        assert_valid_sarif(&validator, &doc);
    }
    // The validator does reject what is not SARIF.
    let bad = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {}}]});
    assert!(!validator.is_valid(&bad));
    let bad_uri = serde_json::json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "x"}},
        "artifacts": [{"location": {"uri": "a path with spaces"}}]
    }]});
    assert!(!validator.is_valid(&bad_uri), "formats are checked");
}

#[test]
fn sarif_locates_results_for_code_scanning() {
    let doc = json(&audit(&[AUDIT_SET, "--format", "sarif"]));
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let catalogue = prodready::checks::catalogue();
    assert_eq!(rules.len(), catalogue.len(), "every check is a rule");
    let results = run["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        6,
        "two for api, four for cache (a warning: its governing Service is not in the input)"
    );
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let location = &r["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("tests/fixtures/audit/"),
            "relative to the working directory: {uri}"
        );
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(r["partialFingerprints"]["prodreadyFinding/v1"].is_string());
    }
    let readiness = results
        .iter()
        .find(|r| r["ruleId"] == "probe-readiness-missing")
        .unwrap();
    assert_eq!(readiness["level"], "error");
    assert_eq!(
        readiness["message"]["text"],
        "Deployment shop/api: container \"app\" has no readinessProbe: Service api sends it \
         requests before it can serve and while it is failing"
    );
    assert_eq!(
        readiness["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "shop/Deployment/api"
    );
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);

    // Fingerprints do not change from one run to the next, nor with the file's location.
    let again = json(&audit(&[AUDIT_SET, "--format", "sarif"]));
    assert_eq!(again["runs"][0]["results"], run["results"]);
    let text = std::fs::read(root().join(SHOP)).unwrap();
    let piped = json(&run_with_stdin(&["audit", "-", "--format", "sarif"], &text));
    let print = |doc: &Value, rule: &str| {
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == rule)
            .map(|r| r["partialFingerprints"].clone())
    };
    assert_eq!(
        print(&piped, "probe-readiness-missing"),
        print(&doc, "probe-readiness-missing")
    );
    assert_eq!(
        piped["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "stdin"
    );
}

#[test]
fn sarif_reports_input_errors_as_notifications() {
    let doc = json(&audit(&[BROKEN, "--format", "sarif"]));
    let invocation = &doc["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 5);
    assert_eq!(notes[0]["level"], "error");
    let location = &notes[1]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], BROKEN);
    assert_eq!(location["region"]["startLine"], 24);
}

#[test]
fn sarif_uris_of_absolute_paths_are_relative_to_the_working_directory() {
    let absolute = root().join(SHOP);
    let doc = json(&audit(&[absolute.to_str().unwrap(), "--format", "sarif"]));
    assert_eq!(
        doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        SHOP
    );
}

// ---------------------------------------------------------------------------------------------
// JUnit

/// What a JUnit consumer reads: per suite, its attributes and per case (name, outcome,
/// message).
#[derive(Debug, Default)]
struct JunitSuite {
    attrs: std::collections::BTreeMap<String, String>,
    cases: Vec<(String, String, String)>,
}

fn parse_junit(xml: &str) -> (std::collections::BTreeMap<String, String>, Vec<JunitSuite>) {
    use quick_xml::events::{BytesStart, Event};
    let attrs = |e: &BytesStart| -> std::collections::BTreeMap<String, String> {
        e.attributes()
            .map(|a| {
                let a = a.expect("well-formed attribute");
                (
                    a.key.as_ref().to_string(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .expect("escaped attribute")
                        .into_owned(),
                )
            })
            .collect()
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut root_attrs = Default::default();
    let mut suites: Vec<JunitSuite> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                let a = attrs(&e);
                match name.as_str() {
                    "testsuites" => root_attrs = a,
                    "testsuite" => suites.push(JunitSuite {
                        attrs: a,
                        cases: Vec::new(),
                    }),
                    "testcase" => suites.last_mut().unwrap().cases.push((
                        a["name"].clone(),
                        "pass".into(),
                        String::new(),
                    )),
                    "failure" | "skipped" | "error" | "system-out" => {
                        let case = suites.last_mut().unwrap().cases.last_mut().unwrap();
                        if name != "system-out" {
                            case.1 = name;
                            case.2 = a.get("message").cloned().unwrap_or_default();
                        } else {
                            case.1 = "warning".into();
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (root_attrs, suites)
}

#[test]
fn junit_parses_back_with_consistent_counts() {
    let o = audit(&[AUDIT_SET, BROKEN, "--format", "junit"]);
    let (totals, suites) = parse_junit(&stdout(&o));
    assert_eq!(
        suites.len(),
        9,
        "7 workloads, the shop namespace and the input errors"
    );
    let mut all = 0;
    for s in &suites {
        let n = |outcome: &str| {
            s.cases
                .iter()
                .filter(|c| c.1 == outcome)
                .count()
                .to_string()
        };
        assert_eq!(s.attrs["tests"], s.cases.len().to_string());
        assert_eq!(s.attrs["failures"], n("failure"));
        assert_eq!(s.attrs["skipped"], n("skipped"));
        assert_eq!(s.attrs["errors"], n("error"));
        all += s.cases.len();
    }
    assert_eq!(totals["tests"], all.to_string());
    assert_eq!(totals["errors"], "5");

    let api = suites
        .iter()
        .find(|s| s.attrs["name"] == "Deployment shop/api")
        .unwrap();
    let readiness = api
        .cases
        .iter()
        .find(|c| c.0 == "probe-readiness-missing")
        .unwrap();
    assert_eq!(readiness.1, "failure");
    assert!(
        readiness
            .2
            .starts_with("container \"app\" has no readinessProbe")
    );
    let legacy = suites
        .iter()
        .find(|s| s.attrs["name"] == "Deployment platform/legacy")
        .unwrap();
    assert!(
        legacy
            .cases
            .iter()
            .any(|c| c.0 == "probe-liveness-missing" && c.1 == "skipped")
    );
    let input = suites.last().unwrap();
    assert_eq!(input.attrs["name"], "input");
    assert!(input.cases.iter().all(|c| c.1 == "error"));
}

#[test]
fn junit_escapes_what_manifests_contain() {
    let o = audit(&[
        "tests/fixtures/special-characters.yaml",
        "--format",
        "junit",
    ]);
    let (_, suites) = parse_junit(&stdout(&o));
    let identical = suites[0]
        .cases
        .iter()
        .find(|c| c.0 == "probe-identical")
        .unwrap();
    assert_eq!(identical.1, "failure");
    assert!(
        identical
            .2
            .contains(r#"httpGet /ok?n="$(cat /tmp/n)"&x=<x> 'é' ]]> on port 8080"#),
        "{}",
        identical.2
    );
}

// ---------------------------------------------------------------------------------------------
// Scale

#[test]
fn thousands_of_workloads_print_quickly() {
    // 2,000 workloads in a debug build stands in for 10,000 in a release build.
    let mut text = String::new();
    for i in 0..2000 {
        text.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{i}, namespace: ns-{}}}\n\
             spec:\n  selector: {{matchLabels: {{app: app-{i}}}}}\n  template:\n    \
             metadata: {{labels: {{app: app-{i}}}}}\n    spec:\n      containers:\n      \
             - {{name: app, image: 'registry.example.com/app:{i}'}}\n",
            i % 20
        ));
    }
    for format in ["table", "json", "sarif", "junit"] {
        let started = std::time::Instant::now();
        let o = run_with_stdin(&["audit", "-", "--format", format], text.as_bytes());
        let elapsed = started.elapsed();
        assert_eq!(code(&o), 0, "{format}: {}", stderr(&o));
        assert!(o.stdout.len() > 2000 * 100, "{format}");
        assert!(
            elapsed < std::time::Duration::from_secs(60),
            "{format} took {elapsed:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// checks, version

#[test]
fn checks_lists_every_catalogue_entry() {
    let ids: BTreeSet<&str> = prodready::checks::catalogue()
        .iter()
        .map(|c| c.id)
        .collect();
    let o = run(&["checks", "--format", "json"]);
    assert_eq!(code(&o), 0);
    let entries = json(&o);
    let entries = entries.as_array().expect("an array of checks");
    assert_eq!(entries.len(), ids.len());
    let listed: BTreeSet<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(listed, ids);
    for e in entries {
        for key in ["category", "severity", "needs", "title", "remediation"] {
            assert!(
                e[key].as_str().is_some_and(|v| !v.is_empty()),
                "{key} of {e}"
            );
        }
    }
    let yaml: Value = serde_yaml_ng::from_slice(&run(&["checks", "--format", "yaml"]).stdout)
        .expect("valid YAML");
    assert_eq!(yaml.as_array().unwrap().len(), ids.len());
    let table = stdout(&run(&["checks"]));
    assert!(table.starts_with("ID"), "{table}");
    for id in &ids {
        assert!(
            table.lines().any(|l| l.starts_with(&format!("{id} "))),
            "{id}"
        );
    }
}

#[test]
fn version_names_the_release() {
    let o = run(&["version"]);
    assert_eq!(code(&o), 0);
    assert!(
        stdout(&o).starts_with(&format!("prodready {}\n", env!("CARGO_PKG_VERSION"))),
        "{}",
        stdout(&o)
    );
    assert_eq!(code(&run(&["--version"])), 0);
}

#[test]
fn logging_goes_to_stderr_at_the_requested_level() {
    let o = audit(&[SHOP, "--format", "json", "--log-level", "debug"]);
    assert_eq!(code(&o), 0);
    assert!(stderr(&o).contains("input read"), "{}", stderr(&o));
    json(&o); // stdout is untouched
    let o = prodready()
        .args(["audit", SHOP, "--format", "json"])
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert!(stderr(&o).contains("input read"), "{}", stderr(&o));
}

// ---------------------------------------------------------------------------------------------
// CRDs

const REGENERATE: &str = "cargo run -- crds --output-dir crds";

fn checked_in_crds() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("crds"))
        .expect("crds/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn checked_in_crds_match_the_rust_types() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["crds", "--output-dir", dir.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut generated: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    generated.sort();
    let checked_in: Vec<String> = checked_in_crds()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        checked_in, generated,
        "crds/ holds other files than the types generate: run `{REGENERATE}`"
    );
    for name in &generated {
        let fresh = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let stored = std::fs::read_to_string(root().join("crds").join(name)).unwrap();
        assert!(
            fresh == stored,
            "crds/{name} is out of date with the Rust types in src/api: run `{REGENERATE}`"
        );
    }
    // `prodready crds` prints the same documents.
    let printed = stdout(&run(&["crds"]));
    let expected: String = generated
        .iter()
        .map(|n| {
            format!(
                "---\n{}",
                std::fs::read_to_string(dir.path().join(n)).unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("");
    let mut printed_docs: Vec<&str> = printed.split("---\n").filter(|d| !d.is_empty()).collect();
    let mut expected_docs: Vec<&str> = expected.split("---\n").filter(|d| !d.is_empty()).collect();
    printed_docs.sort();
    expected_docs.sort();
    assert_eq!(printed_docs, expected_docs);
}

fn crd(plural: &str) -> Value {
    let text =
        std::fs::read_to_string(root().join(format!("crds/{plural}.prodready.dev.yaml"))).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

/// Every node of a schema, with its path.
fn schema_nodes<'a>(path: String, node: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    out.push((path.clone(), node));
    if let Some(props) = node["properties"].as_object() {
        for (k, v) in props {
            schema_nodes(format!("{path}.{k}"), v, out);
        }
    }
    if node["items"].is_object() {
        schema_nodes(format!("{path}[]"), &node["items"], out);
    }
    if node["additionalProperties"].is_object() {
        schema_nodes(format!("{path}{{}}"), &node["additionalProperties"], out);
    }
}

#[test]
fn crd_schemas_are_structural_and_complete() {
    for plural in ["readinessreports", "readinesspolicies"] {
        let crd = crd(plural);
        assert_eq!(crd["spec"]["group"], "prodready.dev");
        assert_eq!(
            crd["spec"]["names"]["categories"],
            serde_json::json!(["prodready"])
        );
        let version = &crd["spec"]["versions"][0];
        assert_eq!(version["name"], "v1alpha1");
        let mut nodes = Vec::new();
        schema_nodes(
            String::new(),
            &version["schema"]["openAPIV3Schema"],
            &mut nodes,
        );
        for (path, node) in &nodes {
            // Structural: every node typed, no unions, nothing left unvalidated.
            assert!(
                node["type"].is_string() || node.get("x-kubernetes-int-or-string").is_some(),
                "{plural}{path} has no type"
            );
            for forbidden in ["anyOf", "oneOf", "allOf", "not", "$ref"] {
                assert!(
                    node.get(forbidden).is_none(),
                    "{plural}{path} uses {forbidden}"
                );
            }
            assert!(
                node.get("x-kubernetes-preserve-unknown-fields").is_none(),
                "{plural}{path} preserves unknown fields"
            );
        }
        let enum_of = |suffix: &str| -> BTreeSet<String> {
            nodes
                .iter()
                .find(|(p, _)| p.ends_with(suffix))
                .unwrap_or_else(|| panic!("{plural}: no {suffix}"))
                .1["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{plural}{suffix} is not an enum"))
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        };
        let severities: BTreeSet<String> = ["critical", "high", "medium", "low", "info"]
            .map(String::from)
            .into();
        if plural == "readinessreports" {
            assert_eq!(crd["spec"]["scope"], "Namespaced");
            assert_eq!(
                crd["spec"]["names"]["shortNames"],
                serde_json::json!(["rdr"])
            );
            assert!(version["subresources"]["status"].is_object());
            assert_eq!(enum_of(".status.findings[].severity"), severities);
            assert_eq!(
                enum_of(".status.findings[].result"),
                ["pass", "fail", "warn", "skip"].map(String::from).into()
            );
            assert_eq!(
                enum_of(".status.verdict"),
                ["Ready", "NeedsAttention", "NotReady"]
                    .map(String::from)
                    .into()
            );
            let columns: Vec<&str> = version["additionalPrinterColumns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                columns,
                [
                    "Kind",
                    "Workload",
                    "Verdict",
                    "Score",
                    "Critical",
                    "High",
                    "Age",
                    "ProductionReady",
                    "Release"
                ]
            );
            let wide: Vec<&str> = version["additionalPrinterColumns"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["priority"] == 1)
                .map(|c| c["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                wide,
                ["ProductionReady", "Release"],
                "the verdict is shown by default; the condition and the release with -o wide"
            );
        } else {
            assert_eq!(crd["spec"]["scope"], "Cluster");
            assert_eq!(
                crd["spec"]["names"]["shortNames"],
                serde_json::json!(["rdp"])
            );
            assert_eq!(enum_of(".spec.checks[].severity"), severities);
            assert_eq!(enum_of(".spec.webhook.denySeverity"), severities);
            assert_eq!(
                enum_of(".spec.webhook.mode"),
                ["Off", "Warn", "Enforce"].map(String::from).into()
            );
        }
    }
}

/// The control plane of the integration tests installs `crds/` when it starts: the server
/// accepting them is the proof that they are structural. A report printed by the CLI must
/// then be storable, unchanged, as a ReadinessReport's status.
#[tokio::test]
async fn crds_are_served_and_a_printed_report_is_a_valid_status() {
    use kube::api::{Api, PostParams};
    use prodready::api::{ReadinessPolicy, ReadinessReport, ReadinessReportSpec, Report};

    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("cli-report").await;
    let doc = json(&audit(&[AUDIT_SET, "--format", "json", "--show-skipped"]));
    let api: Api<ReadinessReport> = Api::namespaced(cp.client(), &ns);
    for printed in doc["reports"].as_array().unwrap() {
        let status: Report = serde_json::from_value(printed.clone()).expect("a Report");
        let name = format!(
            "{}-{}",
            status.workload.kind.to_lowercase(),
            status.workload.name
        );
        let mut object = ReadinessReport::new(
            &name,
            ReadinessReportSpec {
                workload_ref: status.workload.clone(),
            },
        );
        let created = api
            .create(&PostParams::default(), &object)
            .await
            .unwrap_or_else(|e| panic!("creating {name}: {e}"));
        object.metadata.resource_version = created.metadata.resource_version;
        object.status = Some(status.clone());
        let stored = api
            .replace_status(&name, &PostParams::default(), &object)
            .await
            .unwrap_or_else(|e| panic!("storing the status of {name}: {e}"));
        assert_eq!(stored.status.as_ref(), Some(&status), "{name} round-trips");
    }

    let policies: Api<ReadinessPolicy> = Api::all(cp.client());
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/policy/by-namespace.yaml")).unwrap();
    for document in text.split("\n---\n") {
        let mut policy: ReadinessPolicy = serde_yaml_ng::from_str(document).unwrap();
        let name = format!("{}-{ns}", policy.metadata.name.as_deref().unwrap());
        policy.metadata.name = Some(name.clone());
        let stored = policies
            .create(&PostParams::default(), &policy)
            .await
            .unwrap_or_else(|e| panic!("creating policy {name}: {e}"));
        assert_eq!(
            stored.spec.namespace_selector,
            policy.spec.namespace_selector
        );
        assert_eq!(stored.spec.checks, policy.spec.checks);
    }
}
