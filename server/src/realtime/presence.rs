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
//! A crowded room ([`Here::crowded`]) announces nobody, and its list is read at most once a
//! second per node: a crowd arriving costs a list per second, not a list (and a notice to
//! everyone) per arrival. Its newcomers get a list up to a second old.
//!
//! Each tag also names the address its socket came from
//! ([`Admission::address`](crate::flood::Admission::address)), so that one address cannot stand for
//! a crowd: fresh identities are free, and a hundred of them from one machine would otherwise
//! silence every arrival and departure, and fill the presence list with names that sort first. A
//! room counts at most [`COUNTED_PER_ADDRESS`] people of one address towards its crowd, and a
//! presence list names each address's people in turn.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use protocol::{
    is_crowded, Member, Presence, RoomSummary, PRESENCE, PRESENCE_NAMES, USER_JOINED, USER_LEFT,
};
use socketioxide::{adapter::Adapter, extract::SocketRef, operators::BroadcastOperators, SocketIo};
use tracing::warn;

use super::handshake::Session;

/// People of one address a room counts towards [`PRESENCE_NAMES`] when it decides whether it is
/// crowded: a household, an office or a school behind one address is still announced, and
/// crowding a room takes more than [`PRESENCE_NAMES`] / [`COUNTED_PER_ADDRESS`] addresses.
const COUNTED_PER_ADDRESS: usize = 10;

/// People beyond which a room is crowded whatever their addresses: every arrival's notice goes
/// to everyone, and one address can hold many connections (a carrier-grade NAT, or a server
/// without limits), so the square of a crowd stays bounded.
const CROWD_PEOPLE: usize = 1_000;

/// How long a crowded room's list, or the list of a crowd's rooms, is reused.
const REUSE_FOR: Duration = Duration::from_secs(1);

/// Where a socket stands with its room ([`Session::stay`]): the room hears of its arrival and of
/// its departure once each, in that order, and of neither if it left before it arrived.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Stay {
    /// Admitted, not yet in its room.
    #[default]
    Expected,
    /// In its room (and announced, unless the room is crowded).
    Arrived,
    /// Departed, or gone before it arrived.
    Gone,
}

/// Who is in each room, as this node reads it from the adapter, with the lists it reuses.
#[derive(Clone, Default)]
pub struct Roster {
    crowded: Arc<Mutex<HashMap<String, Read<Here>>>>,
    rooms: Arc<Mutex<Option<Read<Vec<RoomSummary>>>>>,
}

/// A room's people as read from the adapter, prepared once per read: arrivals and departures in
/// a crowd use it without walking it.
struct Here {
    /// Each person once, with their name and the address they count under (their first tab's
    /// in the order of tags).
    persons: BTreeMap<String, (String, String)>,
    /// How many of [`Self::persons`] count under each address.
    per_address: BTreeMap<String, usize>,
    /// [`Self::persons`] as the crowd rule counts them: at most [`COUNTED_PER_ADDRESS`] of
    /// one address.
    counted: usize,
    /// As many people as a presence list holds ([`fairest`]).
    first: Vec<Listed>,
}

/// A person as a presence list chooses them: their turn among their address's people in
/// reading order ([`reading_key`]), and the reading key of their name.
#[derive(Clone)]
struct Listed {
    turn: usize,
    key: (String, String),
    member: Member,
}

impl Listed {
    fn new(turn: usize, member: Member) -> Self {
        Self {
            turn,
            key: reading_key(&member),
            member,
        }
    }
}

/// The [`PRESENCE_NAMES`] people a list names: each address's first in reading order, then
/// each one's second, and so on; in reading order.
fn fairest(mut listed: Vec<Listed>) -> Vec<Listed> {
    let named = PRESENCE_NAMES.min(listed.len());
    if named < listed.len() {
        listed.select_nth_unstable_by(named, |a, b| (a.turn, &a.key).cmp(&(b.turn, &b.key)));
    }
    listed.truncate(named);
    listed.sort_by(|a, b| a.key.cmp(&b.key));
    listed
}

