//! Prints the engine's figures for BENCHMARKS.md: workloads per second for reading and for
//! judging a 10,000-workload corpus, and heap allocations per judged workload (counted by a
//! wrapping global allocator). Run: `cargo bench --bench engine_figures -- [N] [--corpus NAME]`
//! (NAME: synthetic, the default, or realworld; see benches/corpus.rs).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use prodready::engine::{CompiledPolicy, evaluate};
use prodready::input::Inventory;

mod corpus;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary too, where a
    // small corpus proves it still works without spending CI time on debug-build figures.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let measuring = args.iter().any(|a| a == "--bench");
    let n: usize = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(if measuring { 10_000 } else { 200 });
    let name = args
        .iter()
        .position(|a| a == "--corpus")
        .and_then(|i| args.get(i + 1))
        .map_or("synthetic", String::as_str);
    let text = corpus::named(name, n);
    let runs = 5;

    let mut parse_secs = Vec::new();
    let mut inv = Inventory::new();
    for _ in 0..runs {
        let start = Instant::now();
        inv = Inventory::new();
        inv.add_text("corpus.yaml", &text);
        parse_secs.push(start.elapsed().as_secs_f64());
    }
    assert!(inv.errors.is_empty(), "{:?}", &inv.errors[..1]);
    assert_eq!(inv.workloads.len(), n);

    let policy = CompiledPolicy::builtin();
    let now = jiff::Timestamp::now();
    let views: Vec<_> = inv
        .workloads
        .iter()
        .map(|w| w.object.view().expect("pod spec"))
        .collect();
    let mut eval_secs = Vec::new();
    let mut allocations = 0;
    let mut bytes = 0;
    let mut findings = 0usize;
    let mut reports = Vec::new();
    for _ in 0..runs {
        let a0 = ALLOCATIONS.load(Ordering::Relaxed);
        let b0 = BYTES.load(Ordering::Relaxed);
        // The previous run's reports are freed outside the timing.
        drop(std::mem::take(&mut reports));
        let start = Instant::now();
        reports = views
            .iter()
            .map(|view| evaluate(view, &inv.world, &policy, now))
            .collect();
        eval_secs.push(start.elapsed().as_secs_f64());
        findings = reports.iter().map(|r| r.findings.len()).sum();
        allocations = ALLOCATIONS.load(Ordering::Relaxed) - a0;
        bytes = BYTES.load(Ordering::Relaxed) - b0;
    }
    // What `prodready audit` leaves to the process's exit instead of freeing piece by piece:
    // the objects read and the reports.
    drop(views);
    let start = Instant::now();
    drop(reports);
    drop(inv);
    let free = start.elapsed().as_secs_f64();
    let parse = median(parse_secs);
    let eval = median(eval_secs);
    println!(
        "corpus: {n} workloads, {name}, {} MiB of YAML",
        text.len() >> 20
    );
    println!(
        "read (parse + index):  {:>8.1} ms  {:>10.0} workloads/s",
        parse * 1e3,
        n as f64 / parse
    );
    println!(
        "judge (all checks):    {:>8.1} ms  {:>10.0} workloads/s",
        eval * 1e3,
        n as f64 / eval
    );
    println!("judge / read:          {:>8.2}", eval / parse);
    println!(
        "allocations:           {:>8.1} per workload, {:.0} bytes per workload",
        allocations as f64 / n as f64,
        bytes as f64 / n as f64
    );
    println!(
        "findings:              {:>8.1} per workload",
        findings as f64 / n as f64
    );
    println!(
        "free (objects, reports): {:>6.1} ms   {:.2} of read + judge",
        free * 1e3,
        free / (parse + eval)
    );
}
