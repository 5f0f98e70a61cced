//! Images: whether every pod of the workload runs the code its manifest names.

use k8s_openapi::api::core::v1::Container;

use super::util::ImageRef;
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Severity};

pub const CHECKS: &[Check] = &[
    Check {
        id: "image-tag-mutable",
        category: Category::Images,
        severity: Severity::High,
        needs: Needs::Object,
        title: "An image has no tag, the latest tag or another tag that names no release",
        remediation: "Use a release tag (for example api:1.4.2), ideally with its digest \
                      (api:1.4.2@sha256:...), and change it with each release.",
        run: Run::Workload(tag_mutable),
    },
    Check {
        id: "image-not-pinned",
        category: Category::Images,
        severity: Severity::Low,
        needs: Needs::Object,
        title: "An image is not pinned by digest",
        remediation: "Pin the image by digest (image: api:1.4.2@sha256:...); a tool such as \
                      Renovate or your CI can keep the digest current.",
        run: Run::Workload(not_pinned),
    },
    Check {
        id: "image-pull-policy",
        category: Category::Images,
        severity: Severity::Low,
        needs: Needs::Object,
        title: "A mutable image tag is not pulled every time",
        remediation: "Set imagePullPolicy: Always (or remove it) for a mutable tag, or better, \
                      use a release tag or a digest.",
        run: Run::Workload(pull_policy),
    },
];

/// Containers with an image, and the image parsed. A container without an image is invalid
/// and reported by Kubernetes itself.
fn images<'a>(ctx: &Ctx<'a>) -> impl Iterator<Item = (&'a Container, &'a str, ImageRef<'a>)> {
    ctx.workload
        .images()
        .filter(|(_, image)| !image.is_empty())
        .map(|(c, image)| (c, image, ImageRef::parse(image)))
}

/// Tags that name a channel, a branch or a base image rather than a release: they move with
/// every push, as `latest` does.
const MOVING_TAGS: &[&str] = &[
    "latest", "alpine", "stable", "lts", "edge", "main", "master", "nightly", "dev", "develop",
];

/// Why a reference is mutable.
#[derive(Clone, Copy)]
enum Mutable {
    /// No tag: the registry's `latest`.
    Untagged,
    Latest,
    /// Another tag that moves (`stable`, `main`, `latest-alpine`...).
    Moving,
}

impl Mutable {
    fn how(self, tag: Option<&str>) -> String {
        match (self, tag) {
            (Mutable::Untagged, _) | (_, None) => "without a tag".to_string(),
            (Mutable::Latest, _) => "with the latest tag".to_string(),
            (Mutable::Moving, Some(tag)) => {
                format!("with the tag {tag:?}, which names no release")
            }
        }
    }

    /// Kubernetes defaults imagePullPolicy to Always only for no tag and `latest`.
    fn pulled_always_by_default(self) -> bool {
        !matches!(self, Mutable::Moving)
    }
}

/// What makes a reference mutable: no digest, and no tag, `latest` or another tag that names
/// no release. `None` when the reference is immutable or carries a release tag.
fn mutable_tag(image: &ImageRef<'_>) -> Option<Mutable> {
    if image.digest.is_some() {
        return None;
    }
    let Some(tag) = image.tag else {
        return Some(Mutable::Untagged);
    };
    if tag == "latest" {
        return Some(Mutable::Latest);
    }
    let moving = MOVING_TAGS.iter().any(|t| t.eq_ignore_ascii_case(tag))
        || tag
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("latest-"))
        || tag
            .len()
            .checked_sub(7)
            .and_then(|i| tag.get(i..))
            .is_some_and(|s| s.eq_ignore_ascii_case("-latest"));
    moving.then_some(Mutable::Moving)
}

fn tag_mutable(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for (c, image, parsed) in images(ctx) {
        match mutable_tag(&parsed) {
            Some(mutable) => {
                out.fail(format!(
                    "container {:?} uses image {image:?} {}: each pull may get different \
                     code, so replicas and rollbacks do not run what was tested",
                    c.name,
                    mutable.how(parsed.tag)
                ))
                .container(&c.name);
            }
            None => out.pass(),
        }
    }
}

