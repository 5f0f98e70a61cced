//! The operator against a real control plane, for BENCHMARKS.md. For each size it starts a
//! dedicated etcd + kube-apiserver (`tests/support`), creates the workloads and their related
//! objects through the API, then runs the `prodready controller` binary as a process of its own
//! and reads its figures from /proc, from a watch of its reports and from its /metrics:
//!
//! - how long creating the objects took;
//! - start to /readyz, start to every report written, reports written per second;
//! - resident memory when every report is written, settled, after a /metrics scrape, at peak;
//!   CPU seconds;
//! - report writes in a steady state without changes (target: none);
//! - reaction: one NetworkPolicy that selects 100 workloads changes, and the time until each of
//!   their reports says so (target: p50 within 1 s).
//!
//!   cargo bench --bench controller_load -- [--workloads 1000,10000]
//!
//! Needs the control plane binaries (`tests/controlplane/build.sh`); cargo bench builds the
//! release binary it runs. Other options: `--steady SECONDS` (120), `--rounds N` (6 changes),
//! `--in-flight N` (32 concurrent creations), `--hold` (keep the last control plane after the
//! figures, to profile a controller against it, until Ctrl-C). Without `--bench`
//! (`cargo test --all-targets`) it runs a 20-workload smoke on the debug binary, to prove it
//! still works; like the integration tests, it skips without the control plane binaries,
//! except in CI.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use prodready::api::{CheckResult, ReadinessReport};
use serde_json::{Value, json};
use support::ControlPlane;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Workloads per namespace: the reaction's NetworkPolicy selects every workload of the first.
const PER_NAMESPACE: usize = 100;
/// Carried by every pod; the reaction's NetworkPolicy selects it in the first namespace.
const GROUP_LABEL: (&str, &str) = ("part-of", "storefront");
const REACTION_POLICY: &str = "storefront-egress";
/// The check the reaction's NetworkPolicy flips: egress open to every destination fails it.
const REACTION_CHECK: &str = "network-egress-unrestricted";
/// The labels the controller puts on its reports.
const REPORT_SELECTOR: &str = "app.kubernetes.io/managed-by=prodready";
const MIB: f64 = 1024.0 * 1024.0;

struct Options {
    measuring: bool,
    sizes: Vec<usize>,
    steady: Duration,
    rounds: usize,
    in_flight: usize,
    /// Keep the last control plane running after the figures, for profiling a controller
    /// against it, until Ctrl-C.
    hold: bool,
}

impl Options {
    fn parse() -> Options {
        let args: Vec<String> = std::env::args().skip(1).collect();
        // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it.
        let measuring = args.iter().any(|a| a == "--bench");
        let value = |flag: &str| {
            args.iter()
                .position(|a| a == flag)
                .and_then(|i| args.get(i + 1))
                .map(String::as_str)
        };
        let number = |flag: &str, default: u64| {
            value(flag).map_or(default, |v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{flag} wants a number, not {v:?}"))
            })
        };
        let sizes = match value("--workloads") {
            Some(list) => list
                .split(',')
                .map(|s| {
                    s.trim().replace('_', "").parse().unwrap_or_else(|_| {
                        panic!("--workloads wants numbers separated by commas, not {list:?}")
                    })
                })
                .collect(),
            None if measuring => vec![1_000, 10_000],
            None => vec![20],
        };
        Options {
            measuring,
            sizes,
            steady: Duration::from_secs(number("--steady", if measuring { 120 } else { 5 })),
            rounds: number("--rounds", if measuring { 6 } else { 2 }) as usize,
            in_flight: number("--in-flight", if measuring { 32 } else { 8 }) as usize,
            hold: args.iter().any(|a| a == "--hold"),
        }
    }
}

#[tokio::main]
async fn main() {
    let options = Options::parse();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_prodready"));
    if options.measuring {
        println!("{}", machine(&binary));
    }
    for &n in &options.sizes {
        if run(n, &options, &binary).await.is_none() {
            return;
        }
    }
}

