//! `typing` / `stop typing`: relayed to the rest of the room with who it is.

use app::protocol::{Identity, UserEvent};
use socketioxide::{adapter::Adapter, extract::SocketRef};

pub async fn relay<A: Adapter>(socket: SocketRef<A>, identity: Identity, event: &'static str) {
    let notice = UserEvent {
        user: identity.name,
        room: identity.room.clone(),
    };
    // Typing is ephemeral: a receiver that misses one loses nothing worth retrying.
    socket.to(identity.room).emit(event, &notice).await.ok();
}
