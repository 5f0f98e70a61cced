//! Small readings shared by checks of several categories.

use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::Parameters;
use crate::workload::Workload;

/// An image reference split into its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Registry and repository, without tag or digest.
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    pub fn parse(image: &'a str) -> ImageRef<'a> {
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (image, None),
        };
        // A colon after the last slash is a tag; before it, a registry port.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        ImageRef { name, tag, digest }
    }

    /// The last path segment of the repository (`postgres` for `docker.io/library/postgres`).
    pub fn short_name(&self) -> &'a str {
        self.name.rsplit('/').next().unwrap_or(self.name)
    }
}

/// The datastore an image runs, when its name contains one of the policy's datastore names.
/// Compared ignoring ASCII case and without allocating: every check that asks about data
/// calls this once per container.
pub fn datastore_of<'p>(image: &str, params: &'p Parameters) -> Option<&'p str> {
    let short = ImageRef::parse(image).short_name();
    // Exporters and operators carry a datastore's name but hold no data of their own.
    if contains_ignoring_case(short, "exporter") || contains_ignoring_case(short, "operator") {
        return None;
    }
    named_in(short, &params.datastore_images)
}

/// The first entry of `names` that `short` contains, ignoring ASCII case (an empty entry in a
/// policy names nothing).
fn named_in<'p>(short: &str, names: &'p [String]) -> Option<&'p str> {
    names
        .iter()
        .find(|d| !d.is_empty() && contains_ignoring_case(short, d))
        .map(String::as_str)
}

/// Arguments that only an ingress controller or a gateway proxy takes.
const INGRESS_CONTROLLER_FLAGS: &[&str] = &[
    "--ingress-class",
    "--ingress.class",
    "--controller-class",
    "--watch-ingress-without-class",
    "--providers.kubernetesingress",
    "--providers.kubernetesgateway",
];

/// Whether the workload is an ingress controller or gateway proxy: the edge of the cluster,
/// whose public Service is its purpose. Known by its image, or by an argument naming an
/// ingress or gateway class.
pub fn is_ingress_controller(workload: &Workload<'_>, params: &Parameters) -> bool {
    workload.long_running_containers().any(|c| {
        // Whole words of the repository path, which often names the project
        // (`ingress-nginx/controller`): `kong` is Kong, not part of `hongkong`.
        let by_image = c.image.as_deref().is_some_and(|image| {
            let name = ImageRef::parse(image).name;
            params
                .ingress_controller_images
                .iter()
                .any(|n| !n.is_empty() && contains_word_ignoring_case(name, n))
        });
        by_image
            || c.command
                .iter()
                .chain(c.args.iter())
                .flatten()
                .any(|a| INGRESS_CONTROLLER_FLAGS.iter().any(|f| a.starts_with(f)))
    })
}

/// Whether `needle` occurs in `haystack` as whole words, ignoring ASCII case: bounded by the
/// ends or by `-`, `_`, `.`, `/` or `:`.
pub fn contains_word_ignoring_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    let boundary = |i: Option<&u8>| i.is_none_or(|b| matches!(b, b'-' | b'_' | b'.' | b'/' | b':'));
    !n.is_empty()
        && h.len() >= n.len()
        && (0..=h.len() - n.len()).any(|i| {
            h[i..i + n.len()].eq_ignore_ascii_case(n)
                && boundary(i.checked_sub(1).and_then(|j| h.get(j)))
                && boundary(h.get(i + n.len()))
        })
}

/// Whether `needle` occurs in `haystack`, ignoring ASCII case.
pub fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The first container that runs a datastore, with the datastore's name.
pub fn datastore_container<'a, 'p>(
    workload: &Workload<'a>,
    params: &'p Parameters,
) -> Option<(&'a Container, &'p str)> {
    workload
        .containers()
        .iter()
        .find_map(|c| datastore_of(c.image.as_deref()?, params).map(|d| (c, d)))
}

/// Whether the workload holds data: a container runs a datastore image. A StatefulSet is not
/// one by itself: controllers and brokers use StatefulSets for a stable identity.
pub fn is_datastore(workload: &Workload<'_>, params: &Parameters) -> bool {
    datastore_container(workload, params).is_some()
}

/// Resolves an int-or-percent against a total, rounding percentages up as Kubernetes does for
/// minAvailable (`round_up = true`) or down as it does for maxUnavailable. The percentage is
/// the user's number: the arithmetic saturates instead of overflowing (`999999999999999999%`
/// of a replica count resolves to `i32::MAX`), so no input can make the engine panic.
pub fn resolve_int_or_percent(value: &IntOrString, total: i32, round_up: bool) -> Option<i32> {
    match value {
        IntOrString::Int(i) => Some(*i),
        IntOrString::String(s) => {
            let pct: i64 = s.strip_suffix('%')?.trim().parse().ok()?;
            let scaled = pct.saturating_mul(i64::from(total));
            let v = if round_up {
                scaled.saturating_add(99) / 100
            } else {
                scaled / 100
            };
            Some(i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX }))
        }
    }
}

/// Whether a container declares a port with this number or name.
pub fn container_declares_port(container: &Container, port: &IntOrString) -> bool {
    container.ports.iter().flatten().any(|p| match port {
        IntOrString::Int(n) => p.container_port == *n,
        IntOrString::String(name) => p.name.as_deref() == Some(name.as_str()),
    })
}