/// Nproc, CPU model, memory, kernel, and the prodready version.
fn machine(binary: &Path) -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown".to_string(), |(_, m)| m.trim().to_string());
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".to_string(), |kib| {
            format!("{:.1} GiB", kib / 1024.0 / 1024.0)
        });
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let version = Command::new(binary)
        .arg("version")
        .output()
        .map(|o| {
            let out = String::from_utf8_lossy(&o.stdout).into_owned();
            out.lines().next().unwrap_or_default().trim().to_string()
        })
        .unwrap_or_default();
    format!(
        "## Machine\n\n- nproc: {nproc}\n- CPU: {model}\n- memory: {memory}\n- Linux {}\n\
         - {version} (release)\n- etcd and kube-apiserver run on the same machine and share its \
         cores with the controller\n",
        kernel.trim(),
    )
}

/// Everything one run measured.
#[derive(Default)]
struct Figures {
    workloads: usize,
    kubernetes: String,
    load_start: String,
    load_end: String,
    objects: BTreeMap<&'static str, usize>,
    create_secs: f64,
    in_flight: usize,
    ready_secs: f64,
    all_written_secs: f64,
    created_writes: u64,
    write_errors: u64,
    rss_written: Memory,
    rss_settled: Memory,
    rss_scraped: Memory,
    rss_peak_kib: u64,
    cpu_to_settled: f64,
    control_plane_cpu_to_settled: Vec<(String, f64)>,
    evaluations_to_settled: u64,
    scrape_secs: f64,
    scrape_bytes: usize,
    steady_secs: f64,
    steady_writes: u64,
    steady_evaluations: u64,
    steady_cpu: f64,
    rss_after_steady: Memory,
    group: usize,
    reaction_rounds: usize,
    reaction: Vec<f64>,
    reaction_writes: u64,
    reports_listed: usize,
    report_bytes: usize,
    findings_per_report: f64,
    rss_end: Memory,
    stop_secs: f64,
}

