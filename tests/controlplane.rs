//! The test control plane itself: a real kube-apiserver that stores, validates, watches, survives
//! restarts, runs workloads on fake nodes, and answers kubectl and helm.

mod support;

use support::eventually;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
};
use kube::runtime::{WatchStreamExt, watcher};

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": name, "labels": { "app": name } },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [{ "name": "app", "image": "registry.example/app:1.0" }] },
            },
        },
    }))
    .expect("a valid Deployment")
}

/// Waits for `check` to return `Some`, polling; panics with `what` after `timeout`.
#[tokio::test]
async fn apiserver_reports_the_pinned_version() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let info = cp.client().apiserver_version().await.expect("GET /version");
    assert_eq!(
        info.git_version,
        support::controlplane::kubernetes_version()
    );
}

#[tokio::test]
async fn stores_reads_back_and_watches_a_deployment() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let client = cp.client();
    let ns = cp.namespace("deployment-round-trip").await;

    let namespace = Api::<Namespace>::all(client.clone())
        .get(&ns)
        .await
        .expect("namespace exists");
    assert_eq!(namespace.metadata.name.as_deref(), Some(ns.as_str()));

    let deployments = Api::<Deployment>::namespaced(client, &ns);
    deployments
        .create(&PostParams::default(), &deployment("web", 2))
        .await
        .expect("create");
    let stored = deployments.get("web").await.expect("read back");
    assert_eq!(stored.spec.as_ref().and_then(|s| s.replicas), Some(2));
    assert!(stored.metadata.uid.is_some(), "the server assigned a uid");

    let config = watcher::Config::default().fields("metadata.name=web");
    let mut updates = watcher(deployments.clone(), config)
        .applied_objects()
        .boxed();
    let first = tokio::time::timeout(Duration::from_secs(30), updates.try_next())
        .await
        .expect("initial list within 30s")
        .expect("watch works")
        .expect("the deployment is listed");
    assert_eq!(first.spec.as_ref().and_then(|s| s.replicas), Some(2));

    let patch = serde_json::json!({ "metadata": { "labels": { "tier": "frontend" } }, "spec": { "replicas": 3 } });
    deployments
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let updated = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(object) = updates.try_next().await.expect("watch works") {
            if object.spec.as_ref().and_then(|s| s.replicas) == Some(3) {
                return object;
            }
        }
        panic!("watch ended");
    })
    .await
    .expect("the update arrives within 30s");
    assert_eq!(
        updated
            .metadata
            .labels
            .unwrap_or_default()
            .get("tier")
            .map(String::as_str),
        Some("frontend")
    );
}

/// A ReadinessReport as a raw object, so the server (not the client's types) judges it.
fn report(name: &str) -> DynamicObject {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "prodready.dev/v1alpha1",
        "kind": "ReadinessReport",
        "metadata": { "name": name },
        "spec": { "workloadRef": {
            "apiVersion": "apps/v1", "kind": "Deployment", "namespace": "x", "name": name,
        }},
    }))
    .expect("a valid object")
}

/// prodready's CRDs (installed by the harness from `crds/`) are served, and their schemas are
/// enforced by the server: a finding with a severity outside the enum is rejected.
#[tokio::test]
async fn readiness_reports_are_validated_by_the_server() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("crd-validation").await;
    let resource = ApiResource {
        group: "prodready.dev".into(),
        version: "v1alpha1".into(),
        api_version: "prodready.dev/v1alpha1".into(),
        kind: "ReadinessReport".into(),
        plural: "readinessreports".into(),
    };
    let reports = Api::<DynamicObject>::namespaced_with(cp.client(), &ns, &resource);
    reports
        .create(&PostParams::default(), &report("api"))
        .await
        .expect("a valid report is stored");
    let status = |severity: &str| {
        serde_json::json!({ "status": {
            "workload": { "apiVersion": "apps/v1", "kind": "Deployment", "namespace": "x", "name": "api" },
            "score": 72, "verdict": "NeedsAttention",
            "summary": { "critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0 },
            "findings": [{
                "checkId": "probe-readiness-missing", "severity": severity, "result": "fail",
                "category": "Probes", "message": "container \"app\" has no readinessProbe",
            }],
        }})
    };
    let pp = kube::api::PatchParams::default();
    reports
        .patch_status("api", &pp, &kube::api::Patch::Merge(status("high")))
        .await
        .expect("a valid status is stored");
    let stored = reports.get_status("api").await.expect("read back");
    assert_eq!(stored.data["status"]["findings"][0]["severity"], "high");

    match reports
        .patch_status("api", &pp, &kube::api::Patch::Merge(status("catastrophic")))
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422, "{status:?}");
            assert!(
                status.message.contains("severity") && status.message.contains("Unsupported value"),
                "{}",
                status.message
            );
        }
        other => panic!("the server accepted an invalid severity: {other:?}"),
    }
}

