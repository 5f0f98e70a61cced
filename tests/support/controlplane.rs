//! A real control plane on loopback for integration tests: etcd and kube-apiserver, plus (on
//! request) kube-controller-manager, kube-scheduler and kwok with fake nodes, all built from source
//! by `tests/controlplane/build.sh`.
//!
//! ```ignore
//! mod support;
//!
//! #[tokio::test]
//! async fn example() {
//!     let Some(cp) = support::controlplane().await else { return };
//!     let client = cp.client();
//!     let ns = cp.namespace("example").await;
//! }
//! ```
//!
//! One control plane is shared by every test of a test binary (tests run in parallel, so each
//! works in its own namespace). Tests that break the control plane on purpose take a
//! [`dedicated_controlplane`] instead.
//!
//! Every test runs on its own tokio runtime, and a `kube::Client` is tied to the runtime that
//! built it; that is why nothing runtime-bound is stored here and [`ControlPlane::client`] builds
//! a new client on each call.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, Once, OnceLock};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Node, ServiceAccount};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Client, Config};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

const VERSIONS_ENV: &str = include_str!("../controlplane/versions.env");
const BUILD_SCRIPT: &str = "tests/controlplane/build.sh";
/// Work dirs are named `<prefix><pid>-<random>` so a later run can tell whose they were.
const WORK_DIR_PREFIX: &str = "prodready-controlplane-";
const FIELD_MANAGER: &str = "prodready-tests";
/// Generous: on two cores another build may be running beside the tests.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
const SERVICE_CLUSTER_IP_RANGE: &str = "10.0.0.0/24";
/// The kwok annotation that marks a Node as one kwok manages.
const FAKE_NODE_ANNOTATION: (&str, &str) = ("kwok.x-k8s.io/node", "fake");
pub const FAKE_NODES: [&str; 2] = ["kwok-node-0", "kwok-node-1"];

/// Binaries without which no control plane starts; the others are only checked when used.
const REQUIRED: [&str; 2] = ["etcd", "kube-apiserver"];

/// Versions from `tests/controlplane/versions.env`, e.g. `version("KUBERNETES_VERSION")`.
pub fn version(key: &str) -> &'static str {
    VERSIONS_ENV
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("{key} is not set in tests/controlplane/versions.env"))
}

/// The Kubernetes version the control plane runs, e.g. `v1.35.4`.
pub fn kubernetes_version() -> &'static str {
    version("KUBERNETES_VERSION")
}

/// Where `build.sh` puts the binaries; both derive the key from versions.env the same way.
pub fn default_bin_dir() -> Option<PathBuf> {
    let key = format!(
        "k8s-{}_etcd-{}_helm-{}_kwok-{}_r{}",
        version("KUBERNETES_VERSION"),
        version("ETCD_VERSION"),
        version("HELM_VERSION"),
        version("KWOK_VERSION"),
        version("BUILD_REVISION"),
    );
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let root = match non_empty("PRODREADY_CONTROLPLANE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let cache = non_empty("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| non_empty("HOME").map(|home| Path::new(&home).join(".cache")))?;
            cache.join("prodready/controlplane").join(key)
        }
    };
    Some(root.join("bin"))
}

/// Where the control plane binaries (and promtool) are: `PRODREADY_CONTROLPLANE_BIN`, else
/// where `build.sh` puts them.
pub fn bin_dir() -> Option<PathBuf> {
    match std::env::var_os("PRODREADY_CONTROLPLANE_BIN").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => default_bin_dir(),
    }
}

/// The bin directory, or why there is none.
fn locate_binaries() -> Result<PathBuf, String> {
    let dir = bin_dir();
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|name| dir.as_ref().is_none_or(|d| !d.join(name).is_file()))
        .collect();
    if let (true, Some(dir)) = (missing.is_empty(), dir.clone()) {
        return Ok(dir);
    }
    let message = format!(
        "control plane binaries {missing:?} not found in {}: run `{BUILD_SCRIPT}` \
         (or set PRODREADY_CONTROLPLANE_BIN to its output)",
        dir.as_deref().map_or_else(
            || "<no cache dir: HOME unset>".into(),
            |d| d.display().to_string()
        ),
    );
    Err(message)
}