impl Figures {
    fn table(&self) -> String {
        let mut t = String::new();
        let n = self.workloads;
        let objects: usize = self.objects.values().sum();
        let kinds: Vec<String> = self
            .objects
            .iter()
            .map(|(kind, count)| format!("{} {kind}", thousands(*count)))
            .collect();
        let _ = writeln!(
            t,
            "### {} workloads (Kubernetes {})\n",
            thousands(n),
            self.kubernetes
        );
        let _ = writeln!(t, "| measure | value |\n|---|---|");
        let mut row = |what: &str, value: String| {
            let _ = writeln!(t, "| {what} | {value} |");
        };
        row(
            "objects created through the API",
            format!(
                "{} in {:.1} s: {:.0} objects/s, {} in flight ({})",
                thousands(objects),
                self.create_secs,
                objects as f64 / self.create_secs,
                self.in_flight,
                kinds.join(", ")
            ),
        );
        row("start → /readyz", format!("{:.2} s", self.ready_secs));
        let writing = self.all_written_secs - self.ready_secs;
        row(
            "start → every report written",
            format!(
                "{:.1} s ({} reports created, {} write errors)",
                self.all_written_secs,
                thousands(self.created_writes as usize),
                self.write_errors
            ),
        );
        row(
            "reports created per second (ready → last report)",
            format!("{:.0}", n as f64 / writing.max(1e-3)),
        );
        let mib = |m: &Memory| {
            format!(
                "{:.1} MiB ({:.1} / {:.1})",
                m.rss_kib as f64 / 1024.0,
                m.anon_kib as f64 / 1024.0,
                m.file_kib as f64 / 1024.0
            )
        };
        row(
            "RSS (anonymous / file) when every report is written",
            mib(&self.rss_written),
        );
        row(
            "RSS settled, before any /metrics scrape",
            mib(&self.rss_settled),
        );
        row(
            "**RSS after the first /metrics scrape**",
            mib(&self.rss_scraped),
        );
        row(
            "RSS peak (VmHWM)",
            format!("{:.1} MiB", self.rss_peak_kib as f64 / 1024.0),
        );
        let control_plane: Vec<String> = self
            .control_plane_cpu_to_settled
            .iter()
            .map(|(name, secs)| format!("{name} {secs:.1} s"))
            .collect();
        row(
            "CPU, start → settled",
            format!(
                "{:.1} s controller ({} evaluations); meanwhile {}",
                self.cpu_to_settled,
                thousands(self.evaluations_to_settled as usize),
                control_plane.join(", ")
            ),
        );
        row(
            "one /metrics scrape",
            format!(
                "{:.0} ms, {:.1} MiB",
                self.scrape_secs * 1e3,
                self.scrape_bytes as f64 / MIB
            ),
        );
        row(
            &format!("steady state, {:.0} s without changes", self.steady_secs),
            format!(
                "**{} report writes**, {} evaluations, {:.2} s CPU; RSS after it and a second \
                 scrape: {:.1} MiB",
                self.steady_writes,
                self.steady_evaluations,
                self.steady_cpu,
                self.rss_after_steady.rss_kib as f64 / 1024.0
            ),
        );
        let mut samples = self.reaction.clone();
        samples.sort_by(f64::total_cmp);
        row(
            &format!(
                "reaction: one NetworkPolicy change → each of the {} reports it affects updated",
                self.group
            ),
            format!(
                "**p50 {:.2} s**, p99 {:.2} s, max {:.2} s ({} changes, {} samples)",
                percentile(&samples, 0.50),
                percentile(&samples, 0.99),
                samples.last().copied().unwrap_or(f64::NAN),
                self.reaction_rounds,
                samples.len()
            ),
        );
        row(
            "report writes during the reaction",
            format!(
                "{} ({} expected: one per affected report and change)",
                self.reaction_writes,
                self.group * self.reaction_rounds
            ),
        );
        row(
            "reports in the API",
            format!(
                "{}, {:.1} KiB of JSON each on average, {:.1} findings each",
                thousands(self.reports_listed),
                self.report_bytes as f64 / self.reports_listed.max(1) as f64 / 1024.0,
                self.findings_per_report
            ),
        );
        row(
            "RSS at the end (after the reaction and a third scrape)",
            format!("{:.1} MiB", self.rss_end.rss_kib as f64 / 1024.0),
        );
        row("SIGTERM → exit", format!("{:.2} s", self.stop_secs));
        row(
            "load average (1, 5, 15 min) at start / end",
            format!("{} / {}", self.load_start, self.load_end),
        );
        t
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn say(line: &str) {
    eprintln!("[controller_load] {line}");
}

/// One benchmark: prints its table, or returns `None` when there is no control plane to run on.
async fn run(n: usize, options: &Options, binary: &Path) -> Option<()> {
    let mut figures = Figures {
        workloads: n,
        in_flight: options.in_flight,
        load_start: load_average(),
        ..Figures::default()
    };
    say(&format!("{n} workloads: starting a control plane"));
    let cp = support::dedicated_controlplane().await?;
    let client = cp.client();
    figures.kubernetes = client
        .apiserver_version()
        .await
        .map(|v| v.git_version)
        .unwrap_or_else(|e| format!("unknown ({e})"));

    let namespaces = create_namespaces(&cp, n.div_ceil(PER_NAMESPACE)).await;
    let started = Instant::now();
    figures.objects = create_objects(&client, &namespaces, n, options.in_flight).await;
    figures.create_secs = started.elapsed().as_secs_f64();
    say(&format!(
        "created {} objects in {:.1}s",
        figures.objects.values().sum::<usize>(),
        figures.create_secs
    ));

    let mut controller = Controller::start(binary, &cp);
    let control_plane = control_plane_pids();
    let cp_cpu_before: Vec<f64> = control_plane.iter().map(|(_, p)| cpu_seconds(*p)).collect();

    // Ready, then every report written.
    controller
        .wait(Duration::from_secs(300), "/readyz", async |c| {
            c.get("/readyz").await.filter(|(code, _)| *code == 200)
        })
        .await;
    figures.ready_secs = controller.started.elapsed().as_secs_f64();
    say(&format!(
        "controller ready after {:.2}s",
        figures.ready_secs
    ));
    // Every report written, as the API shows it: a watch costs the controller nothing, where
    // polling its /metrics would (a scrape renders every workload's series).
    let limit = Duration::from_secs(600.max(n as u64 / 5));
    wait_reports(&client, n, &mut controller, limit).await;
    figures.all_written_secs = controller.started.elapsed().as_secs_f64();
    figures.rss_written = memory(controller.pid);
    say(&format!(
        "every report written after {:.1}s",
        figures.all_written_secs
    ));

    // Settled: under 2% of a core for 5 s (its own writes come back through its watch of its
    // reports and are judged once more).
    let settle_deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let before = cpu_seconds(controller.pid);
        tokio::time::sleep(Duration::from_secs(5)).await;
        if cpu_seconds(controller.pid) - before < 0.1 || Instant::now() > settle_deadline {
            break;
        }
    }
    figures.rss_settled = memory(controller.pid);
    figures.cpu_to_settled = cpu_seconds(controller.pid);
    figures.control_plane_cpu_to_settled = control_plane
        .iter()
        .zip(&cp_cpu_before)
        .map(|((name, pid), before)| (name.clone(), cpu_seconds(*pid) - before))
        .collect();
    say(&format!(
        "settled: RSS {:.1} MiB",
        figures.rss_settled.rss_kib as f64 / 1024.0
    ));

    // The first /metrics scrape: what it costs, and what the counters say.
    let scrape_started = Instant::now();
    let (_, body) = controller.get("/metrics").await.expect("/metrics answers");
    figures.scrape_secs = scrape_started.elapsed().as_secs_f64();
    figures.scrape_bytes = body.len();
    let settled = Counters::parse(&body);
    figures.created_writes = settled.created;
    figures.evaluations_to_settled = settled.evaluations;
    figures.write_errors = settled.errors;
    figures.rss_scraped = memory(controller.pid);

    // Steady state: nothing changes, nothing may be written.
    let cpu_before = cpu_seconds(controller.pid);
    let steady_started = Instant::now();
    tokio::time::sleep(options.steady).await;
    let after = controller.counters().await;
    figures.steady_secs = steady_started.elapsed().as_secs_f64();
    figures.steady_writes = after.writes() - settled.writes();
    figures.steady_evaluations = after.evaluations - settled.evaluations;
    figures.steady_cpu = cpu_seconds(controller.pid) - cpu_before;
    figures.rss_after_steady = memory(controller.pid);
    say(&format!(
        "steady state: {} writes in {:.0}s",
        figures.steady_writes, figures.steady_secs
    ));

    // Reaction: the NetworkPolicy of the first namespace opens and closes egress.
    figures.group = n.min(PER_NAMESPACE);
    figures.reaction_rounds = options.rounds;
    figures.reaction = reaction(&client, &namespaces[0], figures.group, options.rounds).await;
    let after_reaction = controller.counters().await;
    figures.reaction_writes = after_reaction.writes() - after.writes();

    // The reports as stored: what the controller's report cache holds, in JSON.
    let api: Api<ReadinessReport> = Api::all(client.clone());
    let mut params = ListParams::default().labels(REPORT_SELECTOR).limit(500);
    let mut findings = 0;
    loop {
        let page = api.list(&params).await.expect("listing reports");
        for report in &page.items {
            figures.reports_listed += 1;
            figures.report_bytes += serde_json::to_vec(report).map_or(0, |v| v.len());
            findings += report.status.as_ref().map_or(0, |s| s.findings.len());
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    figures.findings_per_report = findings as f64 / figures.reports_listed.max(1) as f64;
    assert_eq!(figures.reports_listed, n, "one report per workload");
    figures.rss_end = memory(controller.pid);
    figures.rss_peak_kib = figures.rss_end.hwm_kib;
    figures.stop_secs = controller.stop();
    figures.load_end = load_average();
    if options.measuring {
        println!("{}", figures.table());
    } else {
        eprintln!("smoke passed:\n{}", figures.table());
    }
    if options.hold {
        say(&format!(
            "holding the control plane until Ctrl-C; run a controller against it with:\n  \
             {} controller --kubeconfig {} --http-addr 127.0.0.1:0",
            binary.display(),
            cp.kubeconfig_path().display()
        ));
        let _ = tokio::signal::ctrl_c().await;
    }
    Some(())
}

/// Watches every report until `n` of them carry a status (a report is created, then its status
/// written).
async fn wait_reports(client: &Client, n: usize, controller: &mut Controller, limit: Duration) {
    let api: Api<ReadinessReport> = Api::all(client.clone());
    let mut stream = watcher::watcher(api, watcher::Config::default().labels(REPORT_SELECTOR))
        .default_backoff()
        .boxed();
    let mut judged: HashSet<(String, String)> = HashSet::new();
    let deadline = Instant::now() + limit;
    let mut last_said = Instant::now();
    while judged.len() < n {
        match tokio::time::timeout(Duration::from_secs(1), stream.next()).await {
            Ok(Some(Ok(Event::Apply(r) | Event::InitApply(r)))) if r.status.is_some() => {
                judged.insert((
                    r.metadata.namespace.unwrap_or_default(),
                    r.metadata.name.unwrap_or_default(),
                ));
            }
            Ok(Some(Err(e))) => say(&format!("watching reports: {e}")),
            Ok(None) => panic!("the report watch ended"),
            Ok(Some(Ok(_))) | Err(_) => {}
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} reports written after {limit:?}; controller log: {}",
            judged.len(),
            controller.log.display()
        );
        if last_said.elapsed() > Duration::from_secs(15) {
            say(&format!("{} of {n} reports written", judged.len()));
            last_said = Instant::now();
        }
        controller.check_running();
    }
}

/// `count` namespaces, created a few at a time.
async fn create_namespaces(cp: &ControlPlane, count: usize) -> Vec<String> {
    futures::stream::iter(0..count)
        .map(|_| cp.namespace("bench"))
        .buffered(8)
        .collect()
        .await
}

/// The kinds created, and how to reach them.
fn resource(kind: &str) -> ApiResource {
    match kind {
        "Deployment" => ApiResource::erase::<Deployment>(&()),
        "Service" => ApiResource::erase::<Service>(&()),
        "ConfigMap" => ApiResource::erase::<ConfigMap>(&()),
        "Secret" => ApiResource::erase::<Secret>(&()),
        "NetworkPolicy" => ApiResource::erase::<NetworkPolicy>(&()),
        "PodDisruptionBudget" => ApiResource::erase::<PodDisruptionBudget>(&()),
        "HorizontalPodAutoscaler" => ApiResource::erase::<HorizontalPodAutoscaler>(&()),
        other => panic!("no resource for {other}"),
    }
}

/// Creates workload `0..n` and their related objects, `in_flight` requests at a time; returns
/// the count of each kind.
async fn create_objects(
    client: &Client,
    namespaces: &[String],
    n: usize,
    in_flight: usize,
) -> BTreeMap<&'static str, usize> {
    let resources: HashMap<&str, ApiResource> = [
        "Deployment",
        "Service",
        "ConfigMap",
        "Secret",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    ]
    .into_iter()
    .map(|k| (k, resource(k)))
    .collect();
    let mut objects = vec![(namespaces[0].clone(), reaction_policy(false))];
    for i in 0..n {
        let ns = &namespaces[i / PER_NAMESPACE];
        objects.extend(workload(i).into_iter().map(|o| (ns.clone(), o)));
    }
    let mut counts = BTreeMap::new();
    for (_, object) in &objects {
        *counts.entry(kind_of(object)).or_insert(0) += 1;
    }
    let total = objects.len();
    let done = Arc::new(AtomicUsize::new(0));
    let progress = {
        let done = done.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(15)).await;
                say(&format!(
                    "created {} of {total} objects",
                    done.load(Ordering::Relaxed)
                ));
            }
        })
    };
    let resources = &resources;
    let done_ref = &done;
    futures::stream::iter(objects)
        .map(|(ns, object)| async move {
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), &ns, &resources[kind_of(&object)]);
            create(&api, object).await;
            done_ref.fetch_add(1, Ordering::Relaxed);
        })
        .buffer_unordered(in_flight.max(1))
        .collect::<()>()
        .await;
    progress.abort();
    counts
}

