//! Routes that are not pages, and request plumbing.

pub mod client_script;
pub mod headers;
pub mod operations;
pub mod origin;
pub mod own_request;
