//! The offline audit against the tools users would pick instead, on the same corpus, and
//! against this machine's floor (reading and parsing the corpus without judging it).
//!
//!   scripts/bench.sh audit            (installs the peers, then runs this)
//!   cargo bench --bench audit_peers -- --peers DIR [--workloads 1000,10000] [--runs 5]
//!                                          [--only kube-score,trivy,checkov]
//!
//! Each tool runs as its own process with JSON output to a file; wall time is the median of the
//! runs, peak RSS the largest resident set of the process (from wait4). A peer that is not
//! installed is left out of the table, with a note. The floors run as processes too (this
//! executable, started again), taking turns with prodready round after round; the ratio to the
//! floor is the median of the rounds' ratios, so a machine that slows down between runs weighs
//! on both sides of it.

mod corpus;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Deserialize;

struct Run {
    seconds: f64,
    peak_rss_kib: u64,
    exit: i32,
}

/// Runs `cmd` to its end with stdout to `out`, measuring wall time and peak RSS.
fn measure(cmd: &mut Command, out: &Path) -> Run {
    let file = std::fs::File::create(out).expect("output file");
    let start = Instant::now();
    let child = cmd
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; `child` is not waited on again.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed for {cmd:?}");
    let seconds = start.elapsed().as_secs_f64();
    drop(child);
    Run {
        seconds,
        peak_rss_kib: usage.ru_maxrss as u64,
        exit: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Set (to `one` or `every`) in the child process that measures the floor.
const FLOOR_ENV: &str = "PRODREADY_BENCH_FLOOR";

/// The floor: read the file and parse every YAML document into a generic value, nothing more.
/// It runs as its own process, as every tool does, so that it pays the same start, page faults
/// and exit.
fn parse_floor(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).expect("corpus");
    let mut documents = 0usize;
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let value = serde_json::Value::deserialize(doc).expect("the corpus parses");
        documents += usize::from(!value.is_null());
    }
    documents
}

/// The same floor on every core: the documents (split at `---` lines, as the corpus writes
/// them) parsed by one thread per core.
fn parse_floor_parallel(path: &Path) -> usize {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let text = std::fs::read_to_string(path).expect("corpus");
    let docs: Vec<&str> = text.split("\n---\n").collect();
    let chunk = docs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = docs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter(|d| {
                            !serde_yaml_ng::from_str::<serde_json::Value>(d)
                                .expect("the corpus parses")
                                .is_null()
                        })
                        .count()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    })
}

/// This benchmark's own executable, started to measure one floor run on `corpus`.
fn floor_command(every_core: bool, corpus: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().expect("the benchmark's own path"));
    c.env(FLOOR_ENV, if every_core { "every" } else { "one" })
        .arg(corpus);
    c
}

/// One turn of the floors and prodready on the same corpus, in seconds.
struct Round {
    load: f64,
    floor_one: f64,
    floor: f64,
    prodready: f64,
}

/// The 1-minute load average, to show how quiet the machine was.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

struct Tool {
    name: &'static str,
    version: String,
    command: Box<dyn Fn(&Path) -> Command>,
    runs: usize,
}

fn version_of(program: &Path, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            text.lines().next().unwrap_or("").trim().to_string()
        })
        .unwrap_or_default()
}