/// Skips the running test for want of a control plane (after saying so loudly, once), or fails
/// it under CI, where a missing control plane is a broken pipeline, not a reason to skip.
fn skip(message: &str) {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        if !super::skip::in_ci() {
            let bar = "!".repeat(78);
            say(&format!(
                "\n{bar}\nSKIPPING control plane tests: {message}\n{bar}\n"
            ));
        }
    });
    super::skip::skip(message);
}

/// The control plane shared by every test of this test binary, started on first use.
/// `None` means the binaries are missing and the test should return early (outside CI only).
pub async fn controlplane() -> Option<&'static ControlPlane> {
    static SHARED: tokio::sync::OnceCell<Result<Result<ControlPlane, String>, String>> =
        tokio::sync::OnceCell::const_new();
    let started = SHARED
        .get_or_init(|| async {
            let bin = locate_binaries()?;
            Ok(ControlPlane::start(bin, "shared".into()).await)
        })
        .await;
    match started {
        Err(missing) => {
            skip(missing);
            None
        }
        Ok(Ok(cp)) => Some(cp),
        // A failed start is remembered so that every test reports it instead of retrying it.
        Ok(Err(message)) => panic!("{message}"),
    }
}

/// A control plane of the caller's own, stopped when dropped: for tests that stop or restart
/// kube-apiserver, which would break the tests sharing [`controlplane`].
pub async fn dedicated_controlplane() -> Option<ControlPlane> {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let bin = match locate_binaries() {
        Ok(bin) => bin,
        Err(missing) => {
            skip(&missing);
            return None;
        }
    };
    let label = format!("dedicated-{}", COUNT.fetch_add(1, Ordering::Relaxed));
    Some(
        ControlPlane::start(bin, label)
            .await
            .unwrap_or_else(|message| panic!("{message}")),
    )
}

#[derive(Clone, Copy, Debug)]
struct Ports {
    etcd_client: u16,
    etcd_peer: u16,
    apiserver: u16,
}

/// One running etcd + kube-apiserver (and optionally the workload controllers).
pub struct ControlPlane {
    bin: PathBuf,
    /// Certificates, keys, etcd data, kubeconfig; removed when the control plane stops.
    work: PathBuf,
    logs: PathBuf,
    kubeconfig: PathBuf,
    ports: Ports,
    config: Config,
    processes: Mutex<BTreeMap<&'static str, Process>>,
    workload_controllers: tokio::sync::OnceCell<Result<(), String>>,
    namespaces: AtomicUsize,
}

