//! Availability: whether the workload survives a pod restart, a node drain and a load spike,
//! and whether its replicas are actually up.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{DaemonSetStatus, DeploymentStatus, StatefulSetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::serving::serves_clients;
use super::util::{
    datastore_container, human_duration, instant, is_datastore, join_names, resolve_int_or_percent,
};
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::workload::{WorkloadKind, WorkloadObject};
use crate::world::{HpaFacts, PdbFacts, PodFacts, RelatedKind};

pub const CHECKS: &[Check] = &[
    Check {
        id: "availability-single-replica",
        category: Category::Availability,
        severity: Severity::High,
        needs: Needs::Object,
        title: "A Deployment or StatefulSet runs fewer than 2 replicas and no HPA raises it",
        remediation: "Set spec.replicas (or the HorizontalPodAutoscaler's minReplicas) to 2 or \
                      more, so one pod can restart or be evicted while the others serve.",
        run: Run::Workload(single_replica),
    },
    Check {
        id: "availability-no-pdb",
        category: Category::Availability,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "Several replicas and no PodDisruptionBudget selects the pods",
        remediation: "Add a PodDisruptionBudget selecting the pods with maxUnavailable: 1 (or a \
                      minAvailable below the replica count), so drains evict them one at a time.",
        run: Run::Workload(no_pdb),
    },
    Check {
        id: "availability-pdb-blocks-eviction",
        category: Category::Availability,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "The PodDisruptionBudget allows no voluntary disruption",
        remediation: "Let the PodDisruptionBudget allow at least one eviction: maxUnavailable: 1, \
                      or a minAvailable below the replica count (and run more replicas if the \
                      service cannot lose one).",
        run: Run::Workload(pdb_blocks_eviction),
    },
    Check {
        id: "availability-no-spread",
        category: Category::Availability,
        severity: Severity::Medium,
        needs: Needs::Object,
        title: "Several replicas without pod anti-affinity or topologySpreadConstraints",
        remediation: "Add topologySpreadConstraints (topologyKey kubernetes.io/hostname and \
                      topology.kubernetes.io/zone, maxSkew 1, whenUnsatisfiable ScheduleAnyway) \
                      or a preferred podAntiAffinity whose labelSelector matches the pods' own \
                      labels.",
        run: Run::Workload(no_spread),
    },
    Check {
        id: "availability-no-hpa",
        category: Category::Availability,
        severity: Severity::Low,
        needs: Needs::Related,
        title: "A Deployment serving clients through a Service has no HorizontalPodAutoscaler",
        remediation: "Add a HorizontalPodAutoscaler targeting the Deployment (minReplicas 2 or \
                      more, a CPU or request-rate target), and give its containers CPU requests.",
        run: Run::Workload(no_hpa),
    },
    Check {
        id: "availability-hpa-min-replicas",
        category: Category::Availability,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "Its HPA allows fewer than 2 replicas, or maxReplicas <= minReplicas",
        remediation: "Set the HorizontalPodAutoscaler's minReplicas to 2 or more and its \
                      maxReplicas above minReplicas.",
        run: Run::Workload(hpa_min_replicas),
    },
    Check {
        id: "availability-pdb-hpa-conflict",
        category: Category::Availability,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "The PDB's minAvailable reaches the HPA's minReplicas (drains deadlock)",
        remediation: "Keep the PodDisruptionBudget below the autoscaler's floor: use \
                      maxUnavailable: 1, or a minAvailable lower than the \
                      HorizontalPodAutoscaler's minReplicas (or raise minReplicas).",
        run: Run::Workload(pdb_hpa_conflict),
    },
    Check {
        id: "live-replicas-unavailable",
        category: Category::Availability,
        severity: Severity::Critical,
        needs: Needs::Live,
        title: "Fewer replicas available than desired for longer than the grace period",
        remediation: "Find why pods are not available: `kubectl describe` the workload and its \
                      pods (unschedulable pods, image pulls, crash loops, failing readiness).",
        run: Run::Workload(replicas_unavailable),
    },
    Check {
        id: "live-replicas-colocated",
        category: Category::Availability,
        severity: Severity::High,
        needs: Needs::Live,
        title: "All ready replicas run on one node (or in one zone)",
        remediation: "Spread the pods with topologySpreadConstraints on kubernetes.io/hostname \
                      and topology.kubernetes.io/zone (or a podAntiAffinity), then restart the \
                      rollout (`kubectl rollout restart`) to reschedule them.",
        run: Run::Workload(replicas_colocated),
    },
    Check {
        id: "live-crashloop",
        category: Category::Availability,
        severity: Severity::Critical,
        needs: Needs::Live,
        title: "A container is crash-looping or restarted recently",
        remediation: "Read the crashed container's logs (`kubectl logs --previous`) and its last \
                      termination reason: a failure at start-up, a missing configuration or \
                      dependency, or a liveness probe that kills it.",
        run: Run::Workload(crashloop),
    },
    Check {
        id: "live-image-pull-failure",
        category: Category::Availability,
        severity: Severity::High,
        needs: Needs::Live,
        title: "A container cannot pull its image",
        remediation: "Check that the image name and tag exist in the registry and that the pod \
                      can authenticate to it (imagePullSecrets, node credentials); `kubectl \
                      describe pod` shows the registry's answer.",
        run: Run::Workload(image_pull_failure),
    },
];

const PDB_KIND: RelatedKind = RelatedKind::PodDisruptionBudget;
const HPA_KIND: RelatedKind = RelatedKind::HorizontalPodAutoscaler;

/// The replicas that count for availability: an HPA overrides spec.replicas and may scale down
/// to its minReplicas, so its floor is what the workload can be left with.
fn replica_floor<'a>(ctx: &Ctx<'a>) -> Option<(i32, Option<&'a HpaFacts>)> {
    let replicas = ctx.workload.replicas()?;
    Some(match ctx.related.hpa {
        Some(h) => (h.min_replicas, Some(h)),
        None => (replicas, None),
    })
}

