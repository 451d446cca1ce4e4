//! What the full-screen client shows and how keys change it: no terminal, no network, so that
//! tests can drive it key by key and event by event.

use std::{collections::BTreeMap, time::Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use protocol::{check_name, check_room, ChatMessage, Member, RoomSummary, TYPING_FADES_AFTER};

use crate::{clock::Zone, link::Incoming, outbox::Outbox, Failure};

/// The connection, as the title bar says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Connecting,
    Online,
    /// Lost; trying again.
    Offline,
    /// The server refused the handshake, with its reason; trying again later.
    Refused(String),
}

/// What the loop must do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send this new message (it is in the [`Outbox`] already, pending).
    Send {
        text: String,
        client_offset: String,
    },
    SwitchRoom(String),
    Rename(String),
    ListRooms,
    /// The person is typing (a key changed the message being written).
    Typing,
    Quit,
}

/// The help the notice line shows for a command it does not know.
const COMMANDS_HELP: &str =
    "Órdenes: /sala NOMBRE (cambiar de sala), /nombre NOMBRE, /salas (las salas con gente), /salir";

#[derive(Debug)]
pub struct Screen {
    pub(super) room: String,
    pub(super) name: String,
    /// Our public id, once the server said it.
    pub(super) me: Option<String>,
    pub(super) messages: BTreeMap<i64, ChatMessage>,
    pub(super) outbox: Outbox,
    pub(super) people: Vec<Member>,
    pub(super) online: usize,
    /// Who is typing: their public id → their name, and since when.
    pub(super) typing: BTreeMap<String, (String, Instant)>,
    pub(super) status: Status,
    pub(super) input: String,
    /// Where the cursor is in `input` (a byte offset on a character boundary).
    pub(super) cursor: usize,
    pub(super) notice: Option<String>,
    /// Lines scrolled back from the newest (0: following new messages).
    pub(super) scroll: u16,
    pub(super) zone: Zone,
}

impl Screen {
    pub fn new(room: &str, name: &str, zone: Zone) -> Self {
        Self {
            room: room.to_owned(),
            name: name.to_owned(),
            me: None,
            messages: BTreeMap::new(),
            outbox: Outbox::default(),
            people: Vec::new(),
            online: 0,
            typing: BTreeMap::new(),
            status: Status::Connecting,
            input: String::new(),
            cursor: 0,
            notice: None,
            scroll: 0,
            zone,
        }
    }