#[tokio::test]
async fn watcher_resumes_after_an_apiserver_restart() {
    let Some(cp) = support::dedicated_controlplane().await else {
        return;
    };
    let client = cp.client();
    let ns = cp.namespace("apiserver-restart").await;
    let configmaps = Api::<ConfigMap>::namespaced(client, &ns);
    let mut settings = ConfigMap::default();
    settings.metadata.name = Some("settings".into());
    settings.data = Some([("phase".to_string(), "before".to_string())].into());
    configmaps
        .create(&PostParams::default(), &settings)
        .await
        .expect("create");

    // Watch in a task of its own so the stream keeps being polled while the apiserver is down.
    let (seen, mut phases) = tokio::sync::mpsc::unbounded_channel();
    let stream = watcher(configmaps.clone(), watcher::Config::default()).default_backoff();
    let watch = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            let phase = match event {
                Ok(watcher::Event::Apply(cm) | watcher::Event::InitApply(cm)) => cm
                    .data
                    .and_then(|d| d.get("phase").cloned())
                    .unwrap_or_default(),
                Ok(_) => continue,
                Err(e) => format!("error: {e}"),
            };
            if seen.send(phase).is_err() {
                break;
            }
        }
    });
    let next_phase = async |phases: &mut tokio::sync::mpsc::UnboundedReceiver<String>| {
        tokio::time::timeout(Duration::from_secs(60), phases.recv())
            .await
            .expect("a watch event within 60s")
            .expect("the watch task is running")
    };
    assert_eq!(next_phase(&mut phases).await, "before");

    cp.stop_apiserver();
    tokio::time::sleep(Duration::from_secs(2)).await;
    cp.start_apiserver().await;
    configmaps
        .patch(
            "settings",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "data": { "phase": "after-restart" } })),
        )
        .await
        .expect("patch after the restart");

    let mut errors = 0;
    loop {
        let phase = next_phase(&mut phases).await;
        if phase == "after-restart" {
            break;
        }
        if phase.starts_with("error: ") {
            errors += 1;
        }
    }
    assert!(errors > 0, "the watch never noticed the apiserver was gone");
    watch.abort();
}

#[tokio::test]
async fn rbac_is_enforced_for_impersonated_identities() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("rbac").await;
    let user = format!("system:serviceaccount:{ns}:reader");
    let groups = ["system:serviceaccounts", "system:authenticated"];
    let as_reader = || Api::<ConfigMap>::namespaced(cp.client_as(&user, &groups), &ns);

    match as_reader().list(&ListParams::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{status:?}"),
        other => panic!("an identity without bindings could list configmaps: {other:?}"),
    }

    let role: Role = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "configmap-reader" },
        "rules": [{ "apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"] }],
    }))
    .expect("a valid Role");
    let binding: RoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "configmap-reader" },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "configmap-reader" },
        "subjects": [{ "kind": "ServiceAccount", "name": "reader", "namespace": ns }],
    }))
    .expect("a valid RoleBinding");
    let admin = cp.client();
    Api::<Role>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &role)
        .await
        .expect("create role");
    Api::<RoleBinding>::namespaced(admin, &ns)
        .create(&PostParams::default(), &binding)
        .await
        .expect("create binding");

    as_reader()
        .list(&ListParams::default())
        .await
        .expect("the bound identity may list");
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("nope".into());
    match as_reader().create(&PostParams::default(), &cm).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{status:?}"),
        other => panic!("a read-only identity could create: {other:?}"),
    }
}

#[tokio::test]
async fn kubectl_and_helm_use_the_written_kubeconfig() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    let ns = cp.namespace("kubectl").await;

    let output = cp
        .kubectl()
        .args(["get", "namespace", &ns, "-o", "name"])
        .output()
        .expect("run kubectl");
    assert!(
        output.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("namespace/{ns}")
    );

    let output = cp
        .kubectl()
        .args(["version", "-o", "json"])
        .output()
        .expect("run kubectl");
    assert!(
        output.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let version: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("kubectl version JSON");
    let expected = support::controlplane::kubernetes_version();
    assert_eq!(version["serverVersion"]["gitVersion"], expected);
    assert_eq!(version["clientVersion"]["gitVersion"], expected);

    let output = cp
        .helm()
        .args(["list", "--namespace", &ns, "--output", "json"])
        .output()
        .expect("run helm");
    assert!(
        output.status.success(),
        "helm failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "[]");
}

#[tokio::test]
async fn deployments_get_running_pods_on_fake_nodes_and_are_garbage_collected() {
    let Some(cp) = support::controlplane().await else {
        return;
    };
    cp.start_workload_controllers().await;
    let client = cp.client();
    let ns = cp.namespace("workloads").await;
    let deployments = Api::<Deployment>::namespaced(client.clone(), &ns);
    deployments
        .create(&PostParams::default(), &deployment("api", 2))
        .await
        .expect("create");

    eventually("2 ready replicas", Duration::from_secs(90), || async {
        let status = deployments.get("api").await.ok()?.status?;
        (status.ready_replicas == Some(2)).then_some(())
    })
    .await;
    let pods = Api::<k8s_openapi::api::core::v1::Pod>::namespaced(client.clone(), &ns)
        .list(&ListParams::default().labels("app=api"))
        .await
        .expect("list pods");
    assert_eq!(pods.items.len(), 2);
    for pod in &pods.items {
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .unwrap_or_default();
        assert!(
            support::controlplane::FAKE_NODES.contains(&node),
            "scheduled on {node:?}"
        );
        assert_eq!(
            pod.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Running")
        );
    }

    deployments
        .delete("api", &DeleteParams::background())
        .await
        .expect("delete");
    let replicasets = Api::<ReplicaSet>::namespaced(client, &ns);
    eventually(
        "the ReplicaSet to be garbage-collected",
        Duration::from_secs(60),
        || async {
            replicasets
                .list(&ListParams::default())
                .await
                .ok()?
                .items
                .is_empty()
                .then_some(())
        },
    )
    .await;
}