impl ControlPlane {
    async fn start(bin: PathBuf, label: String) -> Result<ControlPlane, String> {
        let started = Instant::now();
        remove_abandoned_work_dirs();
        let work = tempfile::Builder::new()
            .prefix(&format!("{WORK_DIR_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| format!("creating the control plane's temp dir: {e}"))?
            .keep();
        registry().dirs.push(work.clone());
        let logs = log_root().join(label);
        fs::create_dir_all(&logs).map_err(|e| format!("creating {}: {e}", logs.display()))?;
        let ports = Ports {
            etcd_client: free_port()?,
            etcd_peer: free_port()?,
            apiserver: free_port()?,
        };
        write_pki(&work).map_err(|e| format!("generating certificates: {e}"))?;
        let kubeconfig = work.join("kubeconfig");
        write_kubeconfig(&kubeconfig, &work, ports.apiserver)
            .map_err(|e| format!("writing {}: {e}", kubeconfig.display()))?;
        let config = Config::from_custom_kubeconfig(
            Kubeconfig::read_from(&kubeconfig).map_err(|e| format!("reading kubeconfig: {e}"))?,
            &KubeConfigOptions::default(),
        )
        .await
        .map_err(|e| format!("loading kubeconfig: {e}"))?;

        let cp = ControlPlane {
            bin,
            work,
            logs,
            kubeconfig,
            ports,
            config,
            processes: Mutex::new(BTreeMap::new()),
            workload_controllers: tokio::sync::OnceCell::const_new(),
            namespaces: AtomicUsize::new(0),
        };
        // From here on, dropping `cp` on an error path stops whatever was started.
        cp.start_etcd().await?;
        cp.start_apiserver_process()?;
        cp.wait_apiserver_ready().await?;
        say(&format!(
            "control plane ready in {:.1}s: {} (logs in {})",
            started.elapsed().as_secs_f64(),
            cp.apiserver_url(),
            cp.logs.display()
        ));
        cp.install_repository_crds().await?;
        Ok(cp)
    }

    /// A new client for the calling test's runtime, authenticated as a cluster admin.
    pub fn client(&self) -> Client {
        Client::try_from(self.config.clone()).expect("building a kube client")
    }

    /// A client that acts as `user` in `groups` (impersonation by the admin), for checking what
    /// a least-privileged identity may do under RBAC. Service accounts are
    /// `system:serviceaccount:<namespace>:<name>` in group `system:serviceaccounts`.
    pub fn client_as(&self, user: &str, groups: &[&str]) -> Client {
        let mut config = self.config.clone();
        config.auth_info.impersonate = Some(user.to_string());
        config.auth_info.impersonate_groups = Some(groups.iter().map(|g| g.to_string()).collect());
        Client::try_from(config).expect("building an impersonating kube client")
    }

    /// The admin client configuration, e.g. to set `auth_info.impersonate` for RBAC tests.
    pub fn config(&self) -> Config {
        self.config.clone()
    }

    /// A kubeconfig for kubectl, helm or the prodready binary (`--kubeconfig`).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    pub fn apiserver_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.ports.apiserver)
    }

    /// Where the processes' logs are kept (they outlive the test run).
    pub fn log_dir(&self) -> &Path {
        &self.logs
    }

    /// The path of one of the built binaries: `etcd`, `kube-apiserver`, `kubectl`, `helm`, `kwok`…
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// `kubectl --kubeconfig <this control plane>`, ready for `.args([...])`.
    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new(self.bin("kubectl"));
        cmd.arg("--kubeconfig").arg(&self.kubeconfig);
        // kubectl caches discovery under $HOME; keep it with this control plane.
        cmd.env("KUBECACHEDIR", self.work.join("kube-cache"));
        cmd
    }

    /// `helm --kubeconfig <this control plane>`, with helm's own state kept in the work dir.
    pub fn helm(&self) -> Command {
        let mut cmd = Command::new(self.bin("helm"));
        cmd.arg("--kubeconfig").arg(&self.kubeconfig);
        for (var, dir) in [
            ("HELM_CACHE_HOME", "helm/cache"),
            ("HELM_CONFIG_HOME", "helm/config"),
            ("HELM_DATA_HOME", "helm/data"),
        ] {
            cmd.env(var, self.work.join(dir));
        }
        cmd
    }

    /// Creates a namespace unique to this control plane, named after `prefix`, and returns its
    /// name.
    pub async fn namespace(&self, prefix: &str) -> String {
        let n = self.namespaces.fetch_add(1, Ordering::Relaxed);
        let mut base: String = prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(50)
            .collect();
        base = base.trim_matches('-').to_string();
        if base.is_empty() {
            base = "test".into();
        }
        let name = format!("{base}-{n}");
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([("prodready.dev/test".to_string(), base)].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        let client = self.client();
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        // Without kube-controller-manager nothing creates it, and some tools expect it.
        let sa = ServiceAccount {
            metadata: ObjectMeta {
                name: Some("default".into()),
                ..ObjectMeta::default()
            },
            ..ServiceAccount::default()
        };
        match Api::<ServiceAccount>::namespaced(client, &name)
            .create(&PostParams::default(), &sa)
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(e) => panic!("creating the default service account in {name}: {e}"),
        }
        name
    }