fn peers(dir: &Path, runs: usize, work: &Path) -> (Vec<Tool>, Vec<String>) {
    let mut tools = Vec::new();
    let mut missing = Vec::new();
    let kube_score = dir.join("bin/kube-score");
    if kube_score.exists() {
        let bin = kube_score.clone();
        tools.push(Tool {
            name: "kube-score",
            version: version_of(&kube_score, &["version"]),
            command: Box::new(move |corpus| {
                let mut c = Command::new(&bin);
                c.args(["score", "--output-format", "json"]).arg(corpus);
                c
            }),
            runs,
        });
    } else {
        missing.push(format!("kube-score (not at {})", kube_score.display()));
    }
    let trivy = dir.join("bin/trivy");
    if trivy.exists() {
        let bin = trivy.clone();
        let cache = work.join("trivy-cache");
        tools.push(Tool {
            name: "trivy config",
            version: version_of(&trivy, &["--version"]),
            command: Box::new(move |corpus| {
                let mut c = Command::new(&bin);
                c.args([
                    "config",
                    "--format",
                    "json",
                    "--quiet",
                    "--skip-check-update",
                ])
                .arg("--cache-dir")
                .arg(&cache)
                .arg(corpus);
                c
            }),
            runs,
        });
    } else {
        missing.push(format!("trivy (not at {})", trivy.display()));
    }
    let checkov = dir.join("checkov/bin/checkov");
    if checkov.exists() {
        let bin = checkov.clone();
        tools.push(Tool {
            name: "checkov",
            version: version_of(&checkov, &["--version"]),
            command: Box::new(move |corpus| {
                let mut c = Command::new(&bin);
                c.args([
                    "--framework",
                    "kubernetes",
                    "-o",
                    "json",
                    "--quiet",
                    "--compact",
                ])
                .arg("-f")
                .arg(corpus);
                c
            }),
            // Minutes per run at 10,000 workloads: one run is the figure.
            runs: 1,
        });
    } else {
        missing.push(format!("checkov (not at {})", checkov.display()));
    }
    (tools, missing)
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Ok(which) = std::env::var(FLOOR_ENV) {
        let corpus = Path::new(args.first().expect("the corpus path"));
        let documents = match which.as_str() {
            "every" => parse_floor_parallel(corpus),
            _ => parse_floor(corpus),
        };
        println!("{documents}");
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs this too: the peers and minutes of runs are for
        // `cargo bench` only.
        println!("audit_peers: run with `cargo bench --bench audit_peers` (or scripts/bench.sh)");
        return;
    }
    let workloads: Vec<usize> = arg(&args, "--workloads")
        .unwrap_or("1000,10000")
        .split(',')
        .map(|n| n.trim().parse().expect("--workloads takes numbers"))
        .collect();
    let runs: usize = arg(&args, "--runs").map_or(5, |r| r.parse().expect("--runs N"));
    let peers_dir = arg(&args, "--peers").map(PathBuf::from).unwrap_or_default();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-peers");
    std::fs::create_dir_all(&work).expect("work dir");
    let prodready = Path::new(env!("CARGO_BIN_EXE_prodready")).to_path_buf();
    let (mut tools, missing) = peers(&peers_dir, runs.min(3), &work);
    let bin = prodready.clone();
    tools.insert(
        0,
        Tool {
            name: "prodready audit",
            version: version_of(&prodready, &["version"]),
            command: Box::new(move |corpus| {
                let mut c = Command::new(&bin);
                c.args(["audit", "--format", "json"]).arg(corpus);
                c
            }),
            runs,
        },
    );
    // `--only kube-score,checkov` keeps prodready and those peers (a long peer can be left out).
    if let Some(only) = arg(&args, "--only") {
        let keep: Vec<&str> = only.split(',').map(str::trim).collect();
        tools.retain(|t| t.name == "prodready audit" || keep.iter().any(|k| t.name.starts_with(k)));
    }
    for t in &tools {
        println!("- {}: {}", t.name, t.version);
    }
    for m in &missing {
        println!("- left out: {m}");
    }
    for &n in &workloads {
        let corpus_path = work.join(format!("corpus-{n}.yaml"));
        let text = corpus::corpus(n);
        std::fs::write(&corpus_path, &text).expect("writing the corpus");
        let mib = text.len() as f64 / (1024.0 * 1024.0);
        drop(text);
        println!(
            "\n### Offline audit: {n} workloads ({mib:.1} MiB of YAML, with their related objects)\n"
        );
        // prodready and the floors take turns, round after round, so that whatever else the
        // machine does weighs on each alike; the ratio is taken within each round.
        let floor_out = work.join(format!("floor-{n}.out"));
        let prodready_out = work.join(format!("prodready-audit-{n}.json"));
        let mut rounds = Vec::new();
        let (mut floor_rss, mut floor_one_rss, mut prodready_rss) = (0, 0, 0);
        let mut prodready_exit = 0;
        for _ in 0..runs {
            let load = load_average();
            let one = measure(&mut floor_command(false, &corpus_path), &floor_out);
            let every = measure(&mut floor_command(true, &corpus_path), &floor_out);
            let ours = measure(&mut (tools[0].command)(&corpus_path), &prodready_out);
            floor_one_rss = floor_one_rss.max(one.peak_rss_kib);
            floor_rss = floor_rss.max(every.peak_rss_kib);
            prodready_rss = prodready_rss.max(ours.peak_rss_kib);
            prodready_exit = ours.exit;
            rounds.push(Round {
                load,
                floor_one: one.seconds,
                floor: every.seconds,
                prodready: ours.seconds,
            });
        }
        let floor_one = median(rounds.iter().map(|r| r.floor_one).collect());
        let floor = median(rounds.iter().map(|r| r.floor).collect());
        let wall = median(rounds.iter().map(|r| r.prodready).collect());
        let mib_of = |kib: u64| kib as f64 / 1024.0;
        println!("| tool | median wall | workloads/s | peak RSS | vs prodready | runs | exit |");
        println!("|---|---|---|---|---|---|---|");
        println!(
            "| floor: read + parse YAML, no judging, one thread | {floor_one:.2} s | {:.0} | {:.0} MiB | - | {runs} | - |",
            n as f64 / floor_one,
            mib_of(floor_one_rss)
        );
        println!(
            "| floor: read + parse YAML, no judging, every core | {floor:.2} s | {:.0} | {:.0} MiB | - | {runs} | - |",
            n as f64 / floor,
            mib_of(floor_rss)
        );
        let output = |path: &Path| {
            std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / (1024.0 * 1024.0))
        };
        println!(
            "| prodready audit | {wall:.2} s | {:.0} | {:.0} MiB | 1.0x | {runs} | {prodready_exit} ({:.1} MiB of JSON) |",
            n as f64 / wall,
            mib_of(prodready_rss),
            output(&prodready_out)
        );
        for tool in &tools[1..] {
            let out = work.join(format!("{}-{n}.json", tool.name.replace(' ', "-")));
            let mut times = Vec::new();
            let mut rss = 0;
            let mut exit = 0;
            for _ in 0..tool.runs {
                let run = measure(&mut (tool.command)(&corpus_path), &out);
                times.push(run.seconds);
                rss = rss.max(run.peak_rss_kib);
                exit = run.exit;
            }
            let peer = median(times);
            println!(
                "| {} | {peer:.2} s | {:.0} | {:.0} MiB | {:.1}x | {} | {exit} ({:.1} MiB of JSON) |",
                tool.name,
                n as f64 / peer,
                mib_of(rss),
                peer / wall,
                tool.runs,
                output(&out)
            );
        }
        println!("\nRound by round, with the 1-minute load average as each round started:\n");
        println!(
            "| round | load | floor, one thread | floor, every core | prodready | prodready / floor (every core) |"
        );
        println!("|---|---|---|---|---|---|");
        for (i, r) in rounds.iter().enumerate() {
            println!(
                "| {} | {:.2} | {:.2} s | {:.2} s | {:.2} s | {:.2} |",
                i + 1,
                r.load,
                r.floor_one,
                r.floor,
                r.prodready,
                r.prodready / r.floor
            );
        }
        println!(
            "\nprodready / floor, the median of the rounds' ratios: {:.2}x (every core), {:.2}x (one thread)",
            median(rounds.iter().map(|r| r.prodready / r.floor).collect()),
            median(rounds.iter().map(|r| r.prodready / r.floor_one).collect())
        );
    }
}