/// `a, b and c`.
pub fn join_names<S: AsRef<str>>(names: &[S]) -> String {
    match names.len() {
        0 => String::new(),
        1 => names[0].as_ref().to_string(),
        n => {
            let head: Vec<&str> = names[..n - 1].iter().map(|s| s.as_ref()).collect();
            format!("{} and {}", head.join(", "), names[n - 1].as_ref())
        }
    }
}

/// A human duration: `45s`, `12m`, `3h`, `2d`.
/// An instant as findings state it: RFC 3339 in UTC, to the second. A message says when
/// something began rather than how long ago, so a stored report stays true whenever it is read.
pub fn instant(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_rfc3339_in_utc_to_the_second() {
        let t: jiff::Timestamp = "2026-06-01T13:58:06.789+02:00".parse().unwrap();
        assert_eq!(instant(t), "2026-06-01T11:58:06Z");
    }

    #[test]
    fn image_references() {
        let i = ImageRef::parse("registry.local:5000/team/api:1.2@sha256:abc");
        assert_eq!(i.name, "registry.local:5000/team/api");
        assert_eq!(i.tag, Some("1.2"));
        assert_eq!(i.digest, Some("sha256:abc"));
        let i = ImageRef::parse("registry.local:5000/team/api");
        assert_eq!((i.name, i.tag), ("registry.local:5000/team/api", None));
        assert_eq!(ImageRef::parse("redis").short_name(), "redis");
    }

    #[test]
    fn datastores_by_image() {
        let p = Parameters::default();
        assert_eq!(
            datastore_of("timescale/timescaledb:2.14-pg16", &p),
            Some("timescaledb")
        );
        assert_eq!(datastore_of("bitnami/redis:7", &p), Some("redis"));
        assert_eq!(datastore_of("ghcr.io/acme/api:1", &p), None);
        assert_eq!(datastore_of("oliver006/redis_exporter:v1.62.0", &p), None);
        assert_eq!(
            datastore_of("quay.io/prometheuscommunity/postgres-exporter:v0.15.0", &p),
            None
        );
        // Image names and the policy's datastore names are compared ignoring case.
        assert_eq!(
            datastore_of("Registry.Example/PostgreSQL:16", &p),
            Some("postgres")
        );
        assert_eq!(datastore_of("acme/Redis-Operator:2", &p), None);
        let custom = Parameters {
            datastore_images: vec!["ClickHouse".to_string()],
            ..Parameters::default()
        };
        assert_eq!(
            datastore_of("clickhouse/clickhouse-server:24", &custom),
            Some("ClickHouse")
        );
        assert_eq!(datastore_of("bitnami/redis:7", &custom), None);
    }

    #[test]
    fn ingress_controllers_by_image_or_argument() {
        let p = Parameters::default();
        let yes = |image: &str, args: &str| {
            let yaml = format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: x}}\nspec:\n  template:\n    \
                 spec:\n      containers: [{{name: c, image: '{image}', args: [{args}]}}]\n"
            );
            let object: crate::workload::WorkloadObject =
                match crate::input::classify(serde_yaml_ng::from_str(&yaml).unwrap()) {
                    Ok(crate::input::Parsed::Workload(w)) => *w,
                    _ => panic!("a workload"),
                };
            is_ingress_controller(&object.view().unwrap(), &p)
        };
        assert!(yes("registry.k8s.io/ingress-nginx/controller:v1.11.0", ""));
        assert!(yes("traefik:v3.1", ""));
        assert!(yes("docker.io/istio/proxyv2:1.22.0", ""));
        assert!(yes("kong/kong-gateway:3.7", ""));
        assert!(yes("acme/edge:1", "'--ingress-class=edge'"));
        assert!(!yes("acme/hongkong-api:1", ""));
        assert!(!yes("acme/api:1", "'--class=x'"));
    }

    #[test]
    fn ignoring_case() {
        assert!(contains_ignoring_case("PostgreSQL", "postgres"));
        assert!(contains_ignoring_case("redis", "REDIS"));
        assert!(contains_ignoring_case("anything", ""));
        assert!(!contains_ignoring_case("red", "redis"));
        assert!(!contains_ignoring_case("", "redis"));
        // Multi-byte characters are compared byte for byte and never split.
        assert!(contains_ignoring_case("dätabase-mongo", "MONGO"));
        assert!(!contains_ignoring_case("DÄTA", "dä"));
    }

    #[test]
    fn percentages() {
        let pct = IntOrString::String("50%".into());
        assert_eq!(resolve_int_or_percent(&pct, 3, true), Some(2));
        assert_eq!(resolve_int_or_percent(&pct, 3, false), Some(1));
        assert_eq!(
            resolve_int_or_percent(&IntOrString::Int(2), 3, true),
            Some(2)
        );
        assert_eq!(
            resolve_int_or_percent(&IntOrString::String("x%".into()), 3, true),
            None
        );
    }

    #[test]
    fn percentages_too_large_saturate_instead_of_overflowing() {
        let huge = IntOrString::String("999999999999999999%".into());
        for round_up in [true, false] {
            assert_eq!(
                resolve_int_or_percent(&huge, i32::MAX, round_up),
                Some(i32::MAX)
            );
            assert_eq!(resolve_int_or_percent(&huge, 3, round_up), Some(i32::MAX));
        }
        let negative = IntOrString::String("-999999999999999999%".into());
        assert_eq!(
            resolve_int_or_percent(&negative, i32::MAX, false),
            Some(i32::MIN)
        );
        // Beyond i64 the number is not understood: not a percentage at all.
        let beyond = IntOrString::String("99999999999999999999999%".into());
        assert_eq!(resolve_int_or_percent(&beyond, 3, true), None);
    }
}