impl Here {
    fn new(people: People) -> Self {
        let mut persons = BTreeMap::new();
        for tag in people {
            persons.entry(tag.person).or_insert((tag.name, tag.address));
        }
        let mut by_address: BTreeMap<&str, Vec<Member>> = BTreeMap::new();
        for (person, (name, address)) in &persons {
            by_address.entry(address).or_default().push(Member {
                person: person.clone(),
                name: name.clone(),
            });
        }
        let per_address: BTreeMap<String, usize> = by_address
            .iter()
            .map(|(address, members)| ((*address).to_owned(), members.len()))
            .collect();
        let listed = by_address
            .into_values()
            .flat_map(|mut members| {
                members.sort_by_cached_key(reading_key);
                members
                    .into_iter()
                    .enumerate()
                    .map(|(turn, member)| Listed::new(turn, member))
            })
            .collect();
        let first = fairest(listed);
        let counted = per_address
            .values()
            .map(|&people| people.min(COUNTED_PER_ADDRESS))
            .sum();
        Self {
            persons,
            per_address,
            counted,
            first,
        }
    }

    /// Whether the room, with `joining`'s person in it if given, is too big to announce
    /// arrivals and departures to everyone ([`is_crowded`]), counting at
    /// most [`COUNTED_PER_ADDRESS`] of one address, or more than [`CROWD_PEOPLE`] at all.
    fn crowded(&self, joining: Option<&Tag>) -> bool {
        let (mut persons, mut counted) = (self.persons.len(), self.counted);
        if let Some(tag) = joining.filter(|tag| !self.persons.contains_key(&tag.person)) {
            persons += 1;
            let of_address = self.per_address.get(&tag.address).copied().unwrap_or(0);
            counted += usize::from(of_address < COUNTED_PER_ADDRESS);
        }
        is_crowded(counted) || persons > CROWD_PEOPLE
    }
}

/// Names as people read them (case aside); one person before another of the same name by id,
/// so that a list is the same on every node.
fn reading_key(member: &Member) -> (String, String) {
    (member.name.to_lowercase(), member.person.clone())
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

/// One socket's entry: which room, from which address, whose, under which name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Tag {
    room: String,
    /// The address as limits count it ([`Admission::address`](crate::flood::Admission::address)),
    /// or empty if unknown.
    address: String,
    person: String,
    name: String,
}

impl Tag {
    fn of(session: &Session) -> Self {
        Self {
            room: session.identity.room.clone(),
            address: session
                .address()
                .map(|ip| ip.to_string())
                .unwrap_or_default(),
            person: session.credentials.person.clone(),
            name: session.identity.name.clone(),
        }
    }

    fn room_name(&self) -> String {
        let Self {
            room,
            address,
            person,
            name,
        } = self;
        format!("{TAG}{room}{TAG}{address}{TAG}{person}{TAG}{name}")
    }

    fn parse(room: &str) -> Option<Self> {
        let mut parts = room.strip_prefix(TAG)?.splitn(4, TAG);
        Some(Self {
            room: parts.next()?.to_owned(),
            address: parts.next()?.to_owned(),
            person: parts.next()?.to_owned(),
            name: parts.next()?.to_owned(),
        })
    }
}

impl Roster {
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
        let mut listed = here.first.clone();
        if first {
            if !here.crowded(Some(&tag)) {
                announce(socket, session, USER_JOINED).await;
            }
            // After the people already here from the same address.
            let turn = here.per_address.get(&tag.address).copied().unwrap_or(0);
            let member = Member {
                person: tag.person,
                name: tag.name,
            };
            listed.push(Listed::new(turn, member));
            listed = fairest(listed);
        }
        let list = Presence {
            room: tag.room,
            users: listed.into_iter().map(|listed| listed.member).collect(),
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
        if !here.persons.contains_key(&tag.person) && !here.crowded(Some(&tag)) {
            announce(socket, session, USER_LEFT).await;
        }
    }