fn plural(n: i32, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

fn int_or_percent(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// What one pod too few costs: a datastore's or a served workload's restart is an outage (high);
/// a workload no client reaches through a Service (a worker, a controller, an exporter) only
/// pauses its work (low). Unknown Services count as served.
fn few_replicas_cost(ctx: &Ctx<'_>, count: i32) -> (Severity, &'static str) {
    if is_datastore(ctx.workload, ctx.params) {
        let cost = if count < 1 {
            "no pod runs at all"
        } else if count == 1 {
            "a restart of its only pod is an outage of the data tier"
        } else {
            "one restart leaves the data tier without redundancy"
        };
        return (Severity::High, cost);
    }
    if serves_clients(ctx) == Some(false) {
        let cost = if count < 1 {
            "no pod runs at all, though no Service sends it requests"
        } else {
            "no Service sends it requests (metrics scrapes aside), so a restart pauses its work \
             rather than failing requests"
        };
        return (Severity::Low, cost);
    }
    let cost = match count {
        i32::MIN..=0 => "no pod runs at all",
        1 => "a restart, crash or node drain of its only pod is an outage",
        _ => "one restart, crash or node drain leaves it without redundancy",
    };
    (Severity::High, cost)
}

fn single_replica(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if !matches!(
        ctx.workload.kind,
        WorkloadKind::Deployment | WorkloadKind::StatefulSet
    ) {
        return;
    }
    // An autoscaler decides the count: availability-hpa-min-replicas judges its floor.
    if ctx.related.hpa.is_some() {
        return;
    }
    let Some(count) = ctx.workload.replicas() else {
        return;
    };
    let min = ctx.params.min_replicas;
    if count >= min {
        return out.pass();
    }
    let kind = ctx.workload.kind.as_str();
    let datastore = is_datastore(ctx.workload, ctx.params);
    let of = datastore_container(ctx.workload, ctx.params)
        .map(|(_, d)| format!(" of {d}"))
        .unwrap_or_default();
    let replica = plural(count, "replica", "replicas");
    let (severity, consequence) = few_replicas_cost(ctx, count);
    let remediation = if datastore {
        format!(
            "Run the datastore replicated with {min} or more members (a primary with streaming \
             replicas, Redis Sentinel, an operator such as CloudNativePG) or use a managed \
             service: raising spec.replicas alone does not replicate the data."
        )
    } else {
        format!(
            "Set spec.replicas to {min} or more, so one pod can restart or be evicted while the \
             others serve."
        )
    };
    out.fail(format!(
        "{kind} runs {count} {replica}{of} (fewer than {min}): {consequence}"
    ))
    .remediation(remediation)
    .severity(severity);
}

fn no_pdb(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some((count, _)) = replica_floor(ctx) else {
        return;
    };
    if count < 2 {
        return;
    }
    if !ctx.has(&[PDB_KIND]) {
        return out.skip_missing(&[PDB_KIND]);
    }
    if ctx.related.pdbs.is_empty() {
        out.fail(format!(
            "{count} replicas and no PodDisruptionBudget selects their pods: a node drain or \
             cluster upgrade may evict them all at once"
        ));
    } else {
        out.pass();
    }
}

/// Why a PDB lets no pod be evicted out of `replicas`, if it does. Kubernetes rounds both
/// minAvailable and maxUnavailable percentages up for PDBs.
fn blocks_eviction(pdb: &PdbFacts, replicas: i32) -> Option<String> {
    if let Some(max) = &pdb.max_unavailable
        && resolve_int_or_percent(max, replicas, true) == Some(0)
    {
        return Some(format!("sets maxUnavailable {}", int_or_percent(max)));
    }
    let min = pdb.min_available.as_ref()?;
    let needed = resolve_int_or_percent(min, replicas, true)?;
    if needed < replicas {
        return None;
    }
    let replicas_word = plural(replicas, "replica", "replicas");
    Some(match min {
        IntOrString::Int(_) => {
            format!("requires minAvailable {needed} with {replicas} {replicas_word}")
        }
        IntOrString::String(s) => {
            format!("requires minAvailable {s} ({needed} of {replicas} {replicas_word})")
        }
    })
}

fn pdb_blocks_eviction(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some((count, _)) = replica_floor(ctx) else {
        return;
    };
    // No pod, nothing to evict.
    if count < 1 {
        return;
    }
    if !ctx.has(&[PDB_KIND]) {
        return out.skip_missing(&[PDB_KIND]);
    }
    for pdb in &ctx.related.pdbs {
        match blocks_eviction(pdb, count) {
            Some(why) => {
                out.fail(format!(
                    "PodDisruptionBudget {} {why}: no pod can be evicted voluntarily, so node \
                     drains and cluster upgrades hang",
                    pdb.name
                ))
                .object(format!("PodDisruptionBudget/{}", pdb.name));
            }
            None => out.pass(),
        }
    }
}

/// Whether a label selector matches these labels (without building a `Selector`).
fn selects(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    sel.match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v))
        && sel.match_expressions.iter().flatten().all(|e| {
            let values = e.values.as_deref().unwrap_or(&[]);
            match e.operator.as_str() {
                "In" => labels.get(&e.key).is_some_and(|v| values.contains(v)),
                "NotIn" => labels.get(&e.key).is_none_or(|v| !values.contains(v)),
                "Exists" => labels.contains_key(&e.key),
                "DoesNotExist" => !labels.contains_key(&e.key),
                _ => false,
            }
        })
}

fn no_spread(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some((count, _)) = replica_floor(ctx) else {
        return;
    };
    if count < 2 {
        return;
    }
    let spec = ctx.workload.pod_spec;
    let labels = ctx.workload.pod_labels();
    let anti = spec
        .affinity
        .as_ref()
        .and_then(|a| a.pod_anti_affinity.as_ref());
    let required = anti
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or(&[]);
    let preferred = anti
        .and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or(&[]);
    let constraints = spec.topology_spread_constraints.as_deref().unwrap_or(&[]);
    // A term or constraint only spreads the pods its labelSelector counts (a null selector
    // counts none): one copied from another app leaves these pods free to pile up.
    let own = |sel: Option<&LabelSelector>| sel.is_some_and(|s| selects(s, labels));
    let spreads = required.iter().any(|t| own(t.label_selector.as_ref()))
        || preferred
            .iter()
            .any(|w| own(w.pod_affinity_term.label_selector.as_ref()))
        || constraints.iter().any(|c| own(c.label_selector.as_ref()));
    if spreads {
        return out.pass();
    }
    if required.is_empty() && preferred.is_empty() && constraints.is_empty() {
        out.fail(format!(
            "{count} replicas with no podAntiAffinity or topologySpreadConstraints: the \
             scheduler may put them all on one node, and losing it takes every replica down"
        ));
    } else {
        let own_labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.fail(format!(
            "{count} replicas, but no podAntiAffinity term or topologySpreadConstraint selects \
             the pods' own labels ({}): the scheduler may put them all on one node",
            if own_labels.is_empty() {
                "none".to_string()
            } else {
                own_labels.join(", ")
            }
        ));
    }
}

fn no_hpa(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if ctx.workload.kind != WorkloadKind::Deployment || !ctx.params.hpa_required_for_services {
        return;
    }
    if !ctx.has(&[RelatedKind::Service]) {
        return out.skip_missing(if ctx.has(&[HPA_KIND]) {
            &[RelatedKind::Service]
        } else {
            &[RelatedKind::Service, HPA_KIND]
        });
    }
    // Without a Service port sending it requests (metrics scrapes aside), it serves no traffic
    // this check can see.
    if serves_clients(ctx) != Some(true) {
        return;
    }
    if !ctx.has(&[HPA_KIND]) {
        return out.skip_missing(&[HPA_KIND]);
    }
    if ctx.related.hpa.is_some() {
        return out.pass();
    }
    let services: Vec<&str> = ctx.related.services.iter().map(|s| &*s.name).collect();
    let replicas = ctx.workload.replicas().unwrap_or(1);
    out.fail(format!(
        "the Deployment serves traffic through {} {} but no HorizontalPodAutoscaler scales it: \
         it stays at {replicas} {} whatever the load",
        plural(services.len() as i32, "Service", "Services"),
        join_names(&services),
        plural(replicas, "replica", "replicas"),
    ));
}

fn hpa_min_replicas(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    // Only kinds an HPA can scale.
    if ctx.workload.replicas().is_none() {
        return;
    }
    if !ctx.has(&[HPA_KIND]) {
        return out.skip_missing(&[HPA_KIND]);
    }
    let Some(h) = ctx.related.hpa else {
        return;
    };
    let min = ctx.params.min_replicas;
    let object = || format!("HorizontalPodAutoscaler/{}", h.name);
    if h.min_replicas < min {
        // At its floor the workload runs that few pods: as costly as too few replicas.
        let (severity, consequence) = few_replicas_cost(ctx, h.min_replicas);
        out.fail(format!(
            "HorizontalPodAutoscaler {} sets minReplicas {} (fewer than {min}): at quiet times \
             it scales down to {} {}, and {consequence}",
            h.name,
            h.min_replicas,
            h.min_replicas,
            plural(h.min_replicas, "replica", "replicas"),
        ))
        .object(object())
        .severity(severity);
    }
    if h.max_replicas <= h.min_replicas {
        out.fail(format!(
            "HorizontalPodAutoscaler {} sets maxReplicas {}, not above minReplicas {}: it can \
             never add a replica under load",
            h.name, h.max_replicas, h.min_replicas
        ))
        .object(object());
    }
    out.pass();
}

