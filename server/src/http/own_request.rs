//! Gives a Socket.IO request its own copy of its URI and of the headers read past this layer,
//! and only the extensions read past it.
//!
//! hyper parses a request's URI and header values as slices of the connection's read buffer
//! (8 to 16 KiB), and engineioxide keeps every socket's request parts for the socket's lifetime,
//! so each open connection pinned a whole read buffer for a few hundred bytes of headers: about
//! half of an idle connection's memory (see docs/BENCHMARKS.md). Copying them at the handshake
//! releases the buffer; copying only the [`KEPT_HEADERS`] keeps a browser's dozen others (its
//! user agent, languages, cookies…) out of every socket's memory, and [`kept_extensions`] the
//! router's (the original URI, path parameters).

use axum::{
    extract::{ConnectInfo, Request},
    http::{
        header::{CONTENT_TYPE, SEC_WEBSOCKET_KEY},
        Extensions, HeaderMap, HeaderName, HeaderValue, Uri,
    },
};
use hyper::upgrade::OnUpgrade;

use crate::{
    flood::{Arrival, FORWARDED_FOR},
    http::transports::Peer,
};

/// The headers an engine request keeps: all that is read of it past this layer. The engine
/// reads `Sec-WebSocket-Key` (a websocket's handshake) and `Content-Type` (a long-poll's `POST`)
/// as it answers the request; the chat reads [`FORWARDED_FOR`] from a socket's stored request
/// when the socket connects ([`crate::flood::Flood::address_of`]). A handler that reads another
/// header from `SocketRef::req_parts` needs it added here.
pub const KEPT_HEADERS: [HeaderName; 3] = [SEC_WEBSOCKET_KEY, CONTENT_TYPE, FORWARDED_FOR];

/// Only the engine's requests are kept; others need not pay for the copy.
pub async fn own_request(mut request: Request) -> Request {
    if super::is_engine_path(request.uri().path()) {
        *request.uri_mut() = owned_uri(request.uri());
        let headers = std::mem::take(request.headers_mut());
        *request.headers_mut() = owned_headers(headers);
        *request.extensions_mut() = kept_extensions(request.extensions_mut());
    }
    request
}

fn owned_uri(uri: &Uri) -> Uri {
    // Parsing from a string copies it into a fresh allocation; a URI that parsed once parses
    // again, and if it somehow did not, keeping the shared one only costs memory.
    uri.to_string().parse().unwrap_or_else(|_| uri.clone())
}

/// Moves out of `extensions` the ones read past this layer: hyper's [`OnUpgrade`] (the engine
/// upgrades a websocket with it), the peer (`ConnectInfo<Peer>`: flood control, and closing a
/// websocket's connection) and the engine gate's [`Arrival`]. The rest are the router's (among
/// them axum's copy of the URI as it came, a slice of the connection's read buffer), unread.
fn kept_extensions(extensions: &mut Extensions) -> Extensions {
    fn move_one<T: Clone + Send + Sync + 'static>(from: &mut Extensions, to: &mut Extensions) {
        if let Some(value) = from.remove::<T>() {
            to.insert(value);
        }
    }
    let mut kept = Extensions::new();
    move_one::<OnUpgrade>(extensions, &mut kept);
    move_one::<ConnectInfo<Peer>>(extensions, &mut kept);
    move_one::<Arrival>(extensions, &mut kept);
    kept
}

fn owned_headers(headers: HeaderMap) -> HeaderMap {
    let kept = |name: &HeaderName| KEPT_HEADERS.contains(name);
    let mut owned = HeaderMap::with_capacity(headers.keys().filter(|name| kept(name)).count());
    let mut name = None;
    // `into_iter` yields a name once for a run of values under it.
    for (next, value) in headers {
        if next.is_some() {
            name = next;
        }
        let Some(name) = name.clone().filter(kept) else {
            continue;
        };
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
    fn copies_keep_every_value_of_every_kept_name_in_order() {
        let mut headers = HeaderMap::new();
        headers.append(FORWARDED_FOR, HeaderValue::from_static("203.0.113.9"));
        headers.append(FORWARDED_FOR, HeaderValue::from_static("198.51.100.7"));
        headers.insert(
            SEC_WEBSOCKET_KEY,
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain;charset=UTF-8"),
        );
        let owned = owned_headers(headers.clone());
        assert_eq!(owned, headers);
        let hops: Vec<_> = owned.get_all(FORWARDED_FOR).iter().collect();
        assert_eq!(hops, ["203.0.113.9", "198.51.100.7"]);
    }

    #[test]
    fn copies_leave_out_what_nothing_reads() {
        let mut headers = HeaderMap::new();
        headers.append("cookie", HeaderValue::from_static("a=1"));
        headers.insert("user-agent", HeaderValue::from_static("Mozilla/5.0"));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain;charset=UTF-8"),
        );
        headers.append("cookie", HeaderValue::from_static("b=2"));
        let owned = owned_headers(headers);
        assert_eq!(owned.len(), 1);
        assert_eq!(owned[CONTENT_TYPE], "text/plain;charset=UTF-8");
    }

    #[test]
    fn only_the_extensions_read_later_are_kept() {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 4000));
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(Peer::detached(addr)));
        extensions.insert(axum::extract::OriginalUri(Uri::from_static("/socket.io/")));
        let kept = kept_extensions(&mut extensions);
        assert_eq!(kept.len(), 1);
        let ConnectInfo(kept_peer) = kept.get::<ConnectInfo<Peer>>().unwrap();
        assert_eq!(kept_peer.addr, addr);
    }

    #[test]
    fn a_uri_keeps_its_path_and_query() {
        let uri: Uri = "/socket.io/?EIO=4&transport=websocket&sid=abc"
            .parse()
            .unwrap();
        assert_eq!(owned_uri(&uri), uri);
    }
}
