//! `/metrics`, `/healthz` and `/readyz` in plain HTTP, for every long-running role.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

/// What a role reports about itself.
pub trait Health: Send + Sync + 'static {
    /// The Prometheus text exposition.
    fn render_metrics(&self) -> String;
    /// What it still waits for before it can do its job; `None` once ready.
    fn waiting_for(&self) -> Option<String>;
}

pub async fn serve(listener: TcpListener, health: Arc<dyn Health>) {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .with_state(health);
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "HTTP server stopped");
    }
}

async fn metrics(State(health): State<Arc<dyn Health>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        health.render_metrics(),
    )
}

async fn ready(State(health): State<Arc<dyn Health>>) -> impl IntoResponse {
    match health.waiting_for() {
        None => (StatusCode::OK, "ready".to_string()),
        Some(waiting) => (StatusCode::SERVICE_UNAVAILABLE, waiting),
    }
}
