//! `prodready audit`: read manifests, judge every top-level workload, print the reports, and
//! turn the outcome into an exit code a pipeline can gate on.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::Path;

use jiff::Timestamp;
use rayon::prelude::*;

use super::{AuditArgs, AuditFormat, ColorChoice, EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, Error};
use crate::api::{Report, Severity, SourceLocation};
use crate::engine::{CompiledPolicy, PolicySet, evaluate, evaluate_namespace};
use crate::input::{InputError, Inventory, Reason, SourcedWorkload};
use crate::output::{self, Audit, Format, RenderOptions};
use crate::world::World;

/// The name stdin goes by in messages and report locations.
const STDIN: &str = "stdin";
/// Where objects read from a cluster come from, in messages.
const CLUSTER: &str = "cluster";

/// Reads the cluster once: every kind listed through the same code the operator watches with.
fn read_cluster(args: &AuditArgs) -> Result<super::cluster::Snapshot, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(async {
        let client = super::cluster::client(&args.cluster_args).await?;
        let namespace = if args.all_namespaces {
            None
        } else {
            Some(
                args.namespace
                    .clone()
                    .unwrap_or_else(|| client.default_namespace().to_string()),
            )
        };
        super::cluster::snapshot(client, namespace).await
    })
}

pub fn run(args: &AuditArgs) -> u8 {
    let policies = match &args.policy {
        Some(path) => match load_policies(path) {
            Ok(set) => set,
            Err(errors) => {
                for e in errors {
                    eprintln!("error: {e}");
                }
                return EXIT_INPUT;
            }
        },
        None => PolicySet::default(),
    };

    let mut inventory = Inventory::new();
    let mut policies = policies;
    if args.cluster {
        match read_cluster(args) {
            Ok(snapshot) => {
                inventory.workloads = snapshot
                    .workloads
                    .into_iter()
                    .map(|object| SourcedWorkload {
                        object: Box::new(object),
                        source: SourceLocation {
                            file: CLUSTER.to_string(),
                            ..SourceLocation::default()
                        },
                    })
                    .collect();
                inventory.world = snapshot.world;
                // The cluster's own policies apply unless --policy names others.
                if args.policy.is_none() {
                    policies = snapshot.policies;
                }
                for w in snapshot.warnings {
                    eprintln!("warning: {w}");
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
        }
    } else {
        if let Some(ns) = &args.namespace {
            inventory.set_default_namespace(ns);
        }
        read_inputs(&args.paths, &mut inventory);
        if args.complete {
            inventory.assume_complete();
        }
    }
    if !inventory.policies.is_empty() {
        tracing::warn!(
            count = inventory.policies.len(),
            "ReadinessPolicy documents in the audited input are not applied; pass them with --policy"
        );
    }

    let now = args.now.unwrap_or_else(Timestamp::now);
    let (mut reports, spec_errors) =
        judge_all(&inventory.workloads, &inventory.world, &policies, now);
    reports.extend(judge_namespaces(&inventory.world, &policies, now));
    if args.cluster {
        // Objects read from a cluster have no file to point at.
        for r in &mut reports {
            r.source = None;
        }
    }
    reports.sort_by(output::compare_reports);

    let mut audit = Audit {
        reports,
        errors: std::mem::take(&mut inventory.errors),
        warnings: inventory
            .world
            .problems()
            .map(|(object, problem)| format!("{object}: {problem}"))
            .collect(),
    };
    audit.errors.extend(spec_errors);
    // The objects read are not needed any more, and the process ends with this command: they go
    // back to the system in one piece at exit. Freeing 10,000 workloads and their reports piece
    // by piece takes 0.24-0.28 s, a tenth to a fifth of reading and judging them
    // (`cargo bench --bench engine_figures`), and on another thread it would take a core from
    // writing the report.
    std::mem::forget(inventory);
    for e in &audit.errors {
        eprintln!("error: {e}");
    }
    for w in &audit.warnings {
        eprintln!("warning: {w}");
    }

    // Decided before --min-severity trims what is shown: hiding a finding never passes a gate.
    let code = exit_code(&audit, args.fail_on.threshold());
    output::retain_shown(&mut audit.reports, args.min_severity.into());

    let result = write_output(&audit, args);
    // The process ends with this command: let it hand the memory back in one piece.
    std::mem::forget(audit);
    match result {
        Ok(()) => code,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INPUT
        }
    }
}

/// Reads every path in order; `-` is stdin (once: a second `-` would read nothing).
fn read_inputs(paths: &[std::path::PathBuf], inventory: &mut Inventory) {
    let mut stdin_read = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin_read {
                continue;
            }
            stdin_read = true;
            let mut text = String::new();
            match io::stdin().lock().read_to_string(&mut text) {
                Ok(_) => inventory.add_text(STDIN, &text),
                Err(e) => inventory.errors.push(InputError {
                    file: STDIN.to_string(),
                    document: None,
                    line: None,
                    reason: Reason::CannotRead(e.to_string()),
                }),
            }
        } else {
            inventory.add_path(path);
        }
    }
    tracing::debug!(
        workloads = inventory.workloads.len(),
        objects = inventory.objects,
        errors = inventory.errors.len(),
        "input read"
    );
}