    /// Server-side applies a CRD and waits until the apiserver serves it.
    pub async fn apply_crd(&self, crd: &CustomResourceDefinition) {
        self.try_apply_crd(crd)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    async fn try_apply_crd(&self, crd: &CustomResourceDefinition) -> Result<(), String> {
        let name = crd
            .metadata
            .name
            .clone()
            .ok_or("a CRD without metadata.name")?;
        let api = Api::<CustomResourceDefinition>::all(self.client());
        api.patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(crd),
        )
        .await
        .map_err(|e| format!("applying CRD {name}: {e}"))?;
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(api, &name, conditions::is_crd_established()),
        )
        .await
        .map_err(|_| format!("CRD {name} not Established after 30s"))?
        .map_err(|e| format!("waiting for CRD {name}: {e}"))?;
        Ok(())
    }

    /// prodready's own CRDs, from the repository's `crds/` directory when there is one.
    async fn install_repository_crds(&self) -> Result<(), String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(());
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        for file in files {
            let text = fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            for document in yaml_documents(&text) {
                let value: serde_json::Value = serde_yaml_ng::from_str(document)
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                if value.is_null() {
                    continue;
                }
                let crd: CustomResourceDefinition = serde_json::from_value(value).map_err(|e| {
                    format!("{}: not a CustomResourceDefinition: {e}", file.display())
                })?;
                self.try_apply_crd(&crd).await?;
            }
        }
        Ok(())
    }

    /// Starts kube-controller-manager, kube-scheduler and kwok, registers the fake nodes
    /// [`FAKE_NODES`] and waits until pods can be scheduled on them. Idempotent; without it,
    /// workloads never get pods.
    pub async fn start_workload_controllers(&self) {
        let result = self
            .workload_controllers
            .get_or_init(|| async {
                let started = Instant::now();
                self.spawn("kube-controller-manager", self.controller_manager_args())?;
                self.spawn("kube-scheduler", self.scheduler_args())?;
                self.spawn("kwok", self.kwok_args())?;
                self.register_fake_nodes().await?;
                self.wait_nodes_schedulable().await?;
                say(&format!(
                    "workload controllers ready in {:.1}s",
                    started.elapsed().as_secs_f64()
                ));
                Ok(())
            })
            .await;
        if let Err(message) = result {
            panic!("{message}");
        }
    }

    /// Kills kube-apiserver (SIGKILL, as a crash would); etcd and everything else keep running.
    pub fn stop_apiserver(&self) {
        if let Some(process) = self.lock_processes().get_mut("kube-apiserver") {
            process.kill();
        }
    }

    /// Starts kube-apiserver again on the same port, certificates and etcd, and waits until it
    /// is ready.
    pub async fn start_apiserver(&self) {
        let result = match self.start_apiserver_process() {
            Ok(()) => self.wait_apiserver_ready().await,
            Err(e) => Err(e),
        };
        result.unwrap_or_else(|message| panic!("{message}"));
    }

    pub async fn restart_apiserver(&self) {
        self.stop_apiserver();
        self.start_apiserver().await;
    }

    fn lock_processes(&self) -> MutexGuard<'_, BTreeMap<&'static str, Process>> {
        self.processes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn spawn(&self, name: &'static str, args: Vec<OsString>) -> Result<(), String> {
        let program = self.bin(name);
        if !program.is_file() {
            return Err(format!(
                "{} not found: run `{BUILD_SCRIPT}` (it builds every control plane binary)",
                program.display()
            ));
        }
        let mut process = Process {
            name,
            program,
            args,
            log: self.logs.join(format!("{name}.log")),
            child: None,
        };
        process.spawn()?;
        self.lock_processes().insert(name, process);
        Ok(())
    }

    /// Fails with the process's log when it has exited.
    fn check_running(&self, name: &str) -> Result<(), String> {
        let mut processes = self.lock_processes();
        let Some(process) = processes.get_mut(name) else {
            return Err(format!("{name} was never started"));
        };
        match process.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => Ok(()),
            Some(Ok(Some(status))) => Err(process.failure(&format!("exited with {status}"))),
            Some(Err(e)) => Err(process.failure(&format!("cannot be waited for: {e}"))),
            None => Err(format!("{name} is stopped")),
        }
    }

    async fn start_etcd(&self) -> Result<(), String> {
        let client_url = format!("http://127.0.0.1:{}", self.ports.etcd_client);
        let peer_url = format!("http://127.0.0.1:{}", self.ports.etcd_peer);
        let args = [
            "--name=default".to_string(),
            format!("--data-dir={}", self.work.join("etcd").display()),
            format!("--listen-client-urls={client_url}"),
            format!("--advertise-client-urls={client_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=default={peer_url}"),
            // Throwaway data: durability only costs time.
            "--unsafe-no-fsync=true".into(),
            "--log-level=warn".into(),
        ];
        self.spawn("etcd", args.into_iter().map(OsString::from).collect())?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            self.check_running("etcd")?;
            if etcd_healthy(self.ports.etcd_client) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.lock_processes()["etcd"].failure("not healthy in time"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn start_apiserver_process(&self) -> Result<(), String> {
        let work = &self.work;
        let file = |name: &str| work.join(name).display().to_string();
        let args = [
            format!("--etcd-servers=http://127.0.0.1:{}", self.ports.etcd_client),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={}", self.ports.apiserver),
            format!("--cert-dir={}", file("apiserver-certs")),
            format!("--tls-cert-file={}", file("apiserver.crt")),
            format!("--tls-private-key-file={}", file("apiserver.key")),
            format!("--client-ca-file={}", file("ca.crt")),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
            format!("--service-account-key-file={}", file("sa.pub")),
            format!("--service-account-signing-key-file={}", file("sa.key")),
            format!("--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}"),
            // RBAC only, so tests can check what a least-privileged identity may do.
            "--authorization-mode=RBAC".into(),
            // Pods would need a token controller and projected tokens, which tests without
            // kube-controller-manager lack.
            "--disable-admission-plugins=ServiceAccount".into(),
            // Tests create privileged workloads on purpose, to see them reported.
            "--allow-privileged=true".into(),
            // The loopback address cannot be an Endpoints address; nothing here needs the
            // `kubernetes` Service to have endpoints.
            "--endpoint-reconciler-type=none".into(),
            "--profiling=false".into(),
        ];
        if let Some(process) = self.lock_processes().get_mut("kube-apiserver") {
            return process.spawn();
        }
        self.spawn(
            "kube-apiserver",
            args.into_iter().map(OsString::from).collect(),
        )
    }

    async fn wait_apiserver_ready(&self) -> Result<(), String> {
        let started = Instant::now();
        let client = Client::try_from(self.config.clone())
            .map_err(|e| format!("building a kube client: {e}"))?;
        loop {
            self.check_running("kube-apiserver")?;
            let request = http::Request::get("/readyz")
                .body(Vec::new())
                .expect("a valid request");
            let last_error = match client.request_text(request).await {
                Ok(body) if body.trim() == "ok" => return Ok(()),
                Ok(body) => body,
                Err(e) => e.to_string(),
            };
            if started.elapsed() > READY_TIMEOUT {
                let detail = format!("not ready after {READY_TIMEOUT:?}: {last_error}");
                return Err(self.lock_processes()["kube-apiserver"].failure(&detail));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn controller_manager_args(&self) -> Vec<OsString> {
        let file = |name: &str| self.work.join(name).display().to_string();
        [
            format!("--kubeconfig={}", self.kubeconfig.display()),
            "--leader-elect=false".into(),
            "--use-service-account-credentials=true".into(),
            format!("--service-account-private-key-file={}", file("sa.key")),
            format!("--root-ca-file={}", file("ca.crt")),
            format!("--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}"),
            // What workloads need to get pods and be cleaned up; node-lifecycle lifts the
            // not-ready taint from the fake nodes once kwok reports them Ready.
            [
                "serviceaccount-controller",
                "serviceaccount-token-controller",
                "namespace-controller",
                "garbage-collector-controller",
                // Fills the aggregated admin/edit/view roles that RBAC tests bind to.
                "clusterrole-aggregation-controller",
                "deployment-controller",
                "replicaset-controller",
                "statefulset-controller",
                "daemonset-controller",
                "job-controller",
                "cronjob-controller",
                "disruption-controller",
                "endpoints-controller",
                "endpointslice-controller",
                "horizontal-pod-autoscaler-controller",
                "resourcequota-controller",
                "root-ca-certificate-publisher-controller",
                "ttl-after-finished-controller",
                "pod-garbage-collector-controller",
                "node-lifecycle-controller",
                "taint-eviction-controller",
            ]
            .iter()
            .fold("--controllers=".to_string(), |mut flag, c| {
                if !flag.ends_with('=') {
                    flag.push(',');
                }
                flag.push_str(c);
                flag
            }),
            "--secure-port=0".into(),
        ]
        .into_iter()
        .map(OsString::from)
        .collect()
    }

    fn scheduler_args(&self) -> Vec<OsString> {
        [
            format!("--kubeconfig={}", self.kubeconfig.display()),
            "--leader-elect=false".into(),
            "--secure-port=0".into(),
        ]
        .into_iter()
        .map(OsString::from)
        .collect()
    }

    fn kwok_args(&self) -> Vec<OsString> {
        let stages =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/controlplane/kwok-stages.yaml");
        let (key, value) = FAKE_NODE_ANNOTATION;
        [
            format!("--kubeconfig={}", self.kubeconfig.display()),
            format!("--config={}", stages.display()),
            format!("--manage-nodes-with-annotation-selector={key}={value}"),
            "--cidr=10.244.0.0/16".into(),
            "--node-ip=10.255.0.1".into(),
        ]
        .into_iter()
        .map(OsString::from)
        .collect()
    }

    async fn register_fake_nodes(&self) -> Result<(), String> {
        let nodes = Api::<Node>::all(self.client());
        for name in FAKE_NODES {
            let node: Node = serde_json::from_value(serde_json::json!({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": { FAKE_NODE_ANNOTATION.0: FAKE_NODE_ANNOTATION.1 },
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "type": "kwok",
                    },
                },
            }))
            .expect("a valid Node");
            nodes
                .patch(
                    name,
                    &PatchParams::apply(FIELD_MANAGER).force(),
                    &Patch::Apply(&node),
                )
                .await
                .map_err(|e| format!("registering fake node {name}: {e}"))?;
        }
        Ok(())
    }

    async fn wait_nodes_schedulable(&self) -> Result<(), String> {
        let nodes = Api::<Node>::all(self.client());
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            for name in ["kube-controller-manager", "kube-scheduler", "kwok"] {
                self.check_running(name)?;
            }
            let mut pending = Vec::new();
            for name in FAKE_NODES {
                let node = nodes
                    .get(name)
                    .await
                    .map_err(|e| format!("reading node {name}: {e}"))?;
                let ready = node
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
                let tainted = node
                    .spec
                    .as_ref()
                    .and_then(|s| s.taints.as_ref())
                    .is_some_and(|ts| {
                        ts.iter()
                            .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
                    });
                if !ready || tainted {
                    pending.push(format!("{name} (ready: {ready}, tainted: {tainted})"));
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "fake nodes not schedulable after {READY_TIMEOUT:?}: {}; see the logs in {}",
                    pending.join(", "),
                    self.logs.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let mut processes = self.lock_processes();
        // Reverse start order: clients of the apiserver first, etcd last.
        for name in [
            "kwok",
            "kube-scheduler",
            "kube-controller-manager",
            "kube-apiserver",
            "etcd",
        ] {
            if let Some(process) = processes.get_mut(name) {
                process.kill();
            }
        }
        drop(processes);
        let _ = fs::remove_dir_all(&self.work);
        registry().dirs.retain(|d| d != &self.work);
    }
}

/// One control plane process; kept so it can be started again with the same arguments.
struct Process {
    name: &'static str,
    program: PathBuf,
    args: Vec<OsString>,
    log: PathBuf,
    child: Option<Child>,
}

impl Process {
    fn spawn(&mut self) -> Result<(), String> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("opening {}: {e}", self.log.display()))?;
        let mut command = Command::new(&self.program);
        command.args(&self.args).stdin(Stdio::null());
        let clone = |f: &File| f.try_clone().map_err(|e| format!("log file handle: {e}"));
        command.stdout(clone(&log)?).stderr(log);
        let child = spawn_tied_to_test_process(command)
            .map_err(|e| format!("starting {}: {e}", self.program.display()))?;
        registry().pids.insert(child.id());
        self.child = Some(child);
        Ok(())
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            registry().pids.remove(&child.id());
        }
    }

    /// A start-up failure message that names the log and quotes its end.
    fn failure(&self, what: &str) -> String {
        let mut tail = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let lines: Vec<&str> = text.lines().collect();
            tail = lines[lines.len().saturating_sub(30)..].join("\n");
        }
        format!(
            "{} {what}; log: {}\n--- last lines ---\n{tail}\n---",
            self.name,
            self.log.display()
        )
    }
}

