//! Who is in each room. A person is a user id (the browser shares one across its tabs), so two
//! tabs count once: the room hears "joined" at the first tab and "left" after the last.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use app::protocol::{
    Identity, Presence as PresenceList, RoomSummary, UserEvent, PRESENCE, USER_JOINED, USER_LEFT,
};
use socketioxide::extract::SocketRef;

/// This node's registry of people per room.
#[derive(Clone, Default)]
pub struct Presence {
    rooms: Arc<Mutex<HashMap<String, HashMap<String, Person>>>>,
}

struct Person {
    name: String,
    tabs: usize,
}

impl Presence {
    /// Registers one more tab of this socket's person; tells the room if they just arrived and
    /// tells the socket who is there.
    pub async fn arrive(&self, socket: &SocketRef, identity: &Identity) {
        let first = {
            let mut rooms = self.rooms.lock().unwrap();
            let people = rooms.entry(identity.room.clone()).or_default();
            let person = people
                .entry(person_key(socket, identity))
                .or_insert(Person {
                    name: identity.name.clone(),
                    tabs: 0,
                });
            person.name.clone_from(&identity.name);
            person.tabs += 1;
            person.tabs == 1
        };
        if first {
            socket
                .to(identity.room.clone())
                .emit(USER_JOINED, &user_event(identity))
                .await
                .ok();
        }
        let list = PresenceList {
            room: identity.room.clone(),
            users: self.users(&identity.room),
        };
        socket.emit(PRESENCE, &list).ok();
    }

    /// Unregisters a tab; tells the room if it was the person's last.
    pub async fn depart(&self, socket: &SocketRef, identity: &Identity) {
        let last = {
            let mut rooms = self.rooms.lock().unwrap();
            let Some(people) = rooms.get_mut(&identity.room) else {
                return;
            };
            let key = person_key(socket, identity);
            let last = people.get_mut(&key).is_some_and(|person| {
                person.tabs -= 1;
                person.tabs == 0
            });
            if last {
                people.remove(&key);
            }
            if people.is_empty() {
                rooms.remove(&identity.room);
            }
            last
        };
        if last {
            socket
                .to(identity.room.clone())
                .emit(USER_LEFT, &user_event(identity))
                .await
                .ok();
        }
    }

    /// The names of the people in `room`, each once, sorted.
    pub fn users(&self, room: &str) -> Vec<String> {
        let rooms = self.rooms.lock().unwrap();
        let mut users: Vec<String> = rooms
            .get(room)
            .map(|people| people.values().map(|person| person.name.clone()).collect())
            .unwrap_or_default();
        users.sort_by_key(|name| name.to_lowercase());
        users
    }

    /// Every room with someone in it, busiest first.
    pub fn rooms(&self) -> Vec<RoomSummary> {
        let rooms = self.rooms.lock().unwrap();
        let mut summary: Vec<RoomSummary> = rooms
            .iter()
            .map(|(name, people)| RoomSummary {
                name: name.clone(),
                online: people.len(),
            })
            .collect();
        summary.sort_by(|a, b| b.online.cmp(&a.online).then_with(|| a.name.cmp(&b.name)));
        summary
    }
}

/// A client without a user id is one person per connection.
fn person_key(socket: &SocketRef, identity: &Identity) -> String {
    identity
        .user_id
        .clone()
        .unwrap_or_else(|| format!("socket:{}", socket.id))
}

fn user_event(identity: &Identity) -> UserEvent {
    UserEvent {
        user: identity.name.clone(),
        room: identity.room.clone(),
    }
}
