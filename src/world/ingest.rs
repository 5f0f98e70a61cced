//! Reduces Kubernetes objects to the facts the World keeps.

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::compact::Labels;
use super::facts::*;
use crate::text::annotations::{reads_ingress_annotation, reads_service_annotation};
use crate::text::credentials::{self, Credential};
use crate::text::persistence::{self, Persistence};
use crate::text::url::urls_in;

pub(crate) fn ts(t: &Option<Time>) -> Option<Timestamp> {
    t.as_ref().map(|t| t.0)
}

fn boxed(s: &Option<String>) -> Box<str> {
    s.as_deref().unwrap_or_default().into()
}

pub fn service(svc: &Service) -> ServiceFacts {
    let spec = svc.spec.as_ref();
    ServiceFacts {
        name: boxed(&svc.metadata.name),
        service_type: spec
            .and_then(|s| s.type_.as_deref())
            .unwrap_or("ClusterIP")
            .into(),
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
        headless: spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None"),
        labels: Labels::from(svc.metadata.labels.as_ref()),
        annotations: Labels::filtered(svc.metadata.annotations.as_ref(), reads_service_annotation),
    }
}

/// The Services an Ingress routes to (default backend and every rule path), each once.
fn backend_services(ing: &Ingress) -> impl Iterator<Item = &str> {
    let spec = ing.spec.as_ref();
    let default = spec
        .and_then(|s| s.default_backend.as_ref())
        .and_then(|b| b.service.as_ref());
    let paths = spec
        .into_iter()
        .flat_map(|s| s.rules.iter().flatten())
        .flat_map(|r| r.http.iter().flat_map(|h| h.paths.iter()))
        .filter_map(|p| p.backend.service.as_ref());
    default.into_iter().chain(paths).map(|s| s.name.as_str())
}

/// What the controller compares when an Ingress changes: the Services it routes to.
pub struct IngressRoutes {
    pub services: BTreeSet<String>,
}

/// The Services an Ingress routes to, as an owned set (the World keeps `ingress_facts`).
pub fn ingress(ing: &Ingress) -> IngressRoutes {
    IngressRoutes {
        services: backend_services(ing).map(str::to_string).collect(),
    }
}

pub fn ingress_facts(ing: &Ingress) -> IngressFacts {
    let annotations = ing.metadata.annotations.as_ref();
    let mut facts = IngressFacts {
        name: boxed(&ing.metadata.name),
        annotations: Labels::filtered(annotations, reads_ingress_annotation),
        ..IngressFacts::default()
    };
    let Some(spec) = &ing.spec else {
        return facts;
    };
    facts.class = spec
        .ingress_class_name
        .as_deref()
        .or_else(|| {
            annotations?
                .get("kubernetes.io/ingress.class")
                .map(String::as_str)
        })
        .map(Box::from);
    facts.services = backend_services(ing).collect();
    let mut backends: Vec<IngressBackend> = Vec::new();
    let default = spec
        .default_backend
        .as_ref()
        .and_then(|b| b.service.as_ref());
    let paths = spec
        .rules
        .iter()
        .flatten()
        .flat_map(|r| r.http.iter().flat_map(|h| h.paths.iter()))
        .filter_map(|p| p.backend.service.as_ref());
    for svc in default.into_iter().chain(paths) {
        let port = svc.port.as_ref().and_then(|p| match (&p.name, p.number) {
            (Some(name), _) if !name.is_empty() => Some(IntOrString::String(name.clone())),
            (_, Some(n)) => Some(IntOrString::Int(n)),
            _ => None,
        });
        let backend = IngressBackend {
            service: svc.name.as_str().into(),
            port,
        };
        if !backends.contains(&backend) {
            backends.push(backend);
        }
    }
    facts.backends = backends.into_boxed_slice();
    facts.hosts = spec
        .rules
        .iter()
        .flatten()
        .filter_map(|r| r.host.as_deref())
        .map(Box::from)
        .collect();
    let mut tls_hosts: Vec<Box<str>> = Vec::new();
    for tls in spec.tls.iter().flatten() {
        match &tls.hosts {
            Some(hosts) if !hosts.is_empty() => {
                tls_hosts.extend(hosts.iter().map(|h| Box::from(h.as_str())))
            }
            _ => tls_hosts.push("*".into()),
        }
    }
    facts.tls_hosts = tls_hosts.into_boxed_slice();
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
        name: boxed(&np.metadata.name),
        ingress,
        egress,
        egress_allows_all,
    }
}

