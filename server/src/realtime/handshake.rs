//! Admission: who the client says it is, checked before it joins the namespace.

use app::protocol::{Handshake, HandshakeError, Identity};
use socketioxide::{
    adapter::Adapter,
    extract::{SocketRef, State, TryData},
};

use super::{flood::Admission, Realtime};

/// Connect middleware: a malformed name, room, user id or offset is refused with a
/// `connect_error` that says which, and so is an address that holds too many connections; a
/// valid handshake is kept on the socket as its `Identity`, with its `Admission`.
pub async fn identify<A: Adapter>(
    socket: SocketRef<A>,
    TryData(auth): TryData<Handshake>,
    State(realtime): State<Realtime>,
) -> Result<(), HandshakeError> {
    // Auth that is not even an object is as good as none: the seed's clients send nothing.
    let identity = auth.unwrap_or_default().validate()?;
    let address = realtime.flood.address_of(socket.req_parts());
    let admission = realtime.flood.admit(address)?;
    socket.extensions.insert(identity);
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

/// The identity `identify` stored. Every admitted socket has one.
pub fn identity_of<A: Adapter>(socket: &SocketRef<A>) -> Identity {
    socket
        .extensions
        .get::<Identity>()
        .expect("the handshake middleware runs before any handler")
}