fn kind_of(object: &Value) -> &'static str {
    match object["kind"].as_str() {
        Some("Deployment") => "Deployment",
        Some("Service") => "Service",
        Some("ConfigMap") => "ConfigMap",
        Some("Secret") => "Secret",
        Some("NetworkPolicy") => "NetworkPolicy",
        Some("PodDisruptionBudget") => "PodDisruptionBudget",
        Some("HorizontalPodAutoscaler") => "HorizontalPodAutoscaler",
        other => panic!("unexpected kind {other:?}"),
    }
}

/// Creates one object, retrying what a loaded apiserver may answer (429, 5xx, timeouts).
async fn create(api: &Api<DynamicObject>, object: Value) {
    let object: DynamicObject = serde_json::from_value(object).expect("a valid object");
    let mut attempt = 0;
    loop {
        match api.create(&PostParams::default(), &object).await {
            Ok(_) => return,
            Err(kube::Error::Api(status)) if status.code == 409 => return,
            Err(e) if attempt < 10 => {
                attempt += 1;
                say(&format!(
                    "creating {:?} (retrying): {e}",
                    object.metadata.name
                ));
                tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
            }
            Err(e) => panic!("creating {:?}: {e}", object.metadata.name),
        }
    }
}

/// Workload `i` and its related objects, varied so the checks take their different paths: a
/// Deployment with a Service, a ConfigMap and a Secret always, and most of the time a
/// NetworkPolicy, a PDB and an HPA.
fn workload(i: usize) -> Vec<Value> {
    let name = format!("app-{i}");
    let team = format!("t{}", i % 7);
    let replicas = 1 + i % 3;
    let image = match i % 4 {
        0 => format!("registry.example.com/shop/{name}:1.{i}"),
        1 => format!("registry.example.com/shop/{name}:latest"),
        2 => format!(
            "registry.example.com/shop/{name}:2.0@sha256:{:064x}",
            i as u128 * 7919
        ),
        _ => "redis:7".to_string(),
    };
    let mut container = json!({
        "name": "app",
        "image": image,
        "ports": [{"name": "http", "containerPort": 8080}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "DATABASE_URL", "value": "postgresql://db:5432/shop"},
            {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": name, "key": "token"}}},
        ],
        "envFrom": [{"configMapRef": {"name": format!("{name}-config")}}],
        "volumeMounts": [{"name": "cache", "mountPath": "/tmp"}],
    });
    if !i.is_multiple_of(3) {
        container["readinessProbe"] = json!({"httpGet": {"path": "/ready", "port": "http"}});
        container["livenessProbe"] =
            json!({"httpGet": {"path": "/livez", "port": 8080}, "periodSeconds": 10});
    }
    if i.is_multiple_of(2) {
        container["securityContext"] = json!({
            "runAsNonRoot": true, "runAsUser": 10001, "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]},
        });
    }
    if !i.is_multiple_of(5) {
        container["resources"] = json!({
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"memory": "256Mi"},
        });
    }
    let pod_labels = json!({
        "app": name, "team": team,
        "tier": if i.is_multiple_of(2) { "web" } else { "backend" },
        GROUP_LABEL.0: GROUP_LABEL.1,
    });
    let mut out = vec![
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name, "team": team}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": pod_labels},
                    "spec": {
                        "containers": [container],
                        "volumes": [{"name": "cache", "emptyDir": {}}],
                    },
                },
            },
        }),
        service(i, &name),
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("{name}-config")},
            "data": {
                "REDIS_URL": if i.is_multiple_of(2) {
                    "rediss://cache:6380/0"
                } else {
                    "redis://cache:6379/0"
                },
                "FEATURE_FLAGS": "a,b,c",
                "app.properties": "server.port=8080\ncache.ttl=60\n",
            },
        }),
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name},
            "type": "Opaque",
            "data": {"token": "dG9rZW4="},
        }),
    ];
    if i % 3 != 1 {
        out.push(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name},
            "spec": {
                "podSelector": {"matchLabels": {"app": name}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"team": team}}}]}],
                "egress": [{
                    "to": [{"namespaceSelector": {}}],
                    "ports": [{"port": 53, "protocol": "UDP"}],
                }],
            },
        }));
    }
    if replicas > 1 {
        out.push(json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": name}}},
        }));
    }
    if i % 4 != 3 {
        out.push(json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": 1 + i % 2,
                "maxReplicas": 10,
            },
        }));
    }
    out
}

