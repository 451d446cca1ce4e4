//! Admission: who the client says it is, checked before it joins the namespace, and who the
//! server says it is ([`crate::identity`]).

use std::{net::IpAddr, sync::Arc};

use protocol::{Credentials, Handshake, HandshakeError, Identity, UserEvent};
use socketioxide::{
    adapter::Adapter,
    extract::{SocketRef, State, TryData},
};

use super::presence::Stay;
use crate::{
    chat::Chat,
    flood::{Admission, Arrival},
};

/// A connection as admitted: what it said about itself, and who it is.
#[derive(Debug)]
pub struct Session {
    pub identity: Identity,
    /// Recognised from the handshake's token, or issued now.
    pub credentials: Credentials,
    /// Its place among its address's connections, held while the session lasts.
    pub admission: Admission,
    /// Held while the socket is put in its room and while it is taken out: socketioxide runs
    /// the connect and the disconnect handlers as tasks of their own, and a client that closes
    /// as soon as it is admitted is disconnected while it is still being welcomed.
    pub stay: tokio::sync::Mutex<Stay>,
}

impl Session {
    /// The address its connection counts under ([`Admission::address`]), if known.
    pub fn address(&self) -> Option<IpAddr> {
        self.admission.address()
    }

    /// The author's public id, as messages, presence and typing name them.
    pub fn person(&self) -> &str {
        &self.credentials.person
    }

    /// Who this is, as the room hears of them: arriving, leaving, typing.
    pub fn announcement(&self) -> UserEvent {
        UserEvent {
            user: self.identity.name.clone(),
            person: self.credentials.person.clone(),
            room: self.identity.room.clone(),
        }
    }
}

/// Connect middleware: a malformed name, room, token or offset is refused with a `connect_error`
/// that says which, and so is a session that flood control refused at the engine gate (too many
/// connections or handshakes from its address, a cool-down); a valid handshake is kept on the
/// socket as its [`Session`], its [`Admission`] inside (the socket's handlers take it with
/// socketioxide's `Extension` extractor). A token the server did not issue is not refused: its
/// holder is simply somebody new, like a client without one.
pub async fn identify<A: Adapter>(
    socket: SocketRef<A>,
    TryData(auth): TryData<Handshake>,
    State(chat): State<Chat>,
) -> Result<(), HandshakeError> {
    // Auth that is not even an object is as good as none: the seed's clients send nothing.
    let identity = auth.unwrap_or_default().validate()?;
    let admission = match socket.req_parts().extensions.get::<Arrival>() {
        Some(Arrival::Admitted(admission)) => admission.clone(),
        Some(Arrival::Refused { reason, .. }) => return Err(*reason),
        // Every session's handshake passes the engine gate (`http::engine`), which decides.
        None => {
            let address = chat.flood.address_of(socket.req_parts());
            chat.flood.admit(address)?
        }
    };
    let credentials = chat.issuer.recognise_or_issue(identity.token.as_deref());
    // Shared, not copied, by the socket's handlers.
    socket.extensions.insert(Arc::new(Session {
        identity,
        credentials,
        admission,
        stay: tokio::sync::Mutex::default(),
    }));
    Ok(())
}
