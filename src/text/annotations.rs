//! The Service and Ingress annotations checks read. The World keeps no other (a Service's or
//! Ingress's annotations often hold a copy of the whole object, `last-applied-configuration`),
//! so a check that reads one more must list it here.

/// Asks Prometheus (with the usual scrape configuration) to scrape the pods or the Service.
pub const SCRAPE: &str = "prometheus.io/scrape";

/// Controllers whose CORS switch allows every origin unless told otherwise:
/// (enable annotation, origin annotation, controller).
pub const CORS: &[(&str, &str, &str)] = &[
    (
        "nginx.ingress.kubernetes.io/enable-cors",
        "nginx.ingress.kubernetes.io/cors-allow-origin",
        "ingress-nginx",
    ),
    (
        "k8s.apisix.apache.org/enable-cors",
        "k8s.apisix.apache.org/cors-allow-origin",
        "APISIX",
    ),
];

/// Annotations that set a request or connection limit when non-zero.
pub const RATE_LIMITS: &[&str] = &[
    "nginx.ingress.kubernetes.io/limit-rps",
    "nginx.ingress.kubernetes.io/limit-rpm",
    "nginx.ingress.kubernetes.io/limit-connections",
    "nginx.ingress.kubernetes.io/global-rate-limit",
    "nginx.org/limit-req-rate",
    "haproxy.org/rate-limit-requests",
];

/// Annotations listing plugins or middlewares, one of which may be a rate limiter.
pub const RATE_LIMIT_PLUGIN_LISTS: &[&str] = &[
    "konghq.com/plugins",
    "traefik.ingress.kubernetes.io/router.middlewares",
];

/// Annotations that bound the request body.
pub const BODY_SIZES: &[&str] = &[
    "nginx.ingress.kubernetes.io/proxy-body-size",
    "nginx.org/client-max-body-size",
];

/// Annotations that keep a LoadBalancer on the private network, with the values that do.
pub const INTERNAL_LOAD_BALANCER: &[(&str, &str)] = &[
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        "internal",
    ),
    ("networking.gke.io/load-balancer-type", "internal"),
    ("cloud.google.com/load-balancer-type", "internal"),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        "true",
    ),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        "true",
    ),
    (
        "service.beta.kubernetes.io/openstack-internal-load-balancer",
        "true",
    ),
];

/// The legacy AWS annotation: any value but "false" keeps the LoadBalancer internal (older docs
/// used "0.0.0.0/0").
pub const AWS_LEGACY_INTERNAL: &str = "service.beta.kubernetes.io/aws-load-balancer-internal";

/// Whether a check reads this Service annotation.
pub fn reads_service_annotation(key: &str) -> bool {
    key == SCRAPE
        || key == AWS_LEGACY_INTERNAL
        || INTERNAL_LOAD_BALANCER.iter().any(|(k, _)| *k == key)
}

/// Whether a check reads this Ingress annotation.
pub fn reads_ingress_annotation(key: &str) -> bool {
    CORS.iter()
        .any(|(enable, origin, _)| *enable == key || *origin == key)
        || RATE_LIMITS.contains(&key)
        || RATE_LIMIT_PLUGIN_LISTS.contains(&key)
        || BODY_SIZES.contains(&key)
}
