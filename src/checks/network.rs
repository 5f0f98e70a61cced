//! Network: whether NetworkPolicies limit who can reach the pods and where the pods can go.

use super::util::join_names;
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::world::RelatedKind;

pub const CHECKS: &[Check] = &[
    Check {
        id: "network-no-policy",
        category: Category::Network,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "No NetworkPolicy restricts ingress to the pods",
        remediation: "Add a NetworkPolicy whose podSelector matches the pods, with policyTypes \
                      [Ingress] and ingress rules that admit only the clients that need them \
                      (start from a default-deny policy for the namespace).",
        run: Run::Workload(no_policy),
    },
    Check {
        id: "network-egress-unrestricted",
        category: Category::Network,
        severity: Severity::Low,
        needs: Needs::Related,
        title: "Nothing restricts the pods' egress",
        remediation: "Add a NetworkPolicy with policyTypes [Egress] that allows only what the \
                      pods need: DNS (kube-dns on port 53, UDP and TCP), the services they call, \
                      and named external CIDRs and ports; replace rules that allow every \
                      destination (no `to` and no `ports`, or 0.0.0.0/0 on every port).",
        run: Run::Workload(egress_unrestricted),
    },
];

const CONSEQUENCE_EGRESS: &str =
    "a compromised pod can reach any address, in the cluster or on the internet";

/// NetworkPolicies do not apply to pods on the host's network namespace: a policy cannot fix
/// them (security-host-namespaces reports them).
fn on_host_network(ctx: &Ctx<'_>) -> bool {
    ctx.workload.pod_spec.host_network == Some(true)
}

fn no_policy(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    // A pod that runs to completion listens to no one.
    if !ctx.workload.is_long_running() || on_host_network(ctx) {
        return;
    }
    if !ctx.has(&[RelatedKind::NetworkPolicy]) {
        return out.skip_missing(&[RelatedKind::NetworkPolicy]);
    }
    let policies = &ctx.related.network_policies;
    if policies.iter().any(|p| p.ingress) {
        return out.pass();
    }
    let consequence = "any pod in the cluster can connect to them";
    if policies.is_empty() {
        out.fail(format!("no NetworkPolicy selects the pods: {consequence}"));
    } else {
        let names: Vec<&str> = policies.iter().map(|p| &*p.name).collect();
        let (noun, verb) = if names.len() == 1 {
            ("NetworkPolicy", "selects")
        } else {
            ("NetworkPolicies", "select")
        };
        out.fail(format!(
            "no NetworkPolicy restricts ingress to the pods ({noun} {} {verb} them for egress \
             only): {consequence}",
            join_names(&names)
        ));
    }
}

