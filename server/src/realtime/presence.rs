//! Who is in each room, read from the adapter so that it holds across nodes: besides its room,
//! every socket joins a *tag* room that names its room, person and name, and the adapter (in
//! memory, or Redis across nodes) answers which rooms a room's sockets are in.
//!
//! A person is a public id issued by the server ([`crate::identity`]; a browser's tabs share
//! its token), so two tabs count once: the room hears "joined" at the first tab and "left" after
//! the last. Two tabs arriving (or
//! leaving) within the same instant on two nodes may both announce it: erring that way shows a
//! notice twice at worst, where the other order of reads could miss one altogether.
//!
//! A crowded room (more than `PRESENCE_NAMES` people) announces nobody, and its list is read at
//! most once a second per node: a crowd arriving costs a list per second, not a list (and a
//! notice to everyone) per arrival. Its newcomers get a list up to a second old.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use protocol::{
    Member, Presence as PresenceList, RoomSummary, UserEvent, PRESENCE, PRESENCE_NAMES,
    USER_JOINED, USER_LEFT,
};
use socketioxide::{adapter::Adapter, extract::SocketRef, operators::BroadcastOperators, SocketIo};
use tracing::warn;

use super::handshake::Session;

/// How long a crowded room's list, or the list of a crowd's rooms, is reused.
const REUSE_FOR: Duration = Duration::from_secs(1);

/// The lists this node reuses.
#[derive(Clone, Default)]
pub struct Presence {
    crowded: Arc<Mutex<HashMap<String, Read<Here>>>>,
    rooms: Arc<Mutex<Option<Read<Vec<RoomSummary>>>>>,
}

/// A room's people as read from the adapter, prepared once per read: arrivals and departures in
/// a crowd use it without walking it.
struct Here {
    /// Each person once, with their name.
    persons: BTreeMap<String, String>,
    /// The first people in reading order of their names, as many as a presence list holds.
    first: Vec<Member>,
}

impl Here {
    fn new(people: People) -> Self {
        let persons: BTreeMap<String, String> = people
            .into_iter()
            .map(|tag| (tag.person, tag.name))
            .collect();
        let mut members: Vec<(&String, &String)> = persons.iter().collect();
        let named = PRESENCE_NAMES.min(members.len());
        if named < members.len() {
            members.select_nth_unstable_by_key(named, |(_, name)| name.to_lowercase());
        }
        let mut first: Vec<Member> = members[..named]
            .iter()
            .map(|(person, name)| Member {
                person: (*person).clone(),
                name: (*name).clone(),
            })
            .collect();
        first.sort_by(reading_order);
        Self { persons, first }
    }
}

/// Names as people read them (case aside); one person before another of the same name by id,
/// so that a list is the same on every node.
fn reading_order(a: &Member, b: &Member) -> std::cmp::Ordering {
    (a.name.to_lowercase(), &a.person).cmp(&(b.name.to_lowercase(), &b.person))
}

/// A list as read at a moment, reused while recent.
struct Read<T> {
    at: Instant,
    list: Arc<T>,
}

impl<T> Read<T> {
    fn now(list: Arc<T>) -> Self {
        Self {
            at: Instant::now(),
            list,
        }
    }

    fn recent(&self) -> Option<Arc<T>> {
        (self.at.elapsed() < REUSE_FOR).then(|| self.list.clone())
    }
}

