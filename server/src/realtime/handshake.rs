//! Admission: who the client says it is, checked before it joins the namespace.

use app::protocol::{Handshake, HandshakeError, Identity};
use socketioxide::{
    adapter::Adapter,
    extract::{SocketRef, TryData},
};

/// Connect middleware: a malformed name, room, user id or offset is refused with a
/// `connect_error` that says which; a valid handshake is kept on the socket as its `Identity`.
pub async fn identify<A: Adapter>(
    socket: SocketRef<A>,
    TryData(auth): TryData<Handshake>,
) -> Result<(), HandshakeError> {
    // Auth that is not even an object is as good as none: the seed's clients send nothing.
    let identity = auth.unwrap_or_default().validate()?;
    socket.extensions.insert(identity);
    Ok(())
}

/// The identity `identify` stored. Every admitted socket has one.
pub fn identity_of<A: Adapter>(socket: &SocketRef<A>) -> Identity {
    socket
        .extensions
        .get::<Identity>()
        .expect("the handshake middleware runs before any handler")
}
