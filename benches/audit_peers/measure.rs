//! One tool run as its own process, timed from outside: wall time from start to exit, peak RSS
//! from wait4.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Run {
    pub seconds: f64,
    pub peak_rss_kib: u64,
    pub exit: i32,
    /// It was still running at the time limit, and was killed.
    pub stopped: bool,
}

impl Run {
    /// How the run ended: its exit code, or why it has none.
    pub fn outcome(&self) -> String {
        match (self.stopped, self.exit) {
            (true, _) => "stopped".into(),
            (false, -1) => "killed by a signal".into(),
            (false, code) => code.to_string(),
        }
    }
}

/// Runs `cmd` to its end with stdout to `out`, measuring wall time and peak RSS; a run still going
/// after `limit` is killed.
pub fn measure(cmd: &mut Command, out: &Path, limit: Option<Duration>) -> Run {
    let file = std::fs::File::create(out).expect("output file");
    let start = Instant::now();
    let child = cmd
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let stopped = limit.is_some_and(|limit| stop_after(pid, limit));
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
        stopped,
    }
}

/// Waits for the child `pid` to exit, killing it once `limit` has passed; says whether it had to.
/// The child is left for wait4 to reap, so that `pid` cannot name another process when killed.
fn stop_after(pid: libc::pid_t, limit: Duration) -> bool {
    let (exited, wait) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let late = wait.recv_timeout(limit).is_err();
        if late {
            // SAFETY: a signal to our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        late
    });
    // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child to exit, leaving it unreaped (WNOWAIT).
    let waited = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        )
    };
    assert_eq!(waited, 0, "waitid failed for {pid}");
    // The watchdog is gone already if it killed the child.
    let _ = exited.send(());
    watchdog.join().expect("the watchdog does not panic")
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