fn pdb_hpa_conflict(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if ctx.workload.replicas().is_none() {
        return;
    }
    if !ctx.has(&[HPA_KIND]) {
        return out.skip_missing(if ctx.has(&[PDB_KIND]) {
            &[HPA_KIND]
        } else {
            &[PDB_KIND, HPA_KIND]
        });
    }
    let Some(h) = ctx.related.hpa else {
        return;
    };
    if !ctx.has(&[PDB_KIND]) {
        return out.skip_missing(&[PDB_KIND]);
    }
    for pdb in &ctx.related.pdbs {
        let needed = pdb
            .min_available
            .as_ref()
            .and_then(|m| Some((m, resolve_int_or_percent(m, h.min_replicas, true)?)));
        match needed {
            Some((min, needed)) if needed > 0 && needed >= h.min_replicas => {
                let shown = match min {
                    IntOrString::Int(_) => needed.to_string(),
                    IntOrString::String(s) => {
                        format!("{s} ({needed} {})", plural(needed, "pod", "pods"))
                    }
                };
                out.fail(format!(
                    "PodDisruptionBudget {} requires minAvailable {shown} while \
                     HorizontalPodAutoscaler {} sets minReplicas {}: at minimum scale no pod can \
                     be evicted, so node drains hang",
                    pdb.name, h.name, h.min_replicas
                ))
                .object(format!("PodDisruptionBudget/{}", pdb.name));
            }
            _ => out.pass(),
        }
    }
}

/// When a Deployment's shortfall began, as far as its conditions tell.
fn deployment_unavailable_since(status: &DeploymentStatus) -> Option<Timestamp> {
    let conditions = status.conditions.as_deref().unwrap_or(&[]);
    // Available turns False when the minimum is lost: its transition is when the outage began.
    if let Some(c) = conditions
        .iter()
        .find(|c| c.type_ == "Available" && c.status == "False")
    {
        return c.last_transition_time.as_ref().map(|t| t.0);
    }
    // Otherwise the rollout's last progress: Progressing keeps its lastTransitionTime across
    // rollouts (its status stays True), while lastUpdateTime moves with each step.
    conditions
        .iter()
        .find(|c| c.type_ == "Progressing")
        .and_then(|c| {
            c.last_update_time
                .as_ref()
                .or(c.last_transition_time.as_ref())
        })
        .map(|t| t.0)
}

fn replicas_unavailable(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    // `status: {}` (as `kubectl create --dry-run -o yaml` writes) is no observed state.
    let (desired, available, since) = match ctx.workload.object {
        WorkloadObject::Deployment(d) => {
            let Some(s) = d
                .status
                .as_ref()
                .filter(|s| **s != DeploymentStatus::default())
            else {
                return no_status(ctx, out);
            };
            let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let since = deployment_unavailable_since(s);
            (desired, s.available_replicas.unwrap_or(0), since)
        }
        WorkloadObject::StatefulSet(st) => {
            let Some(s) = st
                .status
                .as_ref()
                .filter(|s| **s != StatefulSetStatus::default())
            else {
                return no_status(ctx, out);
            };
            let desired = st.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            // availableReplicas is recent; older clusters report readiness only.
            let available = s.available_replicas.or(s.ready_replicas).unwrap_or(0);
            (desired, available, None)
        }
        WorkloadObject::DaemonSet(ds) => {
            let Some(s) = ds
                .status
                .as_ref()
                .filter(|s| **s != DaemonSetStatus::default())
            else {
                return no_status(ctx, out);
            };
            (
                s.desired_number_scheduled,
                s.number_available.unwrap_or(0),
                None,
            )
        }
        _ => return,
    };
    if ctx.workload.meta.deletion_timestamp.is_some() {
        return;
    }
    if desired <= 0 || available >= desired {
        return out.pass();
    }
    let kind = ctx.workload.kind;
    let unit = if kind == WorkloadKind::DaemonSet {
        "pods"
    } else {
        "replicas"
    };
    let severity = if available == 0 {
        Severity::Critical
    } else {
        Severity::High
    };
    let since = since.or_else(|| ctx.workload.meta.creation_timestamp.as_ref().map(|t| t.0));
    let age = since.map(|t| ctx.seconds_since(t));
    let grace = ctx.params.grace_period_seconds;
    let what = format!(
        "{} has {available} of {desired} {unit} available",
        kind.as_str()
    );
    match age {
        Some(age) if age < grace => {
            out.warn(format!(
                "{what} since {}, inside the {} grace period",
                since.map(instant).unwrap_or_default(),
                human_duration(grace)
            ))
            .severity(severity);
        }
        _ => {
            let how_long = since.map_or_else(String::new, |t| format!(" since {}", instant(t)));
            let consequence = match (kind, available) {
                (WorkloadKind::DaemonSet, 0) => "no node runs it".to_string(),
                (WorkloadKind::DaemonSet, _) => {
                    // Both counts come from the object's status: saturate, never overflow.
                    let missing = desired.saturating_sub(available);
                    format!(
                        "{missing} {} without it",
                        plural(missing, "node runs", "nodes run")
                    )
                }
                (_, 0) => "it is down".to_string(),
                _ => "it runs without its planned capacity and redundancy".to_string(),
            };
            out.fail(format!("{what}{how_long}: {consequence}"))
                .severity(severity);
        }
    }
}

fn no_status(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    out.skip(format!(
        "not judged: the {} carries no status (judge it in the cluster, or from a `kubectl get \
         -o yaml` dump)",
        ctx.workload.kind.as_str()
    ));
}

fn replicas_colocated(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    // Kinds with replicas: a DaemonSet runs one pod per node by design.
    if ctx.workload.replicas().is_none() {
        return;
    }
    if !ctx.has(&[RelatedKind::Pod]) {
        return out.skip_missing(&[RelatedKind::Pod]);
    }
    let ready = || {
        ctx.related
            .pods
            .iter()
            .filter(|p| p.ready && !p.deleting)
            .filter_map(|p| p.node.as_deref())
    };
    let count = ready().count();
    let Some(first) = ready().next() else {
        return;
    };
    if count < 2 {
        return;
    }
    if ready().all(|n| n == first) {
        out.fail(format!(
            "all {count} ready pods run on node {first}: losing that node takes every replica \
             down"
        ))
        .object(format!("Node/{first}"));
        return;
    }
    let zone = |node: &str| ctx.world.node(node).and_then(|n| n.zone.as_deref());
    if let Some(z) = zone(first)
        && ready().all(|n| zone(n) == Some(z))
    {
        let nodes: BTreeSet<&str> = ready().collect();
        let nodes: Vec<&str> = nodes.into_iter().collect();
        out.fail(format!(
            "all {count} ready pods run in zone {z} (nodes {}): a zone outage takes every \
             replica down",
            join_names(&nodes)
        ));
        return;
    }
    out.pass();
}

/// The observed pods to read; `None` when there are none, after writing a skip when the input
/// says nothing about pods.
fn live_pods<'a>(ctx: &Ctx<'a>, out: &mut Out<'_>) -> Option<&'a [&'a PodFacts]> {
    if !ctx.has(&[RelatedKind::Pod]) {
        out.skip_missing(&[RelatedKind::Pod]);
        return None;
    }
    let pods = ctx.related.pods.as_slice();
    if pods.is_empty() {
        return None;
    }
    // A bare Pod's manifest is its own observed pod, status or not.
    if !pods
        .iter()
        .any(|p| p.phase.is_some() || !p.containers.is_empty())
    {
        out.skip(
            "not judged: its pods carry no status (judge them in the cluster, or from a \
             `kubectl get -o yaml` dump)",
        );
        return None;
    }
    Some(pods)
}

