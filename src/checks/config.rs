//! Configuration and secrets: credentials kept out of manifests and ConfigMaps, connections
//! that ask for TLS, no development switches left on, and references that resolve.

use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::{Container, KeyToPath};

use super::util::join_names;
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Parameters, Severity};
use crate::text::credentials::{self, name_looks_secret};
use crate::text::names::{ends_with_folded, eq_folded, find_words};
use crate::text::url::{Url, urls_of};
use crate::workload::Workload;
use crate::world::{ConfigMapFacts, RelatedKind};

pub const CHECKS: &[Check] = &[
    Check {
        id: "config-literal-secret",
        category: Category::Configuration,
        severity: Severity::Critical,
        needs: Needs::Object,
        title: "A credential is written into the manifest as a literal env value",
        remediation: "Move the value into a Secret and reference it with \
                      `valueFrom.secretKeyRef` (or `envFrom.secretRef`), then rotate the \
                      credential: it has been readable by everyone with access to the manifest.",
        run: Run::Workload(literal_secret),
    },
    Check {
        id: "config-secret-in-configmap",
        category: Category::Configuration,
        severity: Severity::High,
        needs: Needs::Related,
        title: "A ConfigMap the workload uses holds credentials",
        remediation: "Move the credential into a Secret (mounted or referenced with \
                      `secretKeyRef`), keep only non-secret settings in the ConfigMap, and \
                      rotate the credential.",
        run: Run::Workload(secret_in_config_map),
    },
    Check {
        id: "config-plaintext-connection",
        category: Category::Configuration,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "A connection string asks for no TLS",
        remediation: "Ask for TLS in the connection string: rediss://, amqps://, https://, \
                      mongodb://...?tls=true, postgres://...?sslmode=verify-full (or require), \
                      mysql://...?ssl-mode=REQUIRED, and enable TLS on the server side.",
        run: Run::Workload(plaintext_connection),
    },
    Check {
        id: "config-insecure-flag",
        category: Category::Configuration,
        severity: Severity::High,
        needs: Needs::Object,
        title: "An environment flag switches a safeguard off or selects development mode",
        remediation: "Remove the flag or set it to its production value (false, or \
                      `production` for environment names); keep development settings in a \
                      separate overlay or values file that never reaches production.",
        run: Run::Workload(insecure_flag),
    },
    Check {
        id: "config-missing-reference",
        category: Category::Configuration,
        severity: Severity::High,
        needs: Needs::Related,
        title: "The workload references a Secret, ConfigMap or key that does not exist",
        remediation: "Create the missing Secret or ConfigMap (or key) in the workload's \
                      namespace, or mark the reference `optional: true` if the workload copes \
                      without it. If the object is created outside these manifests (External \
                      Secrets, Sealed Secrets, a CSI driver), audit it together with them or \
                      exempt the check with the annotation `prodready.dev/exempt: \
                      config-missing-reference`.",
        run: Run::Workload(missing_reference),
    },
];

const CONFIG_MAP_EXPOSURE: &str = "ConfigMaps are not encrypted at rest and anyone allowed \
                                   to read configuration can read it";

// ---- URLs ------------------------------------------------------------------------------------

/// Why a connection URL travels without TLS, with the fix; `None` when it asks for TLS or
/// stays inside the cluster.
fn plaintext_reason(url: &Url<'_>, ctx: &Ctx<'_>) -> Option<&'static str> {
    let host = url.host();
    if is_loopback(host) {
        return None;
    }
    let scheme = url.scheme;
    if scheme.eq_ignore_ascii_case("mongodb+srv") {
        // SRV connection strings default to TLS: only an explicit opt-out is plain text.
        return url
            .param_is("tls", &["false"])
            .then_some("tls=false (remove it)")
            .or_else(|| {
                url.param_is("ssl", &["false"])
                    .then_some("ssl=false (remove it)")
            });
    }
    // `postgresql+psycopg2`, `mysql+pymysql`: a driver suffix does not change the protocol.
    let base = scheme.split('+').next().unwrap_or("");
    let is = |names: &[&str]| names.iter().any(|n| base.eq_ignore_ascii_case(n));
    if is(&["redis"]) {
        Some("use rediss://")
    } else if is(&["valkey"]) {
        Some("use valkeys://")
    } else if is(&["amqp"]) {
        Some("use amqps://")
    } else if is(&["ldap"]) {
        Some("use ldaps://")
    } else if is(&["mongodb"]) {
        (!url.param_is("tls", &["true"]) && !url.param_is("ssl", &["true"]))
            .then_some("add tls=true")
    } else if is(&["postgres", "postgresql"]) {
        (!url.param_is("sslmode", &["require", "verify-ca", "verify-full"])
            && !url.param_is("ssl", &["true", "require"]))
        .then_some("add sslmode=require or verify-full")
    } else if is(&["mysql", "mariadb"]) {
        (!url.param_is("sslmode", &["required", "verify_ca", "verify_identity"])
            && !url.param_is("tls", &["true"])
            && !url.param_is("usessl", &["true"]))
        .then_some("add ssl-mode=REQUIRED")
    } else if is(&["nats"]) {
        (!url.param_is("tls", &["true"])).then_some("use tls://")
    } else if is(&["http"]) {
        (!in_cluster(host, ctx)).then_some("use https://")
    } else if is(&["ws"]) {
        (!in_cluster(host, ctx)).then_some("use wss://")
    } else {
        None
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// Whether an http:// host is inside the cluster (or its private network): a single-label
/// Service name, a cluster DNS suffix, `service.namespace` for a namespace the cluster has, or
/// a private address.
fn in_cluster(host: &str, ctx: &Ctx<'_>) -> bool {
    let host = host.trim_end_matches('.');
    if host.is_empty() || !host.contains('.') {
        return true;
    }
    if ctx
        .params
        .cluster_host_suffixes
        .iter()
        .any(|s| host.len() >= s.len() && host[host.len() - s.len()..].eq_ignore_ascii_case(s))
    {
        return true;
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return ip.is_private() || ip.is_loopback() || ip.is_link_local() || ip.is_unspecified();
    }
    let last = host.rsplit('.').next().unwrap_or("");
    last == ctx.workload.namespace
        || ctx.world.namespace(last).is_some()
        || ctx.world.namespace_labels(last).is_some()
}

// ---- references ------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Secret,
    ConfigMap,
}

