//! The admission webhook under load: real AdmissionReviews over TLS on loopback at fixed rates,
//! against `prodready webhook` (a process of its own, judging against a corpus World) and
//! against the floor, a TLS endpoint that only echoes the body back.
//!
//!   scripts/bench.sh webhook
//!   cargo bench --bench webhook_load -- [--rates 100,500,1000] [--seconds 20] [--workloads 1000]
//!       [--rounds 3]
//!   cargo bench --bench webhook_load -- --in-process-only [--rounds 3]
//!
//! `PRODREADY_BENCH_BIN=<path>` loads another build of `prodready` instead of the one cargo built
//! with the benchmark (another commit, another profile), so that two builds can be compared run
//! by run on the same machine.
//!
//! Under load, each round runs every rate against the webhook and then against the floor, so
//! that whatever else the machine does at the time weighs on both; the table gives medians over
//! the rounds and the webhook's p99 as a multiple of the floor's from the same round.
//!
//! `--in-process-only` measures the webhook's code alone and starts no server: small enough to
//! run under a profiler or an instruction counter (`answer` is the function to look at).
//!
//! The load is open-loop, as the apiserver's is: requests leave on schedule whether or not the
//! previous ones were answered, over a pool of kept-alive connections (a new one is opened when
//! all are busy), and latency is measured from the moment each request leaves. "In handler" is
//! the webhook's own mean, from its duration histogram (the body read, the decoding and the
//! judgement; not the encoded answer): the rest of the latency is TLS, HTTP, the runtime and the
//! kernel. It falls as the rate rises: the same work with the caches warmer. The in-process
//! figure one review every 2 ms shows the same cost without any server, which is why it is there.

mod corpus;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use prodready::webhook::certs::{Lifetimes, issue_serving, new_ca};
use prodready::webhook::{CertStore, PemPair};
use rustls::pki_types::pem::PemObject;
use serde::Deserialize;

// The webhook's allocator, so that the in-process figures pay what the process pays (the load
// generator and the echo floor use it too).
#[cfg(all(unix, not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const ECHO_ENV: &str = "PRODREADY_BENCH_ECHO";

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The fields a manifest sets, as `fieldsV1` records them: `f:<field>` for a field, `k:<key>`
/// for an item of a list keyed by name or port, `.` for a map set as a whole.
fn fields_v1(value: &serde_json::Value, nested: bool) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let mut out = Map::new();
    match value {
        Value::Object(fields) => {
            if nested {
                out.insert(".".into(), json!({}));
            }
            for (name, field) in fields {
                out.insert(format!("f:{name}"), fields_v1(field, true));
            }
        }
        Value::Array(items) => {
            for item in items {
                let key = if let Some(name) = item.get("name") {
                    json!({ "name": name })
                } else if let Some(port) = item.get("containerPort") {
                    json!({ "containerPort": port, "protocol": "TCP" })
                } else {
                    // A list of values or of unkeyed items is set as a whole.
                    return json!({});
                };
                out.insert(format!("k:{key}"), fields_v1(item, true));
            }
        }
        _ => {}
    }
    Value::Object(out)
}

/// AdmissionReview bodies, one per workload of the corpus: a CREATE as the apiserver sends it
/// after `kubectl apply --server-side`, the object carrying the managed fields the apiserver
/// records before admission.
fn reviews(corpus: &str) -> Vec<Bytes> {
    let mut out = Vec::new();
    for (i, doc) in serde_yaml_ng::Deserializer::from_str(corpus).enumerate() {
        let mut object = serde_json::Value::deserialize(doc).expect("the corpus parses");
        let mut metadata = serde_json::Map::new();
        for field in ["labels", "annotations"] {
            if let Some(set) = object["metadata"].get(field) {
                metadata.insert(format!("f:{field}"), fields_v1(set, true));
            }
        }
        let applied = serde_json::json!({
            "f:metadata": metadata,
            "f:spec": fields_v1(&object["spec"], false),
        });
        object["metadata"]["managedFields"] = serde_json::json!([{
            "manager": "kubectl", "operation": "Apply", "apiVersion": object["apiVersion"],
            "time": "2026-01-02T03:04:05Z", "fieldsType": "FieldsV1", "fieldsV1": applied
        }]);
        let kind = object["kind"].as_str().unwrap_or_default().to_string();
        let resource = match kind.as_str() {
            "Deployment" => "deployments",
            "StatefulSet" => "statefulsets",
            _ => continue,
        };
        let review = serde_json::json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {
                "uid": format!("bench-{i}"),
                "kind": {"group": "apps", "version": "v1", "kind": kind},
                "resource": {"group": "apps", "version": "v1", "resource": resource},
                "name": object["metadata"]["name"], "namespace": object["metadata"]["namespace"],
                "operation": "CREATE", "userInfo": {"username": "bench"}, "dryRun": false,
                "object": object
            }
        });
        out.push(Bytes::from(serde_json::to_vec(&review).unwrap()));
    }
    out
}