/// `(last termination: Error, exit code 1)`, or nothing when the pod does not say.
fn last_termination(reason: Option<&str>, code: Option<i32>) -> String {
    match (reason, code) {
        (Some(r), Some(c)) => format!(" (last termination: {r}, exit code {c})"),
        (Some(r), None) => format!(" (last termination: {r})"),
        (None, Some(c)) => format!(" (last termination: exit code {c})"),
        (None, None) => String::new(),
    }
}

fn crashloop(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(pods) = live_pods(ctx, out) else {
        return;
    };
    let window = ctx.params.restart_window_seconds;
    for pod in pods.iter().filter(|p| !p.deleting) {
        for c in &pod.containers {
            let last = || last_termination(c.last_terminated_reason.as_deref(), c.last_exit_code);
            let restarts = plural(c.restart_count, "restart", "restarts");
            if c.waiting_reason.as_deref() == Some("CrashLoopBackOff") {
                out.fail(format!(
                    "pod {}: container {:?} is in CrashLoopBackOff after {} {restarts}{}: it \
                     fails soon after every start",
                    pod.name,
                    c.name,
                    c.restart_count,
                    last()
                ))
                .container(&c.name)
                .object(format!("Pod/{}", pod.name));
                continue;
            }
            let recent = c
                .last_terminated_at
                .filter(|t| ctx.seconds_since(*t) <= window);
            // An OOM kill is live-oomkilled's finding, with a better diagnosis.
            let oom = c.last_terminated_reason.as_deref() == Some("OOMKilled");
            match recent {
                // Running again after recent crashes: unstable, not down (CrashLoopBackOff,
                // above, is down).
                Some(at) if c.restart_count > 0 && !oom => {
                    out.fail(format!(
                        "pod {}: container {:?} has {} {restarts}, the last at {}{}: it keeps \
                         crashing",
                        pod.name,
                        c.name,
                        c.restart_count,
                        instant(at),
                        last()
                    ))
                    .container(&c.name)
                    .object(format!("Pod/{}", pod.name))
                    .severity(Severity::High);
                }
                _ => out.pass(),
            }
        }
    }
}

const PULL_FAILURES: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
];

