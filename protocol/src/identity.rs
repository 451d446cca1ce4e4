//! Who is talking and where: nicknames, rooms, and the handshake that carries them.

use serde::{Deserialize, Serialize};

use crate::text::{display_name, is_short_ascii, MAX_NAME_CHARS};

/// The name shown for clients that never chose one (the seed's page, for one).
pub const DEFAULT_NAME: &str = "Anónimo";
/// The room a client lands in when it names none: the page at `/`, and every seed client.
pub const DEFAULT_ROOM: &str = "general";
pub const MAX_ROOM_CHARS: usize = 40;
/// Where a room's page lives: `/sala/{room}`.
pub const ROOM_PATH_PREFIX: &str = "/sala/";

/// What a client says about itself when it connects (Socket.IO's handshake `auth`). Every field is
/// optional, so the seed's `io()` with no auth at all still gets in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake {
    pub name: Option<String>,
    /// The private token of the identity the server gave this client before ([`Credentials`]):
    /// the same person again, from any tab or process that holds it. Without one, or with one
    /// the server did not issue, the client is somebody new.
    pub token: Option<String>,
    pub room: Option<String>,
    /// The id of the last message this client has; the server replays the room's later ones,
    /// as many as [`crate::REPLAY_MAX_MESSAGES`] and [`crate::REPLAY_MAX_BYTES`] allow (and
    /// says which it leaves out: [`crate::HISTORY_SKIPPED`]).
    pub offset: Option<i64>,
}

/// Server → client, once admitted: who the server says the client is ([`IDENTITY`]).
///
/// `person` is public: every message, presence list and typing notice names people by it.
/// `token` is private: the client keeps it and sends it in later handshakes
/// ([`Handshake::token`]) to be the same person again; nobody else ever sees it.
///
/// [`IDENTITY`]: crate::IDENTITY
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub person: String,
    pub token: String,
}

/// The longest token a handshake may carry (a token the server issues has 43 characters).
pub const MAX_TOKEN_CHARS: usize = 64;

