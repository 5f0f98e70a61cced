//! Checks of this category.

use super::Check;

pub const CHECKS: &[Check] = &[];