fn image_pull_failure(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(pods) = live_pods(ctx, out) else {
        return;
    };
    for pod in pods.iter().filter(|p| !p.deleting) {
        for c in &pod.containers {
            let Some(reason) = c
                .waiting_reason
                .as_deref()
                .filter(|r| PULL_FAILURES.contains(r))
            else {
                out.pass();
                continue;
            };
            let detail = match c.waiting_message.as_deref().filter(|m| !m.is_empty()) {
                Some(m) => format!("{reason}: {m}"),
                None => reason.to_string(),
            };
            out.fail(format!(
                "pod {}: container {:?} cannot pull its image ({detail}): it never starts",
                pod.name, c.name
            ))
            .container(&c.name)
            .object(format!("Pod/{}", pod.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::api::Severity;
    use crate::testing::{findings, judge, judge_with, messages, outcome};

    /// A workload named api in namespace shop; `spec` lines at two spaces, `pod` lines at six.
    fn workload(kind: &str, spec: &str, pod: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: api, namespace: shop, \
             creationTimestamp: \"2026-05-01T00:00:00Z\"}}\nspec:\n{spec}  selector: \
             {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    \
             spec:\n{pod}      containers:\n      - name: app\n        image: api:1\n        \
             ports: [{{containerPort: 8080, name: http}}]\n"
        )
    }

    fn deployment(replicas: i32) -> String {
        workload("Deployment", &format!("  replicas: {replicas}\n"), "")
    }

    fn pdb(spec: &str) -> String {
        format!(
            "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: api-pdb, \
             namespace: shop}}\nspec: {{{spec}, selector: {{matchLabels: {{app: api}}}}}}\n"
        )
    }

    fn hpa(kind: &str, min: i32, max: i32) -> String {
        format!(
            "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: \
             api-hpa, namespace: shop}}\nspec: {{scaleTargetRef: {{apiVersion: apps/v1, kind: \
             {kind}, name: api}}, minReplicas: {min}, maxReplicas: {max}}}\n"
        )
    }

    const SERVICE: &str = "---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: \
                           shop}\nspec: {selector: {app: api}, ports: [{port: 80, targetPort: \
                           http}]}\n";

    const OTHER_SERVICE: &str = "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, \
                                 namespace: shop}\nspec: {selector: {app: web}, ports: [{port: \
                                 80}]}\n";

    const OTHER_PDB: &str = "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: \
                             {name: web, namespace: shop}\nspec: {maxUnavailable: 1, selector: \
                             {matchLabels: {app: web}}}\n";

    const OTHER_HPA: &str = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n\
                             metadata: {name: web, namespace: shop}\nspec: {scaleTargetRef: \
                             {apiVersion: apps/v1, kind: Deployment, name: web}, maxReplicas: \
                             4}\n";

    #[test]
    fn single_replica() {
        let r = judge(&workload("Deployment", "", ""));
        assert_eq!(
            messages(&r, "availability-single-replica"),
            vec![
                "Deployment runs 1 replica (fewer than 2): a restart, crash or node drain of its only pod is an outage"
            ]
        );
        assert_eq!(
            findings(&r, "availability-single-replica")[0].remediation,
            "Set spec.replicas to 2 or more, so one pod can restart or be evicted while the others serve."
        );
        assert_eq!(
            outcome(&judge(&deployment(2)), "availability-single-replica"),
            "pass"
        );
        let r = judge(&deployment(0));
        assert_eq!(
            messages(&r, "availability-single-replica"),
            vec!["Deployment runs 0 replicas (fewer than 2): no pod runs at all"]
        );
        // Only Deployments and StatefulSets.
        let ds = workload("DaemonSet", "", "");
        assert_eq!(outcome(&judge(&ds), "availability-single-replica"), "n/a");
        let rs = workload("ReplicaSet", "  replicas: 1\n", "");
        assert_eq!(outcome(&judge(&rs), "availability-single-replica"), "n/a");
    }

    #[test]
    fn single_replica_datastores() {
        let redis = deployment(1).replace("image: api:1", "image: bitnami/redis:7.2");
        let r = judge(&redis);
        assert_eq!(
            messages(&r, "availability-single-replica"),
            vec![
                "Deployment runs 1 replica of redis (fewer than 2): a restart of its only pod is an outage of the data tier"
            ]
        );
        assert!(
            findings(&r, "availability-single-replica")[0]
                .remediation
                .contains("raising spec.replicas alone does not replicate the data")
        );
        // A StatefulSet is not a datastore by itself: controllers use it for a stable identity.
        let sts = workload("StatefulSet", "  replicas: 1\n", "");
        assert_eq!(
            messages(&judge(&sts), "availability-single-replica"),
            vec![
                "StatefulSet runs 1 replica (fewer than 2): a restart, crash or node drain of its only pod is an outage"
            ]
        );
        let mut spec = crate::api::ReadinessPolicySpec::default();
        spec.parameters.min_replicas = 3;
        let sts = workload("StatefulSet", "  replicas: 2\n", "")
            .replace("image: api:1", "image: timescale/timescaledb:2.14-pg16");
        assert_eq!(
            messages(&judge_with(&sts, &spec), "availability-single-replica"),
            vec![
                "StatefulSet runs 2 replicas of timescaledb (fewer than 3): one restart leaves the data tier without redundancy"
            ]
        );
    }

    #[test]
    fn an_autoscaled_workload_is_judged_by_its_autoscaler_floor() {
        // The HPA decides the count: availability-hpa-min-replicas judges its floor, once.
        let r = judge(&format!("{}{}", deployment(1), hpa("Deployment", 3, 6)));
        assert_eq!(outcome(&r, "availability-single-replica"), "n/a");
        assert_eq!(outcome(&r, "availability-hpa-min-replicas"), "pass");
        let r = judge(&format!("{}{}", deployment(4), hpa("Deployment", 1, 6)));
        assert_eq!(outcome(&r, "availability-single-replica"), "n/a");
        assert_eq!(
            messages(&r, "availability-hpa-min-replicas"),
            vec![
                "HorizontalPodAutoscaler api-hpa sets minReplicas 1 (fewer than 2): at quiet times it scales down to 1 replica, and a restart, crash or node drain of its only pod is an outage"
            ]
        );
        assert_eq!(
            findings(&r, "availability-hpa-min-replicas")[0].severity,
            Severity::High
        );
        // An HPA of another workload does not count.
        let r = judge(&format!("{}{}", deployment(1), hpa("StatefulSet", 3, 6)));
        assert_eq!(outcome(&r, "availability-single-replica"), "fail");
    }

    /// A workload no client reaches through a Service (a worker, a controller, an exporter
    /// scraped for metrics) loses no request when its only pod restarts: low.
    #[test]
    fn a_single_replica_that_serves_no_client_pauses_rather_than_fails() {
        let metrics_only = "---\napiVersion: v1\nkind: Service\nmetadata: {name: api-metrics, \
                            namespace: shop}\nspec: {selector: {app: api}, ports: [{name: \
                            http-metrics, port: 9090, targetPort: 8080}]}\n";
        for extra in [OTHER_SERVICE, metrics_only] {
            let r = judge(&format!("{}{extra}", deployment(1)));
            assert_eq!(
                messages(&r, "availability-single-replica"),
                vec![
                    "Deployment runs 1 replica (fewer than 2): no Service sends it requests (metrics scrapes aside), so a restart pauses its work rather than failing requests"
                ],
                "{extra}"
            );
            assert_eq!(
                findings(&r, "availability-single-replica")[0].severity,
                Severity::Low
            );
        }
        // Behind a Service, or with Services unknown, it is an outage.
        for yaml in [format!("{}{SERVICE}", deployment(1)), deployment(1)] {
            let f = judge(&yaml);
            assert_eq!(
                findings(&f, "availability-single-replica")[0].severity,
                Severity::High
            );
        }
    }

    #[test]
    fn no_pdb() {
        let r = judge(&format!("{}{OTHER_PDB}", deployment(3)));
        assert_eq!(
            messages(&r, "availability-no-pdb"),
            vec![
                "3 replicas and no PodDisruptionBudget selects their pods: a node drain or cluster upgrade may evict them all at once"
            ]
        );
        let r = judge(&format!("{}{}", deployment(3), pdb("maxUnavailable: 1")));
        assert_eq!(outcome(&r, "availability-no-pdb"), "pass");
        let r = judge(&deployment(3));
        assert_eq!(outcome(&r, "availability-no-pdb"), "skip");
        assert_eq!(
            messages(&r, "availability-no-pdb"),
            vec![
                "not judged: no PodDisruptionBudget objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        // One replica: a PDB would only block drains.
        let r = judge(&format!("{}{OTHER_PDB}", deployment(1)));
        assert_eq!(outcome(&r, "availability-no-pdb"), "n/a");
        // The HPA's floor counts.
        let r = judge(&format!(
            "{}{OTHER_PDB}{}",
            deployment(1),
            hpa("Deployment", 2, 5)
        ));
        assert_eq!(outcome(&r, "availability-no-pdb"), "fail");
        let ds = workload("DaemonSet", "", "");
        assert_eq!(
            outcome(&judge(&format!("{ds}{OTHER_PDB}")), "availability-no-pdb"),
            "n/a"
        );
    }

    #[test]
    fn pdb_blocks_eviction() {
        let cases = [
            (
                "maxUnavailable: 0",
                "PodDisruptionBudget api-pdb sets maxUnavailable 0: no pod can be evicted voluntarily, so node drains and cluster upgrades hang",
            ),
            (
                "maxUnavailable: \"0%\"",
                "PodDisruptionBudget api-pdb sets maxUnavailable 0%: no pod can be evicted voluntarily, so node drains and cluster upgrades hang",
            ),
            (
                "minAvailable: \"100%\"",
                "PodDisruptionBudget api-pdb requires minAvailable 100% (3 of 3 replicas): no pod can be evicted voluntarily, so node drains and cluster upgrades hang",
            ),
            (
                // Kubernetes rounds up: 90% of 3 is 3.
                "minAvailable: \"90%\"",
                "PodDisruptionBudget api-pdb requires minAvailable 90% (3 of 3 replicas): no pod can be evicted voluntarily, so node drains and cluster upgrades hang",
            ),
            (
                "minAvailable: 3",
                "PodDisruptionBudget api-pdb requires minAvailable 3 with 3 replicas: no pod can be evicted voluntarily, so node drains and cluster upgrades hang",
            ),
        ];
        for (spec, message) in cases {
            let r = judge(&format!("{}{}", deployment(3), pdb(spec)));
            assert_eq!(
                messages(&r, "availability-pdb-blocks-eviction"),
                vec![message],
                "{spec}"
            );
            assert_eq!(
                findings(&r, "availability-pdb-blocks-eviction")[0]
                    .object
                    .as_deref(),
                Some("PodDisruptionBudget/api-pdb")
            );
        }
        for spec in [
            "maxUnavailable: 1",
            "maxUnavailable: \"10%\"",
            "minAvailable: 2",
            "minAvailable: \"50%\"",
        ] {
            let r = judge(&format!("{}{}", deployment(3), pdb(spec)));
            assert_eq!(
                outcome(&r, "availability-pdb-blocks-eviction"),
                "pass",
                "{spec}"
            );
        }
        // A single replica with minAvailable 1 can never be drained.
        let r = judge(&format!("{}{}", deployment(1), pdb("minAvailable: 1")));
        assert_eq!(
            messages(&r, "availability-pdb-blocks-eviction"),
            vec![
                "PodDisruptionBudget api-pdb requires minAvailable 1 with 1 replica: no pod can be evicted voluntarily, so node drains and cluster upgrades hang"
            ]
        );
        let r = judge(&format!("{}{OTHER_PDB}", deployment(3)));
        assert_eq!(outcome(&r, "availability-pdb-blocks-eviction"), "n/a");
        let r = judge(&deployment(3));
        assert_eq!(outcome(&r, "availability-pdb-blocks-eviction"), "skip");
    }

    #[test]
    fn no_spread() {
        let r = judge(&deployment(3));
        assert_eq!(
            messages(&r, "availability-no-spread"),
            vec![
                "3 replicas with no podAntiAffinity or topologySpreadConstraints: the scheduler may put them all on one node, and losing it takes every replica down"
            ]
        );
        let spread = "      topologySpreadConstraints:\n      - {maxSkew: 1, topologyKey: \
                      kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: \
                      {matchLabels: {app: api}}}\n";
        let r = judge(&workload("Deployment", "  replicas: 3\n", spread));
        assert_eq!(outcome(&r, "availability-no-spread"), "pass");
        let preferred = "      affinity:\n        podAntiAffinity:\n          \
                         preferredDuringSchedulingIgnoredDuringExecution:\n          - weight: \
                         100\n            podAffinityTerm: {topologyKey: kubernetes.io/hostname, \
                         labelSelector: {matchExpressions: [{key: app, operator: In, values: \
                         [api]}]}}\n";
        let r = judge(&workload("Deployment", "  replicas: 3\n", preferred));
        assert_eq!(outcome(&r, "availability-no-spread"), "pass");
        let required = "      affinity:\n        podAntiAffinity:\n          \
                        requiredDuringSchedulingIgnoredDuringExecution:\n          - \
                        {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: \
                        api}}}\n";
        let r = judge(&workload("Deployment", "  replicas: 3\n", required));
        assert_eq!(outcome(&r, "availability-no-spread"), "pass");
        // Copied from another app: it spreads someone else's pods.
        let copied = "      topologySpreadConstraints:\n      - {maxSkew: 1, topologyKey: \
                      kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: \
                      {matchLabels: {app: web}}}\n      - {maxSkew: 1, topologyKey: \
                      topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule}\n";
        let r = judge(&workload("Deployment", "  replicas: 3\n", copied));
        assert_eq!(
            messages(&r, "availability-no-spread"),
            vec![
                "3 replicas, but no podAntiAffinity term or topologySpreadConstraint selects the pods' own labels (app=api): the scheduler may put them all on one node"
            ]
        );
        assert_eq!(
            outcome(&judge(&deployment(1)), "availability-no-spread"),
            "n/a"
        );
        let sts = workload("StatefulSet", "  replicas: 3\n", "");
        assert_eq!(outcome(&judge(&sts), "availability-no-spread"), "fail");
    }

    #[test]
    fn no_hpa() {
        let r = judge(&format!("{}{SERVICE}{OTHER_HPA}", deployment(3)));
        assert_eq!(
            messages(&r, "availability-no-hpa"),
            vec![
                "the Deployment serves traffic through Service api but no HorizontalPodAutoscaler scales it: it stays at 3 replicas whatever the load"
            ]
        );
        let r = judge(&format!(
            "{}{SERVICE}{}",
            deployment(3),
            hpa("Deployment", 2, 6)
        ));
        assert_eq!(outcome(&r, "availability-no-hpa"), "pass");
        // No Service selects it: it serves no traffic.
        let r = judge(&format!("{}{OTHER_SERVICE}{OTHER_HPA}", deployment(3)));
        assert_eq!(outcome(&r, "availability-no-hpa"), "n/a");
        let r = judge(&format!("{}{SERVICE}", deployment(3)));
        assert_eq!(
            messages(&r, "availability-no-hpa"),
            vec![
                "not judged: no HorizontalPodAutoscaler objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        let r = judge(&deployment(3));
        assert_eq!(
            messages(&r, "availability-no-hpa"),
            vec![
                "not judged: no Service or HorizontalPodAutoscaler objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        let sts = workload("StatefulSet", "  replicas: 3\n", "");
        assert_eq!(
            outcome(
                &judge(&format!("{sts}{SERVICE}{OTHER_HPA}")),
                "availability-no-hpa"
            ),
            "n/a"
        );
        let mut spec = crate::api::ReadinessPolicySpec::default();
        spec.parameters.hpa_required_for_services = false;
        let r = judge_with(&format!("{}{SERVICE}{OTHER_HPA}", deployment(3)), &spec);
        assert_eq!(outcome(&r, "availability-no-hpa"), "n/a");
    }

    #[test]
    fn hpa_min_replicas() {
        let r = judge(&format!("{}{}", deployment(2), hpa("Deployment", 1, 1)));
        assert_eq!(
            messages(&r, "availability-hpa-min-replicas"),
            vec![
                "HorizontalPodAutoscaler api-hpa sets minReplicas 1 (fewer than 2): at quiet times it scales down to 1 replica, and a restart, crash or node drain of its only pod is an outage",
                "HorizontalPodAutoscaler api-hpa sets maxReplicas 1, not above minReplicas 1: it can never add a replica under load",
            ]
        );
        assert!(
            findings(&r, "availability-hpa-min-replicas")
                .iter()
                .all(|f| f.object.as_deref() == Some("HorizontalPodAutoscaler/api-hpa"))
        );
        let r = judge(&format!("{}{}", deployment(2), hpa("Deployment", 3, 3)));
        assert_eq!(
            messages(&r, "availability-hpa-min-replicas"),
            vec![
                "HorizontalPodAutoscaler api-hpa sets maxReplicas 3, not above minReplicas 3: it can never add a replica under load"
            ]
        );
        let r = judge(&format!("{}{}", deployment(2), hpa("Deployment", 2, 8)));
        assert_eq!(outcome(&r, "availability-hpa-min-replicas"), "pass");
        // minReplicas unset: Kubernetes defaults it to 1.
        let r = judge(&format!(
            "{}{}",
            deployment(2),
            OTHER_HPA.replace("name: web}", "name: api}")
        ));
        assert_eq!(outcome(&r, "availability-hpa-min-replicas"), "fail");
        let r = judge(&format!("{}{OTHER_HPA}", deployment(2)));
        assert_eq!(outcome(&r, "availability-hpa-min-replicas"), "n/a");
        let r = judge(&deployment(2));
        assert_eq!(outcome(&r, "availability-hpa-min-replicas"), "skip");
        let sts = workload("StatefulSet", "  replicas: 2\n", "");
        let r = judge(&format!("{sts}{}", hpa("StatefulSet", 1, 4)));
        assert_eq!(outcome(&r, "availability-hpa-min-replicas"), "fail");
        let ds = workload("DaemonSet", "", "");
        assert_eq!(outcome(&judge(&ds), "availability-hpa-min-replicas"), "n/a");
    }

    #[test]
    fn pdb_hpa_conflict() {
        let r = judge(&format!(
            "{}{}{}",
            deployment(2),
            hpa("Deployment", 2, 6),
            pdb("minAvailable: 2")
        ));
        assert_eq!(
            messages(&r, "availability-pdb-hpa-conflict"),
            vec![
                "PodDisruptionBudget api-pdb requires minAvailable 2 while HorizontalPodAutoscaler api-hpa sets minReplicas 2: at minimum scale no pod can be evicted, so node drains hang"
            ]
        );
        assert_eq!(
            findings(&r, "availability-pdb-hpa-conflict")[0]
                .object
                .as_deref(),
            Some("PodDisruptionBudget/api-pdb")
        );
        // 80% of 3, rounded up, is 3.
        let r = judge(&format!(
            "{}{}{}",
            deployment(3),
            hpa("Deployment", 3, 6),
            pdb("minAvailable: \"80%\"")
        ));
        assert_eq!(
            messages(&r, "availability-pdb-hpa-conflict"),
            vec![
                "PodDisruptionBudget api-pdb requires minAvailable 80% (3 pods) while HorizontalPodAutoscaler api-hpa sets minReplicas 3: at minimum scale no pod can be evicted, so node drains hang"
            ]
        );
        for spec in [
            "minAvailable: 2",
            "minAvailable: \"50%\"",
            "maxUnavailable: 1",
        ] {
            let r = judge(&format!(
                "{}{}{}",
                deployment(3),
                hpa("Deployment", 3, 6),
                pdb(spec)
            ));
            assert_eq!(
                outcome(&r, "availability-pdb-hpa-conflict"),
                "pass",
                "{spec}"
            );
        }
        // No HPA, or no PDB, for this workload: nothing to conflict.
        let r = judge(&format!(
            "{}{OTHER_HPA}{}",
            deployment(2),
            pdb("minAvailable: 2")
        ));
        assert_eq!(outcome(&r, "availability-pdb-hpa-conflict"), "n/a");
        let r = judge(&format!(
            "{}{}{OTHER_PDB}",
            deployment(2),
            hpa("Deployment", 2, 4)
        ));
        assert_eq!(outcome(&r, "availability-pdb-hpa-conflict"), "n/a");
        let r = judge(&format!("{}{}", deployment(2), hpa("Deployment", 2, 4)));
        assert_eq!(
            messages(&r, "availability-pdb-hpa-conflict"),
            vec![
                "not judged: no PodDisruptionBudget objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        let r = judge(&deployment(2));
        assert_eq!(
            messages(&r, "availability-pdb-hpa-conflict"),
            vec![
                "not judged: no PodDisruptionBudget or HorizontalPodAutoscaler objects are known (none in the input, or not watched in the cluster)"
            ]
        );
    }

    fn deployment_status(available: i32, available_condition: &str, since: &str) -> String {
        format!(
            "{}status:\n  observedGeneration: 3\n  replicas: 3\n  availableReplicas: \
             {available}\n  conditions:\n  - {{type: Available, status: \
             \"{available_condition}\", lastTransitionTime: \"{since}\"}}\n  - {{type: \
             Progressing, status: \"True\", lastTransitionTime: \"2026-01-01T00:00:00Z\", \
             lastUpdateTime: \"2026-05-20T00:00:00Z\"}}\n",
            deployment(3)
        )
    }

    #[test]
    fn replicas_unavailable() {
        let r = judge(&deployment_status(3, "True", "2026-05-01T00:00:00Z"));
        assert_eq!(outcome(&r, "live-replicas-unavailable"), "pass");
        let r = judge(&deployment_status(0, "False", "2026-06-01T11:15:00Z"));
        assert_eq!(
            messages(&r, "live-replicas-unavailable"),
            vec!["Deployment has 0 of 3 replicas available since 2026-06-01T11:15:00Z: it is down"]
        );
        assert_eq!(
            findings(&r, "live-replicas-unavailable")[0].severity,
            crate::api::Severity::Critical
        );
        let r = judge(&deployment_status(0, "False", "2026-06-01T11:58:00Z"));
        assert_eq!(outcome(&r, "live-replicas-unavailable"), "warn");
        assert_eq!(
            messages(&r, "live-replicas-unavailable"),
            vec![
                "Deployment has 0 of 3 replicas available since 2026-06-01T11:58:00Z, inside the 5m grace period"
            ]
        );
        // Some available: high, timed from the rollout's last progress.
        let r = judge(&deployment_status(1, "True", "2026-01-01T00:00:00Z"));
        assert_eq!(
            messages(&r, "live-replicas-unavailable"),
            vec![
                "Deployment has 1 of 3 replicas available since 2026-05-20T00:00:00Z: it runs without its planned capacity and redundancy"
            ]
        );
        assert_eq!(
            findings(&r, "live-replicas-unavailable")[0].severity,
            crate::api::Severity::High
        );
        // No status, or the empty one dry runs print.
        let r = judge(&deployment(3));
        assert_eq!(
            messages(&r, "live-replicas-unavailable"),
            vec![
                "not judged: the Deployment carries no status (judge it in the cluster, or from a `kubectl get -o yaml` dump)"
            ]
        );
        let r = judge(&format!("{}status: {{}}\n", deployment(3)));
        assert_eq!(outcome(&r, "live-replicas-unavailable"), "skip");
        // Scaled to zero on purpose.
        let r = judge(&format!(
            "{}status: {{observedGeneration: 2}}\n",
            deployment(0)
        ));
        assert_eq!(outcome(&r, "live-replicas-unavailable"), "pass");
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: m, namespace: shop}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: m:1}]\n";
        assert_eq!(outcome(&judge(job), "live-replicas-unavailable"), "n/a");
    }

    #[test]
    fn replicas_unavailable_statefulsets_and_daemonsets() {
        // Without conditions the creation time tells how long.
        let sts = format!(
            "{}status: {{observedGeneration: 1, replicas: 2, readyReplicas: 1, availableReplicas: 1}}\n",
            workload("StatefulSet", "  replicas: 2\n", "")
        );
        assert_eq!(
            messages(&judge(&sts), "live-replicas-unavailable"),
            vec![
                "StatefulSet has 1 of 2 replicas available since 2026-05-01T00:00:00Z: it runs without its planned capacity and redundancy"
            ]
        );
        // Older clusters report readiness only.
        let sts = format!(
            "{}status: {{observedGeneration: 1, replicas: 2, readyReplicas: 2}}\n",
            workload("StatefulSet", "  replicas: 2\n", "")
        );
        assert_eq!(outcome(&judge(&sts), "live-replicas-unavailable"), "pass");
        let ds = |available: i32| {
            format!(
                "{}status: {{observedGeneration: 1, currentNumberScheduled: 5, \
                 desiredNumberScheduled: 5, numberMisscheduled: 0, numberReady: {available}, \
                 numberAvailable: {available}}}\n",
                workload("DaemonSet", "", "")
            )
        };
        assert_eq!(
            messages(&judge(&ds(3)), "live-replicas-unavailable"),
            vec![
                "DaemonSet has 3 of 5 pods available since 2026-05-01T00:00:00Z: 2 nodes run without it"
            ]
        );
        assert_eq!(
            messages(&judge(&ds(0)), "live-replicas-unavailable"),
            vec!["DaemonSet has 0 of 5 pods available since 2026-05-01T00:00:00Z: no node runs it"]
        );
        assert_eq!(outcome(&judge(&ds(5)), "live-replicas-unavailable"), "pass");
    }

    fn pod(name: &str, node: &str, ready: bool, statuses: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  \
             labels: {{app: api, pod-template-hash: 5f7}}\n  ownerReferences: [{{apiVersion: \
             apps/v1, kind: ReplicaSet, name: api-5f7, uid: u, controller: true}}]\nspec:\n  \
             nodeName: {node}\n  containers: [{{name: app, image: api:1}}]\nstatus:\n  phase: \
             Running\n  conditions: [{{type: Ready, status: \"{}\", lastTransitionTime: \
             \"2026-06-01T10:00:00Z\"}}]\n  containerStatuses:\n{statuses}",
            if ready { "True" } else { "False" }
        )
    }

    const RUNNING: &str = "  - {name: app, ready: true, restartCount: 0, image: api:1, imageID: \
                           x, state: {running: {startedAt: \"2026-06-01T09:00:00Z\"}}}\n";

    fn node(name: &str, zone: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: \
             {{topology.kubernetes.io/zone: {zone}}}\n"
        )
    }

    #[test]
    fn replicas_colocated() {
        let base = deployment(3);
        let r = judge(&format!(
            "{base}{}{}{}",
            pod("api-5f7-a", "n1", true, RUNNING),
            pod("api-5f7-b", "n1", true, RUNNING),
            pod("api-5f7-c", "n2", false, RUNNING)
        ));
        assert_eq!(
            messages(&r, "live-replicas-colocated"),
            vec!["all 2 ready pods run on node n1: losing that node takes every replica down"]
        );
        assert_eq!(
            findings(&r, "live-replicas-colocated")[0].object.as_deref(),
            Some("Node/n1")
        );
        let two_nodes = format!(
            "{base}{}{}",
            pod("api-5f7-a", "n1", true, RUNNING),
            pod("api-5f7-b", "n2", true, RUNNING)
        );
        // Nodes unknown: their zones are unknown, the pods are spread over nodes.
        assert_eq!(
            outcome(&judge(&two_nodes), "live-replicas-colocated"),
            "pass"
        );
        let r = judge(&format!(
            "{two_nodes}{}{}",
            node("n1", "z1"),
            node("n2", "z1")
        ));
        assert_eq!(
            messages(&r, "live-replicas-colocated"),
            vec![
                "all 2 ready pods run in zone z1 (nodes n1 and n2): a zone outage takes every replica down"
            ]
        );
        let r = judge(&format!(
            "{two_nodes}{}{}",
            node("n1", "z1"),
            node("n2", "z2")
        ));
        assert_eq!(outcome(&r, "live-replicas-colocated"), "pass");
        // One node's zone unknown: no zone verdict.
        let r = judge(&format!("{two_nodes}{}", node("n1", "z1")));
        assert_eq!(outcome(&r, "live-replicas-colocated"), "pass");
        // Fewer than two ready pods: nothing to compare.
        let r = judge(&format!("{base}{}", pod("api-5f7-a", "n1", true, RUNNING)));
        assert_eq!(outcome(&r, "live-replicas-colocated"), "n/a");
        assert_eq!(outcome(&judge(&base), "live-replicas-colocated"), "skip");
    }

    #[test]
    fn crashloop() {
        let base = deployment(2);
        let looping = "  - {name: app, ready: false, restartCount: 12, image: api:1, imageID: x, \
                       state: {waiting: {reason: CrashLoopBackOff, message: back-off 5m0s}}, \
                       lastState: {terminated: {reason: Error, exitCode: 1, finishedAt: \
                       \"2026-06-01T11:57:00Z\"}}}\n";
        let r = judge(&format!(
            "{base}{}{}",
            pod("api-5f7-a", "n1", false, looping),
            pod("api-5f7-b", "n2", true, RUNNING)
        ));
        assert_eq!(
            messages(&r, "live-crashloop"),
            vec![
                "pod api-5f7-a: container \"app\" is in CrashLoopBackOff after 12 restarts (last termination: Error, exit code 1): it fails soon after every start"
            ]
        );
        let f = findings(&r, "live-crashloop")[0];
        assert_eq!(f.container.as_deref(), Some("app"));
        assert_eq!(f.object.as_deref(), Some("Pod/api-5f7-a"));
        // Down now: critical.
        assert_eq!(f.severity, Severity::Critical);
        let restarted = "  - {name: app, ready: true, restartCount: 3, image: api:1, imageID: x, \
                         state: {running: {startedAt: \"2026-06-01T11:50:00Z\"}}, lastState: \
                         {terminated: {reason: Error, exitCode: 137, finishedAt: \
                         \"2026-06-01T11:49:30Z\"}}}\n";
        let r = judge(&format!(
            "{base}{}",
            pod("api-5f7-a", "n1", true, restarted)
        ));
        assert_eq!(
            messages(&r, "live-crashloop"),
            vec![
                "pod api-5f7-a: container \"app\" has 3 restarts, the last at 2026-06-01T11:49:30Z (last termination: Error, exit code 137): it keeps crashing"
            ]
        );
        // Running again after recent crashes: unstable, not down.
        assert_eq!(findings(&r, "live-crashloop")[0].severity, Severity::High);
        // Restarts older than the window are history.
        let old = restarted.replace("2026-06-01T11:49:30Z", "2026-06-01T09:00:00Z");
        let r = judge(&format!("{base}{}", pod("api-5f7-a", "n1", true, &old)));
        assert_eq!(outcome(&r, "live-crashloop"), "pass");
        // OOM kills are live-oomkilled's.
        let oom = restarted.replace("reason: Error", "reason: OOMKilled");
        let r = judge(&format!("{base}{}", pod("api-5f7-a", "n1", true, &oom)));
        assert_eq!(outcome(&r, "live-crashloop"), "pass");
        // Init containers crash-loop too.
        let init = format!(
            "{}  initContainerStatuses:\n  - {{name: migrate, ready: false, restartCount: 4, \
             image: m:1, imageID: x, state: {{waiting: {{reason: CrashLoopBackOff}}}}}}\n",
            pod("api-5f7-a", "n1", false, RUNNING)
        );
        let r = judge(&format!("{base}{init}"));
        assert_eq!(
            messages(&r, "live-crashloop"),
            vec![
                "pod api-5f7-a: container \"migrate\" is in CrashLoopBackOff after 4 restarts: it fails soon after every start"
            ]
        );
        assert_eq!(outcome(&judge(&base), "live-crashloop"), "skip");
        // Pods known, none of this workload's.
        let other = pod("web-1", "n1", true, RUNNING).replace(
            "name: web-1\n  namespace: shop",
            "name: web-1\n  namespace: other",
        );
        assert_eq!(
            outcome(&judge(&format!("{base}{other}")), "live-crashloop"),
            "n/a"
        );
    }

    #[test]
    fn bare_pod_status() {
        let bare = "apiVersion: v1\nkind: Pod\nmetadata: {name: tool, namespace: shop}\nspec:\n  \
                    containers: [{name: tool, image: tool:1}]\n";
        assert_eq!(
            messages(&judge(bare), "live-crashloop"),
            vec![
                "not judged: its pods carry no status (judge them in the cluster, or from a `kubectl get -o yaml` dump)"
            ]
        );
        let pulling = format!(
            "{bare}status:\n  phase: Pending\n  containerStatuses:\n  - {{name: tool, ready: \
             false, restartCount: 0, image: tool:1, imageID: \"\", state: {{waiting: {{reason: \
             ErrImagePull, message: \"pull access denied for tool\"}}}}}}\n"
        );
        assert_eq!(
            messages(&judge(&pulling), "live-image-pull-failure"),
            vec![
                "pod tool: container \"tool\" cannot pull its image (ErrImagePull: pull access denied for tool): it never starts"
            ]
        );
    }

    #[test]
    fn image_pull_failure() {
        let base = deployment(2);
        let backoff = "  - {name: app, ready: false, restartCount: 0, image: api:2, imageID: \"\", \
                       state: {waiting: {reason: ImagePullBackOff, message: 'Back-off pulling \
                       image \"api:2\"'}}}\n";
        let r = judge(&format!(
            "{base}{}{}",
            pod("api-5f7-a", "n1", true, RUNNING),
            pod("api-5f7-b", "n2", false, backoff)
        ));
        assert_eq!(
            messages(&r, "live-image-pull-failure"),
            vec![
                "pod api-5f7-b: container \"app\" cannot pull its image (ImagePullBackOff: Back-off pulling image \"api:2\"): it never starts"
            ]
        );
        let f = findings(&r, "live-image-pull-failure")[0];
        assert_eq!(f.container.as_deref(), Some("app"));
        assert_eq!(f.object.as_deref(), Some("Pod/api-5f7-b"));
        let invalid = "  - {name: app, ready: false, restartCount: 0, image: API, imageID: \"\", \
                       state: {waiting: {reason: InvalidImageName}}}\n";
        let r = judge(&format!("{base}{}", pod("api-5f7-b", "n2", false, invalid)));
        assert_eq!(
            messages(&r, "live-image-pull-failure"),
            vec![
                "pod api-5f7-b: container \"app\" cannot pull its image (InvalidImageName): it never starts"
            ]
        );
        let r = judge(&format!("{base}{}", pod("api-5f7-a", "n1", true, RUNNING)));
        assert_eq!(outcome(&r, "live-image-pull-failure"), "pass");
        assert_eq!(outcome(&judge(&base), "live-image-pull-failure"), "skip");
    }
}