fn egress_unrestricted(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if on_host_network(ctx) {
        return;
    }
    if !ctx.has(&[RelatedKind::NetworkPolicy]) {
        return out.skip_missing(&[RelatedKind::NetworkPolicy]);
    }
    let policies = &ctx.related.network_policies;
    // Policies add up: one rule that allows everything opens egress whatever the others say.
    let mut allows_all = false;
    for p in policies.iter().filter(|p| p.egress_allows_all) {
        allows_all = true;
        out.fail(format!(
            "NetworkPolicy {} allows egress to every destination on every port: \
             {CONSEQUENCE_EGRESS}",
            p.name
        ))
        .object(format!("NetworkPolicy/{}", p.name));
    }
    if allows_all {
        return;
    }
    if policies.iter().any(|p| p.egress) {
        out.pass();
    } else {
        out.fail(format!(
            "no NetworkPolicy restricts the pods' egress: {CONSEQUENCE_EGRESS}"
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{findings, judge, messages, outcome};

    fn deployment(pod_spec: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\n\
             spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    \
             metadata: {{labels: {{app: api, tier: web}}}}\n    spec:\n{pod_spec}      \
             containers: [{{name: app, image: 'api:1'}}]\n"
        )
    }

    fn policy(name: &str, selector: &str, spec: &str) -> String {
        format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: shop}}\n\
             spec:\n  podSelector: {selector}\n{spec}"
        )
    }

    const INGRESS: &str = "  policyTypes: [Ingress]\n  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]\n";
    const EGRESS: &str = "  policyTypes: [Egress]\n  egress: [{to: [{namespaceSelector: {}}], ports: [{port: 53, protocol: UDP}]}]\n";
    const EGRESS_ALL: &str =
        "  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]\n";

    #[test]
    fn ingress_policy() {
        let base = deployment("");
        assert_eq!(
            messages(&judge(&base), "network-no-policy"),
            vec![
                "not judged: no NetworkPolicy objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        // A policy for other pods does not protect these.
        let r = judge(&format!(
            "{base}{}",
            policy("db", "{matchLabels: {app: db}}", INGRESS)
        ));
        assert_eq!(
            messages(&r, "network-no-policy"),
            vec!["no NetworkPolicy selects the pods: any pod in the cluster can connect to them"]
        );
        let r = judge(&format!(
            "{base}{}",
            policy("api-egress", "{matchLabels: {app: api}}", EGRESS)
        ));
        assert_eq!(
            messages(&r, "network-no-policy"),
            vec![
                "no NetworkPolicy restricts ingress to the pods (NetworkPolicy api-egress selects them for egress only): any pod in the cluster can connect to them"
            ]
        );
        // An empty podSelector selects every pod of the namespace; no policyTypes means Ingress.
        let r = judge(&format!("{base}{}", policy("default-deny", "{}", "")));
        assert_eq!(outcome(&r, "network-no-policy"), "pass");
        let r = judge(&format!(
            "{base}{}",
            policy(
                "web",
                "{matchExpressions: [{key: tier, operator: In, values: [web]}]}",
                INGRESS
            )
        ));
        assert_eq!(outcome(&r, "network-no-policy"), "pass");
    }

    #[test]
    fn egress_policy() {
        let base = deployment("");
        assert_eq!(
            outcome(&judge(&base), "network-egress-unrestricted"),
            "skip"
        );
        let r = judge(&format!(
            "{base}{}",
            policy("api", "{matchLabels: {app: api}}", INGRESS)
        ));
        assert_eq!(
            messages(&r, "network-egress-unrestricted"),
            vec![
                "no NetworkPolicy restricts the pods' egress: a compromised pod can reach any address, in the cluster or on the internet"
            ]
        );
        let r = judge(&format!(
            "{base}{}{}",
            policy("dns", "{}", EGRESS),
            policy("open", "{matchLabels: {app: api}}", EGRESS_ALL)
        ));
        assert_eq!(
            messages(&r, "network-egress-unrestricted"),
            vec![
                "NetworkPolicy open allows egress to every destination on every port: a compromised pod can reach any address, in the cluster or on the internet"
            ]
        );
        assert_eq!(
            findings(&r, "network-egress-unrestricted")[0]
                .object
                .as_deref(),
            Some("NetworkPolicy/open")
        );
        let r = judge(&format!("{base}{}", policy("dns", "{}", EGRESS)));
        assert_eq!(outcome(&r, "network-egress-unrestricted"), "pass");
    }

    #[test]
    fn host_network_and_jobs() {
        let host = deployment("      hostNetwork: true\n");
        let r = judge(&format!(
            "{host}{}",
            policy("db", "{matchLabels: {app: db}}", INGRESS)
        ));
        assert_eq!(outcome(&r, "network-no-policy"), "n/a");
        assert_eq!(outcome(&r, "network-egress-unrestricted"), "n/a");
        // A Job listens to no one, but can still send anywhere.
        let job = format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: export, namespace: shop}}\n\
             spec:\n  template:\n    metadata: {{labels: {{app: export}}}}\n    spec:\n      \
             restartPolicy: Never\n      containers: [{{name: export, image: 'export:1'}}]\n{}",
            policy("db", "{matchLabels: {app: db}}", INGRESS)
        );
        let r = judge(&job);
        assert_eq!(outcome(&r, "network-no-policy"), "n/a");
        assert_eq!(outcome(&r, "network-egress-unrestricted"), "fail");
    }
}