pub fn pdb(pdb: &PodDisruptionBudget) -> PdbFacts {
    let spec = pdb.spec.as_ref();
    PdbFacts {
        name: boxed(&pdb.metadata.name),
        min_available: spec.and_then(|s| s.min_available.clone()),
        max_unavailable: spec.and_then(|s| s.max_unavailable.clone()),
    }
}

pub fn hpa(hpa: &HorizontalPodAutoscaler) -> HpaFacts {
    let spec = hpa.spec.as_ref();
    HpaFacts {
        name: boxed(&hpa.metadata.name),
        target_kind: spec
            .map(|s| s.scale_target_ref.kind.as_str())
            .unwrap_or_default()
            .into(),
        target_name: spec
            .map(|s| s.scale_target_ref.name.as_str())
            .unwrap_or_default()
            .into(),
        min_replicas: spec.and_then(|s| s.min_replicas).unwrap_or(1),
        max_replicas: spec.map(|s| s.max_replicas).unwrap_or(0),
    }
}

/// Longest URL kept per value.
const MAX_URL_LEN: usize = 512;
/// Most URLs kept per key.
const MAX_URLS_PER_KEY: usize = 16;
/// Most literal fields kept per ConfigMap, and the longest name kept: enough for any
/// configuration file a person writes, bounded for one generated to be huge.
const MAX_LITERAL_FIELDS: usize = 256;
const MAX_FIELD_LEN: usize = 64;

/// The fields a file-like value (YAML, properties, `.env`, JSON) assigns a literal to:
/// `password: hunter2`, `export API_TOKEN=abc`, `"secret": "x"`. Which of them are credentials
/// depends on the policy's name patterns, so every literal one is kept by name.
fn literal_fields(value: &str) -> impl Iterator<Item = &str> {
    value.lines().filter_map(|line| {
        let line = line.trim().trim_start_matches("export ");
        let split = line.find([':', '='])?;
        let (field, rest) = line.split_at(split);
        let field = field.trim().trim_matches(|c| c == '"' || c == '\'');
        let rest = rest[1..].trim().trim_end_matches(',');
        let usable = !field.is_empty()
            && field.len() <= MAX_FIELD_LEN
            && !field.contains(char::is_whitespace)
            && !rest.starts_with("//")
            && credentials::is_literal(rest);
        usable.then_some(field)
    })
}