    /// Every room with someone in it, busiest first, across the cluster (at most a second old
    /// once the people online are a crowd ([`is_crowded`]): reading it costs one entry per socket).
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
        *self.rooms.lock().unwrap() = is_crowded(online).then(|| Read::now(summary.clone()));
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
        // Reused only while nobody is announced: a list a moment old would miss a departure.
        if here.crowded(None) {
            crowded.insert(room.to_owned(), Read::now(here.clone()));
        } else {
            crowded.remove(room);
        }
        here
    }
}

async fn announce<A: Adapter>(socket: &SocketRef<A>, session: &Session, event: &str) {
    socket
        .to(session.identity.room.clone())
        .emit(event, &session.announcement())
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
            address: "2001:db8::".into(),
            person: "u-1".into(),
            name: "Ana María".into(),
        };
        assert_eq!(Tag::parse(&tag.room_name()), Some(tag));
        assert_eq!(Tag::parse("general"), None);
    }

    fn tag(person: &str, name: &str) -> Tag {
        tag_from("10.0.0.1", person, name)
    }

    fn tag_from(address: &str, person: &str, name: &str) -> Tag {
        Tag {
            room: "general".into(),
            address: address.into(),
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
        let names: Vec<&str> = here.first.iter().map(|l| l.member.name.as_str()).collect();
        assert_eq!(names, ["Ana", "bea"]);
    }

    #[test]
    fn a_crowd_is_named_up_to_the_list_size_in_reading_order() {
        let crowd = (0..PRESENCE_NAMES + 50).rev().map(|n| {
            tag_from(
                &format!("10.0.{n}.1"),
                &format!("u{n}"),
                &format!("p{n:04}"),
            )
        });
        let here = Here::new(crowd.collect());
        assert_eq!(here.persons.len(), PRESENCE_NAMES + 50);
        assert!(here.crowded(None));
        let expected: Vec<String> = (0..PRESENCE_NAMES).map(|n| format!("p{n:04}")).collect();
        let names: Vec<&String> = here.first.iter().map(|l| &l.member.name).collect();
        assert_eq!(names, expected.iter().collect::<Vec<_>>());
    }

    #[test]
    fn one_address_neither_crowds_a_room_nor_fills_its_list() {
        let mut people: People = (0..PRESENCE_NAMES * 2)
            .map(|n| tag_from("10.6.6.6", &format!("bot{n}"), &format!("Aaa{n:04}")))
            .collect();
        people.insert(tag_from("10.0.0.1", "ana", "Ana"));
        people.insert(tag_from("10.0.0.2", "zoe", "Zoe"));
        let here = Here::new(people);
        assert!(
            !here.crowded(None),
            "one address counts {COUNTED_PER_ADDRESS}"
        );
        let names: Vec<&str> = here.first.iter().map(|l| l.member.name.as_str()).collect();
        assert_eq!(names.len(), PRESENCE_NAMES);
        assert!(
            names.contains(&"Ana") && names.contains(&"Zoe"),
            "{names:?}"
        );
        // Still in reading order, the bots' first names first.
        assert_eq!(names[0], "Aaa0000");
        assert_eq!(names[PRESENCE_NAMES - 1], "Zoe");
    }

    #[test]
    fn eleven_addresses_crowd_a_room_and_so_does_any_thousand() {
        let from = |addresses: usize, each: usize| -> Here {
            Here::new(
                (0..addresses * each)
                    .map(|n| {
                        let address = format!("10.0.{}.1", n % addresses);
                        tag_from(&address, &format!("u{n}"), "x")
                    })
                    .collect(),
            )
        };
        assert!(!from(10, COUNTED_PER_ADDRESS).crowded(None));
        let full = from(10, COUNTED_PER_ADDRESS);
        assert!(full.crowded(Some(&tag_from("10.9.9.9", "new", "x"))));
        assert!(!full.crowded(Some(&tag_from("10.0.0.1", "new", "x"))));
        assert!(from(1, CROWD_PEOPLE + 1).crowded(None));
    }
}