fn not_pinned(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for (c, image, parsed) in images(ctx) {
        if parsed.digest.is_some_and(|d| d.starts_with("sha256:")) {
            out.pass();
        } else {
            out.fail(format!(
                "container {:?} uses image {image:?} without a @sha256 digest: the tag can be \
                 pushed again, so the same manifest may run different code",
                c.name
            ))
            .container(&c.name);
        }
    }
}

fn pull_policy(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for (c, image, parsed) in images(ctx) {
        let Some(mutable) = mutable_tag(&parsed) else {
            continue;
        };
        let how = mutable.how(parsed.tag);
        // Unset, Kubernetes pulls untagged and latest images Always, any other tag
        // IfNotPresent.
        let policy = match c.image_pull_policy.as_deref() {
            Some("Always") => None,
            None if mutable.pulled_always_by_default() => None,
            None => Some("unset (IfNotPresent for this tag)"),
            Some(policy) => Some(policy),
        };
        match policy {
            None => out.pass(),
            Some(policy) => {
                out.fail(format!(
                    "container {:?} uses image {image:?} {how}{} and imagePullPolicy {policy}: \
                     each node keeps running whatever copy it pulled first",
                    c.name,
                    // "..., which names no release, and ..." reads as one clause.
                    if matches!(mutable, Mutable::Moving) {
                        ","
                    } else {
                        ""
                    }
                ))
                .container(&c.name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{findings, judge, messages, outcome};

    /// A Deployment whose containers run these images, each with optional extra fields.
    fn deployment(containers: &[(&str, &str, &str)]) -> String {
        let mut out = String::from(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n\
             spec:\n  selector: {matchLabels: {app: api}}\n  template:\n    \
             metadata: {labels: {app: api}}\n    spec:\n      containers:\n",
        );
        for (name, image, extra) in containers {
            out.push_str(&format!(
                "      - name: {name}\n        image: \"{image}\"\n{extra}"
            ));
        }
        out
    }

    const DIGEST: &str = "sha256:4c5f0e6e1b2f9c7d8a3e2b1c0d9f8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e";

    #[test]
    fn tag_mutable() {
        let id = "image-tag-mutable";
        let r = judge(&deployment(&[
            ("app", "ghcr.io/acme/api:latest", ""),
            ("proxy", "registry.local:5000/envoy", ""),
            ("metrics", "exporter:1.4.2", ""),
        ]));
        assert_eq!(
            messages(&r, id),
            vec![
                "container \"app\" uses image \"ghcr.io/acme/api:latest\" with the latest tag: each pull may get different code, so replicas and rollbacks do not run what was tested",
                "container \"proxy\" uses image \"registry.local:5000/envoy\" without a tag: each pull may get different code, so replicas and rollbacks do not run what was tested",
            ]
        );
        assert_eq!(findings(&r, id)[0].container.as_deref(), Some("app"));
        // A digest pins the code whatever the tag says.
        let pinned = format!("api:latest@{DIGEST}");
        let r = judge(&deployment(&[("app", &pinned, ""), ("b", "api:1.2", "")]));
        assert_eq!(outcome(&r, id), "pass");
    }

    #[test]
    fn tags_that_name_no_release_are_mutable() {
        let id = "image-tag-mutable";
        let r = judge(&deployment(&[
            ("a", "redis:alpine", ""),
            ("b", "ghcr.io/acme/api:main", ""),
            ("c", "nginx:latest-alpine", ""),
            ("d", "node:lts", ""),
            ("e", "acme/tool:v2-latest", ""),
        ]));
        assert_eq!(
            messages(&r, id),
            vec![
                "container \"a\" uses image \"redis:alpine\" with the tag \"alpine\", which names no release: each pull may get different code, so replicas and rollbacks do not run what was tested",
                "container \"b\" uses image \"ghcr.io/acme/api:main\" with the tag \"main\", which names no release: each pull may get different code, so replicas and rollbacks do not run what was tested",
                "container \"c\" uses image \"nginx:latest-alpine\" with the tag \"latest-alpine\", which names no release: each pull may get different code, so replicas and rollbacks do not run what was tested",
                "container \"d\" uses image \"node:lts\" with the tag \"lts\", which names no release: each pull may get different code, so replicas and rollbacks do not run what was tested",
                "container \"e\" uses image \"acme/tool:v2-latest\" with the tag \"v2-latest\", which names no release: each pull may get different code, so replicas and rollbacks do not run what was tested",
            ]
        );
        // A version with a variant is a release tag.
        let r = judge(&deployment(&[
            ("a", "redis:7.2-alpine", ""),
            ("b", "node:20-bookworm", ""),
            ("c", "acme/mainframe:1.0", ""),
        ]));
        assert_eq!(outcome(&r, id), "pass");
        // Unset, the pull policy of such a tag is IfNotPresent: each node keeps its copy.
        let r = judge(&deployment(&[("app", "redis:alpine", "")]));
        assert_eq!(
            messages(&r, "image-pull-policy"),
            vec![
                "container \"app\" uses image \"redis:alpine\" with the tag \"alpine\", which names no release, and imagePullPolicy unset (IfNotPresent for this tag): each node keeps running whatever copy it pulled first"
            ]
        );
        let r = judge(&deployment(&[(
            "app",
            "redis:alpine",
            "        imagePullPolicy: Always\n",
        )]));
        assert_eq!(outcome(&r, "image-pull-policy"), "pass");
    }

    #[test]
    fn init_containers_are_judged() {
        let yaml = deployment(&[("app", "api:1.2", "")]).replace(
            "      containers:\n",
            "      initContainers:\n      - {name: migrate, image: \"migrate\"}\n      containers:\n",
        );
        let r = judge(&yaml);
        assert_eq!(
            messages(&r, "image-tag-mutable"),
            vec![
                "container \"migrate\" uses image \"migrate\" without a tag: each pull may get different code, so replicas and rollbacks do not run what was tested"
            ]
        );
    }

    #[test]
    fn not_pinned() {
        let id = "image-not-pinned";
        let r = judge(&deployment(&[("app", "api:1.2", "")]));
        assert_eq!(
            messages(&r, id),
            vec![
                "container \"app\" uses image \"api:1.2\" without a @sha256 digest: the tag can be pushed again, so the same manifest may run different code"
            ]
        );
        let pinned = format!("registry.local:5000/team/api:1.2@{DIGEST}");
        assert_eq!(
            outcome(&judge(&deployment(&[("app", &pinned, "")])), id),
            "pass"
        );
        let bare_digest = format!("api@{DIGEST}");
        assert_eq!(
            outcome(&judge(&deployment(&[("app", &bare_digest, "")])), id),
            "pass"
        );
    }

    #[test]
    fn pull_policy() {
        let id = "image-pull-policy";
        let r = judge(&deployment(&[
            (
                "app",
                "api:latest",
                "        imagePullPolicy: IfNotPresent\n",
            ),
            ("proxy", "envoy", "        imagePullPolicy: Never\n"),
            (
                "metrics",
                "exporter:latest",
                "        imagePullPolicy: Always\n",
            ),
            ("sidecar", "agent", ""),
        ]));
        assert_eq!(
            messages(&r, id),
            vec![
                "container \"app\" uses image \"api:latest\" with the latest tag and imagePullPolicy IfNotPresent: each node keeps running whatever copy it pulled first",
                "container \"proxy\" uses image \"envoy\" without a tag and imagePullPolicy Never: each node keeps running whatever copy it pulled first",
            ]
        );
        // Unset, Kubernetes pulls latest Always.
        let r = judge(&deployment(&[("app", "api:latest", "")]));
        assert_eq!(outcome(&r, id), "pass");
        // Release tags and digests are not mutable: the check does not apply to them.
        let pinned = format!("api:latest@{DIGEST}");
        let r = judge(&deployment(&[
            ("app", "api:1.2", "        imagePullPolicy: IfNotPresent\n"),
            ("b", &pinned, "        imagePullPolicy: IfNotPresent\n"),
        ]));
        assert_eq!(outcome(&r, id), "n/a");
    }
}
