//! The offline audit against the tools users would pick instead, on the same corpus, and
//! against this machine's floor (reading and parsing the corpus without judging it).
//!
//!   scripts/bench.sh audit
//!   cargo bench --bench audit_peers -- [--corpus synthetic,realworld] [--workloads 1000,10000]
//!                                      [--runs 5] [--only kube-score,polaris,trivy,checkov]
//!                                      [--peers DIR] [--limit SECONDS]
//!
//! The peers are found or built by scripts/peers.sh (in the cache directory unless `--peers`
//! says where); one that cannot be built is left out of the table, with a note. The realworld
//! corpus replicates the manifests under `PRODREADY_REALWORLD` (see benches/corpus/replicated.rs).
//!
//! Each tool runs as its own process with JSON output to a file; wall time is the median of the
//! runs, peak RSS the largest resident set of the process (from wait4). A peer runs at most three
//! times, once if its first run takes over a minute, and is stopped after `--limit` seconds (30
//! minutes by default, 0 for no limit), its row then saying so. The floors take turns with
//! prodready round after round; the ratio to the floor is the median of the rounds' ratios, so a
//! machine that slows down between runs weighs on both sides of it.

#[path = "../corpus.rs"]
mod corpus;
mod floor;
mod measure;
mod peers;

use std::path::{Path, PathBuf};
use std::time::Duration;

use measure::{arg, load_average, measure, median, mib};
use peers::Tool;

/// A peer's runs stop after the first one that takes longer than this, in seconds.
const LONG_RUN: f64 = 60.0;

/// How each corpus is measured.
struct Setup {
    /// prodready's and the floors' runs; a peer's are at most three.
    runs: usize,
    /// A peer's run is stopped after this long.
    limit: Option<Duration>,
    /// Where the corpora and the tools' outputs go.
    work: PathBuf,
}

/// One turn of the floors and prodready on the same corpus, in seconds.
struct Round {
    load: f64,
    floor_one: f64,
    floor: f64,
    prodready: f64,
}

fn main() {
    if floor::run_if_asked() {
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs this too: the peers and minutes of runs are for
        // `cargo bench` only.
        println!("audit_peers: run with `cargo bench --bench audit_peers` (or scripts/bench.sh)");
        return;
    }
    let list = |name, default| -> Vec<String> {
        let value = arg(&args, name).unwrap_or(default);
        value.split(',').map(|s| s.trim().to_string()).collect()
    };
    let corpora = list("--corpus", "synthetic,realworld");
    let workloads: Vec<usize> = list("--workloads", "1000,10000")
        .iter()
        .map(|n| n.parse().expect("--workloads takes numbers"))
        .collect();
    let runs: usize = arg(&args, "--runs").map_or(5, |r| r.parse().expect("--runs N"));
    let limit: u64 = arg(&args, "--limit").map_or(1800, |l| l.parse().expect("--limit SECONDS"));
    let wanted = list("--only", "kube-score,polaris");
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let peers_dir = arg(&args, "--peers").map(PathBuf::from);
    let setup = Setup {
        runs,
        limit: (limit > 0).then(|| Duration::from_secs(limit)),
        work: Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-peers"),
    };
    std::fs::create_dir_all(&setup.work).expect("work dir");

    let ours = peers::prodready();
    let (peers, missing) = peers::find(peers_dir.as_deref(), &wanted);
    for t in std::iter::once(&ours).chain(&peers) {
        println!("- {}: {}", t.name, t.version);
    }
    for m in &missing {
        println!("- left out: {m}");
    }
    for name in &corpora {
        for &n in &workloads {
            let path = setup.work.join(format!("corpus-{name}-{n}.yaml"));
            let text = corpus::named(name, n);
            std::fs::write(&path, &text).expect("writing the corpus");
            println!(
                "\n### Offline audit: {n} workloads, {name} corpus ({:.1} MiB of YAML, with their related objects)\n",
                text.len() as f64 / (1024.0 * 1024.0)
            );
            drop(text);
            table(&ours, &peers, &path, n, &setup);
        }
    }
}

