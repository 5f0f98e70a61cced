//! What the operator's caches hold per object, without a cluster: a synthetic cluster
//! (`corpus.rs`) is filed into the live state object by object, as the watches file it, and one
//! ReadinessReport per workload goes into the report cache as the apiserver would return it.
//! Live heap bytes are counted by a wrapping global allocator, so the figures are exact and
//! repeatable on a busy machine; the controller benchmark measures the whole process.
//!
//! Run: `cargo bench --bench live_memory` (10,000 workloads; a number argument sets the size).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};

use kube::runtime::watcher::Event;
use prodready::api::ReadinessReport;
use prodready::controller::ReportCache;
use prodready::controller::{desired, object_patch, status_patch};
use prodready::input::classify::{Parsed, classify};
use prodready::live::watch::{Item, WatchState};
use prodready::live::{LiveState, read, write};

mod corpus;

struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts live bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

fn mib(bytes: i64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Each document decoded just before it is filed, so only what the state keeps stays counted
/// (a multi-document YAML stream is parsed whole up front, so documents are split here).
fn items(text: &str) -> impl Iterator<Item = (String, Item)> + '_ {
    text.split("\n---\n").filter_map(|doc| {
        let value: serde_json::Value = serde_yaml_ng::from_str(doc).expect("corpus YAML");
        if value.is_null() {
            return None;
        }
        let kind = value["kind"].as_str().unwrap_or_default().to_string();
        match classify(value).expect("corpus objects classify") {
            Parsed::Workload(w) => Some((kind, Item::Workload(*w))),
            Parsed::Related(r) => Some((kind, Item::Related(*r))),
            Parsed::Policy(p) => Some((kind, Item::Policy(*p))),
            Parsed::Ignored => None,
        }
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let measuring = args.iter().any(|a| a == "--bench");
    let n: usize = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(if measuring { 10_000 } else { 200 });
    let text = corpus::corpus(n);

    let before = live();
    let state = LiveState::new();
    // One watch per kind, each listing once, as at start-up: what each remembers of what it
    // filed is counted with the state.
    let mut watches: BTreeMap<String, WatchState> = BTreeMap::new();
    let mut by_kind: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    let mut documents = items(&text);
    loop {
        // Counted from before the object is decoded: it is freed once filed.
        let held = live();
        let Some((kind, item)) = documents.next() else {
            break;
        };
        let watch = watches.entry(kind.clone()).or_insert_with(|| {
            let mut watch = WatchState::new(&kind);
            watch.handle(&state, Event::Init, &[]);
            watch
        });
        watch.handle(&state, Event::InitApply(item), &[]);
        let entry = by_kind.entry(kind).or_default();
        entry.0 += 1;
        entry.1 += live() - held;
    }
    for watch in watches.values_mut() {
        watch.handle(&state, Event::InitDone, &[]);
    }
    let state_bytes = live() - before;

    // The reports, as the apiserver answers the two server-side applies.
    let now = jiff::Timestamp::now();
    let keys = state.all_workloads();
    let mut full_bytes = 0usize;
    let reports = ReportCache::default();
    let cache_before = live();
    for (i, key) in keys.iter().enumerate() {
        let object = read(&state.workloads)
            .get(key)
            .expect("listed")
            .object()
            .expect("decodes");
        let view = object.view().expect("pod spec");
        let report = {
            let world = read(&state.world);
            let policies = read(&state.policies);
            prodready::engine::evaluate(
                &view,
                &world,
                policies.for_namespace(key.namespace.as_str(), &world),
                now,
            )
        };
        let want = desired(&object, report, None, now);
        let mut answer = object_patch(&want);
        answer["status"] = status_patch(&want)["status"].take();
        answer["metadata"]["resourceVersion"] = (i + 1).to_string().into();
        full_bytes += serde_json::to_vec(&answer).expect("encodes").len();
        let answer: ReadinessReport = serde_json::from_value(answer).expect("a report decodes");
        reports.upsert(answer);
    }
    let cache_bytes = live() - cache_before;

    let scrape_before = live();
    let metrics = prodready::controller::Metrics::new();
    let all = reports.all();
    let text = metrics.render(all.iter().map(|r| r.as_ref()), false, None);
    let scrape_bytes = text.len();
    drop(text);
    let scrape_left = live() - scrape_before;

    println!("| {n} workloads | objects | held | per object |");
    println!("|---|---|---|---|");
    for (kind, (count, bytes)) in &by_kind {
        println!(
            "| {kind} | {count} | {} | {} B |",
            mib(*bytes),
            bytes / *count as i64
        );
    }
    let objects: usize = by_kind.values().map(|(c, _)| c).sum();
    println!(
        "| live state (World, workload store, footprints) | {objects} | {} | {} B |",
        mib(state_bytes),
        state_bytes / objects.max(1) as i64
    );
    println!(
        "| report cache (reports of {:.1} KiB as JSON) | {} | {} | {} B |",
        full_bytes as f64 / keys.len().max(1) as f64 / 1024.0,
        reports.len(),
        mib(cache_bytes),
        cache_bytes / reports.len().max(1) as i64
    );
    println!(
        "| one /metrics scrape: text written, held after | | {} / {} | |",
        mib(scrape_bytes as i64),
        mib(scrape_left)
    );
    println!("| total | | {} | |", mib(state_bytes + cache_bytes));
    assert_eq!(reports.len(), n, "every workload has its report");

    // Which part of the live state holds it: each part is dropped in turn and what it freed
    // is counted.
    println!();
    println!("| live state, held by | held | per object |");
    println!("|---|---|---|");
    let part = |name: &str, free: &mut dyn FnMut()| {
        let held = live();
        free();
        let bytes = held - live();
        println!(
            "| {name} | {} | {} B |",
            mib(bytes),
            bytes / objects.max(1) as i64
        );
    };
    part("what the watches filed", &mut || {
        drop(std::mem::take(&mut watches))
    });
    part("footprints", &mut || {
        drop(std::mem::take(&mut *write(&state.footprints)))
    });
    part("workload store", &mut || {
        drop(std::mem::take(&mut *write(&state.workloads)))
    });
    part("World", &mut || {
        drop(std::mem::take(&mut *write(&state.world)))
    });
}