/// The floor: answers every request with its own body, over the same TLS stack.
async fn echo(addr: SocketAddr, pair: PemPair) {
    let store = CertStore::new(&pair, "bench").expect("certificate");
    let tls = Arc::new(store.server_config().expect("TLS config"));
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let service = hyper::service::service_fn(
                |request: hyper::Request<hyper::body::Incoming>| async move {
                    let body = request.into_body().collect().await?.to_bytes();
                    Ok::<_, hyper::Error>(hyper::Response::new(Full::new(body)))
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

struct Target {
    name: &'static str,
    addr: SocketAddr,
    /// Where the target serves its metrics, if it does.
    metrics: Option<SocketAddr>,
    process: Child,
}

impl Drop for Target {
    /// Stops the target as Kubernetes stops a pod: SIGTERM, then SIGKILL if it is still there
    /// after a grace period. A clean exit is what lets an instrumented build write its profile.
    fn drop(&mut self) {
        // SAFETY: kill(2) on a child this process started and has not yet reaped.
        unsafe { libc::kill(self.process.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.process.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// CPU seconds (user + system) the process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// A `/proc/<pid>/status` figure in KiB (VmRSS, VmHWM).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

struct Client {
    addr: SocketAddr,
    connector: tokio_rustls::TlsConnector,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

impl Client {
    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let tcp = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let tls = self
            .connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// One review on an idle kept-alive connection (or a new one); `Ok` when it was answered
    /// 200 with a body.
    async fn send(&self, body: Bytes) -> Result<(), String> {
        let idle = self.idle.lock().unwrap().pop();
        let mut sender = match idle {
            Some(s) if !s.is_closed() => s,
            _ => self.connect().await?,
        };
        sender.ready().await.map_err(|e| e.to_string())?;
        let request = hyper::Request::post("/validate")
            .header("host", "127.0.0.1")
            .header("content-type", "application/json")
            .body(Full::new(body))
            .unwrap();
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let answer = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        self.idle.lock().unwrap().push(sender);
        if status != 200 || answer.is_empty() {
            return Err(format!("HTTP {status}"));
        }
        Ok(())
    }
}

struct Figures {
    sent: usize,
    errors: usize,
    latencies: Vec<Duration>,
}

async fn load(client: Arc<Client>, bodies: &[Bytes], rate: u32, seconds: u64) -> Figures {
    let total = rate as usize * seconds as usize;
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        tokio::time::sleep_until(start + interval * i as u32).await;
        let client = client.clone();
        let body = bodies[i % bodies.len()].clone();
        tasks.push(tokio::spawn(async move {
            // From the moment the request leaves: the generator never waits for answers, so
            // a slow answer cannot delay later requests (no coordinated omission), and timer
            // lateness of this process is not the server's.
            let sent = tokio::time::Instant::now();
            let result = client.send(body).await;
            (result, sent.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0;
    for task in tasks {
        let (result, latency) = task.await.expect("request task");
        if result.is_err() {
            errors += 1;
        }
        latencies.push(latency);
    }
    latencies.sort();
    Figures {
        sent: total,
        errors,
        latencies,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The webhook's own account of its reviews, from its duration histogram on `/metrics`: how
/// many, and the seconds its handler spent on them in all.
async fn handler_seconds(metrics: SocketAddr) -> Option<(f64, f64)> {
    let tcp = tokio::net::TcpStream::connect(metrics).await.ok()?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .ok()?;
    tokio::spawn(connection);
    let request = hyper::Request::get("/metrics")
        .header("host", metrics.to_string())
        .body(Full::new(Bytes::new()))
        .ok()?;
    let body = sender.send_request(request).await.ok()?.into_body();
    let text = body.collect().await.ok()?.to_bytes();
    let text = std::str::from_utf8(&text).ok()?;
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
    };
    Some((
        value("prodready_webhook_review_duration_seconds_count")?,
        value("prodready_webhook_review_duration_seconds_sum")?,
    ))
}

/// The 1-minute load average: how busy the machine was around a figure.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// The median; the mean of the middle two for an even count.
fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// One target at one rate, in one round.
#[derive(Clone)]
struct Run {
    sent: usize,
    errors: usize,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
    /// The webhook's own mean per review, in µs, when it reports one.
    in_handler: Option<f64>,
    /// CPU used, as a percentage of one core.
    cpu: f64,
    rss_mib: f64,
    hwm_mib: f64,
    connections: usize,
    load: f64,
}

/// Loads `target` at `rate` for `seconds`, after a second of warm-up outside the figures.
async fn measure(
    target: &Target,
    connector: &tokio_rustls::TlsConnector,
    bodies: &[Bytes],
    rate: u32,
    seconds: u64,
) -> Run {
    let pid = target.process.id();
    let client = Arc::new(Client {
        addr: target.addr,
        connector: connector.clone(),
        idle: Mutex::new(Vec::new()),
    });
    let load = load_average();
    // Warm up the connections and the caches.
    let _ = self::load(client.clone(), bodies, rate, 1).await;
    let cpu_before = cpu_seconds(pid);
    let handled_before = match target.metrics {
        Some(m) => handler_seconds(m).await,
        None => None,
    };
    let figures = self::load(client.clone(), bodies, rate, seconds).await;
    let cpu = cpu_seconds(pid) - cpu_before;
    let handled_after = match target.metrics {
        Some(m) => handler_seconds(m).await,
        None => None,
    };
    let in_handler = match (handled_before, handled_after) {
        (Some((n0, s0)), Some((n1, s1))) if n1 > n0 => Some((s1 - s0) / (n1 - n0) * 1e6),
        _ => None,
    };
    let l = &figures.latencies;
    let connections = client.idle.lock().unwrap().len();
    Run {
        sent: figures.sent,
        errors: figures.errors,
        p50: percentile(l, 0.50),
        p90: percentile(l, 0.90),
        p99: percentile(l, 0.99),
        max: *l.last().unwrap_or(&Duration::ZERO),
        in_handler,
        cpu: 100.0 * cpu / seconds as f64,
        rss_mib: status_kib(pid, "VmRSS:") as f64 / 1024.0,
        hwm_mib: status_kib(pid, "VmHWM:") as f64 / 1024.0,
        connections,
        load,
    }
}

async fn wait_tls(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "{addr} never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What one review costs the webhook's code alone: the body read, the judgement and the
/// encoded answer, in this process, against the same World. `hot` is back to back, `rounds`
/// times over the bodies; `spaced` is one review every `SPACING`, as they come at 500/s, with
/// the caches as cold as the time in between leaves them; `spaced_busy` is the same with the
/// thread spinning instead of sleeping in between, which shows how much of the cold cost comes
/// from the processor going idle (in a virtual machine, the host runs something else on it).
struct InProcess {
    hot: Duration,
    spaced: Duration,
    /// p50, p90 and p99 of the reviews of `spaced`: the handler's own tail.
    spaced_tail: [Duration; 3],
    spaced_busy: Duration,
    /// `spaced` again, step by step: the body read, the judgement, the metrics, the answer.
    steps: [Duration; 4],
}

const SPACING: Duration = Duration::from_millis(2);

fn in_process(corpus: &str, bodies: &[Bytes], rounds: usize) -> InProcess {
    // The measuring thread allocates as the webhook's threads do (src/memory.rs). It is a
    // thread of its own so that the load generator's keep jemalloc's defaults.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                prodready::memory::lean_thread();
                in_process_here(corpus, bodies, rounds)
            })
            .join()
            .expect("the in-process measurement")
    })
}

fn in_process_here(corpus: &str, bodies: &[Bytes], rounds: usize) -> InProcess {
    let state = prodready::live::LiveState::new();
    let mut inventory = prodready::input::Inventory::new();
    inventory.add_text("corpus.yaml", corpus);
    *prodready::live::write(&state.world) = inventory.world;
    state.sync.expect(["corpus".to_string()]);
    state.sync.mark_synced("corpus");
    let webhook = prodready::webhook::Webhook {
        state,
        exclusions: prodready::webhook::Exclusions::new(None),
        metrics: prodready::webhook::WebhookMetrics::register(&prometheus::Registry::new()),
    };
    let start = Instant::now();
    for _ in 0..rounds {
        for body in bodies {
            let answer = prodready::webhook::server::answer(&webhook, body, Instant::now());
            std::hint::black_box(answer.expect("a review"));
        }
    }
    let hot = start.elapsed() / (rounds * bodies.len()).max(1) as u32;
    let spaced_n = bodies.len().min(1000);
    let spaced = |busy: bool| {
        let mut each = Vec::with_capacity(spaced_n);
        for body in &bodies[..spaced_n] {
            if busy {
                let idle = Instant::now();
                while idle.elapsed() < SPACING {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::sleep(SPACING);
            }
            let start = Instant::now();
            let answer = prodready::webhook::server::answer(&webhook, body, Instant::now());
            each.push(start.elapsed());
            std::hint::black_box(answer.expect("a review"));
        }
        let mean = each.iter().sum::<Duration>() / spaced_n.max(1) as u32;
        each.sort();
        (mean, [0.50, 0.90, 0.99].map(|p| percentile(&each, p)))
    };
    // The steps `answer` takes, timed one by one with the same spacing: where the cold cost is.
    let mut steps = [Duration::ZERO; 4];
    for body in &bodies[..spaced_n] {
        std::thread::sleep(SPACING);
        let started = Instant::now();
        let review = prodready::webhook::wire::read(body).expect("the fast path reads the corpus");
        let read = Instant::now();
        let request = review.request.admission();
        let now = jiff::Timestamp::now();
        let decision = prodready::webhook::review::decide_on(
            &request,
            &webhook.state,
            &webhook.exclusions,
            now,
        );
        let judged = Instant::now();
        webhook.metrics.record(
            &request.kind.kind,
            prodready::webhook::server::operation_name(request.operation),
            &decision,
            (judged - started).as_secs_f64(),
        );
        let recorded = Instant::now();
        let answer = prodready::webhook::wire::encode(
            &review.api_version,
            &review.kind,
            &review.request.uid,
            &decision,
        );
        let encoded = Instant::now();
        std::hint::black_box(answer);
        for (step, (from, to)) in steps.iter_mut().zip([
            (started, read),
            (read, judged),
            (judged, recorded),
            (recorded, encoded),
        ]) {
            *step += to - from;
        }
    }
    let (spaced_mean, spaced_tail) = spaced(false);
    InProcess {
        hot,
        spaced: spaced_mean,
        spaced_tail,
        spaced_busy: spaced(true).0,
        steps: steps.map(|s| s / spaced_n.max(1) as u32),
    }
}

/// `spaced`'s percentiles, for the report.
fn tail_line(tail: &[Duration; 3]) -> String {
    let [p50, p90, p99] = tail.map(|s| s.as_secs_f64() * 1e6);
    format!("p50 {p50:.0} µs, p90 {p90:.0} µs, p99 {p99:.0} µs")
}

/// `spaced` step by step, for the report.
fn steps_line(steps: &[Duration; 4]) -> String {
    let [read, judge, metrics, encode] = steps.map(|s| s.as_secs_f64() * 1e6);
    format!(
        "read {read:.0} µs, judge {judge:.0} µs, metrics {metrics:.0} µs, answer {encode:.0} µs"
    )
}

fn main() {
    if let Ok(addr) = std::env::var(ECHO_ENV) {
        let dir = std::env::var("PRODREADY_BENCH_CERTS").expect("certificate dir");
        let pair = PemPair {
            cert: std::fs::read_to_string(Path::new(&dir).join("tls.crt")).unwrap(),
            key: std::fs::read_to_string(Path::new(&dir).join("tls.key")).unwrap(),
        };
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(echo(addr.parse().expect("echo address"), pair));
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("webhook_load: run with `cargo bench --bench webhook_load` (or scripts/bench.sh)");
        return;
    }
    let rates: Vec<u32> = arg(&args, "--rates")
        .unwrap_or("100,500,1000")
        .split(',')
        .map(|r| r.trim().parse().expect("--rates takes numbers"))
        .collect();
    let seconds: u64 = arg(&args, "--seconds").map_or(20, |s| s.parse().expect("--seconds N"));
    let workloads: usize = arg(&args, "--workloads").map_or(1000, |n| n.parse().expect("N"));
    let rounds: usize = arg(&args, "--rounds").map_or(3, |n| n.parse().expect("--rounds N"));
    if args.iter().any(|a| a == "--in-process-only") {
        let text = corpus::corpus(workloads);
        let bodies = reviews(&text);
        let per_review = in_process(&text, &bodies, rounds);
        println!(
            "{} reviews x {rounds} rounds in-process: {:.1} µs per review; one every {} ms: \
             {:.1} µs ({}; {:.1} µs spinning in between; {})",
            bodies.len(),
            per_review.hot.as_secs_f64() * 1e6,
            SPACING.as_millis(),
            per_review.spaced.as_secs_f64() * 1e6,
            tail_line(&per_review.spaced_tail),
            per_review.spaced_busy.as_secs_f64() * 1e6,
            steps_line(&per_review.steps)
        );
        return;
    }

    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("webhook-load");
    std::fs::create_dir_all(&work).unwrap();
    let now = jiff::Timestamp::now().as_second();
    let lifetimes = Lifetimes::default();
    let ca = new_ca(now, &lifetimes, None).unwrap();
    let serving = issue_serving(&ca, &["127.0.0.1".to_string()], now, &lifetimes).unwrap();
    std::fs::write(work.join("tls.crt"), &serving.pair.cert).unwrap();
    std::fs::write(work.join("tls.key"), &serving.pair.key).unwrap();
    let text = corpus::corpus(workloads);
    let corpus_path = work.join("corpus.yaml");
    std::fs::write(&corpus_path, &text).unwrap();
    let bodies = reviews(&text);
    let mean_body = bodies.iter().map(Bytes::len).sum::<usize>() / bodies.len().max(1);

    let webhook_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let http_port = free_port();
    let binary = std::env::var_os("PRODREADY_BENCH_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_prodready").into());
    let webhook = Command::new(&binary)
        .args(["webhook", "--log-level", "warn", "--world-from"])
        .arg(&corpus_path)
        .arg("--tls-cert-file")
        .arg(work.join("tls.crt"))
        .arg("--tls-key-file")
        .arg(work.join("tls.key"))
        .args(["--webhook-addr", &webhook_addr.to_string()])
        .args(["--http-addr", &format!("127.0.0.1:{http_port}")])
        .stdout(Stdio::null())
        .spawn()
        .expect("prodready webhook starts");
    let echo_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let echo = Command::new(std::env::current_exe().unwrap())
        .env(ECHO_ENV, echo_addr.to_string())
        .env("PRODREADY_BENCH_CERTS", &work)
        .spawn()
        .expect("the echo server starts");
    let targets = [
        Target {
            name: "prodready webhook",
            addr: webhook_addr,
            metrics: Some(SocketAddr::from(([127, 0, 0, 1], http_port))),
            process: webhook,
        },
        Target {
            name: "floor: TLS echo",
            addr: echo_addr,
            metrics: None,
            process: echo,
        },
    ];

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(ca.pair.cert.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let per_review = in_process(&text, &bodies, rounds);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    println!(
        "\n### Webhook: {} AdmissionReviews (mean {:.1} KiB) against a World of {workloads} \
         workloads, {seconds} s per rate and target, {rounds} rounds\n",
        bodies.len(),
        mean_body as f64 / 1024.0
    );
    println!(
        "In-process, without TLS or HTTP (read the review, judge, encode the answer): {:.0} µs \
         per review back to back, {:.0} µs one every {} ms ({}), {:.0} µs one every {} ms with \
         the thread spinning instead of sleeping in between (load {:.2}); one every {} ms step \
         by step: {}.\n",
        per_review.hot.as_secs_f64() * 1e6,
        per_review.spaced.as_secs_f64() * 1e6,
        SPACING.as_millis(),
        tail_line(&per_review.spaced_tail),
        per_review.spaced_busy.as_secs_f64() * 1e6,
        SPACING.as_millis(),
        load_average(),
        SPACING.as_millis(),
        steps_line(&per_review.steps)
    );
    // Round after round, each rate against the webhook and then the floor: whatever else the
    // machine is doing weighs on both alike, and the medians over rounds shed one-off stalls.
    let mut runs: Vec<Vec<Vec<Run>>> = vec![vec![Vec::new(); targets.len()]; rates.len()];
    runtime.block_on(async {
        for target in &targets {
            wait_tls(target.addr).await;
        }
        for round in 0..rounds {
            for (r, &rate) in rates.iter().enumerate() {
                for (t, target) in targets.iter().enumerate() {
                    let run = measure(target, &connector, &bodies, rate, seconds).await;
                    eprintln!(
                        "round {}/{rounds}: {} at {rate}/s: p99 {} (load {:.2})",
                        round + 1,
                        target.name,
                        ms(run.p99),
                        run.load
                    );
                    runs[r][t].push(run);
                }
            }
        }
    });
    println!(
        "Each rate against the webhook and then the floor, {rounds} rounds in turn; latencies, \
         CPU and handler time are medians over the rounds, `sent` and `errors` their sums, and \
         \"p99 / floor\" the median of each round's webhook p99 over the floor's p99 of the \
         same round.\n"
    );
    println!(
        "| target | rate | sent | errors | p50 | p90 | p99 | max | p99 / floor | in handler (mean) | CPU | RSS (peak) | connections |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (r, &rate) in rates.iter().enumerate() {
        for (t, target) in targets.iter().enumerate() {
            let mine = &runs[r][t];
            let floor = &runs[r][targets.len() - 1];
            let of = |f: fn(&Run) -> Duration| {
                median(mine.iter().map(|x| f(x).as_secs_f64() * 1000.0).collect())
            };
            let ratio = median(
                mine.iter()
                    .zip(floor)
                    .map(|(a, b)| a.p99.as_secs_f64() / b.p99.as_secs_f64())
                    .collect(),
            );
            let handler: Vec<f64> = mine.iter().filter_map(|x| x.in_handler).collect();
            let in_handler = if handler.is_empty() {
                "–".to_string()
            } else {
                format!("{:.0} µs", median(handler))
            };
            println!(
                "| {} | {rate}/s | {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {ratio:.2} | {in_handler} | {:.0}% | {:.0} MiB ({:.0} MiB) | {} |",
                target.name,
                mine.iter().map(|x| x.sent).sum::<usize>(),
                mine.iter().map(|x| x.errors).sum::<usize>(),
                of(|x| x.p50),
                of(|x| x.p90),
                of(|x| x.p99),
                of(|x| x.max),
                median(mine.iter().map(|x| x.cpu).collect()),
                mine.last().map_or(0.0, |x| x.rss_mib),
                mine.iter().map(|x| x.hwm_mib).fold(0.0, f64::max),
                mine.iter().map(|x| x.connections).max().unwrap_or(0),
            );
        }
    }
    println!("\nRound by round, with the 1-minute load average as each round started:\n");
    println!("| rate | round | load | webhook p99 | floor p99 | p99 / floor | in handler (mean) |");
    println!("|---|---|---|---|---|---|---|");
    for (per_rate, &rate) in runs.iter().zip(&rates) {
        let (webhook, floor) = (&per_rate[0], &per_rate[per_rate.len() - 1]);
        for (round, (mine, floor)) in webhook.iter().zip(floor).enumerate() {
            println!(
                "| {rate}/s | {} | {:.2} | {} | {} | {:.2} | {} |",
                round + 1,
                mine.load,
                ms(mine.p99),
                ms(floor.p99),
                mine.p99.as_secs_f64() / floor.p99.as_secs_f64(),
                mine.in_handler
                    .map_or("–".to_string(), |us| format!("{us:.0} µs")),
            );
        }
    }
}
