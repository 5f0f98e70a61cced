//! prodready: production readiness, judged continuously.
//!
//! The engine (`engine`, `checks`, `world`, `workload`) is pure: no I/O, no async, no client.
//! The CLI, controller and webhook feed it.

pub mod api;
pub mod checks;
pub mod cli;
pub mod controller;
pub mod engine;
pub mod health;
pub mod input;
pub mod live;
pub mod memory;
pub mod output;
pub mod parallel;
#[cfg(test)]
pub(crate) mod testing;
pub mod text;
pub mod webhook;
pub mod workload;
pub mod world;