impl RefKind {
    fn as_str(self) -> &'static str {
        match self {
            RefKind::Secret => "Secret",
            RefKind::ConfigMap => "ConfigMap",
        }
    }

    fn related(self) -> RelatedKind {
        match self {
            RefKind::Secret => RelatedKind::Secret,
            RefKind::ConfigMap => RelatedKind::ConfigMap,
        }
    }
}

/// Which keys of the object a reference reads.
#[derive(Clone, Copy)]
enum Keys<'a> {
    All,
    One(&'a str),
    Items(&'a [KeyToPath]),
}

/// Where the reference is written.
#[derive(Clone, Copy)]
enum Site<'a> {
    Env { container: &'a str, var: &'a str },
    EnvFrom { container: &'a str },
    Volume(&'a str),
    PullSecret,
}

#[derive(Clone, Copy)]
struct Reference<'a> {
    kind: RefKind,
    name: &'a str,
    keys: Keys<'a>,
    optional: bool,
    site: Site<'a>,
}

fn items(items: &Option<Vec<KeyToPath>>) -> Keys<'_> {
    match items.as_deref() {
        Some(i) if !i.is_empty() => Keys::Items(i),
        _ => Keys::All,
    }
}

fn container_references(c: &Container) -> impl Iterator<Item = Reference<'_>> {
    let container = c.name.as_str();
    let env = c.env.iter().flatten().filter_map(move |e| {
        let src = e.value_from.as_ref()?;
        let site = Site::Env {
            container,
            var: &e.name,
        };
        if let Some(s) = &src.secret_key_ref {
            return Some(Reference {
                kind: RefKind::Secret,
                name: &s.name,
                keys: Keys::One(&s.key),
                optional: s.optional == Some(true),
                site,
            });
        }
        let m = src.config_map_key_ref.as_ref()?;
        Some(Reference {
            kind: RefKind::ConfigMap,
            name: &m.name,
            keys: Keys::One(&m.key),
            optional: m.optional == Some(true),
            site,
        })
    });
    let env_from = c.env_from.iter().flatten().flat_map(move |e| {
        let site = Site::EnvFrom { container };
        let m = e.config_map_ref.as_ref().map(|m| Reference {
            kind: RefKind::ConfigMap,
            name: &m.name,
            keys: Keys::All,
            optional: m.optional == Some(true),
            site,
        });
        let s = e.secret_ref.as_ref().map(|s| Reference {
            kind: RefKind::Secret,
            name: &s.name,
            keys: Keys::All,
            optional: s.optional == Some(true),
            site,
        });
        m.into_iter().chain(s)
    });
    env.chain(env_from)
}

/// Every Secret and ConfigMap the pod reads: env, envFrom, volumes (projected sources too) and
/// image pull secrets, in that order.
fn references<'a>(w: Workload<'a>) -> impl Iterator<Item = Reference<'a>> + 'a {
    let spec = w.pod_spec;
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .flat_map(container_references);
    let volumes = spec.volumes.iter().flatten().flat_map(|v| {
        let site = Site::Volume(&v.name);
        let secret = v.secret.as_ref().and_then(|s| {
            Some(Reference {
                kind: RefKind::Secret,
                name: s.secret_name.as_deref()?,
                keys: items(&s.items),
                optional: s.optional == Some(true),
                site,
            })
        });
        let config_map = v.config_map.as_ref().map(|m| Reference {
            kind: RefKind::ConfigMap,
            name: &m.name,
            keys: items(&m.items),
            optional: m.optional == Some(true),
            site,
        });
        let projected = v
            .projected
            .iter()
            .flat_map(|p| p.sources.iter().flatten())
            .flat_map(move |src| {
                let s = src.secret.as_ref().map(|s| Reference {
                    kind: RefKind::Secret,
                    name: &s.name,
                    keys: items(&s.items),
                    optional: s.optional == Some(true),
                    site,
                });
                let m = src.config_map.as_ref().map(|m| Reference {
                    kind: RefKind::ConfigMap,
                    name: &m.name,
                    keys: items(&m.items),
                    optional: m.optional == Some(true),
                    site,
                });
                s.into_iter().chain(m)
            });
        secret.into_iter().chain(config_map).chain(projected)
    });
    let pull = spec.image_pull_secrets.iter().flatten().map(|r| Reference {
        kind: RefKind::Secret,
        name: &r.name,
        keys: Keys::All,
        optional: false,
        site: Site::PullSecret,
    });
    containers.chain(volumes).chain(pull)
}

/// The ConfigMaps the pod reads, each once, in reference order.
fn used_config_maps<'a>(w: Workload<'a>) -> impl Iterator<Item = &'a str> + 'a {
    references(w)
        .filter(|r| r.kind == RefKind::ConfigMap)
        .enumerate()
        .filter(move |(i, r)| {
            // Few references per pod: looking back is cheaper than a set.
            !references(w)
                .filter(|p| p.kind == RefKind::ConfigMap)
                .take(*i)
                .any(|p| p.name == r.name)
        })
        .map(|(_, r)| r.name)
}

/// ConfigMaps Kubernetes publishes into every namespace: never in the manifests, always there.
const AUTOMATIC_CONFIG_MAPS: &[&str] = &["kube-root-ca.crt", "openshift-service-ca.crt"];

