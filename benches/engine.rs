//! Criterion benchmarks of the engine: reading a 10,000-workload corpus, and judging every
//! workload in one World. The engine must cost less than parsing the YAML it reads.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use prodready::engine::{CompiledPolicy, evaluate};
use prodready::input::Inventory;

mod corpus;

const WORKLOADS: usize = 10_000;

fn read(text: &str) -> Inventory {
    let mut inv = Inventory::new();
    inv.add_text("corpus.yaml", text);
    assert!(inv.errors.is_empty(), "{:?}", &inv.errors[..1]);
    inv
}

fn benches(c: &mut Criterion) {
    let text = corpus::corpus(WORKLOADS);
    let inv = read(&text);
    assert_eq!(inv.workloads.len(), WORKLOADS);
    let policy = CompiledPolicy::builtin();
    let now = jiff::Timestamp::now();

    let mut group = c.benchmark_group("10k-workloads");
    group.sample_size(10);
    group.throughput(Throughput::Elements(WORKLOADS as u64));
    group.bench_function("parse", |b| {
        b.iter_batched(|| (), |_| read(&text), BatchSize::PerIteration)
    });
    group.bench_function("evaluate", |b| {
        b.iter(|| {
            let mut failing = 0u32;
            for w in &inv.workloads {
                let view = w.object.view().expect("pod spec");
                failing += evaluate(&view, &inv.world, &policy, now)
                    .summary
                    .failing_total();
            }
            failing
        })
    });
    group.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
