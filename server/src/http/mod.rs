//! Routes that are not pages.

pub mod client_script;