/// Workload `i`'s Service. The control plane's service range is a /24, so most are headless
/// (no cluster IP to allocate): one in 50 gets a cluster IP, and one in 100 is a NodePort.
fn service(i: usize, name: &str) -> Value {
    let allocated = i.is_multiple_of(50) && i < 12_000;
    let mut spec = json!({
        "selector": {"app": name},
        "ports": [{"port": 80, "targetPort": "http"}],
    });
    if !allocated {
        spec["clusterIP"] = json!("None");
    } else if i.is_multiple_of(100) {
        spec["type"] = json!("NodePort");
    }
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": spec,
    })
}

/// The first namespace's shared egress policy. Open, one rule allows every destination and
/// fails REACTION_CHECK for every workload it selects; closed, DNS only, and it passes.
fn reaction_policy(open: bool) -> Value {
    let egress = if open {
        json!([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}])
    } else {
        json!([{"to": [{"namespaceSelector": {}}], "ports": [{"port": 53, "protocol": "UDP"}]}])
    };
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": REACTION_POLICY},
        "spec": {
            "podSelector": {"matchLabels": {GROUP_LABEL.0: GROUP_LABEL.1}},
            "policyTypes": ["Egress"],
            "egress": egress,
        },
    })
}

/// Opens and closes the reaction policy `rounds` times; after each change, the time until each
/// of the `group` reports in `ns` shows the new result, in seconds.
async fn reaction(client: &Client, ns: &str, group: usize, rounds: usize) -> Vec<f64> {
    let reports: Api<ReadinessReport> = Api::namespaced(client.clone(), ns);
    let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), ns);
    let watched: Vec<String> = (0..group).map(|i| format!("deployment-app-{i}")).collect();
    let mut results: HashMap<String, Option<CheckResult>> = HashMap::new();
    let mut stream =
        watcher::watcher(reports, watcher::Config::default().labels(REPORT_SELECTOR)).boxed();
    // The current state first.
    loop {
        match next(&mut stream, Duration::from_secs(60)).await {
            Event::InitApply(r) | Event::Apply(r) => {
                let result = support::result_of(&r, REACTION_CHECK);
                results.insert(r.metadata.name.clone().unwrap_or_default(), result);
            }
            Event::InitDone => break,
            _ => {}
        }
    }
    let closed_everywhere = |results: &HashMap<String, Option<CheckResult>>, want| {
        watched
            .iter()
            .all(|name| results.get(name).copied().flatten() == Some(want))
    };
    assert!(
        closed_everywhere(&results, CheckResult::Pass),
        "before the first change every report of {ns} should pass {REACTION_CHECK}"
    );
    let mut samples = Vec::with_capacity(group * rounds);
    for round in 1..=rounds {
        let open = round % 2 == 1;
        let want = if open {
            CheckResult::Fail
        } else {
            CheckResult::Pass
        };
        let changed = Instant::now();
        let patch = json!({"spec": reaction_policy(open)["spec"].clone()});
        policies
            .patch(
                REACTION_POLICY,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .expect("changing the reaction policy");
        let mut pending: HashSet<&str> = watched.iter().map(String::as_str).collect();
        while !pending.is_empty() {
            if let Event::Apply(r) = next(&mut stream, Duration::from_secs(60)).await {
                let name = r.metadata.name.clone().unwrap_or_default();
                if support::result_of(&r, REACTION_CHECK) == Some(want)
                    && pending.remove(name.as_str())
                {
                    samples.push(changed.elapsed().as_secs_f64());
                }
            }
        }
        say(&format!(
            "change {round}: every report followed within {:.2}s",
            changed.elapsed().as_secs_f64()
        ));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    samples
}

async fn next<S>(stream: &mut S, timeout: Duration) -> Event<ReadinessReport>
where
    S: futures::Stream<Item = Result<Event<ReadinessReport>, watcher::Error>> + Unpin,
{
    tokio::time::timeout(timeout, stream.try_next())
        .await
        .unwrap_or_else(|_| panic!("no report event within {timeout:?}"))
        .expect("watching reports")
        .expect("the report watch does not end")
}

/// The controller's counters, from /metrics.
#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    created: u64,
    updated: u64,
    deleted: u64,
    errors: u64,
    evaluations: u64,
}

