//! Routes that are not pages, and request plumbing.

pub mod client_script;
pub mod operations;
pub mod own_request;
