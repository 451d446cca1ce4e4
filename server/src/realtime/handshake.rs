//! Admission: who the client says it is, checked before it joins the namespace, and who the
//! server says it is ([`crate::identity`]).

use std::sync::Arc;

use protocol::{Credentials, Handshake, HandshakeError, Identity};
use socketioxide::{
    adapter::Adapter,
    extract::{SocketRef, State, TryData},
};

use super::{
    flood::{Admission, Arrival},
    Realtime,
};

/// A connection as admitted: what it said about itself, and who it is.
#[derive(Debug, Clone)]
pub struct Session {
    pub identity: Identity,
    /// Recognised from the handshake's token, or issued now.
    pub credentials: Credentials,
}

impl Session {
    /// The author's public id, as messages, presence and typing name them.
    pub fn person(&self) -> &str {
        &self.credentials.person
    }
}

/// Connect middleware: a malformed name, room, token or offset is refused with a `connect_error`
/// that says which, and so is a session that flood control refused at the engine gate (too many
/// connections or handshakes from its address, a cool-down); a valid handshake is kept on the
/// socket as its [`Session`], with its session's [`Admission`]. A token the server did not
/// issue is not refused: its holder is simply somebody new, like a client without one.
pub async fn identify<A: Adapter>(
    socket: SocketRef<A>,
    TryData(auth): TryData<Handshake>,
    State(realtime): State<Realtime>,
) -> Result<(), HandshakeError> {
    // Auth that is not even an object is as good as none: the seed's clients send nothing.
    let identity = auth.unwrap_or_default().validate()?;
    let admission = match socket.req_parts().extensions.get::<Arrival>() {
        Some(Arrival::Admitted(admission)) => admission.clone(),
        Some(Arrival::Refused { reason, .. }) => return Err(*reason),
        // Every session's handshake passes the engine gate (`http::engine`), which decides.
        None => {
            let address = realtime.flood.address_of(socket.req_parts());
            realtime.flood.admit(address)?
        }
    };
    let credentials = realtime
        .issuer
        .recognise_or_issue(identity.token.as_deref());
    // Shared, not copied, by the socket's handlers.
    socket.extensions.insert(Arc::new(Session {
        identity,
        credentials,
    }));
    socket.extensions.insert(admission);
    Ok(())
}

/// The admission `identify` stored. Every admitted socket has one.
pub fn admission_of<A: Adapter>(socket: &SocketRef<A>) -> Admission {
    socket
        .extensions
        .get::<Admission>()
        .expect("the handshake middleware runs before any handler")
}

/// The session `identify` stored. Every admitted socket has one.
pub fn session_of<A: Adapter>(socket: &SocketRef<A>) -> Arc<Session> {
    socket
        .extensions
        .get::<Arc<Session>>()
        .expect("the handshake middleware runs before any handler")
}
