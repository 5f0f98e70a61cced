//! Running the tools the tests drive (kubectl, helm, promtool, prodready itself), and finding
//! promtool.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Runs a command to its end, feeding it `stdin`; `what` names it in panics.
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>, what: &str) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .unwrap_or_else(|e| panic!("{what}: writing stdin: {e}"));
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Runs a command that must succeed; returns what it printed on stdout.
pub fn ok(cmd: &mut Command, stdin: Option<&[u8]>, what: &str) -> String {
    let out = run(cmd, stdin, what);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// promtool: the one `tests/controlplane/build.sh` builds beside the control plane, else one on
/// the PATH. `None` when there is none (the test is then skipped, or fails under CI).
pub fn promtool() -> Option<Command> {
    let built: Option<PathBuf> = super::controlplane::bin_dir()
        .map(|dir| dir.join("promtool"))
        .filter(|p| p.is_file());
    let program = built.unwrap_or_else(|| PathBuf::from("promtool"));
    match Command::new(&program).arg("--version").output() {
        Ok(out) if out.status.success() => Some(Command::new(program)),
        result => {
            super::skip::skip(&format!(
                "promtool is not available ({}): run `tests/controlplane/build.sh`, which \
                 builds it beside the control plane",
                match result {
                    Ok(out) => format!("exit {}", out.status),
                    Err(e) => e.to_string(),
                }
            ));
            None
        }
    }
}
