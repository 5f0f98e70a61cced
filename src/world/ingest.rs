//! Reduces Kubernetes objects to the facts the World keeps.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::facts::*;
use crate::api::Parameters;

pub(crate) fn ts(t: &Option<Time>) -> Option<Timestamp> {
    t.as_ref().map(|t| t.0)
}

pub fn service(svc: &Service) -> ServiceFacts {
    let spec = svc.spec.as_ref();
    ServiceFacts {
        name: svc.metadata.name.clone().unwrap_or_default(),
        service_type: spec
            .and_then(|s| s.type_.clone())
            .unwrap_or_else(|| "ClusterIP".to_string()),
        ports: spec
            .and_then(|s| s.ports.as_ref())
            .map(|ports| {
                ports
                    .iter()
                    .map(|p| ServicePortFacts {
                        name: p.name.clone(),
                        port: p.port,
                        target_port: p.target_port.clone(),
                        node_port: p.node_port,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        labels: svc.metadata.labels.clone().unwrap_or_default(),
        annotations: svc.metadata.annotations.clone().unwrap_or_default(),
    }
}

pub fn ingress(ing: &Ingress) -> IngressFacts {
    let mut facts = IngressFacts {
        name: ing.metadata.name.clone().unwrap_or_default(),
        annotations: ing.metadata.annotations.clone().unwrap_or_default(),
        ..IngressFacts::default()
    };
    let Some(spec) = &ing.spec else {
        return facts;
    };
    facts.class = spec.ingress_class_name.clone().or_else(|| {
        facts
            .annotations
            .get("kubernetes.io/ingress.class")
            .cloned()
    });
    if let Some(svc) = spec
        .default_backend
        .as_ref()
        .and_then(|b| b.service.as_ref())
    {
        facts.services.insert(svc.name.clone());
    }
    for rule in spec.rules.iter().flatten() {
        if let Some(h) = &rule.host {
            facts.hosts.push(h.clone());
        }
        for path in rule.http.iter().flat_map(|h| h.paths.iter()) {
            if let Some(svc) = &path.backend.service {
                facts.services.insert(svc.name.clone());
            }
        }
    }
    for tls in spec.tls.iter().flatten() {
        match &tls.hosts {
            Some(hosts) if !hosts.is_empty() => facts.tls_hosts.extend(hosts.iter().cloned()),
            _ => facts.tls_hosts.push("*".to_string()),
        }
    }
    facts
}

pub fn network_policy(np: &NetworkPolicy) -> NetworkPolicyFacts {
    let spec = np.spec.as_ref();
    let types = spec.and_then(|s| s.policy_types.as_ref());
    let has_egress_rules = spec.is_some_and(|s| s.egress.is_some());
    let (ingress, egress) = match types {
        Some(t) => (
            t.iter().any(|x| x == "Ingress"),
            t.iter().any(|x| x == "Egress"),
        ),
        None => (true, has_egress_rules),
    };
    let egress_allows_all = egress
        && spec.and_then(|s| s.egress.as_ref()).is_some_and(|rules| {
            rules.iter().any(|r| {
                let all_ports = r.ports.as_ref().is_none_or(|p| p.is_empty());
                let all_peers = match &r.to {
                    None => true,
                    Some(to) if to.is_empty() => true,
                    Some(to) => to.iter().any(|peer| {
                        peer.ip_block.as_ref().is_some_and(|b| {
                            (b.cidr == "0.0.0.0/0" || b.cidr == "::/0")
                                && b.except.as_ref().is_none_or(|e| e.is_empty())
                        })
                    }),
                };
                all_ports && all_peers
            })
        });
    NetworkPolicyFacts {
        name: np.metadata.name.clone().unwrap_or_default(),
        ingress,
        egress,
        egress_allows_all,
    }
}

pub fn pdb(pdb: &PodDisruptionBudget) -> PdbFacts {
    let spec = pdb.spec.as_ref();
    PdbFacts {
        name: pdb.metadata.name.clone().unwrap_or_default(),
        min_available: spec.and_then(|s| s.min_available.clone()),
        max_unavailable: spec.and_then(|s| s.max_unavailable.clone()),
    }
}

pub fn hpa(hpa: &HorizontalPodAutoscaler) -> HpaFacts {
    let spec = hpa.spec.as_ref();
    HpaFacts {
        name: hpa.metadata.name.clone().unwrap_or_default(),
        target_kind: spec
            .map(|s| s.scale_target_ref.kind.clone())
            .unwrap_or_default(),
        target_name: spec
            .map(|s| s.scale_target_ref.name.clone())
            .unwrap_or_default(),
        min_replicas: spec.and_then(|s| s.min_replicas).unwrap_or(1),
        max_replicas: spec.map(|s| s.max_replicas).unwrap_or(0),
    }
}

/// The default credential-name patterns, upper-cased once, for scanning file-like ConfigMap
/// values at ingestion (key names are matched later against the policy's own patterns).
static DEFAULT_SECRET_PATTERNS: LazyLock<Vec<String>> = LazyLock::new(|| {
    Parameters::default()
        .secret_name_patterns
        .iter()
        .map(|p| p.to_ascii_uppercase())
        .collect()
});

/// Longest URL kept per value.
const MAX_URL_LEN: usize = 512;
/// Most URLs kept per key.
const MAX_URLS_PER_KEY: usize = 16;

/// Whether a name (env var, key, field) looks like it holds a credential.
pub fn name_looks_secret(name: &str, patterns: &[String]) -> bool {
    let upper = name.to_ascii_uppercase().replace(['-', '.'], "_");
    patterns.iter().any(|p| upper.contains(p.as_str()))
}

/// Whether a literal is a reference or placeholder rather than a real value.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    v.is_empty()
        || v.starts_with("${")
        || v.starts_with("$(")
        || v.starts_with("{{")
        || v.starts_with('<')
        || v.eq_ignore_ascii_case("null")
        || v == "~"
}

/// Every `scheme://...` token in a value.
pub fn urls_in(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '`'))
        .filter(|t| {
            t.find("://").is_some_and(|i| {
                i > 0
                    && t[..i]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '+')
            })
        })
}