/// `target/controlplane-logs/<test binary>-<pid>`.
fn log_root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("CARGO_TARGET_TMPDIR is inside the target directory")
            .to_path_buf();
        let exe = std::env::current_exe().ok();
        let stem = exe
            .as_deref()
            .and_then(Path::file_stem)
            .and_then(|s| s.to_str())
            .unwrap_or("tests");
        // Cargo names test binaries `<name>-<16 hex digits>`.
        let binary = match stem.rsplit_once('-') {
            Some((name, hash))
                if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) =>
            {
                name
            }
            _ => stem,
        };
        let root = target.join("controlplane-logs");
        prune_old_logs(&root, 20);
        root.join(format!("{binary}-{}", std::process::id()))
    })
    .clone()
}

/// Keeps the `keep` newest runs' logs: every test binary of every run adds a directory.
fn prune_old_logs(root: &Path, keep: usize) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    let mut runs: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    runs.sort_by_key(|run| std::cmp::Reverse(run.0));
    for (_, dir) in runs.into_iter().skip(keep) {
        let _ = fs::remove_dir_all(dir);
    }
}

/// Removes the work dirs of test binaries that were killed before their exit hook could run
/// (their processes died with them; see [`spawn_tied_to_test_process`]).
fn remove_abandoned_work_dirs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(WORK_DIR_PREFIX)) else {
                continue;
            };
            let Some(Ok(pid)) = rest.split('-').next().map(str::parse::<libc::pid_t>) else {
                continue;
            };
            // SAFETY: signal 0 only checks whether the process exists.
            let alive = unsafe { libc::kill(pid, 0) } == 0
                || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH);
            if !alive {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    });
}

