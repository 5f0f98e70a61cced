//! The small audit: one app (Sock Shop's 14 workloads by default) audited by a whole process, as
//! a CI job or a pre-commit hook runs it, many times over. Prints median, min and max wall time
//! and peak RSS for prodready and each peer, beside the cost of starting a process that does
//! nothing. The tools take turns run after run, so whatever else the machine does weighs on each
//! alike. It prints figures; it asserts none.
//!
//!   cargo bench --bench small_audit -- [--app FILE] [--runs 200] [--only kube-score,polaris]
//!                                      [--peers DIR]

#[path = "audit_peers/measure.rs"]
mod measure;
#[path = "audit_peers/peers.rs"]
mod peers;

mod corpus;

use std::path::{Path, PathBuf};
use std::process::Command;

use measure::{Run, arg, load_average, measure, median, mib};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs this too: the runs are for `cargo bench` only.
        println!("small_audit: run with `cargo bench --bench small_audit`");
        return;
    }
    let app = arg(&args, "--app").map_or_else(
        || corpus::replicated::source().join("sock-shop.yaml"),
        PathBuf::from,
    );
    assert!(app.is_file(), "no app to audit at {}", app.display());
    let runs: usize = arg(&args, "--runs").map_or(200, |r| r.parse().expect("--runs N"));
    let wanted: Vec<&str> = arg(&args, "--only")
        .unwrap_or("kube-score,polaris")
        .split(',')
        .map(str::trim)
        .collect();
    let peers_dir = arg(&args, "--peers").map(PathBuf::from);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("small-audit.out");

    let (peers, missing) = peers::find(peers_dir.as_deref(), &wanted);
    let mut tools: Vec<(String, Box<dyn Fn() -> Command>)> = Vec::new();
    tools.push((
        "floor: a process that does nothing (`true`)".into(),
        Box::new(|| Command::new("true")),
    ));
    for tool in std::iter::once(peers::prodready()).chain(peers) {
        println!("- {}: {}", tool.name, tool.version);
        let app = app.clone();
        tools.push((tool.name.into(), Box::new(move || tool.command(&app))));
    }
    for m in &missing {
        println!("- left out: {m}");
    }

    let start_load = load_average();
    // One run each first, not counted: the app and the binaries come into the page cache.
    for (_, command) in &tools {
        measure(&mut command(), &out, None);
    }
    let mut results: Vec<Vec<Run>> = tools.iter().map(|_| Vec::new()).collect();
    for _ in 0..runs {
        for ((_, command), runs) in tools.iter().zip(&mut results) {
            runs.push(measure(&mut command(), &out, None));
        }
    }
    println!(
        "\n### Small audit: {} as a whole process, {runs} runs each (load average {start_load:.2} at start, {:.2} at end)\n",
        app.file_name().unwrap().to_string_lossy(),
        load_average()
    );
    println!(
        "| tool | median wall | min | max | peak RSS (median, max) | median vs prodready | exit |"
    );
    println!("|---|---|---|---|---|---|---|");
    let wall = |runs: &[Run]| median(runs.iter().map(|r| r.seconds).collect());
    let ours = wall(&results[1]);
    for ((name, _), runs) in tools.iter().zip(&results) {
        let ms =
            |f: fn(f64, f64) -> f64| runs.iter().map(|r| r.seconds).fold(runs[0].seconds, f) * 1e3;
        let rss = median(runs.iter().map(|r| r.peak_rss_kib as f64).collect());
        let rss_max = runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0);
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2} ms | {:.1} MiB, {:.1} MiB | {:.1}x | {} |",
            wall(runs) * 1e3,
            ms(f64::min),
            ms(f64::max),
            rss / 1024.0,
            mib(rss_max),
            wall(runs) / ours,
            runs.last().map_or(String::new(), Run::outcome)
        );
    }
}