    pub fn room(&self) -> &str {
        &self.room
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The newest message shown: where a catch-up starts after (0: none yet).
    pub fn last_id(&self) -> i64 {
        self.messages.keys().next_back().copied().unwrap_or(0)
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Another room: nothing of this one stays on screen.
    pub fn enter_room(&mut self, room: &str) {
        *self = Self {
            outbox: std::mem::take(&mut self.outbox),
            input: std::mem::take(&mut self.input),
            cursor: self.cursor,
            me: self.me.take(),
            ..Self::new(room, &self.name, self.zone)
        };
    }

    pub fn rename(&mut self, name: &str) {
        self.name = name.to_owned();
    }

    pub fn set_status(&mut self, status: Status) {
        self.status = status;
    }

    /// A line for the person (an error, a list of rooms); the next one replaces it.
    pub fn say(&mut self, notice: impl Into<String>) {
        self.notice = Some(notice.into());
    }

    /// What the server said.
    pub fn apply(&mut self, incoming: Incoming, now: Instant) {
        match incoming {
            Incoming::Admitted => self.status = Status::Online,
            Incoming::Lost => self.status = Status::Offline,
            Incoming::Refused(reason) => self.status = Status::Refused(reason),
            Incoming::Identity(credentials) => self.me = Some(credentials.person),
            Incoming::Message(message) => self.show(vec![message]),
            Incoming::History(messages) => self.show(messages),
            Incoming::Changed(change) => self.change(change),
            Incoming::Presence(presence) if presence.room == self.room => {
                self.online = presence.online.max(presence.users.len());
                self.people = presence.users;
            }
            Incoming::Joined(user) if user.room == self.room => {
                if !self
                    .people
                    .iter()
                    .any(|member| member.person == user.person)
                {
                    self.online += 1;
                    self.people.push(Member {
                        person: user.person,
                        name: user.user,
                    });
                    self.people.sort_by(|a, b| a.name.cmp(&b.name));
                }
            }
            Incoming::Left(user) if user.room == self.room => {
                let before = self.people.len();
                self.people.retain(|member| member.person != user.person);
                if self.people.len() < before {
                    self.online = self.online.saturating_sub(1);
                }
                self.typing.remove(&user.person);
            }
            Incoming::Typing(user) if user.room == self.room => {
                if self.me.as_deref() != Some(user.person.as_str()) {
                    self.typing.insert(user.person, (user.user, now));
                }
            }
            Incoming::StopTyping(user) if user.room == self.room => {
                self.typing.remove(&user.person);
            }
            Incoming::Presence(_)
            | Incoming::Joined(_)
            | Incoming::Left(_)
            | Incoming::Typing(_)
            | Incoming::StopTyping(_) => {}
        }
    }

    /// Messages of this room, read live or from the history: each once, by id.
    fn show(&mut self, messages: Vec<ChatMessage>) {
        for message in messages {
            if message.meta.room != self.room {
                continue;
            }
            self.outbox
                .shown(message.meta.client_offset.as_deref(), message.meta.id);
            self.typing.remove(&message.meta.person);
            self.messages.insert(message.meta.id, message);
        }
    }

    /// A message's new state, if it is newer than the one shown (the highest revision wins).
    fn change(&mut self, change: protocol::MessageChange) {
        if change.room != self.room {
            return;
        }
        let Some(message) = self.messages.get_mut(&change.id) else {
            return;
        };
        if message
            .meta
            .revision
            .is_some_and(|shown| shown >= change.revision)
        {
            return;
        }
        message.meta.revision = Some(change.revision);
        message.text = change.text.unwrap_or_default();
        message.meta.edited_at = change.edited_at;
        message.meta.deleted = change.deleted;
    }

    /// The server's answer to one of our messages.
    pub fn answered(&mut self, client_offset: &str, answer: &Result<i64, Failure>) {
        self.outbox.answered(client_offset, answer);
        if let Ok(id) = answer {
            if self.messages.contains_key(id) {
                self.outbox.shown(None, *id);
            }
        }
    }

    pub fn rooms_listed(&mut self, rooms: Result<Vec<RoomSummary>, Failure>) {
        let notice = match rooms {
            Ok(rooms) if rooms.is_empty() => "No hay nadie en ninguna sala.".to_owned(),
            Ok(rooms) => {
                let listed: Vec<String> = rooms
                    .iter()
                    .map(|room| format!("#{} ({})", room.name, room.online))
                    .collect();
                format!("Salas: {}", listed.join(" · "))
            }
            Err(failure) => format!("No se pudo leer la lista de salas: {failure}"),
        };
        self.say(notice);
    }

    /// Forgets typing notices nobody renewed.
    pub fn tick(&mut self, now: Instant) {
        self.typing
            .retain(|_, (_, since)| now.duration_since(*since) < TYPING_FADES_AFTER);
    }

    /// A key the person pressed.
    pub fn key(&mut self, key: KeyEvent) -> Option<Command> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let control = key.modifiers.contains(KeyModifiers::CONTROL);
        let new_line = key
            .modifiers
            .intersects(KeyModifiers::ALT | KeyModifiers::SHIFT);
        match key.code {
            KeyCode::Char('c') if control => Some(Command::Quit),
            KeyCode::Char('d') if control && self.input.is_empty() => Some(Command::Quit),
            KeyCode::Enter if new_line => self.insert('\n'),
            KeyCode::Enter => self.submit(),
            KeyCode::Char(c) if !control => self.insert(c),
            KeyCode::Backspace => {
                let previous = self.input[..self.cursor].chars().next_back()?;
                self.cursor -= previous.len_utf8();
                self.input.remove(self.cursor);
                Some(Command::Typing)
            }
            KeyCode::Delete => {
                if self.cursor < self.input.len() {
                    self.input.remove(self.cursor);
                }
                None
            }
            KeyCode::Left => {
                if let Some(previous) = self.input[..self.cursor].chars().next_back() {
                    self.cursor -= previous.len_utf8();
                }
                None
            }
            KeyCode::Right => {
                if let Some(next) = self.input[self.cursor..].chars().next() {
                    self.cursor += next.len_utf8();
                }
                None
            }
            KeyCode::Home => {
                self.cursor = self.input[..self.cursor].rfind('\n').map_or(0, |at| at + 1);
                None
            }
            KeyCode::End => {
                self.cursor += self.input[self.cursor..]
                    .find('\n')
                    .unwrap_or(self.input.len() - self.cursor);
                None
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_add(10);
                None
            }
            KeyCode::PageDown => {
                self.scroll = self.scroll.saturating_sub(10);
                None
            }
            KeyCode::Esc => {
                self.notice = None;
                self.outbox.dismiss_failed();
                None
            }
            _ => None,
        }
    }

    fn insert(&mut self, c: char) -> Option<Command> {
        self.input.insert(self.cursor, c);
        self.cursor += c.len_utf8();
        Some(Command::Typing)
    }

    /// Enter: a command, or the message written.
    fn submit(&mut self) -> Option<Command> {
        let written = std::mem::take(&mut self.input);
        self.cursor = 0;
        let text = written.trim();
        if text.is_empty() {
            return None;
        }
        if let Some(command) = text.strip_prefix('/') {
            let (verb, rest) = command.split_once(' ').unwrap_or((command, ""));
            let rest = rest.trim();
            return match verb {
                "sala" => match check_room(rest) {
                    Ok(room) if room == self.room => {
                        self.say(format!("Ya estás en #{room}."));
                        None
                    }
                    Ok(room) => Some(Command::SwitchRoom(room)),
                    Err(error) => self.refuse(error.to_string(), written),
                },
                "nombre" => match check_name(rest) {
                    Ok(name) => Some(Command::Rename(name)),
                    Err(error) => self.refuse(error.to_string(), written),
                },
                "salas" => Some(Command::ListRooms),
                "salir" => Some(Command::Quit),
                _ => self.refuse(COMMANDS_HELP.to_owned(), written),
            };
        }
        let client_offset = self.outbox.push(written.clone());
        self.scroll = 0;
        Some(Command::Send {
            text: written,
            client_offset,
        })
    }

    /// Says why a command was not taken, and gives it back to be corrected.
    fn refuse(&mut self, why: String, written: String) -> Option<Command> {
        self.say(why);
        self.cursor = written.len();
        self.input = written;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(screen: &mut Screen, code: KeyCode) -> Option<Command> {
        screen.key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn type_text(screen: &mut Screen, text: &str) {
        for c in text.chars() {
            press(screen, KeyCode::Char(c));
        }
    }

    #[test]
    fn enter_sends_and_alt_enter_adds_a_line() {
        let mut screen = Screen::new("general", "Ana", Zone::Local);
        type_text(&mut screen, "hola");
        screen.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
        type_text(&mut screen, "mundo");
        let Some(Command::Send { text, .. }) = press(&mut screen, KeyCode::Enter) else {
            panic!("Enter sends");
        };
        assert_eq!(text, "hola\nmundo");
        assert!(screen.input.is_empty());
        assert_eq!(screen.outbox().pending().count(), 1);
        assert_eq!(press(&mut screen, KeyCode::Enter), None, "nothing to send");
    }

    #[test]
    fn editing_keys_move_by_characters() {
        let mut screen = Screen::new("general", "Ana", Zone::Local);
        type_text(&mut screen, "añb");
        press(&mut screen, KeyCode::Left);
        press(&mut screen, KeyCode::Backspace);
        assert_eq!(screen.input, "ab");
        press(&mut screen, KeyCode::Home);
        press(&mut screen, KeyCode::Delete);
        assert_eq!(screen.input, "b");
    }

    #[test]
    fn commands_are_checked_before_they_run() {
        let mut screen = Screen::new("general", "Ana", Zone::Local);
        type_text(&mut screen, "/sala rust");
        assert_eq!(
            press(&mut screen, KeyCode::Enter),
            Some(Command::SwitchRoom("rust".into()))
        );
        type_text(&mut screen, "/sala Sala Mayor");
        assert_eq!(press(&mut screen, KeyCode::Enter), None);
        assert!(screen.notice.as_deref().unwrap().contains("minúsculas"));
        assert_eq!(screen.input, "/sala Sala Mayor", "given back to correct");
        screen.input.clear();
        screen.cursor = 0;
        type_text(&mut screen, "/nombre  Luis ");
        assert_eq!(
            press(&mut screen, KeyCode::Enter),
            Some(Command::Rename("Luis".into()))
        );
        type_text(&mut screen, "/salas");
        assert_eq!(press(&mut screen, KeyCode::Enter), Some(Command::ListRooms));
        type_text(&mut screen, "/salir");
        assert_eq!(press(&mut screen, KeyCode::Enter), Some(Command::Quit));
        type_text(&mut screen, "/ayuda");
        assert_eq!(press(&mut screen, KeyCode::Enter), None);
        assert_eq!(screen.notice.as_deref(), Some(COMMANDS_HELP));
    }
}