/// Writes to the real stderr: the test harness captures `eprintln!` and shows it only for
/// failing tests, and a skipped suite or a slow start must be visible in every run.
fn say(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("finding a free loopback port: {e}"))
}

fn etcd_healthy(port: u16) -> bool {
    let probe = || -> io::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    };
    probe().is_ok_and(|response| response.contains(r#""health":"true""#))
}

/// Splits a multi-document YAML stream at its `---` separators.
fn yaml_documents(text: &str) -> Vec<&str> {
    let mut documents = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("---") && line[3..].trim().is_empty() {
            documents.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    documents.push(&text[start..]);
    documents
}

/// A CA, the apiserver's serving certificate, the service-account signing key and an admin
/// client certificate (group system:masters), written as PEM files into `dir`.
fn write_pki(dir: &Path) -> Result<(), rcgen::Error> {
    let write = |name: &str, pem: String| {
        fs::write(dir.join(name), pem).map_err(|e| rcgen::Error::PemError(format!("{name}: {e}")))
    };
    let validity = |params: &mut CertificateParams| {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    };

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "prodready-test-ca");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut ca);
    write("ca.crt", ca.self_signed(&ca_key)?.pem())?;
    let issuer = Issuer::new(ca, &ca_key);

    let serving_key = KeyPair::generate()?;
    let mut serving = CertificateParams::new(
        [
            "127.0.0.1",
            "localhost",
            "10.0.0.1",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        ]
        .map(String::from)
        .to_vec(),
    )?;
    serving
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    serving.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut serving);
    write(
        "apiserver.crt",
        serving.signed_by(&serving_key, &issuer)?.pem(),
    )?;
    write("apiserver.key", serving_key.serialize_pem())?;

    let admin_key = KeyPair::generate()?;
    let mut admin = CertificateParams::new(Vec::<String>::new())?;
    admin.distinguished_name = rcgen::DistinguishedName::new();
    admin
        .distinguished_name
        .push(DnType::CommonName, "prodready-test-admin");
    admin
        .distinguished_name
        .push(DnType::OrganizationName, "system:masters");
    admin.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    admin.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    validity(&mut admin);
    write("admin.crt", admin.signed_by(&admin_key, &issuer)?.pem())?;
    write("admin.key", admin_key.serialize_pem())?;

    let sa_key = KeyPair::generate()?;
    write("sa.key", sa_key.serialize_pem())?;
    write("sa.pub", sa_key.public_key_pem())?;
    Ok(())
}