// ---- checks ----------------------------------------------------------------------------------

fn literal_secret(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let patterns = &ctx.params.secret_name_patterns;
    for c in ctx.workload.all_containers() {
        for e in c.env.iter().flatten() {
            let Some(value) = e.value.as_deref() else {
                continue;
            };
            let Some(credential) = credentials::judge(&e.name, value, patterns) else {
                continue;
            };
            out.fail(format!(
                "container {:?}: env {} {}: anyone who can read the manifest or the {} can read \
                 the credential",
                c.name,
                e.name,
                credential.describe(),
                ctx.workload.kind.as_str()
            ))
            .container(&c.name);
        }
    }
    out.pass();
}

fn secret_in_config_map(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let mut used = used_config_maps(*ctx.workload).peekable();
    if used.peek().is_none() {
        return;
    }
    if !ctx.has(&[RelatedKind::ConfigMap]) {
        return out.skip_missing(&[RelatedKind::ConfigMap]);
    }
    for name in used {
        let Some(cm) = ctx.world.config_map(ctx.workload.namespace, name) else {
            continue;
        };
        for key in cm.keys.difference(&cm.empty_keys) {
            let Some(what) = config_map_credential(cm, key, ctx.params) else {
                continue;
            };
            out.fail(format!(
                "ConfigMap {} key {key} {what}: {CONFIG_MAP_EXPOSURE}",
                cm.name
            ))
            .object(format!("ConfigMap/{}", cm.name));
        }
    }
    out.pass();
}

/// What makes a ConfigMap key a credential, most telling first: judged like an env value
/// (`text::credentials::judge`), by content, then by the key's name, then by the names of the
/// fields a file-like value sets.
fn config_map_credential(cm: &ConfigMapFacts, key: &str, params: &Parameters) -> Option<String> {
    let patterns = &params.secret_name_patterns;
    if let Some((_, c)) = cm.content_credentials.iter().find(|(k, _)| &**k == key) {
        return Some(c.describe().to_string());
    }
    if cm.literal_keys.contains(key) && name_looks_secret(key, patterns) {
        return Some("is named like a credential and holds a literal value".to_string());
    }
    let fields: Vec<&str> = cm
        .literal_fields
        .iter()
        .filter(|(k, f)| &**k == key && name_looks_secret(f, patterns))
        .map(|(_, f)| &**f)
        .collect();
    if fields.is_empty() {
        return None;
    }
    let values = if fields.len() == 1 {
        "a literal"
    } else {
        "literals"
    };
    Some(format!("sets {} to {values}", join_names(&fields)))
}

fn plaintext_connection(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let mut failed = false;
    for c in ctx.workload.all_containers() {
        for e in c.env.iter().flatten() {
            let Some(value) = e.value.as_deref() else {
                continue;
            };
            if is_ssl_mode_disabled(&e.name, value) {
                failed = true;
                out.fail(format!(
                    "container {:?}: env {} is {value:?}: database connections are not \
                     encrypted",
                    c.name, e.name
                ))
                .container(&c.name);
                continue;
            }
            for url in urls_of(value) {
                let Some(parsed) = Url::parse(url) else {
                    continue;
                };
                if let Some(fix) = plaintext_reason(&parsed, ctx) {
                    failed = true;
                    out.fail(format!(
                        "container {:?}: env {} connects to {} without TLS ({fix}): \
                         credentials and data cross the network in clear text",
                        c.name,
                        e.name,
                        parsed.display()
                    ))
                    .container(&c.name);
                }
            }
        }
    }
    let mut used = used_config_maps(*ctx.workload).peekable();
    if used.peek().is_some() {
        if !ctx.has(&[RelatedKind::ConfigMap]) {
            // The env values were judged; what the ConfigMaps hold is unknown.
            if !failed {
                out.skip_missing(&[RelatedKind::ConfigMap]);
            }
            return;
        }
        for name in used {
            let Some(cm) = ctx.world.config_map(ctx.workload.namespace, name) else {
                continue;
            };
            for (key, url) in &cm.urls {
                let Some(parsed) = Url::parse(url) else {
                    continue;
                };
                if let Some(fix) = plaintext_reason(&parsed, ctx) {
                    out.fail(format!(
                        "ConfigMap {} key {key} connects to {} without TLS ({fix}): \
                         credentials and data cross the network in clear text",
                        cm.name,
                        parsed.display()
                    ))
                    .object(format!("ConfigMap/{}", cm.name));
                }
            }
        }
    }
    out.pass();
}

/// `PGSSLMODE=disable` and the like: TLS switched off by a libpq-style setting.
fn is_ssl_mode_disabled(name: &str, value: &str) -> bool {
    (ends_with_folded(name, "SSLMODE") || ends_with_folded(name, "SSL_MODE"))
        && ["disable", "disabled", "allow"]
            .iter()
            .any(|v| value.trim().eq_ignore_ascii_case(v))
}

/// Words in a flag's name that turn its meaning around (`DISABLE_INSECURE_FALLBACK`).
const NEGATIONS: &[&str] = &[
    "DISABLE", "DISABLED", "NO", "NOT", "DENY", "FORBID", "BLOCK", "PREVENT", "REJECT", "NEVER",
];

/// Flags that switch a safeguard off when true, with what that means.
const UNSAFE_WHEN_TRUE: &[(&str, &str)] = &[
    ("ALLOW_INSECURE", "insecure fallbacks are allowed"),
    ("SKIP_VERIFY", "TLS certificates are not verified"),
    ("SKIP_TLS_VERIFY", "TLS certificates are not verified"),
    ("SKIP_TLS", "TLS is skipped or not verified"),
    ("INSECURE", "insecure connections or fallbacks are allowed"),
    ("DISABLE_AUTH", "authentication is off"),
    (
        "ALLOW_EMPTY_PASSWORD",
        "the server accepts clients without a password",
    ),
    ("AUTH_DISABLED", "authentication is off"),
    ("NO_AUTH", "authentication is off"),
    (
        "SIMULATION",
        "it runs in simulation mode instead of against the real systems",
    ),
    (
        "SIMULATED",
        "it runs in simulation mode instead of against the real systems",
    ),
];

