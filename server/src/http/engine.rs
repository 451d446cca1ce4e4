//! Engine.IO requests, before the engine sees them: a new session is admitted (or refused) by
//! flood control and counts against its address for as long as it lives
//! ([`crate::flood::Arrival`]); a request of a session the chat closed is refused
//! ([`super::transports`]).

use axum::{
    extract::{Request, State},
    http::{header::CONTENT_TYPE, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{is_engine_path, transports::Transports};
use crate::flood::Flood;

/// What the middleware needs.
#[derive(Clone)]
pub struct Gate {
    pub flood: Flood,
    pub transports: Transports,
}

/// Engine.IO's own answer for a session it does not know (`code` 1).
const UNKNOWN_SESSION: &str = r#"{"code":1,"message":"Session ID unknown"}"#;

pub async fn gate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    if !is_engine_path(request.uri().path()) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let query = Query::of(parts.uri.query().unwrap_or_default());
    match query.sid {
        Some(sid) if !gate.transports.note(sid, query.transport, &parts) => {
            let json = [(CONTENT_TYPE, "application/json")];
            return (StatusCode::BAD_REQUEST, json, UNKNOWN_SESSION).into_response();
        }
        Some(_) => {}
        // A handshake: a new session.
        None if query.transport.is_some() => {
            let address = gate.flood.address_of(&parts);
            let Some(arrival) = gate.flood.arrive(address) else {
                let why = protocol::HandshakeError::TooManyConnections.to_string();
                return (StatusCode::TOO_MANY_REQUESTS, why).into_response();
            };
            parts.extensions.insert(arrival);
        }
        // Not an Engine.IO request: the engine refuses it.
        None => {}
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The query parameters that matter here.
struct Query<'a> {
    sid: Option<&'a str>,
    transport: Option<&'a str>,
}

impl<'a> Query<'a> {
    fn of(query: &'a str) -> Self {
        let value = |name: &str| {
            query.split('&').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                (key == name).then_some(value)
            })
        };
        Self {
            sid: value("sid"),
            transport: value("transport"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Query;

    #[test]
    fn a_query_gives_its_session_and_transport() {
        let query = Query::of("EIO=4&transport=websocket&sid=abc-_1");
        assert_eq!(
            (query.sid, query.transport),
            (Some("abc-_1"), Some("websocket"))
        );
        let handshake = Query::of("EIO=4&transport=polling&t=Pabc");
        assert_eq!(
            (handshake.sid, handshake.transport),
            (None, Some("polling"))
        );
        assert_eq!(Query::of("").transport, None);
    }
}