pub fn config_map(cm: &ConfigMap) -> ConfigMapFacts {
    let data = cm.data.iter().flatten();
    let binary = cm.binary_data.iter().flatten().map(|(k, _)| k);
    let mut urls: Vec<(Box<str>, Box<str>)> = Vec::new();
    let mut content_credentials: Vec<(Box<str>, Credential)> = Vec::new();
    let mut literal_keys: Vec<&str> = Vec::new();
    let mut fields: Vec<(Box<str>, Box<str>)> = Vec::new();
    let mut redis: Vec<(Box<str>, Persistence)> = Vec::new();
    for (key, value) in data.clone() {
        if value.is_empty() {
            continue;
        }
        for url in urls_in(value).take(MAX_URLS_PER_KEY) {
            let mut end = url.len().min(MAX_URL_LEN);
            while !url.is_char_boundary(end) {
                end -= 1;
            }
            urls.push((key.as_str().into(), url[..end].into()));
        }
        if let Some(c) = credentials::in_content(value) {
            content_credentials.push((key.as_str().into(), c));
        }
        if credentials::is_literal(value) {
            literal_keys.push(key);
        }
        if value.contains('\n') || value.contains('=') || value.contains(": ") {
            let mut seen = BTreeSet::new();
            for field in literal_fields(value) {
                if fields.len() >= MAX_LITERAL_FIELDS {
                    break;
                }
                if seen.insert(field) {
                    fields.push((key.as_str().into(), field.into()));
                }
            }
        }
        let p = persistence::of_config(value);
        if p.is_set() {
            redis.push((key.as_str().into(), p));
        }
    }
    ConfigMapFacts {
        name: boxed(&cm.metadata.name),
        keys: data
            .clone()
            .map(|(k, _)| k.as_str())
            .chain(binary.map(String::as_str))
            .collect(),
        empty_keys: data
            .filter(|(_, v)| v.is_empty())
            .map(|(k, _)| k.as_str())
            .collect(),
        urls: urls.into_boxed_slice(),
        content_credentials: content_credentials.into_boxed_slice(),
        literal_keys: literal_keys.into_iter().collect(),
        literal_fields: fields.into_boxed_slice(),
        persistence: redis.into_boxed_slice(),
    }
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
    fn config_map_keeps_urls_keys_and_what_makes_a_value_a_credential() {
        let facts = config_map(&cm(&[
            ("REDIS_URL", "redis://redis:6379/0"),
            (
                "app.yaml",
                "db:\n  host: db\n  password: hunter2\n  token: ${TOKEN}\n  tls: true\n",
            ),
            ("EMPTY", ""),
            ("tls.key", "-----BEGIN RSA PRIVATE KEY-----\nabc\n"),
            ("DB_PASSWORD", "coffee"),
            ("ALLOW_EMPTY_PASSWORD", "no"),
            ("redis.conf", "maxmemory 64mb\nsave \"\"\n"),
        ]));
        assert_eq!(
            &*facts.urls,
            [("REDIS_URL".into(), "redis://redis:6379/0".into())]
        );
        // Every field assigned a literal is kept by name; the policy decides which are
        // credentials. Placeholders and switches are not literals.
        let fields: Vec<(&str, &str)> = facts
            .literal_fields
            .iter()
            .map(|(k, f)| (&**k, &**f))
            .collect();
        assert_eq!(fields, [("app.yaml", "host"), ("app.yaml", "password")]);
        assert_eq!(
            &*facts.content_credentials,
            [("tls.key".into(), Credential::PrivateKey)]
        );
        assert!(facts.literal_keys.contains("DB_PASSWORD"));
        assert!(!facts.literal_keys.contains("ALLOW_EMPTY_PASSWORD"));
        assert!(facts.keys.contains("EMPTY") && facts.empty_keys.contains("EMPTY"));
        assert_eq!(facts.persistence.len(), 1);
        assert!(!facts.persistence[0].1.keeps_data());
    }

    #[test]
    fn services_and_ingresses_keep_the_annotations_checks_read() {
        let meta =
            |pairs: &[(&str, &str)]| k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("web".into()),
                labels: Some([("app".to_string(), "web".to_string())].into()),
                annotations: Some(
                    pairs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            };
        let last_applied = "kubectl.kubernetes.io/last-applied-configuration";
        let svc = service(&Service {
            metadata: meta(&[
                (last_applied, "{}"),
                ("prometheus.io/scrape", "true"),
                (
                    "service.beta.kubernetes.io/aws-load-balancer-internal",
                    "true",
                ),
            ]),
            ..Service::default()
        });
        assert_eq!(
            svc.annotations.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            [
                "prometheus.io/scrape",
                "service.beta.kubernetes.io/aws-load-balancer-internal"
            ]
        );
        assert_eq!(svc.labels.get("app"), Some("web"));
        let ing = ingress_facts(&Ingress {
            metadata: meta(&[
                (last_applied, "{}"),
                ("kubernetes.io/ingress.class", "nginx"),
                ("nginx.ingress.kubernetes.io/limit-rps", "20"),
            ]),
            spec: Some(Default::default()),
            ..Ingress::default()
        });
        assert_eq!(
            ing.annotations.iter().collect::<Vec<_>>(),
            [("nginx.ingress.kubernetes.io/limit-rps", "20")]
        );
        assert_eq!(ing.class.as_deref(), Some("nginx"));
    }
}
