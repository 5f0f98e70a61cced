//! One tool run as its own process, timed from outside: wall time from start to exit, peak RSS
//! from wait4.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

pub struct Run {
    pub seconds: f64,
    pub peak_rss_kib: u64,
    pub exit: i32,
}

/// Runs `cmd` to its end with stdout to `out`, measuring wall time and peak RSS.
pub fn measure(cmd: &mut Command, out: &Path) -> Run {
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

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The 1-minute load average, to show how quiet the machine was.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The value after `--name` on the command line.
pub fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}