impl Counters {
    fn parse(text: &str) -> Counters {
        let value = |series: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map_or(0, |v| v as u64)
        };
        let writes = |result: &str| {
            value(&format!(
                "prodready_report_writes_total{{result=\"{result}\"}}"
            ))
        };
        Counters {
            created: writes("created"),
            updated: writes("updated"),
            deleted: writes("deleted"),
            errors: writes("error"),
            evaluations: value("prodready_evaluations_total"),
        }
    }

    fn writes(&self) -> u64 {
        self.created + self.updated + self.deleted + self.errors
    }
}

/// `prodready controller` running as a process of its own.
struct Controller {
    child: Option<Child>,
    pid: u32,
    port: u16,
    started: Instant,
    log: PathBuf,
}

impl Controller {
    fn start(binary: &Path, cp: &ControlPlane) -> Controller {
        let port = support::controlplane::free_port().expect("a free port");
        let log = cp.log_dir().join("prodready-controller.log");
        let stderr = File::create(&log).expect("creating the controller's log");
        let mut command = Command::new(binary);
        let parent = libc::pid_t::try_from(std::process::id()).expect("a pid fits pid_t");
        // SAFETY: the closure only makes async-signal-safe system calls. The controller dies
        // with this process (the thread that forks it is the main thread), even when killed.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    return Err(std::io::Error::other("the benchmark exited"));
                }
                Ok(())
            });
        }
        let started = Instant::now();
        let child = command
            .arg("controller")
            .arg("--kubeconfig")
            .arg(cp.kubeconfig_path())
            .args(["--http-addr", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        say(&format!(
            "controller started (pid {}, log {})",
            child.id(),
            log.display()
        ));
        Controller {
            pid: child.id(),
            child: Some(child),
            port,
            started,
            log,
        }
    }

    fn check_running(&mut self) {
        if let Some(child) = self.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            panic!(
                "the controller exited with {status}; log: {}",
                self.log.display()
            );
        }
    }

    /// A plain HTTP/1.0 GET: (status, body).
    async fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .ok()?;
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text.split_once("\r\n\r\n")?;
        let code = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((code, body.to_string()))
    }

    async fn counters(&self) -> Counters {
        let (_, body) = self
            .get("/metrics")
            .await
            .unwrap_or_else(|| panic!("/metrics unreachable; log: {}", self.log.display()));
        Counters::parse(&body)
    }

    /// Polls `probe` every 50 ms until it answers.
    async fn wait<T>(
        &mut self,
        timeout: Duration,
        what: &str,
        probe: impl AsyncFn(&Controller) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(value) = probe(self).await {
                return value;
            }
            self.check_running();
            assert!(
                Instant::now() < deadline,
                "no {what} after {timeout:?}; log: {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then the time it took to exit.
    fn stop(&mut self) -> f64 {
        let Some(mut child) = self.child.take() else {
            return 0.0;
        };
        let started = Instant::now();
        let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
        // SAFETY: our own child, not yet waited for, so the pid is still its.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(status)) = child.try_wait() {
                assert!(
                    status.success(),
                    "the controller exited with {status} after SIGTERM"
                );
                return started.elapsed().as_secs_f64();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the controller did not exit within 30 s of SIGTERM");
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A process's memory, from /proc/<pid>/status, in KiB.
#[derive(Clone, Copy, Debug, Default)]
struct Memory {
    rss_kib: u64,
    hwm_kib: u64,
    anon_kib: u64,
    file_kib: u64,
}

fn memory(pid: u32) -> Memory {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Memory {
        rss_kib: field("VmRSS"),
        hwm_kib: field("VmHWM"),
        anon_kib: field("RssAnon"),
        file_kib: field("RssFile"),
    }
}

/// User + system CPU seconds of a process, from /proc/<pid>/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; the fields after it are space-separated.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
    ticks as f64 / per_second as f64
}

/// The control plane processes this process started: (name, pid).
fn control_plane_pids() -> Vec<(String, u32)> {
    let me = std::process::id();
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        let parent = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if parent == Some(me) && ["etcd", "kube-apiserver"].contains(&name) {
            out.push((name.to_string(), pid));
        }
    }
    out.sort();
    out
}
