//! Any bytes given to `prodready audit`: read, then every workload read is judged. A panic
//! anywhere is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prodready::engine::{CompiledPolicy, evaluate};
use prodready::input::Inventory;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut inventory = Inventory::new();
    inventory.add_text("fuzz.yaml", &text);
    let policy = CompiledPolicy::builtin();
    let now = jiff::Timestamp::UNIX_EPOCH;
    for w in &inventory.workloads {
        if let Some(view) = w.object.view() {
            let _ = evaluate(&view, &inventory.world, &policy, now);
        }
    }
});
