//! A kube client from `--kubeconfig` / `--context`, or the usual defaults.

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::{ClusterArgs, Error};
use crate::engine::PolicySet;
use crate::live::{LiveState, read, watch, write};
use crate::workload::WorkloadObject;
use crate::world::World;

/// What one read of the cluster found.
pub struct Snapshot {
    pub workloads: Vec<WorkloadObject>,
    pub world: World,
    pub policies: PolicySet,
    /// Kinds that could not be listed (their checks skip).
    pub warnings: Vec<String>,
}

/// Lists every kind the World needs, in `namespace` or everywhere, concurrently.
pub async fn snapshot(client: Client, namespace: Option<String>) -> Result<Snapshot, Error> {
    // A cluster that cannot be reached at all is an error, not a list of skipped kinds.
    client
        .apiserver_version()
        .await
        .map_err(Error::Unreachable)?;
    let state = LiveState::new();
    let scope = watch::Scope { namespace };
    let optional = watch::discover_optional(&client).await;
    let lists = watch::watches(&client, &scope, &optional)
        .into_iter()
        .map(|spec| watch::list_once(spec, &state));
    let mut warnings: Vec<String> = futures::future::join_all(lists)
        .await
        .into_iter()
        .filter_map(|r| r.err())
        .map(|e| format!("cannot list {e}"))
        .collect();
    let workloads = {
        let store = read(&state.workloads);
        let mut keys: Vec<_> = store.keys().cloned().collect();
        keys.sort();
        let mut workloads = Vec::with_capacity(keys.len());
        for key in &keys {
            match store.get(key).map(|w| w.object()) {
                Some(Ok(object)) => workloads.push(object),
                Some(Err(e)) => warnings.push(format!("{key}: {e}")),
                None => {}
            }
        }
        workloads
    };
    let world = std::mem::take(&mut *write(&state.world));
    let policies = read(&state.policies).clone();
    Ok(Snapshot {
        workloads,
        world,
        policies,
        warnings,
    })
}

pub async fn client(args: &ClusterArgs) -> Result<Client, Error> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig =
                Kubeconfig::read_from(path).map_err(|source| Error::ReadKubeconfig {
                    path: path.clone(),
                    source,
                })?;
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|source| Error::Kubeconfig {
                    path: path.clone(),
                    source,
                })?
        }
        None if args.context.is_some() => Config::from_kubeconfig(&options)
            .await
            .map_err(Error::Context)?,
        None => Config::infer().await.map_err(Error::NoConfiguration)?,
    };
    Client::try_from(config).map_err(Error::Client)
}
