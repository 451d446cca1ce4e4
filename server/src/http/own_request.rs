//! Gives a Socket.IO request its own copy of its URI and headers.
//!
//! hyper parses a request's URI and header values as slices of the connection's read buffer
//! (8 to 16 KiB), and engineioxide keeps every socket's request parts for the socket's lifetime,
//! so each open connection pinned a whole read buffer for a few hundred bytes of headers: about
//! half of an idle connection's memory (see docs/BENCHMARKS.md). Copying them at the handshake
//! releases the buffer.

use axum::{
    extract::{OriginalUri, Request},
    http::{HeaderMap, HeaderValue, Uri},
};

/// Only the engine's requests are kept; others need not pay for the copy.
pub async fn own_request(mut request: Request) -> Request {
    if super::is_engine_path(request.uri().path()) {
        let uri = owned_uri(request.uri());
        // axum's router keeps a copy of the URI as it came, a slice of the same buffer.
        if let Some(OriginalUri(original)) = request.extensions_mut().get_mut::<OriginalUri>() {
            *original = uri.clone();
        }
        *request.uri_mut() = uri;
        let headers = std::mem::take(request.headers_mut());
        *request.headers_mut() = owned_headers(headers);
    }
    request
}

fn owned_uri(uri: &Uri) -> Uri {
    // Parsing from a string copies it into a fresh allocation; a URI that parsed once parses
    // again, and if it somehow did not, keeping the shared one only costs memory.
    uri.to_string().parse().unwrap_or_else(|_| uri.clone())
}

fn owned_headers(headers: HeaderMap) -> HeaderMap {
    let mut owned = HeaderMap::with_capacity(headers.len());
    let mut name = None;
    // `into_iter` yields a name once for a run of values under it.
    for (next, value) in headers {
        if next.is_some() {
            name = next;
        }
        let Some(name) = name.clone() else { continue };
        let value = HeaderValue::from_bytes(value.as_bytes())
            .map(|mut copy| {
                copy.set_sensitive(value.is_sensitive());
                copy
            })
            .unwrap_or(value);
        owned.append(name, value);
    }
    owned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_keep_every_value_of_every_name_in_order() {
        let mut headers = HeaderMap::new();
        headers.append("cookie", HeaderValue::from_static("a=1"));
        headers.append("cookie", HeaderValue::from_static("b=2"));
        headers.insert("origin", HeaderValue::from_static("http://127.0.0.1:3000"));
        let owned = owned_headers(headers.clone());
        assert_eq!(owned, headers);
        let cookies: Vec<_> = owned.get_all("cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
    }

    #[test]
    fn a_uri_keeps_its_path_and_query() {
        let uri: Uri = "/socket.io/?EIO=4&transport=websocket&sid=abc"
            .parse()
            .unwrap();
        assert_eq!(owned_uri(&uri), uri);
    }
}