fn write_kubeconfig(path: &Path, work: &Path, port: u16) -> io::Result<()> {
    let file = |name: &str| work.join(name).display().to_string();
    let kubeconfig = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{
            "name": "prodready-test",
            "cluster": {
                "server": format!("https://127.0.0.1:{port}"),
                "certificate-authority": file("ca.crt"),
            },
        }],
        "users": [{
            "name": "admin",
            "user": {
                "client-certificate": file("admin.crt"),
                "client-key": file("admin.key"),
            },
        }],
        "contexts": [{
            "name": "prodready-test",
            "context": { "cluster": "prodready-test", "user": "admin", "namespace": "default" },
        }],
        "current-context": "prodready-test",
        "preferences": {},
    });
    let yaml = serde_yaml_ng::to_string(&kubeconfig).map_err(io::Error::other)?;
    fs::write(path, yaml)
}

/// What must go when the test binary exits: statics are never dropped, so the shared control
/// plane is cleaned up by an `atexit` hook.
#[derive(Default)]
struct Registry {
    pids: HashSet<u32>,
    dirs: Vec<PathBuf>,
}

fn registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // SAFETY: registers a plain function; it runs once, during exit.
        unsafe {
            libc::atexit(clean_up_at_exit);
        }
    });
    REGISTRY
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