pub fn config_map(cm: &ConfigMap) -> ConfigMapFacts {
    let mut facts = ConfigMapFacts {
        name: cm.metadata.name.clone().unwrap_or_default(),
        ..ConfigMapFacts::default()
    };
    for (key, value) in cm.data.iter().flatten() {
        facts.keys.insert(key.clone());
        if value.is_empty() {
            facts.empty_keys.insert(key.clone());
            continue;
        }
        for url in urls_in(value).take(MAX_URLS_PER_KEY) {
            let mut end = url.len().min(MAX_URL_LEN);
            while !url.is_char_boundary(end) {
                end -= 1;
            }
            facts.urls.push((key.clone(), url[..end].to_string()));
        }
        if value.contains("PRIVATE KEY-----") {
            facts.private_keys.push(key.clone());
        }
        if value.contains('\n') || value.contains('=') || value.contains(": ") {
            let mut seen = BTreeSet::new();
            for line in value.lines() {
                let line = line.trim().trim_start_matches("export ");
                let Some(split) = line.find([':', '=']) else {
                    continue;
                };
                let (field, rest) = line.split_at(split);
                let field = field.trim().trim_matches(|c| c == '"' || c == '\'');
                let rest = rest[1..].trim();
                if field.is_empty()
                    || field.contains(char::is_whitespace)
                    || rest.starts_with("//")
                    || is_placeholder(rest)
                    || !name_looks_secret(field, &DEFAULT_SECRET_PATTERNS)
                    || !seen.insert(field.to_string())
                {
                    continue;
                }
                facts
                    .embedded_credentials
                    .push((key.clone(), field.to_string()));
            }
        }
    }
    for key in cm.binary_data.iter().flatten().map(|(k, _)| k) {
        facts.keys.insert(key.clone());
    }
    facts
}