/// Flags that keep TLS verification on: false means off.
fn is_tls_verification_switch(name: &str) -> bool {
    ["NODE_TLS_REJECT_UNAUTHORIZED", "PYTHONHTTPSVERIFY"]
        .iter()
        .any(|n| eq_folded(name.as_bytes(), n.as_bytes()))
        || ["SSL_VERIFY", "TLS_VERIFY", "VERIFY_SSL", "VERIFY_TLS"]
            .iter()
            .any(|s| ends_with_folded(name, s))
}

const DEBUG_FLAGS: &[&str] = &["DEBUG", "FLASK_DEBUG", "DJANGO_DEBUG", "APP_DEBUG"];

const ENVIRONMENT_NAMES: &[&str] = &[
    "FLASK_ENV",
    "NODE_ENV",
    "APP_ENV",
    "ENV",
    "ENVIRONMENT",
    "RAILS_ENV",
    "RACK_ENV",
    "ASPNETCORE_ENVIRONMENT",
    "DOTNET_ENVIRONMENT",
];

const DEVELOPMENT_VALUES: &[&str] = &["development", "dev", "debug", "local", "test"];

fn is_one_of(value: &str, list: &[&str]) -> bool {
    let v = value.trim();
    list.iter().any(|x| v.eq_ignore_ascii_case(x))
}

fn is_truthy(value: &str) -> bool {
    is_one_of(value, &["true", "1", "yes", "on"])
}

fn is_falsy(value: &str) -> bool {
    is_one_of(value, &["false", "0", "no", "off"])
}

/// What an env flag switches off, if it does.
fn insecure_effect(name: &str, value: &str) -> Option<&'static str> {
    if is_truthy(value) {
        for (pattern, effect) in UNSAFE_WHEN_TRUE {
            let Some(at) = find_words(name, pattern) else {
                continue;
            };
            let (before, after) = (&name[..at], &name[at + pattern.len()..]);
            let negated = before
                .split(['_', '-', '.'])
                .chain(after.split(['_', '-', '.']))
                .any(|w| NEGATIONS.iter().any(|n| w.eq_ignore_ascii_case(n)));
            if !negated {
                return Some(effect);
            }
        }
        if DEBUG_FLAGS
            .iter()
            .any(|d| eq_folded(name.as_bytes(), d.as_bytes()))
        {
            return Some("debug mode can expose stack traces, internals and debug endpoints");
        }
    }
    if is_falsy(value) && is_tls_verification_switch(name) {
        return Some("TLS certificates are not verified");
    }
    if is_one_of(value, DEVELOPMENT_VALUES)
        && ENVIRONMENT_NAMES
            .iter()
            .any(|n| eq_folded(name.as_bytes(), n.as_bytes()))
    {
        return Some("it runs with development settings (debug output, relaxed security)");
    }
    None
}

fn insecure_flag(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for c in ctx.workload.all_containers() {
        for e in c.env.iter().flatten() {
            let Some(value) = e.value.as_deref() else {
                continue;
            };
            if let Some(effect) = insecure_effect(&e.name, value) {
                out.fail(format!(
                    "container {:?}: env {} is {:?}: {effect}",
                    c.name,
                    e.name,
                    value.trim()
                ))
                .container(&c.name);
            }
        }
    }
    out.pass();
}

fn missing_reference(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let ns = ctx.workload.namespace;
    let proven = ctx.absence_proven();
    let mut any = false;
    let mut found = false;
    let (mut secrets_unknown, mut config_maps_unknown) = (false, false);
    for r in references(*ctx.workload) {
        if r.optional || (r.kind == RefKind::ConfigMap && AUTOMATIC_CONFIG_MAPS.contains(&r.name)) {
            continue;
        }
        any = true;
        if !ctx.world.has(r.kind.related()) {
            match r.kind {
                RefKind::Secret => secrets_unknown = true,
                RefKind::ConfigMap => config_maps_unknown = true,
            }
            continue;
        }
        let keys = match r.kind {
            RefKind::Secret => ctx.world.secret(ns, r.name).map(|s| &s.keys),
            RefKind::ConfigMap => ctx.world.config_map(ns, r.name).map(|m| &m.keys),
        };
        let problem = match (keys, r.keys) {
            (None, _) => Some(None),
            (Some(_), Keys::All) => None,
            (Some(have), Keys::One(k)) => (!have.contains(k)).then_some(Some(k)),
            (Some(have), Keys::Items(items)) => items
                .iter()
                .find(|i| !have.contains(&i.key))
                .map(|i| Some(i.key.as_str())),
        };
        let Some(missing_key) = problem else {
            continue;
        };
        found = true;
        // A key missing from an object the input holds is proven; an object the input lacks
        // is proven missing only in the cluster or for complete input: offline, an operator,
        // External Secrets or another set of manifests may create it.
        let (object, proven, consequence_if) = match missing_key {
            None if proven => (
                format!("{} {}, which does not exist", r.kind.as_str(), r.name),
                true,
                "",
            ),
            None => (
                format!("{} {}, which is not in the input", r.kind.as_str(), r.name),
                false,
                "if it does not exist when the pod starts, ",
            ),
            Some(k) => (
                format!(
                    "key {k} of {} {}, which has no such key",
                    r.kind.as_str(),
                    r.name
                ),
                true,
                "",
            ),
        };
        let f = match r.site {
            Site::Env { container, var } => out
                .fail_if_proven(
                    proven,
                    format!(
                        "container {container:?}: env {var} reads {object}: {consequence_if}the \
                         container cannot start (CreateContainerConfigError)"
                    ),
                )
                .container(container),
            Site::EnvFrom { container } => out
                .fail_if_proven(
                    proven,
                    format!(
                        "container {container:?}: envFrom reads {object}: {consequence_if}the \
                         container cannot start (CreateContainerConfigError)"
                    ),
                )
                .container(container),
            Site::Volume(volume) => out.fail_if_proven(
                proven,
                format!(
                    "volume {volume:?} mounts {object}: {consequence_if}the pod cannot start \
                     (stuck in ContainerCreating)"
                ),
            ),
            Site::PullSecret => out.fail_if_proven(
                proven,
                format!(
                    "imagePullSecrets names {object}: {consequence_if}images from a private \
                     registry cannot be pulled"
                ),
            ),
        };
        f.object(format!("{}/{}", r.kind.as_str(), r.name));
    }
    if !any || found {
        return;
    }
    match (secrets_unknown, config_maps_unknown) {
        (true, true) => out.skip_missing(&[RelatedKind::Secret, RelatedKind::ConfigMap]),
        (true, false) => out.skip_missing(&[RelatedKind::Secret]),
        (false, true) => out.skip_missing(&[RelatedKind::ConfigMap]),
        (false, false) => out.pass(),
    }
}

