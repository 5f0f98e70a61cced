//! Rules for reading text that the World's ingestion and the checks share: which annotations
//! are kept, which names and values are credentials, what is a placeholder, what is a URL.
//!
//! A leaf: it imports nothing from the checks or the World, so an env value judged by a check
//! and a ConfigMap value reduced at ingestion go through the same functions.

pub mod annotations;
pub mod credentials;
pub mod names;
pub mod persistence;
pub mod placeholder;
pub mod url;