/// Reads `--policy`: every document must be a usable ReadinessPolicy, and there must be one.
fn load_policies(path: &Path) -> Result<PolicySet, Vec<Error>> {
    let mut inv = Inventory::new();
    inv.add_path(path);
    let mut errors: Vec<Error> = std::mem::take(&mut inv.errors)
        .into_iter()
        .map(Error::Input)
        .collect();
    if errors.is_empty() && inv.policies.is_empty() {
        errors.push(Error::NoPolicy(path.to_path_buf()));
    }
    let others = inv.objects - inv.policies.len();
    if others > 0 {
        tracing::warn!(
            file = %path.display(),
            count = others,
            "objects other than ReadinessPolicy in the policy file are ignored"
        );
    }
    let mut compiled = Vec::with_capacity(inv.policies.len());
    for (policy, source) in &inv.policies {
        match CompiledPolicy::from_resource(policy) {
            Ok(p) => compiled.push(p),
            Err(e) => errors.push(Error::Policy {
                file: source.file.clone(),
                document: source.document,
                line: source.line,
                source: e,
            }),
        }
    }
    if errors.is_empty() {
        Ok(PolicySet::new(compiled))
    } else {
        Err(errors)
    }
}

/// Workloads below this count are judged on the calling thread.
const PARALLEL_FROM: usize = 64;

/// Judges every top-level workload, spread over the available cores: evaluation is pure and
/// the World read-only; results keep input order.
fn judge_all(
    workloads: &[SourcedWorkload],
    world: &World,
    policies: &PolicySet,
    now: Timestamp,
) -> (Vec<Report>, Vec<InputError>) {
    let top_level: Vec<&SourcedWorkload> = workloads
        .iter()
        .filter(|w| w.object.is_top_level())
        .collect();
    let judge = |w: &&SourcedWorkload| judge(w, world, policies, now);
    let outcomes: Vec<Result<Report, InputError>> = if top_level.len() < PARALLEL_FROM {
        top_level.iter().map(judge).collect()
    } else {
        top_level.par_iter().map(judge).collect()
    };
    let mut reports = Vec::with_capacity(outcomes.len());
    let mut errors = Vec::new();
    for o in outcomes {
        match o {
            Ok(r) => reports.push(r),
            Err(e) => errors.push(e),
        }
    }
    (reports, errors)
}

/// Judges each namespace's objects that no workload owns; a namespace where no such check
/// applies has no report.
fn judge_namespaces(world: &World, policies: &PolicySet, now: Timestamp) -> Vec<Report> {
    let mut namespaces: Vec<&str> = world.namespace_names().collect();
    namespaces.sort_unstable();
    namespaces
        .into_iter()
        .filter_map(|ns| evaluate_namespace(ns, world, policies.for_namespace(ns, world), now))
        .collect()
}

fn judge(
    w: &SourcedWorkload,
    world: &World,
    policies: &PolicySet,
    now: Timestamp,
) -> Result<Report, InputError> {
    let Some(view) = w.object.view() else {
        let meta = w.object.meta();
        return Err(InputError {
            file: w.source.file.clone(),
            document: Some(w.source.document),
            line: Some(w.source.line),
            reason: Reason::NoPodTemplate {
                kind: w.object.kind().as_str(),
                name: meta.name.clone().unwrap_or_default(),
                path: pod_spec_path(w.object.kind()),
            },
        });
    };
    let policy = policies.for_namespace(view.namespace, world);
    let _span = tracing::debug_span!("evaluate", workload = %view.reference().display()).entered();
    let mut report = evaluate(&view, world, policy, now);
    report.source = Some(w.source.clone());
    Ok(report)
}

fn pod_spec_path(kind: crate::workload::WorkloadKind) -> &'static str {
    use crate::workload::WorkloadKind::*;
    match kind {
        Pod => "",
        CronJob => ".jobTemplate.spec.template.spec",
        Deployment | StatefulSet | DaemonSet | ReplicaSet | Job => ".template.spec",
    }
}

/// 2 for unusable input, else 1 when a failing finding reaches the threshold, else 0.
fn exit_code(audit: &Audit, fail_on: Option<Severity>) -> u8 {
    if !audit.errors.is_empty() {
        return EXIT_INPUT;
    }
    let failed = fail_on.is_some_and(|threshold| {
        audit
            .reports
            .iter()
            .any(|r| r.failing_at_or_above(threshold).next().is_some())
    });
    if failed { EXIT_FINDINGS } else { EXIT_OK }
}

fn write_output(audit: &Audit, args: &AuditArgs) -> Result<(), Error> {
    let format = match args.format {
        AuditFormat::Table => Format::Table,
        AuditFormat::Json => Format::Json,
        AuditFormat::Yaml => Format::Yaml,
        AuditFormat::Sarif => Format::Sarif,
        AuditFormat::Junit => Format::Junit,
        AuditFormat::Openreports => Format::OpenReports,
    };
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let options = RenderOptions {
        color: match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => to_terminal && !no_color(),
        },
        show_skipped: args.show_skipped,
        base_dir: std::env::current_dir().ok(),
        now: args.now,
    };
    match &args.output {
        Some(path) => {
            let write_error = |source| Error::Write {
                path: path.clone(),
                source,
            };
            let file = File::create(path).map_err(write_error)?;
            let mut out = BufWriter::new(file);
            output::render(format, audit, &options, &mut out)
                .and_then(|()| out.flush())
                .map_err(write_error)
        }
        None => {
            let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
            match output::render(format, audit, &options, &mut out).and_then(|()| out.flush()) {
                Ok(()) => Ok(()),
                // The reader went away (`| head`): what it read was what it wanted.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Error::Stdout(e)),
            }
        }
    }
}

/// NO_COLOR, by its convention, counts only when set to something non-empty.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
