//! Tests that cannot run here (no control plane, no promtool) return early, which the test
//! harness counts as passed. Each one is recorded, and when the test binary exits it says how
//! many it skipped and why, after the harness's own summary: a local `cargo test` never passes
//! them silently. Under `CI` nothing is skipped: what is missing fails the test instead.

use std::io::{self, Write};
use std::sync::{Mutex, Once};

/// The skipped tests of this binary: (test, why).
static SKIPPED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Whether this run is CI's, where a missing tool is a broken pipeline.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Records that the running test cannot run for want of `why`: panics under CI, so that the
/// test fails there; the caller returns early otherwise.
pub fn skip(why: &str) {
    if in_ci() {
        panic!("{why}");
    }
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // SAFETY: registers a plain function; it runs once, during exit.
        unsafe {
            libc::atexit(report_at_exit);
        }
    });
    // The harness names each test's thread after the test.
    let test = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_string();
    let mut skipped = SKIPPED.lock().unwrap_or_else(|p| p.into_inner());
    if !skipped.iter().any(|(t, _)| *t == test) {
        skipped.push((test, why.to_string()));
    }
}

extern "C" fn report_at_exit() {
    let skipped = SKIPPED.lock().unwrap_or_else(|p| p.into_inner());
    if skipped.is_empty() {
        return;
    }
    let bar = "!".repeat(78);
    let mut out = io::stderr().lock();
    let _ = writeln!(
        out,
        "\n{bar}\n{} test(s) SKIPPED, counted as passed above:",
        skipped.len()
    );
    let mut reasons: Vec<&str> = skipped.iter().map(|(_, why)| why.as_str()).collect();
    reasons.dedup();
    for why in reasons {
        let _ = writeln!(out, "  because {why}:");
        for (test, _) in skipped.iter().filter(|(_, w)| w == why) {
            let _ = writeln!(out, "    {test}");
        }
    }
    let _ = writeln!(out, "{bar}");
}
