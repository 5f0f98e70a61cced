//! Thousands of random, truncated and mutated documents: every one is either read or reported
//! as an error naming its file and document, and nothing panics — neither the reader nor the
//! engine judging whatever was read.

use prodready::engine::{CompiledPolicy, evaluate};
use prodready::input::Inventory;

const SEEDS: &[&str] = &[
    r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  labels: {app: api}
  annotations: {meta.helm.sh/release-name: shop, prodready.dev/exempt: "image-not-pinned"}
spec:
  replicas: 3
  revisionHistoryLimit: 0
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: "100%"}}
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}, annotations: {prometheus.io/scrape: "true"}}
    spec:
      serviceAccountName: api
      securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
      initContainers:
      - name: migrate
        image: api:1.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        command: ["alembic", "upgrade", "head"]
      - name: proxy
        image: envoy:1.30
        restartPolicy: Always
      containers:
      - name: app
        image: registry.local:5000/shop/api:latest
        ports: [{containerPort: 8080, name: http, hostPort: 80}]
        env:
        - {name: DB_PASSWORD, value: hunter2}
        - {name: DATABASE_URL, value: "postgresql://u:p@db:5432/shop"}
        - {name: TOKEN, valueFrom: {secretKeyRef: {name: api, key: token}}}
        envFrom: [{configMapRef: {name: api-config}}]
        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1}
        livenessProbe: {httpGet: {path: /ready, port: 9090}, failureThreshold: 1}
        resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 512Mi}}
        securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN]}}
        volumeMounts: [{name: data, mountPath: /data}, {name: sock, mountPath: /var/run/docker.sock}]
      volumes:
      - {name: data, emptyDir: {}}
      - {name: sock, hostPath: {path: /var/run/docker.sock}}
      - {name: claim, persistentVolumeClaim: {claimName: api-data}}
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 1
            podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchExpressions: [{key: app, operator: In, values: [api]}]}}
status:
  replicas: 3
  availableReplicas: 1
  conditions: [{type: Available, status: "False", lastTransitionTime: "2026-01-01T00:00:00Z"}]
"#,
    r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: postgres, image: "timescale/timescaledb:2.14-pg16", volumeMounts: [{name: pgdata, mountPath: /var/lib/postgresql/data}]}]
  volumeClaimTemplates:
  - metadata: {name: pgdata}
    spec: {accessModes: [ReadWriteOnce], storageClassName: fast, resources: {requests: {storage: 10Gi}}}
"#,
    r#"apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: api, namespace: shop, labels: {app: api}}, spec: {type: NodePort, selector: {app: api}, ports: [{port: 80, targetPort: http, nodePort: 30080}]}}
- {apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: api, namespace: shop, annotations: {nginx.ingress.kubernetes.io/enable-cors: "true", nginx.ingress.kubernetes.io/proxy-body-size: "0"}}, spec: {rules: [{host: shop.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}]}}]}}
- {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: all, namespace: shop}, spec: {podSelector: {}, policyTypes: [Ingress, Egress], egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]}}
- {apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: api, namespace: shop}, spec: {minAvailable: "100%", selector: {matchLabels: {app: api}}}}
- {apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: {name: api, namespace: shop}, spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, minReplicas: 1, maxReplicas: 1}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: api-config, namespace: shop}, data: {REDIS_URL: "redis://redis:6379", settings.ini: "password = secret\nurl = http://example.com/x\n"}}
- {apiVersion: v1, kind: Secret, metadata: {name: api, namespace: shop}, data: {other: c2VjcmV0}}
- {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: api-data, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}, status: {phase: Pending}}
- {apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {name: fast, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}, provisioner: x}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: api-admin}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}, subjects: [{kind: ServiceAccount, name: api, namespace: shop}]}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: api, namespace: shop}}
- {apiVersion: monitoring.coreos.com/v1, kind: ServiceMonitor, metadata: {name: api, namespace: shop}, spec: {selector: {matchLabels: {app: api}}, namespaceSelector: {any: true}}}
- {apiVersion: velero.io/v1, kind: Schedule, metadata: {name: nightly, namespace: velero}, spec: {schedule: "0 1 * * *", template: {includedNamespaces: [shop]}}}
"#,
    r#"apiVersion: v1
kind: Pod
metadata:
  name: api-5f7-abc
  namespace: shop
  labels: {app: api, pod-template-hash: 5f7}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-5f7, uid: u1, controller: true}]
spec:
  nodeName: node-1
  containers: [{name: app, image: api:1}]
status:
  phase: Running
  conditions: [{type: Ready, status: "False", lastTransitionTime: "2026-01-01T00:00:00Z"}]
  containerStatuses:
  - name: app
    ready: false
    restartCount: 7
    image: api:1
    imageID: x
    state: {waiting: {reason: CrashLoopBackOff, message: "back-off 5m0s"}}
    lastState: {terminated: {reason: OOMKilled, exitCode: 137, finishedAt: "2026-01-01T00:00:00Z"}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: shop, labels: {app.kubernetes.io/component: backup}}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: dump, image: postgres:16, command: [sh, -c, "pg_dump -h db > /backup/x.sql"]}]