pub fn cluster_role(role: &ClusterRole) -> ClusterRoleFacts {
    let wildcard = role.rules.iter().flatten().any(|r| {
        let all = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| v.iter().any(|x| x == "*"));
        r.verbs.iter().any(|v| v == "*") && all(&r.resources) && all(&r.api_groups)
    });
    let name = role.metadata.name.clone().unwrap_or_default();
    ClusterRoleFacts {
        wildcard: wildcard || name == "cluster-admin",
        name,
    }
}

pub fn pod(pod: &Pod) -> PodFacts {
    let status = pod.status.as_ref();
    let ready_cond = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    let mut containers = Vec::new();
    let statuses = status
        .into_iter()
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .chain(s.container_statuses.iter())
        })
        .flatten();
    for cs in statuses {
        let waiting = cs.state.as_ref().and_then(|s| s.waiting.as_ref());
        let last = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
        let current_term = cs.state.as_ref().and_then(|s| s.terminated.as_ref());
        // A container terminated right now (OOMKilled, not yet restarted) counts as its last
        // termination too.
        let term = last.or(current_term.filter(|t| t.reason.as_deref() == Some("OOMKilled")));
        containers.push(ContainerStateFacts {
            name: cs.name.clone(),
            restart_count: cs.restart_count,
            ready: cs.ready,
            waiting_reason: waiting.and_then(|w| w.reason.clone()),
            waiting_message: waiting.and_then(|w| w.message.clone()),
            last_terminated_reason: term.and_then(|t| t.reason.clone()),
            last_terminated_at: term.and_then(|t| ts(&t.finished_at)),
            last_exit_code: term.map(|t| t.exit_code),
            started_at: cs
                .state
                .as_ref()
                .and_then(|s| s.running.as_ref())
                .and_then(|r| ts(&r.started_at)),
        });
    }
    PodFacts {
        name: pod.metadata.name.clone().unwrap_or_default(),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        phase: status.and_then(|s| s.phase.clone()),
        ready: ready_cond.is_some_and(|c| c.status == "True"),
        ready_changed: ready_cond.and_then(|c| ts(&c.last_transition_time)),
        created: ts(&pod.metadata.creation_timestamp),
        deleting: pod.metadata.deletion_timestamp.is_some(),
        containers,
    }
}

/// The commands and arguments of a pod spec's containers, lower-cased, for backup detection.
pub fn command_text(spec: &k8s_openapi::api::core::v1::PodSpec) -> String {
    let mut out = String::new();
    for c in spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
    {
        for part in c.command.iter().flatten().chain(c.args.iter().flatten()) {
            out.push_str(&part.to_ascii_lowercase());
            out.push(' ');
        }
        if let Some(image) = &c.image {
            out.push_str(&image.to_ascii_lowercase());
            out.push(' ');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(pairs: &[(&str, &str)]) -> ConfigMap {
        ConfigMap {
            data: Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ConfigMap::default()
        }
    }

    #[test]
    fn config_map_keeps_urls_keys_and_embedded_credentials() {
        let facts = config_map(&cm(&[
            ("REDIS_URL", "redis://redis:6379/0"),
            (
                "app.yaml",
                "db:\n  host: db\n  password: hunter2\n  token: ${TOKEN}\n",
            ),
            ("EMPTY", ""),
            ("tls.key", "-----BEGIN RSA PRIVATE KEY-----\nabc\n"),
        ]));
        assert_eq!(
            facts.urls,
            vec![("REDIS_URL".into(), "redis://redis:6379/0".into())]
        );
        assert_eq!(
            facts.embedded_credentials,
            vec![("app.yaml".into(), "password".into())]
        );
        assert_eq!(facts.private_keys, vec!["tls.key".to_string()]);
        assert!(facts.keys.contains("EMPTY") && facts.empty_keys.contains("EMPTY"));
    }

    #[test]
    fn secret_names() {
        let p = Parameters::default().secret_name_patterns;
        assert!(name_looks_secret("db-password", &p));
        assert!(name_looks_secret("STRIPE_API_KEY", &p));
        assert!(!name_looks_secret("LOG_LEVEL", &p));
    }
}