/// The tags of a room's sockets.
type People = BTreeSet<Tag>;

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
    fn of(session: &Session) -> Self {
        Self {
            room: session.identity.room.clone(),
            person: session.credentials.person.clone(),
            name: session.identity.name.clone(),
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

impl Presence {
    /// Registers the socket's person in its room; tells the room if they just arrived (and it is
    /// not crowded) and tells the socket who is there.
    pub async fn arrive<A: Adapter>(&self, socket: &SocketRef<A>, session: &Session) {
        let tag = Tag::of(session);
        // Read before this socket's tag is in: whether anyone saw this person here decides
        // "joined".
        let here = self.here(socket, &tag.room).await;
        socket.join(tag.room_name());
        let first = !here.persons.contains_key(&tag.person);
        let online = here.persons.len() + usize::from(first);
        let mut users = here.first.clone();
        if first {
            if online <= PRESENCE_NAMES {
                announce(socket, session, USER_JOINED).await;
            }
            users.push(Member {
                person: tag.person,
                name: tag.name,
            });
            users.sort_by(reading_order);
            users.truncate(PRESENCE_NAMES);
        }
        let list = PresenceList {
            room: tag.room,
            users,
            online,
        };
        socket.emit(PRESENCE, &list).ok();
    }

    /// Unregisters the socket; tells the room if it was the person's last tab (and the room is
    /// not crowded).
    pub async fn depart<A: Adapter>(&self, socket: &SocketRef<A>, session: &Session) {
        let tag = Tag::of(session);
        socket.leave(tag.room_name());
        let here = self.here(socket, &tag.room).await;
        if here.persons.len() < PRESENCE_NAMES && !here.persons.contains_key(&tag.person) {
            announce(socket, session, USER_LEFT).await;
        }
    }

    /// Every room with someone in it, busiest first, across the cluster (at most a second old
    /// once more than `PRESENCE_NAMES` people are online: reading it costs one entry per socket).
    pub async fn rooms<A: Adapter>(&self, io: &SocketIo<A>) -> Arc<Vec<RoomSummary>> {
        if let Some(rooms) = self.rooms.lock().unwrap().as_ref().and_then(Read::recent) {
            return rooms;
        }
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
        let summary = Arc::new(summary);
        let online: usize = summary.iter().map(|room| room.online).sum();
        *self.rooms.lock().unwrap() = (online > PRESENCE_NAMES).then(|| Read::now(summary.clone()));
        summary
    }

    /// The people of `room`'s other sockets: read afresh, unless the room was crowded a moment
    /// ago.
    async fn here<A: Adapter>(&self, socket: &SocketRef<A>, room: &str) -> Arc<Here> {
        let reused = self
            .crowded
            .lock()
            .unwrap()
            .get(room)
            .and_then(Read::recent);
        if let Some(here) = reused {
            return here;
        }
        let here = Arc::new(Here::new(
            tags(socket.broadcast().to(room.to_owned())).await,
        ));
        let mut crowded = self.crowded.lock().unwrap();
        if here.persons.len() > PRESENCE_NAMES {
            crowded.insert(room.to_owned(), Read::now(here.clone()));
        } else {
            crowded.remove(room);
        }
        here
    }
}

async fn announce<A: Adapter>(socket: &SocketRef<A>, session: &Session, event: &str) {
    let notice = UserEvent {
        user: session.identity.name.clone(),
        person: session.credentials.person.clone(),
        room: session.identity.room.clone(),
    };
    socket
        .to(session.identity.room.clone())
        .emit(event, &notice)
        .await
        .ok();
}

/// The tags of the sockets `selected`, across the cluster; this node's alone if the other nodes
/// cannot be asked (Redis away).
async fn tags<A: Adapter>(selected: BroadcastOperators<A>) -> People {
    let rooms = match selected.clone().rooms().await {
        Ok(rooms) => rooms,
        Err(error) => {
            warn!(%error, "cannot ask the other nodes who is here: answering for this node");
            selected.local().rooms().await.unwrap_or_default()
        }
    };
    rooms.iter().filter_map(|room| Tag::parse(room)).collect()
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

    fn tag(person: &str, name: &str) -> Tag {
        Tag {
            room: "general".into(),
            person: person.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_person_with_two_tabs_counts_once() {
        let here = Here::new(People::from([
            tag("u-2", "bea"),
            tag("u-1", "Ana"),
            tag("u-2", "bea"),
        ]));
        assert_eq!(here.persons.len(), 2);
        let names: Vec<&str> = here.first.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["Ana", "bea"]);
    }

    #[test]
    fn a_crowd_is_named_up_to_the_list_size_in_reading_order() {
        let crowd = (0..PRESENCE_NAMES + 50)
            .rev()
            .map(|n| tag(&format!("u{n}"), &format!("p{n:04}")));
        let here = Here::new(crowd.collect());
        assert_eq!(here.persons.len(), PRESENCE_NAMES + 50);
        let expected: Vec<String> = (0..PRESENCE_NAMES).map(|n| format!("p{n:04}")).collect();
        let names: Vec<&String> = here.first.iter().map(|m| &m.name).collect();
        assert_eq!(names, expected.iter().collect::<Vec<_>>());
    }
}