"#,
];

/// Tokens that stress a YAML parser and the typed decoding after it.
const TOKENS: &[&str] = &[
    ": ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "---\n",
    "...\n",
    "&a ",
    "*a",
    "!!binary ",
    "<<: *a\n",
    "? ",
    "|\n",
    ">-\n",
    "\"",
    "'",
    "\t",
    "\n  ",
    "null",
    "~",
    "-1",
    "1e999",
    "0x1F",
    "true",
    "{}",
    "[]",
    "%YAML 1.2\n",
    "#",
    "\\u0000",
    "ñ",
    "🚀",
    "kind: List\nitems: 3\n",
    "apiVersion: ",
    "kind: Deployment\n",
    "metadata: {name: x}\n",
    "spec: {template: {spec: {containers: 7}}}\n",
];

/// A small deterministic generator: the test must fail the same way on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(rng: &mut XorShift, input: &str) -> String {
    let mut s = input.to_string();
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 => {
                let at = floor_char_boundary(&s, rng.below(s.len() + 1));
                s.truncate(at);
            }
            1 => {
                let at = floor_char_boundary(&s, rng.below(s.len() + 1));
                s.insert_str(at, TOKENS[rng.below(TOKENS.len())]);
            }
            2 => {
                let lines: Vec<&str> = s.lines().collect();
                if !lines.is_empty() {
                    let drop = rng.below(lines.len());
                    s = lines
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != drop)
                        .map(|(_, l)| *l)
                        .collect::<Vec<_>>()
                        .join("\n");
                }
            }
            3 => {
                let lines: Vec<&str> = s.lines().collect();
                if !lines.is_empty() {
                    let dup = lines[rng.below(lines.len())];
                    let at = rng.below(lines.len());
                    let mut out: Vec<&str> = lines.clone();
                    out.insert(at, dup);
                    s = out.join("\n");
                }
            }
            4 => {
                // Replace a scalar with a value of another type.
                if let Some(pos) = s.find(": ") {
                    let start = pos + 2;
                    let end = s[start..].find('\n').map_or(s.len(), |e| start + e);
                    let replacement =
                        ["[x]", "{a: 1}", "-5", "\"\"", "2147483648", "yes"][rng.below(6)];
                    s.replace_range(start..end, replacement);
                }
            }
            _ => {
                let a = floor_char_boundary(&s, rng.below(s.len() + 1));
                let b = floor_char_boundary(&s, rng.below(s.len() + 1));
                let (a, b) = (a.min(b), a.max(b));
                let chunk = s[a..b].to_string();
                s.push_str(&chunk);
            }
        }
    }
    s
}

fn judge_everything(text: &str) -> Inventory {
    let mut inv = Inventory::new();
    inv.add_text("fuzz.yaml", text);
    let policy = CompiledPolicy::builtin();
    let now = "2026-06-01T12:00:00Z".parse().unwrap();
    for w in &inv.workloads {
        if let Some(view) = w.object.view() {
            let report = evaluate(&view, &inv.world, &policy, now);
            assert!(report.score <= 100);
        }
    }
    inv
}

#[test]
fn seeds_read_cleanly() {
    for seed in SEEDS {
        let inv = judge_everything(seed);
        assert!(inv.errors.is_empty(), "{:?}", inv.errors);
    }
}

#[test]
fn thousands_of_mutated_documents_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut errors = 0usize;
    for i in 0..4000 {
        let seed = SEEDS[i % SEEDS.len()];
        let text = mutate(&mut rng, seed);
        let inv = judge_everything(&text);
        for e in &inv.errors {
            assert_eq!(e.file, "fuzz.yaml");
            assert!(e.document.is_some(), "document index missing: {e}");
            assert!(!e.reason.to_string().is_empty());
        }
        errors += inv.errors.len();
    }
    // The mutations must actually produce bad input, or this test proves nothing.
    assert!(errors > 1000, "only {errors} errors from 4000 mutations");
}

#[test]
fn every_truncation_of_every_seed_is_handled() {
    for seed in SEEDS {
        let mut at = 0;
        while at <= seed.len() {
            let cut = floor_char_boundary(seed, at);
            judge_everything(&seed[..cut]);
            at += 7;
        }
    }
}

#[test]
fn hostile_yaml_is_refused_quickly() {
    // Alias expansion ("billion laughs") and deep nesting must fail fast, not exhaust memory.
    let mut laughs = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        laughs.push_str(&format!(
            "{}: &{} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n",
            (b'a' + i) as char,
            (b'a' + i) as char,
            p = (b'a' + i - 1) as char
        ));
    }
    let start = std::time::Instant::now();
    let inv = judge_everything(&laughs);
    assert_eq!(inv.errors.len(), 1, "{:?}", inv.errors);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let inv = judge_everything(&deep);
    assert_eq!(inv.errors.len(), 1);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "hostile input took {:?}",
        start.elapsed()
    );
}

#[test]
fn binary_garbage_is_an_error_not_a_panic() {
    let mut rng = XorShift(42);
    for _ in 0..500 {
        let len = rng.below(512);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        judge_everything(&text);
    }
}
