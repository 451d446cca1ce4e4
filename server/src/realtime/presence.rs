//! Who is in each room, read from the adapter so that it holds across nodes: besides its room,
//! every socket joins a *tag* room that names its room, person and name, and the adapter (in
//! memory, or Redis across nodes) answers which rooms a room's sockets are in.
//!
//! A person is a user id (the browser shares one across its tabs), so two tabs count once: the
//! room hears "joined" at the first tab and "left" after the last. Two tabs arriving (or
//! leaving) within the same instant on two nodes may both announce it: erring that way shows a
//! notice twice at worst, where the other order of reads could miss one altogether.

use std::collections::{BTreeMap, BTreeSet};

use app::protocol::{
    Identity, Presence as PresenceList, RoomSummary, UserEvent, PRESENCE, USER_JOINED, USER_LEFT,
};
use socketioxide::{adapter::Adapter, extract::SocketRef, operators::BroadcastOperators, SocketIo};
use tracing::warn;

/// Starts a tag. Room names and user names cannot contain it (both refuse control characters),
/// so a tag is never mistaken for a room and splits back unambiguously.
const TAG: char = '\u{1}';

/// One socket's entry: which room, whose, under which name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Tag {
    room: String,
    person: String,
    name: String,
}

impl Tag {
    fn of<A: Adapter>(socket: &SocketRef<A>, identity: &Identity) -> Self {
        Self {
            room: identity.room.clone(),
            // A client without a user id is one person per connection.
            person: identity
                .user_id
                .clone()
                .unwrap_or_else(|| format!("socket:{}", socket.id)),
            name: identity.name.clone(),
        }
    }

    fn room_name(&self) -> String {
        format!("{TAG}{}{TAG}{}{TAG}{}", self.room, self.person, self.name)
    }

    fn parse(room: &str) -> Option<Self> {
        let mut parts = room.strip_prefix(TAG)?.splitn(3, TAG);
        Some(Self {
            room: parts.next()?.to_owned(),
            person: parts.next()?.to_owned(),
            name: parts.next()?.to_owned(),
        })
    }
}

/// Registers the socket's person in its room; tells the room if they just arrived and tells the
/// socket who is there.
pub async fn arrive<A: Adapter>(socket: &SocketRef<A>, identity: &Identity) {
    let tag = Tag::of(socket, identity);
    // Read before this socket's tag is in: whether anyone saw this person here decides "joined".
    let here = tags(socket.within(identity.room.clone())).await;
    socket.join(tag.room_name());
    let first = !here.iter().any(|other| other.person == tag.person);
    if first {
        announce(socket, identity, USER_JOINED).await;
    }
    let list = PresenceList {
        room: identity.room.clone(),
        users: names(here.into_iter().chain([tag])),
    };
    socket.emit(PRESENCE, &list).ok();
}

/// Unregisters the socket; tells the room if it was the person's last tab.
pub async fn depart<A: Adapter>(socket: &SocketRef<A>, identity: &Identity) {
    let tag = Tag::of(socket, identity);
    socket.leave(tag.room_name());
    let here = tags(socket.broadcast().to(identity.room.clone())).await;
    if !here.iter().any(|other| other.person == tag.person) {
        announce(socket, identity, USER_LEFT).await;
    }
}

/// Every room with someone in it, busiest first, across the cluster.
pub async fn rooms<A: Adapter>(io: &SocketIo<A>) -> Vec<RoomSummary> {
    let mut people: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for tag in tags(io.broadcast()).await {
        people.entry(tag.room).or_default().insert(tag.person);
    }
    let mut summary: Vec<RoomSummary> = people
        .into_iter()
        .map(|(name, people)| RoomSummary {
            name,
            online: people.len(),
        })
        .collect();
    summary.sort_by(|a, b| b.online.cmp(&a.online).then_with(|| a.name.cmp(&b.name)));
    summary
}

async fn announce<A: Adapter>(socket: &SocketRef<A>, identity: &Identity, event: &str) {
    let notice = UserEvent {
        user: identity.name.clone(),
        room: identity.room.clone(),
    };
    socket
        .to(identity.room.clone())
        .emit(event, &notice)
        .await
        .ok();
}

/// The tags of the sockets `selected`, across the cluster; this node's alone if the other nodes
/// cannot be asked (Redis away).
async fn tags<A: Adapter>(selected: BroadcastOperators<A>) -> BTreeSet<Tag> {
    let rooms = match selected.clone().rooms().await {
        Ok(rooms) => rooms,
        Err(error) => {
            warn!(%error, "cannot ask the other nodes who is here: answering for this node");
            selected.local().rooms().await.unwrap_or_default()
        }
    };
    rooms.iter().filter_map(|room| Tag::parse(room)).collect()
}

/// Each person's name once, sorted as people read them.
fn names(tags: impl IntoIterator<Item = Tag>) -> Vec<String> {
    let by_person: BTreeMap<String, String> =
        tags.into_iter().map(|tag| (tag.person, tag.name)).collect();
    let mut names: Vec<String> = by_person.into_values().collect();
    names.sort_by_key(|name| name.to_lowercase());
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_splits_back_into_its_parts() {
        let tag = Tag {
            room: "general".into(),
            person: "u-1".into(),
            name: "Ana María".into(),
        };
        assert_eq!(Tag::parse(&tag.room_name()), Some(tag));
        assert_eq!(Tag::parse("general"), None);
    }

    #[test]
    fn a_person_with_two_tabs_is_named_once() {
        let tag = |person: &str, name: &str| Tag {
            room: "general".into(),
            person: person.into(),
            name: name.into(),
        };
        let names = names([tag("u-2", "bea"), tag("u-1", "Ana"), tag("u-2", "bea")]);
        assert_eq!(names, ["Ana", "bea"]);
    }
}
