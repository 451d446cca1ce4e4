//! Routes that are not pages, and request plumbing.

pub mod client_script;
pub mod content_coding;
#[cfg(feature = "embedded-site")]
pub mod embedded_site;
pub mod engine;
pub mod headers;
pub mod operations;
pub mod origin;
pub mod own_request;
pub mod request_log;
pub mod transports;

use protocol::ENGINE_PATH;

/// Whether the engine serves `path`: exactly [`ENGINE_PATH`], or anything under it (with or
/// without its trailing `/`): every check on the engine's requests must cover both.
pub fn is_engine_path(path: &str) -> bool {
    path.strip_prefix(ENGINE_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::is_engine_path;

    #[test]
    fn the_engine_path_with_or_without_its_slash() {
        for path in ["/socket.io", "/socket.io/", "/socket.io/socket.io.js"] {
            assert!(is_engine_path(path), "{path}");
        }
        for path in ["/", "/socket.iox", "/sala/socket.io", "/api/enviar"] {
            assert!(!is_engine_path(path), "{path}");
        }
    }
}