/// The table for one corpus: the floors and prodready round after round, then each peer.
fn table(ours: &Tool, peers: &[Tool], corpus: &Path, n: usize, setup: &Setup) {
    let (runs, work) = (setup.runs, &setup.work);
    let stem = corpus.file_stem().unwrap().to_string_lossy();
    let output = |path: &Path| std::fs::metadata(path).map_or(0.0, |m| mib(m.len() >> 10));
    let floor_out = work.join(format!("floor-{stem}.out"));
    let ours_out = work.join(format!("prodready-{stem}.json"));
    let mut rounds = Vec::new();
    let (mut floor_rss, mut floor_one_rss, mut ours_rss) = (0, 0, 0);
    let mut ours_exit = String::new();
    for _ in 0..runs {
        let load = load_average();
        let one = measure(&mut floor::command(false, corpus), &floor_out, None);
        let every = measure(&mut floor::command(true, corpus), &floor_out, None);
        let run = measure(&mut ours.command(corpus), &ours_out, None);
        floor_one_rss = floor_one_rss.max(one.peak_rss_kib);
        floor_rss = floor_rss.max(every.peak_rss_kib);
        ours_rss = ours_rss.max(run.peak_rss_kib);
        ours_exit = run.outcome();
        rounds.push(Round {
            load,
            floor_one: one.seconds,
            floor: every.seconds,
            prodready: run.seconds,
        });
    }
    let floor_one = median(rounds.iter().map(|r| r.floor_one).collect());
    let floor = median(rounds.iter().map(|r| r.floor).collect());
    let wall = median(rounds.iter().map(|r| r.prodready).collect());
    println!("| tool | median wall | workloads/s | peak RSS | vs prodready | runs | exit |");
    println!("|---|---|---|---|---|---|---|");
    for (what, secs, rss) in [
        ("one thread", floor_one, floor_one_rss),
        ("every core", floor, floor_rss),
    ] {
        println!(
            "| floor: read + parse YAML, no judging, {what} | {secs:.2} s | {:.0} | {:.0} MiB | - | {runs} | - |",
            n as f64 / secs,
            mib(rss)
        );
    }
    println!(
        "| prodready audit | {wall:.2} s | {:.0} | {:.0} MiB | 1.0x | {runs} | {ours_exit} ({:.1} MiB of JSON) |",
        n as f64 / wall,
        mib(ours_rss),
        output(&ours_out)
    );
    for tool in peers {
        println!("{}", peer_row(tool, corpus, n, wall, setup));
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

/// A peer's row: its runs on `corpus`, beside prodready's median `wall`.
fn peer_row(tool: &Tool, corpus: &Path, n: usize, wall: f64, setup: &Setup) -> String {
    let stem = corpus.file_stem().unwrap().to_string_lossy();
    let out = setup
        .work
        .join(format!("{}-{stem}.json", tool.name.replace(' ', "-")));
    let (mut times, mut rss, mut exit) = (Vec::new(), 0, String::new());
    while times.len() < setup.runs.min(3) {
        let run = measure(&mut tool.command(corpus), &out, setup.limit);
        rss = rss.max(run.peak_rss_kib);
        if run.stopped {
            let secs = run.seconds;
            return format!(
                "| {} | > {secs:.0} s (stopped) | < {:.0} | > {:.0} MiB | > {:.1}x | 1 | - |",
                tool.name,
                n as f64 / secs,
                mib(rss),
                secs / wall
            );
        }
        times.push(run.seconds);
        exit = run.outcome();
        if run.seconds > LONG_RUN {
            break;
        }
    }
    let peer = median(times.clone());
    let json = std::fs::metadata(&out).map_or(0.0, |m| mib(m.len() >> 10));
    format!(
        "| {} | {peer:.2} s | {:.0} | {:.0} MiB | {:.1}x | {} | {exit} ({json:.1} MiB of JSON) |",
        tool.name,
        n as f64 / peer,
        mib(rss),
        peer / wall,
        times.len(),
    )
}