#[cfg(test)]
mod tests {
    use crate::api::CheckResult;
    use crate::testing::{findings, judge, judge_complete, messages, outcome};

    fn deployment(pod_spec: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\n\
             spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    \
             metadata: {{labels: {{app: api}}}}\n    spec:\n{pod_spec}"
        )
    }

    fn with_env(env: &str) -> String {
        deployment(&format!(
            "      containers:\n      - name: app\n        image: api:1\n        env:\n{env}"
        ))
    }

    const PLAIN: &str = "      containers:\n      - {name: app, image: api:1}\n";

    #[test]
    fn literal_secrets_are_named_never_printed() {
        let yaml = deployment(
            "      initContainers:\n      - name: migrate\n        image: api:1\n        env:\n        \
             - {name: API_TOKEN, value: tok-123}\n      containers:\n      - name: app\n        \
             image: api:1\n        env:\n        \
             - {name: DB_PASSWORD, value: coffee-rt_password}\n        \
             - {name: DATABASE_URL, value: \"postgres://app:s3cret@db:5432/app\"}\n        \
             - {name: TLS_KEY, value: \"-----BEGIN RSA PRIVATE KEY-----\\nMIIE\\n\"}\n        \
             - {name: LOG_LEVEL, value: info}\n",
        );
        let r = judge(&yaml);
        assert_eq!(outcome(&r, "config-literal-secret"), "fail");
        assert_eq!(
            messages(&r, "config-literal-secret"),
            vec![
                "container \"app\": env DB_PASSWORD is set to a literal value: anyone who can read the manifest or the Deployment can read the credential",
                "container \"app\": env DATABASE_URL holds a URL with an embedded password: anyone who can read the manifest or the Deployment can read the credential",
                "container \"app\": env TLS_KEY holds a PEM private key: anyone who can read the manifest or the Deployment can read the credential",
                "container \"migrate\": env API_TOKEN is set to a literal value: anyone who can read the manifest or the Deployment can read the credential",
            ]
        );
        for f in findings(&r, "config-literal-secret") {
            assert!(!f.message.contains("coffee") && !f.message.contains("s3cret"));
        }
        assert_eq!(
            findings(&r, "config-literal-secret")[0]
                .container
                .as_deref(),
            Some("app")
        );
    }

    #[test]
    fn references_and_placeholders_are_not_literal_secrets() {
        let yaml = with_env(
            "        - name: DB_PASSWORD\n          valueFrom: {secretKeyRef: {name: db, key: password}}\n        \
             - {name: PASSWORD_FILE, value: /run/secrets/db}\n        \
             - {name: TOKEN_TTL, value: \"3600\"}\n        \
             - {name: JWT_SECRET_NAME, value: jwt}\n        \
             - {name: API_KEY, value: \"${API_KEY}\"}\n        \
             - {name: CLIENT_SECRET, value: \"\"}\n        \
             - {name: TOKEN_AUTH, value: \"true\"}\n        \
             - {name: ALLOW_EMPTY_PASSWORD, value: \"no\"}\n        \
             - {name: REDIS_PASSWORD_FILE, value: /opt/bitnami/redis/secrets/redis-password}\n        \
             - {name: PASSWORD_AUTH_ENABLED, value: \"yes\"}\n        \
             - {name: DATABASE_URL, value: \"postgres://app:$(DB_PASSWORD)@db:5432/app\"}\n        \
             - {name: CACHE_URL, value: \"redis://redis:6379/0\"}\n",
        );
        assert_eq!(outcome(&judge(&yaml), "config-literal-secret"), "pass");
        assert_eq!(
            outcome(&judge(&deployment(PLAIN)), "config-literal-secret"),
            "pass"
        );
    }

    const USES_APP_CONFIG: &str = "      containers:\n      - name: app\n        image: api:1\n        \
         envFrom: [{configMapRef: {name: app-config}}]\n      volumes:\n      \
         - name: files\n        projected: {sources: [{configMap: {name: files}}]}\n";

    #[test]
    fn credentials_in_a_used_config_map() {
        let yaml = format!(
            "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app-config, namespace: shop}}\n\
             data:\n  DB_PASSWORD: coffee\n  LOG_LEVEL: info\n  REDIS_URL: \"redis://:pw@redis:6379/0\"\n  \
             PASSWORD_MIN_LENGTH: \"12\"\n---\napiVersion: v1\nkind: ConfigMap\n\
             metadata: {{name: files, namespace: shop}}\ndata:\n  \
             app.yaml: \"db:\\n  host: db\\n  password: hunter2\\n  token: abc\\n\"\n  \
             tls.key: \"-----BEGIN PRIVATE KEY-----\\nMIIE\\n\"\n",
            deployment(USES_APP_CONFIG)
        );
        let r = judge(&yaml);
        assert_eq!(
            messages(&r, "config-secret-in-configmap"),
            vec![
                "ConfigMap app-config key DB_PASSWORD is named like a credential and holds a literal value: ConfigMaps are not encrypted at rest and anyone allowed to read configuration can read it",
                "ConfigMap app-config key REDIS_URL holds a URL with an embedded password: ConfigMaps are not encrypted at rest and anyone allowed to read configuration can read it",
                "ConfigMap files key app.yaml sets password and token to literals: ConfigMaps are not encrypted at rest and anyone allowed to read configuration can read it",
                "ConfigMap files key tls.key holds a PEM private key: ConfigMaps are not encrypted at rest and anyone allowed to read configuration can read it",
            ]
        );
        assert_eq!(
            findings(&r, "config-secret-in-configmap")[0]
                .object
                .as_deref(),
            Some("ConfigMap/app-config")
        );
    }

    /// ConfigMap values are judged like env values: the policy's own name patterns and the
    /// same exclusions (switches, paths, placeholders, names that point at a credential).
    #[test]
    fn config_map_values_are_judged_like_env_values() {
        let config_map = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config, namespace: shop}\n\
             data:\n  ALLOW_EMPTY_PASSWORD: \"no\"\n  PASSWORD_FILE: /run/secrets/db\n  \
             ATM_PIN: \"1234\"\n  settings.env: \"PIN=0000\\nTOKEN=${TOKEN}\\n\"\n  \
             OPTS: \"--auth ghp_0123456789abcdefghijABCDEFGHIJ012345\"\n";
        let env = "        - {name: ALLOW_EMPTY_PASSWORD, value: \"no\"}\n        \
                   - {name: ATM_PIN, value: \"1234\"}\n        \
                   - {name: OPTS, value: \"--auth ghp_0123456789abcdefghijABCDEFGHIJ012345\"}\n";
        let yaml = format!(
            "{}{config_map}",
            deployment(&format!(
                "      containers:\n      - name: app\n        image: api:1\n        \
                 envFrom: [{{configMapRef: {{name: app-config}}}}]\n        env:\n{env}"
            ))
        );
        let r = judge(&yaml);
        assert_eq!(
            messages(&r, "config-secret-in-configmap"),
            vec![
                "ConfigMap app-config key OPTS holds a GitHub token: ConfigMaps are not encrypted at rest and anyone allowed to read configuration can read it"
            ]
        );
        assert_eq!(
            messages(&r, "config-literal-secret"),
            vec![
                "container \"app\": env OPTS holds a GitHub token: anyone who can read the manifest or the Deployment can read the credential"
            ]
        );
        let policy = crate::api::ReadinessPolicySpec {
            parameters: crate::api::Parameters {
                secret_name_patterns: vec!["pin".into()],
                ..crate::api::Parameters::default()
            },
            ..crate::api::ReadinessPolicySpec::default()
        };
        let r = crate::testing::judge_with(&yaml, &policy);
        assert_eq!(
            messages(&r, "config-secret-in-configmap"),
            vec![
                "ConfigMap app-config key ATM_PIN is named like a credential and holds a literal value: ConfigMaps are not encrypted at rest and anyone allowed to read configuration can read it",
                "ConfigMap app-config key OPTS holds a GitHub token: ConfigMaps are not encrypted at rest and anyone allowed to read configuration can read it",
                "ConfigMap app-config key settings.env sets PIN to a literal: ConfigMaps are not encrypted at rest and anyone allowed to read configuration can read it",
            ]
        );
        assert_eq!(
            messages(&r, "config-literal-secret"),
            vec![
                "container \"app\": env ATM_PIN is set to a literal value: anyone who can read the manifest or the Deployment can read the credential",
                "container \"app\": env OPTS holds a GitHub token: anyone who can read the manifest or the Deployment can read the credential",
            ]
        );
    }

    #[test]
    fn clean_unknown_and_unused_config_maps() {
        let clean = format!(
            "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app-config, namespace: shop}}\n\
             data: {{LOG_LEVEL: info}}\n---\napiVersion: v1\nkind: ConfigMap\n\
             metadata: {{name: files, namespace: shop}}\ndata: {{app.yaml: \"port: 8080\"}}\n",
            deployment(USES_APP_CONFIG)
        );
        assert_eq!(
            outcome(&judge(&clean), "config-secret-in-configmap"),
            "pass"
        );
        let r = judge(&deployment(USES_APP_CONFIG));
        assert_eq!(outcome(&r, "config-secret-in-configmap"), "skip");
        assert_eq!(
            messages(&r, "config-secret-in-configmap"),
            vec![
                "not judged: no ConfigMap objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        assert_eq!(
            outcome(&judge(&deployment(PLAIN)), "config-secret-in-configmap"),
            "n/a"
        );
    }

    #[test]
    fn plaintext_connections_in_env_and_config_maps() {
        let yaml = format!(
            "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app-config, namespace: shop}}\n\
             data:\n  TIMESCALE_URL: \"postgresql://timescale:5432/risk\"\n  FEAST_URL: \"http://feast:6566\"\n",
            deployment(
                "      containers:\n      - name: app\n        image: api:1\n        \
                 envFrom: [{configMapRef: {name: app-config}}]\n        env:\n        \
                 - {name: REDIS_URL, value: \"redis://redis-master:6379/0\"}\n        \
                 - {name: DATABASE_URL, value: \"postgres://app:s3cret@db.example.com:5432/app?sslmode=prefer\"}\n        \
                 - {name: PAYMENTS_API, value: \"http://payments.example.com/v1\"}\n        \
                 - {name: BROKER_URL, value: \"amqp://guest:$(AMQP_PASSWORD)@rabbitmq:5672/\"}\n        \
                 - {name: PGSSLMODE, value: disable}\n        \
                 - {name: SECURE_DB, value: \"postgresql://db:5432/app?sslmode=verify-full\"}\n        \
                 - {name: MYSQL_URL, value: \"mysql+pymysql://db:3306/app?ssl-mode=REQUIRED\"}\n        \
                 - {name: JDBC_URL, value: \"jdbc:postgresql://db.example.com/app?ssl=true\"}\n        \
                 - {name: MONGO_URL, value: \"mongodb+srv://cluster0.example.mongodb.net/app\"}\n        \
                 - {name: LOCAL_CACHE, value: \"redis://localhost:6379\"}\n        \
                 - {name: USERS_API, value: \"http://users:8080 http://users.shop:8080 http://users.shop.svc.cluster.local http://10.0.3.4:80\"}\n        \
                 - {name: QUEUE_URL, value: \"rediss://cache.example.com:6380\"}\n"
            )
        );
        let r = judge(&yaml);
        assert_eq!(
            messages(&r, "config-plaintext-connection"),
            vec![
                "ConfigMap app-config key TIMESCALE_URL connects to postgresql://timescale:5432 without TLS (add sslmode=require or verify-full): credentials and data cross the network in clear text",
                "container \"app\": env REDIS_URL connects to redis://redis-master:6379 without TLS (use rediss://): credentials and data cross the network in clear text",
                "container \"app\": env DATABASE_URL connects to postgres://db.example.com:5432 without TLS (add sslmode=require or verify-full): credentials and data cross the network in clear text",
                "container \"app\": env PAYMENTS_API connects to http://payments.example.com without TLS (use https://): credentials and data cross the network in clear text",
                "container \"app\": env BROKER_URL connects to amqp://rabbitmq:5672 without TLS (use amqps://): credentials and data cross the network in clear text",
                "container \"app\": env PGSSLMODE is \"disable\": database connections are not encrypted",
            ]
        );
        let f = findings(&r, "config-plaintext-connection");
        assert_eq!(f[0].object.as_deref(), Some("ConfigMap/app-config"));
        assert_eq!(f[1].container.as_deref(), Some("app"));
    }

    #[test]
    fn plaintext_connection_outcomes() {
        let tls = with_env(
            "        - {name: REDIS_URL, value: \"rediss://redis:6380\"}\n        \
             - {name: MONGO_URL, value: \"mongodb://mongo:27017/app?tls=true\"}\n",
        );
        assert_eq!(outcome(&judge(&tls), "config-plaintext-connection"), "pass");
        // Env values judged clean, ConfigMaps unknown: not a pass.
        let unknown = deployment(
            "      containers:\n      - name: app\n        image: api:1\n        \
             envFrom: [{configMapRef: {name: app-config}}]\n",
        );
        assert_eq!(
            outcome(&judge(&unknown), "config-plaintext-connection"),
            "skip"
        );
        let srv_off = with_env(
            "        - {name: MONGO_URL, value: \"mongodb+srv://c.example.net/app?tls=false\"}\n",
        );
        assert_eq!(
            messages(&judge(&srv_off), "config-plaintext-connection"),
            vec![
                "container \"app\": env MONGO_URL connects to mongodb+srv://c.example.net without TLS (tls=false (remove it)): credentials and data cross the network in clear text"
            ]
        );
    }

    #[test]
    fn insecure_flags() {
        let yaml = with_env(
            "        - {name: ALLOW_INSECURE_DEFAULTS, value: \"true\"}\n        \
             - {name: SIMULATION_MODE, value: \"1\"}\n        \
             - {name: DEBUG, value: \"True\"}\n        \
             - {name: NODE_ENV, value: development}\n        \
             - {name: NODE_TLS_REJECT_UNAUTHORIZED, value: \"0\"}\n        \
             - {name: disable-auth, value: \"yes\"}\n        \
             - {name: INSECURE_SKIP_TLS_VERIFY, value: \"on\"}\n        \
             - {name: ALLOW_EMPTY_PASSWORD, value: \"yes\"}\n        \
             - {name: DISABLE_INSECURE_FALLBACK, value: \"true\"}\n        \
             - {name: SIMULATION_ENABLED, value: \"false\"}\n        \
             - {name: CASINO_AUTH, value: \"true\"}\n        \
             - {name: ENV, value: production}\n        \
             - {name: LOG_LEVEL, value: debug}\n        \
             - {name: FLASK_DEBUG, value: \"0\"}\n",
        );
        let r = judge(&yaml);
        assert_eq!(
            messages(&r, "config-insecure-flag"),
            vec![
                "container \"app\": env ALLOW_INSECURE_DEFAULTS is \"true\": insecure fallbacks are allowed",
                "container \"app\": env SIMULATION_MODE is \"1\": it runs in simulation mode instead of against the real systems",
                "container \"app\": env DEBUG is \"True\": debug mode can expose stack traces, internals and debug endpoints",
                "container \"app\": env NODE_ENV is \"development\": it runs with development settings (debug output, relaxed security)",
                "container \"app\": env NODE_TLS_REJECT_UNAUTHORIZED is \"0\": TLS certificates are not verified",
                "container \"app\": env disable-auth is \"yes\": authentication is off",
                "container \"app\": env INSECURE_SKIP_TLS_VERIFY is \"on\": TLS certificates are not verified",
                "container \"app\": env ALLOW_EMPTY_PASSWORD is \"yes\": the server accepts clients without a password",
            ]
        );
        let safe = with_env(
            "        - {name: APP_ENV, value: production}\n        \
             - {name: INSECURE_SKIP_VERIFY, value: \"false\"}\n",
        );
        assert_eq!(outcome(&judge(&safe), "config-insecure-flag"), "pass");
    }

    const REFERENCES: &str = "      imagePullSecrets: [{name: regcred}]\n      \
         containers:\n      - name: app\n        image: api:1\n        env:\n        \
         - name: DB_PASSWORD\n          valueFrom: {secretKeyRef: {name: db-credentials, key: password}}\n        \
         - name: DB_PASS\n          valueFrom: {secretKeyRef: {name: db-credentials, key: pass}}\n        \
         - name: LOG_LEVEL\n          valueFrom: {configMapKeyRef: {name: app-config, key: LOG_LEVEL}}\n        \
         envFrom:\n        - secretRef: {name: app-env}\n        \
         - configMapRef: {name: extra, optional: true}\n      volumes:\n      \
         - name: certs\n        secret: {secretName: tls-certs, items: [{key: tls.crt, path: tls.crt}, {key: ca.crt, path: ca.crt}]}\n      \
         - name: root-ca\n        configMap: {name: kube-root-ca.crt}\n      \
         - name: bundle\n        projected: {sources: [{configMap: {name: bundle}}]}\n";

    const OBJECTS: &str = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: db-credentials, namespace: shop}\n\
         stringData: {password: x, user: y}\n---\napiVersion: v1\nkind: Secret\n\
         metadata: {name: tls-certs, namespace: shop}\ntype: kubernetes.io/tls\n\
         data: {tls.crt: eA==, tls.key: eA==}\n---\napiVersion: v1\nkind: ConfigMap\n\
         metadata: {name: app-config, namespace: shop}\ndata: {LOG_LEVEL: info}\n";

    #[test]
    fn missing_references() {
        let yaml = format!("{}{OBJECTS}", deployment(REFERENCES));
        // The input declared complete: what it does not hold does not exist.
        let r = judge_complete(&yaml);
        assert_eq!(
            messages(&r, "config-missing-reference"),
            vec![
                "volume \"certs\" mounts key ca.crt of Secret tls-certs, which has no such key: the pod cannot start (stuck in ContainerCreating)",
                "volume \"bundle\" mounts ConfigMap bundle, which does not exist: the pod cannot start (stuck in ContainerCreating)",
                "imagePullSecrets names Secret regcred, which does not exist: images from a private registry cannot be pulled",
                "container \"app\": env DB_PASS reads key pass of Secret db-credentials, which has no such key: the container cannot start (CreateContainerConfigError)",
                "container \"app\": envFrom reads Secret app-env, which does not exist: the container cannot start (CreateContainerConfigError)",
            ]
        );
        let f = findings(&r, "config-missing-reference");
        assert_eq!(f[3].object.as_deref(), Some("Secret/db-credentials"));
        assert_eq!(f[3].container.as_deref(), Some("app"));
        assert!(f[0].remediation.contains("External Secrets"));
        // Offline, an object the input lacks may be made elsewhere (an operator, External
        // Secrets): a warning. A key missing from an object the input holds is still proven.
        let r = judge(&yaml);
        let outcomes: Vec<(CheckResult, String)> = findings(&r, "config-missing-reference")
            .iter()
            .map(|f| (f.result, f.message.to_string()))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                (CheckResult::Fail, "volume \"certs\" mounts key ca.crt of Secret tls-certs, which has no such key: the pod cannot start (stuck in ContainerCreating)".to_string()),
                (CheckResult::Fail, "container \"app\": env DB_PASS reads key pass of Secret db-credentials, which has no such key: the container cannot start (CreateContainerConfigError)".to_string()),
                (CheckResult::Warn, "volume \"bundle\" mounts ConfigMap bundle, which is not in the input: if it does not exist when the pod starts, the pod cannot start (stuck in ContainerCreating)".to_string()),
                (CheckResult::Warn, "imagePullSecrets names Secret regcred, which is not in the input: if it does not exist when the pod starts, images from a private registry cannot be pulled".to_string()),
                (CheckResult::Warn, "container \"app\": envFrom reads Secret app-env, which is not in the input: if it does not exist when the pod starts, the container cannot start (CreateContainerConfigError)".to_string()),
            ]
        );
    }

    #[test]
    fn resolved_unknown_and_absent_references() {
        let fine = deployment(
            "      containers:\n      - name: app\n        image: api:1\n        env:\n        \
             - name: DB_PASSWORD\n          valueFrom: {secretKeyRef: {name: db-credentials, key: password}}\n        \
             - name: LOG_LEVEL\n          valueFrom: {configMapKeyRef: {name: app-config, key: LOG_LEVEL}}\n        \
             - name: OPTIONAL\n          valueFrom: {secretKeyRef: {name: nowhere, key: x, optional: true}}\n",
        );
        assert_eq!(
            outcome(
                &judge(&format!("{fine}{OBJECTS}")),
                "config-missing-reference"
            ),
            "pass"
        );
        // ConfigMaps known, Secrets not: the Secret references cannot be judged.
        let only_config_maps = "---\napiVersion: v1\nkind: ConfigMap\n\
             metadata: {name: app-config, namespace: shop}\ndata: {LOG_LEVEL: info}\n";
        let r = judge(&format!("{fine}{only_config_maps}"));
        assert_eq!(
            messages(&r, "config-missing-reference"),
            vec![
                "not judged: no Secret objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        assert_eq!(
            outcome(&judge(&deployment(PLAIN)), "config-missing-reference"),
            "n/a"
        );
    }
}
