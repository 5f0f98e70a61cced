//! Shared by the integration tests: `mod support;` at the top of a test file.

// Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code, unused_imports)]

pub mod controlplane;
pub mod golden;
pub mod https;

pub use controlplane::{ControlPlane, controlplane, dedicated_controlplane};
