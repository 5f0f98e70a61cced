//! The tools compared: prodready and the peers users would pick instead. scripts/peers.sh finds
//! or builds the peers, at pinned versions, in the cache directory; a peer it could not build is
//! left out with a note.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How to run one peer.
struct Peer {
    /// Its name for scripts/peers.sh and `--only`.
    key: &'static str,
    /// Its name in the tables.
    name: &'static str,
    /// Where scripts/peers.sh puts it, under its directory.
    path: &'static str,
    version_args: &'static [&'static str],
    /// Its arguments to audit a file, JSON to stdout.
    args: fn(&Path) -> Vec<OsString>,
}

const PEERS: &[Peer] = &[
    Peer {
        key: "kube-score",
        name: "kube-score",
        path: "bin/kube-score",
        version_args: &["version"],
        args: |c| args(&["score", "--output-format", "json"], c, &[]),
    },
    Peer {
        key: "polaris",
        name: "Polaris",
        path: "bin/polaris",
        version_args: &["version"],
        args: |c| args(&["audit", "--audit-path"], c, &["--format", "json"]),
    },
    Peer {
        key: "trivy",
        name: "trivy config",
        path: "bin/trivy",
        version_args: &["--version"],
        args: |c| {
            let fixed = [
                "config",
                "--format",
                "json",
                "--quiet",
                "--skip-check-update",
            ];
            let mut v = args(&fixed, c, &["--cache-dir"]);
            v.push(c.with_file_name("trivy-cache").into());
            v
        },
    },
    Peer {
        key: "checkov",
        name: "checkov",
        path: "checkov/bin/checkov",
        version_args: &["--version"],
        args: |c| {
            let fixed = [
                "--framework",
                "kubernetes",
                "-o",
                "json",
                "--quiet",
                "--compact",
                "-f",
            ];
            args(&fixed, c, &[])
        },
    },
];

pub struct Tool {
    pub name: &'static str,
    pub version: String,
    program: PathBuf,
    args: fn(&Path) -> Vec<OsString>,
}

impl Tool {
    /// The command that audits `corpus`, writing JSON to stdout.
    pub fn command(&self, corpus: &Path) -> Command {
        let mut c = Command::new(&self.program);
        c.args((self.args)(corpus));
        c
    }
}

/// `before`, then the corpus, then `after`.
fn args(before: &[&str], corpus: &Path, after: &[&str]) -> Vec<OsString> {
    let words = |w: &[&str]| w.iter().map(OsString::from).collect::<Vec<_>>();
    [words(before), vec![corpus.into()], words(after)].concat()
}

pub fn prodready() -> Tool {
    let program = PathBuf::from(env!("CARGO_BIN_EXE_prodready"));
    Tool {
        name: "prodready audit",
        version: version_of(&program, &["version"]),
        program,
        args: |corpus| args(&["audit", "--format", "json"], corpus, &[]),
    }
}

/// The peers named in `wanted`, found or built in `dir` (default: the cache directory), and a
/// note for each one left out.
pub fn find(dir: Option<&Path>, wanted: &[&str]) -> (Vec<Tool>, Vec<String>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/peers.sh");
    let mut cmd = Command::new(&script);
    cmd.args(wanted).stderr(Stdio::inherit());
    if let Some(dir) = dir {
        cmd.env("PRODREADY_BENCH_DIR", dir);
    }
    let dir = match cmd.output() {
        Ok(out) if out.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
        failed => {
            let why = format!("{} failed: {failed:?}", script.display());
            return (
                Vec::new(),
                wanted.iter().map(|p| format!("{p} ({why})")).collect(),
            );
        }
    };
    let mut tools = Vec::new();
    let mut missing = Vec::new();
    for &key in wanted {
        let Some(peer) = PEERS.iter().find(|p| p.key == key) else {
            let known: Vec<&str> = PEERS.iter().map(|p| p.key).collect();
            missing.push(format!("{key} (unknown; known: {})", known.join(", ")));
            continue;
        };
        let program = dir.join(peer.path);
        if !program.exists() {
            missing.push(format!(
                "{} (could not be built at {})",
                peer.name,
                program.display()
            ));
            continue;
        }
        // What scripts/peers.sh built it from says more than a build without release flags does
        // of itself ("development").
        let stamp = program.with_file_name(format!(".{key}.version"));
        let version = std::fs::read_to_string(stamp).map_or_else(
            |_| version_of(&program, peer.version_args),
            |s| s.trim().into(),
        );
        tools.push(Tool {
            name: peer.name,
            version,
            program,
            args: peer.args,
        });
    }
    (tools, missing)
}

/// The first line the tool prints about its version.
fn version_of(program: &Path, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            text.lines().next().unwrap_or("").trim().to_string()
        })
        .unwrap_or_default()
}