/// How long, by default, an address whose client was cut off for flooding is refused new
/// connections ([`HandshakeError::CoolingDown`]); a server may be set to another.
pub const DEFAULT_FLOOD_COOLDOWN: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a handshake was refused (sent to the client as a `connect_error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum HandshakeError {
    #[error("El nombre debe tener entre 1 y {max} caracteres, en una línea, sin caracteres de control ni de dirección del texto.", max = MAX_NAME_CHARS)]
    BadName,
    #[error("El nombre de la sala solo admite letras minúsculas, cifras, «-» y «_» (hasta {max}).", max = MAX_ROOM_CHARS)]
    BadRoom,
    #[error("El identificador de sesión no es válido.")]
    BadToken,
    #[error("El desplazamiento no puede ser negativo.")]
    BadOffset,
    #[error(
        "Demasiadas conexiones desde tu dirección: cierra alguna pestaña e inténtalo de nuevo."
    )]
    TooManyConnections,
    #[error("Demasiadas conexiones nuevas desde tu dirección: espera unos segundos.")]
    TooManyHandshakes,
    #[error("Has enviado demasiados mensajes seguidos: espera unos segundos antes de volver.")]
    CoolingDown,
}

/// A handshake after validation, with the defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    /// Well formed, not yet recognised: only the server can tell whether it issued it.
    pub token: Option<String>,
    pub room: String,
    pub offset: Option<i64>,
}

impl Handshake {
    pub fn validate(self) -> Result<Identity, HandshakeError> {
        let name = match self.name {
            Some(name) => check_name(&name)?,
            None => DEFAULT_NAME.to_owned(),
        };
        let room = match self.room {
            Some(room) => check_room(&room)?,
            None => DEFAULT_ROOM.to_owned(),
        };
        if let Some(token) = &self.token {
            // base64url, as the server writes tokens.
            let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
            if !is_short_ascii(token, MAX_TOKEN_CHARS, base64url) {
                return Err(HandshakeError::BadToken);
            }
        }
        if self.offset.is_some_and(|offset| offset < 0) {
            return Err(HandshakeError::BadOffset);
        }
        Ok(Identity {
            name,
            token: self.token,
            room,
            offset: self.offset,
        })
    }
}

/// A nickname as shown: see [`display_name`].
pub fn check_name(name: &str) -> Result<String, HandshakeError> {
    display_name(name).map_err(|_| HandshakeError::BadName)
}

/// A room name: what follows `/sala/` in its URL, so only characters that need no escaping.
pub fn check_room(room: &str) -> Result<String, HandshakeError> {
    let url_safe = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_';
    if is_short_ascii(room, MAX_ROOM_CHARS, url_safe) {
        Ok(room.to_owned())
    } else {
        Err(HandshakeError::BadRoom)
    }
}

/// The room a page path shows: `/` is the default room, `/sala/{room}` any other.
pub fn room_from_path(path: &str) -> Result<String, HandshakeError> {
    match path.strip_prefix(ROOM_PATH_PREFIX) {
        Some(room) => check_room(room),
        None if path == "/" => Ok(DEFAULT_ROOM.to_owned()),
        None => Err(HandshakeError::BadRoom),
    }
}

pub fn room_path(room: &str) -> String {
    if room == DEFAULT_ROOM {
        "/".to_owned()
    } else {
        format!("{ROOM_PATH_PREFIX}{room}")
    }
}

/// A person in a room, as presence and typing events name them: `user` is the name they chose,
/// `person` their public id ([`Credentials::person`]), which tells apart two people with one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEvent {
    pub user: String,
    pub person: String,
    pub room: String,
}

/// One person in a presence list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Their public id ([`Credentials::person`]).
    pub person: String,
    pub name: String,
}

/// Who is in a room right now, each once, sorted by name: everyone in a small room; in a crowded
/// one [`PRESENCE_NAMES`] of them (the server takes each address's people in turn, so that one
/// machine's many identities cannot push everyone else out), with `online` counting them all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub room: String,
    pub users: Vec<Member>,
    /// How many people are here; absent (as from older servers): `users.len()`.
    #[serde(default)]
    pub online: usize,
}

/// Names a presence list holds at most; up to this many people, a room also announces every
/// arrival and departure (the server counts only a few people of one address towards it).
/// Beyond it each would go to everyone, and a crowd arriving would cost the square of its size.
pub const PRESENCE_NAMES: usize = 100;

/// Whether a room of `people` (as the server counts them) is crowded: past [`PRESENCE_NAMES`] it
/// announces nobody's arrival or departure, and its presence list names only some of them.
pub const fn is_crowded(people: usize) -> bool {
    people > PRESENCE_NAMES
}

/// A room with someone in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub name: String,
    pub online: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  Ana  "), Ok("Ana".to_owned()));
        assert_eq!(check_name(&"ñ".repeat(32)), Ok("ñ".repeat(32)));
        for bad in ["", "   ", "a\u{7}b", "línea\nnueva", &"x".repeat(33)] {
            assert_eq!(check_name(bad), Err(HandshakeError::BadName), "{bad:?}");
        }
    }

    #[test]
    fn room_names_are_url_safe() {
        for good in ["general", "rust-es", "sala_2", "a"] {
            assert_eq!(check_room(good), Ok(good.to_owned()));
        }
        for bad in [
            "",
            "General",
            "con espacio",
            "ñandú",
            "a/b",
            "..",
            &"x".repeat(41),
        ] {
            assert_eq!(check_room(bad), Err(HandshakeError::BadRoom), "{bad:?}");
        }
    }

    #[test]
    fn paths_map_to_rooms_and_back() {
        assert_eq!(room_from_path("/"), Ok(DEFAULT_ROOM.to_owned()));
        assert_eq!(room_from_path("/sala/rust"), Ok("rust".to_owned()));
        assert_eq!(room_from_path("/sala/"), Err(HandshakeError::BadRoom));
        assert_eq!(room_from_path("/otra"), Err(HandshakeError::BadRoom));
        assert_eq!(room_path("rust"), "/sala/rust");
        assert_eq!(room_path(DEFAULT_ROOM), "/");
    }

    #[test]
    fn an_empty_handshake_gets_the_defaults() {
        let identity = Handshake::default().validate().unwrap();
        assert_eq!(identity.name, DEFAULT_NAME);
        assert_eq!(identity.room, DEFAULT_ROOM);
        assert_eq!(identity.offset, None);
        assert_eq!(identity.token, None);
    }

    #[test]
    fn bad_handshakes_say_why() {
        let with = |f: fn(&mut Handshake)| {
            let mut handshake = Handshake::default();
            f(&mut handshake);
            handshake.validate()
        };
        assert_eq!(
            with(|h| h.name = Some(String::new())),
            Err(HandshakeError::BadName)
        );
        assert_eq!(
            with(|h| h.room = Some("Sala Mayor".into())),
            Err(HandshakeError::BadRoom)
        );
        assert_eq!(
            with(|h| h.token = Some("a b".into())),
            Err(HandshakeError::BadToken)
        );
        assert_eq!(
            with(|h| h.token = Some("x".repeat(MAX_TOKEN_CHARS + 1))),
            Err(HandshakeError::BadToken)
        );
        assert_eq!(
            with(|h| h.offset = Some(-1)),
            Err(HandshakeError::BadOffset)
        );
    }
}
