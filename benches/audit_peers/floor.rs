//! The floor: read the corpus and parse every YAML document into a generic value, nothing more,
//! on one thread and on every core. It runs as its own process (this benchmark's executable,
//! started again), as every tool does, so that it pays the same start, page faults and exit.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

/// Set (to `one` or `every`) in the child process that measures the floor.
const FLOOR_ENV: &str = "PRODREADY_BENCH_FLOOR";

/// In the child process started by `command`: measures the floor, prints the documents parsed
/// and returns true. Otherwise returns false.
pub fn run_if_asked() -> bool {
    let Ok(which) = std::env::var(FLOOR_ENV) else {
        return false;
    };
    let corpus = std::env::args().nth(1).expect("the corpus path");
    let text = std::fs::read_to_string(corpus).expect("corpus");
    let documents = match which.as_str() {
        "every" => parse_parallel(&text),
        _ => parse(&text),
    };
    println!("{documents}");
    true
}

/// This benchmark's own executable, started to measure one floor run on `corpus`.
pub fn command(every_core: bool, corpus: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().expect("the benchmark's own path"));
    c.env(FLOOR_ENV, if every_core { "every" } else { "one" })
        .arg(corpus);
    c
}

fn parse(text: &str) -> usize {
    let mut documents = 0usize;
    for doc in serde_yaml_ng::Deserializer::from_str(text) {
        let value = serde_json::Value::deserialize(doc).expect("the corpus parses");
        documents += usize::from(!value.is_null());
    }
    documents
}

/// The documents (split at `---` lines, as the corpora write them) parsed by one thread per core.
fn parse_parallel(text: &str) -> usize {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let docs: Vec<&str> = text.split("\n---\n").collect();
    let chunk = docs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = docs
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|d| parse(d)).sum::<usize>()))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    })
}