extern "C" fn clean_up_at_exit() {
    let mut registry = registry();
    for &pid in &registry.pids {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            continue;
        };
        // SAFETY: these are our own children, not yet reaped, so the pids are still theirs.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
    registry.pids.clear();
    for dir in registry.dirs.drain(..) {
        let _ = fs::remove_dir_all(dir);
    }
}

/// Spawns `command` from one long-lived thread, with the kernel told to kill the child when
/// that thread dies. `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits,
/// and test threads end with their test, so the forking thread must be one that lives as long
/// as the test binary; then a test binary that is killed outright leaves no orphans.
fn spawn_tied_to_test_process(mut command: Command) -> io::Result<Child> {
    type Request = (Command, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Request>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("controlplane-spawner".into())
            .spawn(move || {
                for (mut command, reply) in receiver {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("starting the control plane spawner thread");
        sender
    });
    let parent = libc::pid_t::try_from(std::process::id()).expect("a pid fits pid_t");
    // SAFETY: the closure only makes async-signal-safe system calls.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The test binary may have died between fork and prctl.
            if libc::getppid() != parent {
                return Err(io::Error::other("the test binary exited"));
            }
            Ok(())
        });
    }
    let (reply, response) = mpsc::channel();
    spawner
        .send((command, reply))
        .map_err(|_| io::Error::other("the spawner thread is gone"))?;
    response
        .recv()
        .map_err(|_| io::Error::other("the spawner thread is gone"))?
}
