//! The corpora benchmarks read. The synthetic one (below): `n` workloads spread over namespaces,
//! each with the related objects a real application has (Service, Ingress, NetworkPolicy, PDB,
//! HPA, ConfigMap, claims), with settings varied so every check takes its different paths. The
//! realworld one: public manifests replicated (see `replicated`).

// Each benchmark includes this module and uses the corpora it needs.
#![allow(dead_code)]

use std::fmt::Write;

#[path = "corpus/app.rs"]
mod app;
#[path = "corpus/copy.rs"]
mod copy;
#[path = "corpus/replicated.rs"]
pub mod replicated;

/// The corpora a benchmark can be asked for by name.
pub const NAMES: &str = "synthetic, realworld";

/// The corpus called `name`, with `n` workloads.
pub fn named(name: &str, n: usize) -> String {
    match name {
        "synthetic" => corpus(n),
        "realworld" => replicated::corpus(&replicated::source(), n),
        other => panic!("unknown corpus {other:?} (one of: {NAMES})"),
    }
}

/// Workloads per namespace.
const PER_NAMESPACE: usize = 50;

/// YAML for `n` workloads and their related objects, as one multi-document stream.
pub fn corpus(n: usize) -> String {
    let mut out = String::with_capacity(n * 4096);
    for i in 0..n {
        workload(&mut out, i);
    }
    out
}

fn workload(out: &mut String, i: usize) {
    let ns = format!("team-{}", i / PER_NAMESPACE);
    let name = format!("svc-{i}");
    let stateful = i % 10 == 9;
    let replicas = 1 + i % 3;
    let image = match i % 4 {
        0 => format!("registry.example.com/team/{name}:1.{i}"),
        1 => format!("registry.example.com/team/{name}:latest"),
        2 => format!(
            "registry.example.com/team/{name}:2.0@sha256:{:064x}",
            i as u128 * 7919
        ),
        _ => "redis:7".to_string(),
    };
    let probes = if i.is_multiple_of(3) {
        ""
    } else {
        "        readinessProbe: {httpGet: {path: /ready, port: http}}\n        livenessProbe: {httpGet: {path: /livez, port: 8080}, periodSeconds: 10}\n"
    };
    let security = if i.is_multiple_of(2) {
        "        securityContext: {runAsNonRoot: true, runAsUser: 10001, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}\n"
    } else {
        ""
    };
    let resources = if i.is_multiple_of(5) {
        ""
    } else {
        "        resources: {requests: {cpu: 100m, memory: 128Mi, ephemeral-storage: 1Gi}, limits: {memory: 256Mi, ephemeral-storage: 2Gi}}\n"
    };
    let kind = if stateful {
        "StatefulSet"
    } else {
        "Deployment"
    };
    let service_name = if stateful {
        format!("  serviceName: {name}\n")
    } else {
        String::new()
    };
    let claims = if stateful {
        "  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {accessModes: [ReadWriteOnce], storageClassName: standard, resources: {requests: {storage: 10Gi}}}\n".to_string()
    } else {
        String::new()
    };
    let mounts = if stateful {
        "        volumeMounts: [{name: data, mountPath: /var/lib/data}]\n"
    } else {
        "        volumeMounts: [{name: cache, mountPath: /tmp}]\n"
    };
    let volumes = if stateful {
        ""
    } else {
        "      volumes: [{name: cache, emptyDir: {}}]\n"
    };
    let _ = write!(
        out,
        "---\napiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{app: {name}, team: t{t}}}\n  annotations: {{meta.helm.sh/release-name: rel-{t}}}\nspec:\n  replicas: {replicas}\n{service_name}  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata:\n      labels: {{app: {name}, team: t{t}, tier: {tier}}}\n    spec:\n      serviceAccountName: {name}\n      containers:\n      - name: app\n        image: {image}\n        ports: [{{containerPort: 8080, name: http}}]\n        env:\n        - {{name: LOG_LEVEL, value: info}}\n        - {{name: DATABASE_URL, value: \"postgresql://db.{ns}.svc:5432/app\"}}\n        - {{name: API_TOKEN, valueFrom: {{secretKeyRef: {{name: {name}, key: token}}}}}}\n        envFrom: [{{configMapRef: {{name: {name}-config}}}}]\n{probes}{security}{resources}{mounts}{volumes}{claims}",
        t = i % 7,
        tier = if i.is_multiple_of(2) {
            "web"
        } else {
            "backend"
        },
    );
    let _ = write!(
        out,
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}, labels: {{app: {name}}}}}\nspec:\n  type: {svc_type}\n  selector: {{app: {name}}}\n  ports: [{{port: 80, targetPort: http}}]\n",
        svc_type = if i.is_multiple_of(13) {
            "NodePort"
        } else {
            "ClusterIP"
        },
    );
    let _ = write!(
        out,
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}-config, namespace: {ns}}}\ndata:\n  REDIS_URL: {redis}\n  FEATURE_FLAGS: \"a,b,c\"\n  app.properties: |\n    server.port=8080\n    cache.ttl=60\n",
        redis = if i.is_multiple_of(2) {
            "rediss://cache:6380/0"
        } else {
            "redis://cache:6379/0"
        },
    );
    let _ = write!(
        out,
        "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\ntype: Opaque\ndata: {{token: dG9rZW4=}}\n"
    );
    if i.is_multiple_of(2) {
        let tls = if i.is_multiple_of(4) {
            format!("  tls: [{{hosts: [{name}.example.com], secretName: {name}-tls}}]\n")
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: {ns}\n  annotations: {{nginx.ingress.kubernetes.io/limit-rps: \"20\"}}\nspec:\n  ingressClassName: nginx\n{tls}  rules:\n  - host: {name}.example.com\n    http:\n      paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: {name}, port: {{number: 80}}}}}}}}]\n"
        );
    }
    if i % 3 != 1 {
        let _ = write!(
            out,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  podSelector: {{matchLabels: {{app: {name}}}}}\n  policyTypes: [Ingress, Egress]\n  ingress: [{{from: [{{podSelector: {{matchLabels: {{team: t{t}}}}}}}]}}]\n  egress: [{{to: [{{namespaceSelector: {{}}}}], ports: [{{port: 53, protocol: UDP}}]}}]\n",
            t = i % 7
        );
    }
    if replicas > 1 {
        let _ = write!(
            out,
            "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{maxUnavailable: 1, selector: {{matchLabels: {{app: {name}}}}}}}\n"
        );
    }
    if i % 4 != 3 {
        let _ = write!(
            out,
            "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: {kind}, name: {name}}}\n  minReplicas: {min}\n  maxReplicas: 10\n",
            min = 1 + i % 2
        );
    }
    if i.is_multiple_of(PER_NAMESPACE) {
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{team: t{t}}}}}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: default, namespace: {ns}}}\nautomountServiceAccountToken: false\n",
            t = i % 7
        );
    }
}
