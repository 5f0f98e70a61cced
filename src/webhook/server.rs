//! HTTPS for the apiserver: `/validate` answers AdmissionReviews. Every connection is served
//! on its own task, so a slow or broken client never holds up the others.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionReview, Operation};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::review::{Admission, Admitted, Decision, decide_on};
use super::{Error, Webhook, leftovers, wire};

/// The largest body read. An AdmissionReview carries the object and its old version; etcd
/// refuses objects over 1.5 MiB, so anything far beyond that is not a review.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// A client that has not finished its TLS handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router(webhook: Arc<Webhook>) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(webhook)
}

/// Accepts TLS connections until the task is aborted. Connections are tasks of a set owned
/// here, so aborting the server also closes the keep-alive connections the apiserver holds:
/// a stopped webhook must look stopped.
pub async fn serve(listener: TcpListener, tls: Arc<rustls::ServerConfig>, app: Router) {
    let acceptor = TlsAcceptor::from(tls);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors and the like: wait a moment rather than spin.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Small answers on a kept-alive connection: never hold them back for coalescing.
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(app.clone());
        connections.spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

fn bad_request(webhook: &Webhook, error: Error) -> Response {
    let message = error.to_string();
    webhook.metrics.invalid.inc();
    tracing::warn!(%message, "invalid admission request");
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

async fn validate(State(webhook): State<Arc<Webhook>>, request: Request) -> Response {
    let started = Instant::now();
    let body: Bytes = match axum::body::to_bytes(request.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(source) => {
            return bad_request(
                &webhook,
                Error::Body {
                    limit_mib: MAX_BODY / (1024 * 1024),
                    source,
                },
            );
        }
    };
    let answer = match answer(&webhook, &body, started) {
        Ok(a) => a,
        Err(message) => return bad_request(&webhook, message),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(answer),
    )
        .into_response()
}

/// The answer to one AdmissionReview body, as JSON; `Err` with the reason for a body that is
/// not a review (answered 400). Records the review in the metrics.
pub fn answer(webhook: &Webhook, body: &[u8], started: Instant) -> Result<Vec<u8>, Error> {
    // The reviews the apiserver sends take the fast path; anything else, including every body
    // that is wrong, is read the general way, which says what is wrong.
    match wire::read(body) {
        Some(review) => {
            let request = &review.request;
            let head = Head {
                api_version: &review.api_version,
                kind: &review.kind,
                uid: &request.uid,
                dry_run: request.dry_run,
            };
            let answer = respond(webhook, &head, &request.admission(), started);
            leftovers::free_later(review);
            Ok(answer)
        }
        None => answer_general(webhook, body, started),
    }
}

/// [`answer`], reading the body into kube's generic AdmissionReview.
fn answer_general(webhook: &Webhook, body: &[u8], started: Instant) -> Result<Vec<u8>, Error> {
    let review: AdmissionReview<DynamicObject> =
        serde_json::from_slice(body).map_err(Error::NotAReview)?;
    let request: AdmissionRequest<DynamicObject> = review.try_into().map_err(Error::NoRequest)?;
    let head = Head {
        api_version: &request.types.api_version,
        kind: &request.types.kind,
        uid: &request.uid,
        dry_run: request.dry_run,
    };
    Ok(respond(webhook, &head, &Admission::from(&request), started))
}

/// What the answer and the log take from a review besides the request proper.
struct Head<'a> {
    /// The review's own `apiVersion` and `kind`, which the answer repeats.
    api_version: &'a str,
    kind: &'a str,
    uid: &'a str,
    dry_run: bool,
}

/// Judges a request, records it, and writes the answer.
fn respond<O: Admitted>(
    webhook: &Webhook,
    head: &Head<'_>,
    request: &Admission<'_, O>,
    started: Instant,
) -> Vec<u8> {
    let decision = judge(webhook, request);
    let kind = request.kind.kind.as_str();
    let operation = operation_name(request.operation);
    webhook
        .metrics
        .record(kind, operation, &decision, started.elapsed().as_secs_f64());
    if decision.judged() {
        tracing::info!(kind, namespace = request.namespace.unwrap_or(""),
            name = %request.name, operation, decision = decision.label(),
            dry_run = head.dry_run, warnings = decision.warnings().len(), "admission review");
    }
    let answer = wire::encode(head.api_version, head.kind, head.uid, &decision);
    leftovers::free_later(decision);
    answer
}

/// Decides, and allows when deciding panicked: a bug in a check must never block a deploy.
fn judge<O: Admitted>(webhook: &Webhook, request: &Admission<'_, O>) -> Decision {
    let now = jiff::Timestamp::now();
    match std::panic::catch_unwind(AssertUnwindSafe(|| {
        decide_on(request, &webhook.state, &webhook.exclusions, now)
    })) {
        Ok(d) => d,
        Err(_) => {
            tracing::error!(kind = %request.kind.kind, name = %request.name,
                "judging an admission request panicked; allowed");
            Decision::NotJudged {
                note: Some(
                    "prodready: not judged: an internal error occurred (see the operator log)"
                        .to_string(),
                ),
            }
        }
    }
}

/// The operation as the review metrics label it: the AdmissionRequest's own spelling.
pub fn operation_name(op: &Operation) -> &'static str {
    match op {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ReadinessPolicy, ReadinessPolicySpec, Severity, WebhookMode, WebhookPolicy};
    use crate::engine::{CompiledPolicy, PolicySet};
    use crate::live::LiveState;
    use crate::webhook::{Exclusions, WebhookMetrics};

    /// A real review: a privileged Deployment created in namespace `shop`.
    pub(crate) const REVIEW: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
"request":{"uid":"6f1d","kind":{"group":"apps","version":"v1","kind":"Deployment"},
"resource":{"group":"apps","version":"v1","resource":"deployments"},"name":"api","namespace":"shop",
"operation":"CREATE","userInfo":{"username":"alice"},"dryRun":false,
"object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"shop"},
"spec":{"replicas":2,"selector":{"matchLabels":{"app":"api"}},"template":{"metadata":{"labels":{"app":"api"}},
"spec":{"containers":[{"name":"app","image":"registry.example.com/api:1.0","securityContext":{"privileged":true}}]}}}}}}"#;

    fn webhook() -> Webhook {
        let state = LiveState::new();
        state.sync.expect(["Deployment".to_string()]);
        state.sync.mark_synced("Deployment");
        Webhook {
            state,
            exclusions: Exclusions::new(None),
            metrics: WebhookMetrics::register(&prometheus::Registry::new()),
        }
    }

    /// Under an Enforce policy refusing critical failures: answers carry refusals too.
    fn enforcing() -> Webhook {
        let webhook = webhook();
        let policy = ReadinessPolicy::new(
            "strict",
            ReadinessPolicySpec {
                webhook: WebhookPolicy {
                    mode: WebhookMode::Enforce,
                    deny_severity: Severity::Critical,
                    ..WebhookPolicy::default()
                },
                ..ReadinessPolicySpec::default()
            },
        );
        *crate::live::write(&webhook.state.policies) =
            PolicySet::new(vec![CompiledPolicy::from_resource(&policy).unwrap()]);
        webhook
    }

    /// REVIEW with its object replaced, written as the apiserver writes objects: `kind` and
    /// `apiVersion` first, then metadata with server-set fields, spec and an empty status.
    fn review_of(operation: &str, object: &str, old: &str) -> String {
        REVIEW
            .replace("\"CREATE\"", &format!("\"{operation}\""))
            .replace(
                &REVIEW[REVIEW.find("\"object\"").unwrap()..REVIEW.len() - 2],
                &format!("\"object\":{object},\"oldObject\":{old}"),
            )
    }

    fn deployment(container: &str, extra_spec: &str) -> String {
        format!(
            r#"{{"kind":"Deployment","apiVersion":"apps/v1","metadata":{{"name":"api",
"uid":"1c0e","resourceVersion":"81","generation":1,"creationTimestamp":"2025-01-02T03:04:05Z",
"labels":{{"app":"api"}},"managedFields":[{{"manager":"kubectl","operation":"Update",
"apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":{{"f:spec":{{}}}}}}]}},
"spec":{{"replicas":3,"selector":{{"matchLabels":{{"app":"api"}}}},"template":{{"metadata":
{{"creationTimestamp":null,"labels":{{"app":"api"}}}},"spec":{{{extra_spec}"containers":[{container}],
"restartPolicy":"Always"}}}},"strategy":{{"type":"RollingUpdate"}}}},"status":{{}}}}"#
        )
    }

    const PLAIN: &str =
        r#"{"name":"app","image":"registry.example.com/api:1.0","ports":[{"containerPort":8080}]}"#;
    const PRIVILEGED: &str = r#"{"name":"app","image":"registry.example.com/api:1.0","securityContext":{"privileged":true}}"#;

    #[test]
    fn the_apiserver_s_reviews_take_the_fast_path_and_get_the_general_answer() {
        let pod = r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"api-7d9f-x2","namespace":"shop",
"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"api-7d9f","uid":"9",
"controller":true}]},"spec":{"containers":[{"name":"app","image":"i","securityContext":{"privileged":true}}]}}"#;
        let bodies = [
            REVIEW.to_string(),
            review_of("CREATE", &deployment(PRIVILEGED, ""), "null"),
            review_of("CREATE", &deployment(PLAIN, ""), "null"),
            // Scaling a legacy violator passes; adding a violation is refused.
            review_of(
                "UPDATE",
                &deployment(PRIVILEGED, ""),
                &deployment(PRIVILEGED, ""),
            ),
            review_of(
                "UPDATE",
                &deployment(PRIVILEGED, r#""hostNetwork":true,"#),
                &deployment(PRIVILEGED, ""),
            ),
            review_of("DELETE", "null", &deployment(PRIVILEGED, "")),
            review_of("CREATE", pod, "null"),
        ];
        for body in &bodies {
            assert!(wire::read(body.as_bytes()).is_some(), "{body}");
            for webhook in [webhook(), enforcing()] {
                let fast = answer(&webhook, body.as_bytes(), Instant::now()).unwrap();
                let general = answer_general(&webhook, body.as_bytes(), Instant::now()).unwrap();
                assert_eq!(
                    String::from_utf8(fast).unwrap(),
                    String::from_utf8(general).unwrap()
                );
            }
        }
        let refused = |body: &str| {
            let answer = answer(&enforcing(), body.as_bytes(), Instant::now()).unwrap();
            let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            (
                answer["response"]["allowed"] == false,
                answer["response"]["status"]["code"].clone(),
            )
        };
        assert_eq!(refused(&bodies[1]), (true, serde_json::json!(403)));
        assert_eq!(refused(&bodies[3]), (false, serde_json::Value::Null));
        assert_eq!(refused(&bodies[4]), (true, serde_json::json!(403)));
    }

    #[test]
    fn other_bodies_are_read_the_general_way() {
        let object = deployment(PRIVILEGED, "");
        let bodies = [
            // A field before the object's type, the type given twice, a kind the fast path
            // does not decode, a nameless object, a review that already carries an answer.
            review_of("CREATE", &object.replacen('{', r#"{"x":1,"#, 1), "null"),
            review_of(
                "CREATE",
                &object.replace(
                    r#""spec":{"replicas""#,
                    r#""kind":"Deployment","spec":{"replicas""#,
                ),
                "null",
            ),
            review_of(
                "CREATE",
                r#"{"kind":"Service","apiVersion":"v1","metadata":{"name":"api"}}"#,
                "null",
            ),
            review_of("CREATE", &object.replace(r#""name":"api","#, ""), "null"),
            REVIEW.replacen(
                '{',
                r#"{"response":{"uid":"1","allowed":true,"status":{}},"#,
                1,
            ),
        ];
        for body in &bodies {
            assert!(wire::read(body.as_bytes()).is_none(), "{body}");
            answer(&enforcing(), body.as_bytes(), Instant::now()).unwrap();
        }
    }

    /// A Deployment's metadata as the apiserver admits it after `kubectl apply`: its managed
    /// fields, with the time and the tree of the fields each manager set.
    const MANAGED: &str = r#""managedFields":[{"manager":"kubectl-client-side-apply",
"operation":"Update","apiVersion":"apps/v1","time":"2025-01-02T03:04:05Z","fieldsType":"FieldsV1",
"fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},
"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},
"f:name":{}}}}}}}},{"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1",
"time":"2025-01-02T03:04:06Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:replicas":{}}},
"subresource":"status"}]"#;

    /// A CREATE of a Deployment whose `managedFields` are `fields` instead.
    fn managed(fields: &str) -> String {
        let object = deployment(PLAIN, "");
        let start = object.find(r#""managedFields""#).unwrap();
        let end = start + object[start..].find("}]").unwrap() + 2;
        let object = format!("{}{fields}{}", &object[..start], &object[end..]);
        review_of("CREATE", &object, "null")
    }

    #[test]
    fn managed_fields_are_read_through_and_not_kept() {
        let body = managed(MANAGED);
        let review = wire::read(body.as_bytes()).expect("the fast path reads it");
        let object = review.request.object.as_ref().unwrap();
        let workload = object.workload("shop").unwrap().unwrap();
        let meta = workload.meta();
        assert_eq!(meta.managed_fields, None);
        assert_eq!(meta.labels.as_ref().unwrap()["app"], "api");
        assert_eq!(meta.name.as_deref(), Some("api"));
        for webhook in [webhook(), enforcing()] {
            assert_eq!(
                answer(&webhook, body.as_bytes(), Instant::now()).map_err(|e| e.to_string()),
                answer_general(&webhook, body.as_bytes(), Instant::now())
                    .map_err(|e| e.to_string())
            );
        }
        // Entries the typed decoding refuses are refused whichever way the body is read.
        for broken in [
            r#""managedFields":"kubectl""#,
            r#""managedFields":{}"#,
            r#""managedFields":[["kubectl"]]"#,
            r#""managedFields":[{"manager":3}]"#,
            r#""managedFields":[{"time":"yesterday"}]"#,
        ] {
            let body = managed(broken);
            assert!(wire::read(body.as_bytes()).is_none(), "{broken}");
            assert!(
                answer(&webhook(), body.as_bytes(), Instant::now()).is_err(),
                "{broken}"
            );
        }
        // Given twice, the general way keeps the last: the fast path leaves it to that way.
        let twice = managed(&format!("{MANAGED},{MANAGED}"));
        assert!(wire::read(twice.as_bytes()).is_none());
        answer(&enforcing(), twice.as_bytes(), Instant::now()).unwrap();
        // A key written with escapes is the same key.
        let escaped = managed(r#""managed\u0046ields":null,"na\u006de2":"x""#);
        assert!(wire::read(escaped.as_bytes()).is_some());
    }

    #[test]
    fn a_review_is_answered_with_its_uid_and_warnings() {
        let webhook = webhook();
        let answer = answer(&webhook, REVIEW.as_bytes(), Instant::now()).unwrap();
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(answer["kind"], "AdmissionReview");
        assert_eq!(answer["response"]["uid"], "6f1d");
        assert_eq!(answer["response"]["allowed"], true);
        let warnings = answer["response"]["warnings"].as_array().unwrap();
        assert!(warnings.iter().any(|w| {
            w.as_str().unwrap().starts_with(
                "prodready critical security-privileged Deployment/api: container \"app\" is \
                     privileged",
            )
        }));
        assert_eq!(
            webhook
                .metrics
                .reviews
                .with_label_values(&["Deployment", "CREATE", "warn"])
                .get(),
            1
        );
    }

    #[test]
    fn every_truncation_and_corruption_of_a_review_is_answered_or_refused_never_a_panic() {
        let webhook = webhook();
        // The plain review, and one whose metadata carries managed fields.
        let with_managed = managed(MANAGED);
        for body in [REVIEW.as_bytes(), with_managed.as_bytes()] {
            corrupt_every_byte(&webhook, body);
        }
    }

    fn corrupt_every_byte(webhook: &Webhook, body: &[u8]) {
        let mut answered = 0;
        let mut refused = 0;
        // Whichever way a body is read, its answer is the same.
        let mut tally = |body: &[u8]| match answer(webhook, body, Instant::now()) {
            Ok(a) => {
                assert_eq!(
                    Ok(a),
                    answer_general(webhook, body, Instant::now()).map_err(|e| e.to_string())
                );
                answered += 1;
            }
            Err(error) => {
                assert!(!error.to_string().is_empty());
                refused += 1;
            }
        };
        for end in 0..body.len() {
            tally(&body[..end]);
        }
        for i in 0..body.len() {
            for b in [b'"', b'{', b'0', b'x', 0xff, b'-'] {
                let mut corrupt = body.to_vec();
                corrupt[i] = b;
                tally(&corrupt);
            }
        }
        assert!(
            answered > 0 && refused > 0,
            "{answered} answered, {refused} refused"
        );
    }
}
