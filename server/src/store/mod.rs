//! Message history: sqlx over embedded SQLite (one node) or PostgreSQL (any number of nodes), with
//! the same SQL for both and one schema per database in `server/migrations/`.

mod turns;

use std::{sync::Arc, time::Duration};

use protocol::{ChatMessage, MessageChange, MessageMeta, Rejection};
use sqlx::{any::AnyPoolOptions, AnyConnection, AnyPool, Connection, Row};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use turns::{LocalTurns, SharedTurn};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?} (expected sqlite:… or postgres:…)")]
    UnsupportedUrl(String),
    #[error("could not open the database: {0}")]
    Open(#[source] sqlx::Error),
    #[error("could not migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the room's turn did not come within {0:?}")]
    TurnTimeout(Duration),
}

/// A message to store, as validated from a client.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub room: &'a str,
    /// The author's name.
    pub user: &'a str,
    /// The author's public id ([`crate::identity`]).
    pub person: &'a str,
    pub text: &'a str,
    pub client_offset: Option<&'a str>,
}

/// What storing a message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Stored now.
    New(ChatMessage),
    /// A resend ([`Store::insert_then`]): the message its author stored before in this room
    /// under the same client offset, as it is now (edited or deleted since, perhaps).
    Duplicate(ChatMessage),
    /// The author used this client offset in this room for a change ([`Store::change_then`]):
    /// it names no message, and nothing is stored.
    KeyInUse,
}

/// A change to store: `person` edits (`text`) or deletes (`None`) their message `id`.
#[derive(Debug, Clone, Copy)]
pub struct NewChange<'a> {
    pub room: &'a str,
    /// The author's name, kept with the change.
    pub user: &'a str,
    pub person: &'a str,
    pub id: i64,
    /// The new text; `None` deletes the message.
    pub text: Option<&'a str>,
    pub client_offset: Option<&'a str>,
}

/// What asking for a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Stored now: the message's new state, whose `revision` is the change's offset.
    New(MessageChange),
    /// A resend of a change stored before (same person, room and client offset): that change's
    /// offset, and the message's state now (perhaps changed again since).
    Duplicate { revision: i64, now: MessageChange },
    /// Refused, and nothing stored: no such message in the room, or deleted
    /// ([`Rejection::NotFound`]); somebody else's ([`Rejection::NotYours`]); a client offset the
    /// author used for something else ([`Rejection::BadMeta`]).
    Refused(Rejection),
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    database: Database,
}

#[derive(Clone, Debug)]
enum Database {
    /// One process owns the file: a room's turn is taken in memory.
    Sqlite(Arc<LocalTurns>),
    /// Shared by every node: a room's turn is this node's turn for the room (so that a node's
    /// messages of one room wait in memory, not each on a connection of its own), then an
    /// advisory lock across nodes, held on a connection of its own pool (`turns`): rooms
    /// waiting for their turns never take the connections reads and readiness need.
    Postgres {
        local: Arc<LocalTurns>,
        turns: AnyPool,
    },
}

/// Which messages of a range a read takes when it cannot take them all.
#[derive(Clone, Copy)]
enum End {
    Oldest,
    Newest,
}

/// A query reading whole messages (never the rows of their changes), with `$filter` as more
/// conditions; [`from_row`] decodes its rows.
macro_rules! select_messages {
    ($filter:literal) => {
        concat!(
            "SELECT id, room, author, person, body, client_offset, sent_at, edited_at, \
             deleted_at, revision FROM messages WHERE target IS NULL AND ",
            $filter
        )
    };
}

/// The name of the identity secret in the `secrets` table.
const IDENTITY_SECRET: &str = "identity";

/// A message waits at most this long for a database connection, then is refused as
/// `unavailable` (the page resends it) rather than keeping its sender waiting for sqlx's default
/// of 30 s while the database is down.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A message waits at most this long for its room's turn on this node, and as long again for the
/// lock across nodes (PostgreSQL's `lock_timeout`), then is refused as `unavailable`: a node
/// frozen in the middle of its turn (stopped, or cut off from the database with its session
/// still open) holds that room up, and nothing else.
const TURN_WAIT: Duration = Duration::from_secs(3);

/// How far a SQLite history's offsets jump each time the server opens it, so that no offset
/// handed out before can ever be handed out again.
///
/// In WAL mode with `synchronous = NORMAL` a commit is written to the WAL but not synced: the
/// WAL is synced only before each checkpoint, which SQLite attempts at every commit once the
/// WAL holds 1,000 pages (`wal_autocheckpoint`'s default). A crash of the server loses nothing
/// committed (the operating system has the writes); a crash of the machine or a power cut may
/// lose the commits since the last sync — at most 1,000, since each commit adds at least one
/// page — and the sequence would then hand their offsets out again, to other messages, which
/// clients that saw the lost ones would skip as already seen. Starting past them all by a wide
/// margin keeps offsets unique and increasing. A full sync per commit instead costs this
/// development machine about 0.7 ms of disk and CPU per message, most of the chat's latency at
/// low load (`docs/BENCHMARKS.md`). Offsets are `i64`s sent to browsers as JSON numbers, exact
/// up to 2⁵³: a jump per start leaves room for billions of starts.
const OFFSETS_SKIPPED_AT_START: i64 = 100_000;

/// Moves the messages' sequence [`OFFSETS_SKIPPED_AT_START`] ahead, creating its row in a new
/// database.
async fn skip_offsets(pool: &AnyPool) -> Result<(), StoreError> {
    let mut transaction = pool.begin().await?;
    sqlx::query(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'messages', 0 \
         WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages')",
    )
    .execute(&mut *transaction)
    .await?;
    sqlx::query("UPDATE sqlite_sequence SET seq = seq + $1 WHERE name = 'messages'")
        .bind(OFFSETS_SKIPPED_AT_START)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(())
}

/// With PostgreSQL, the connections kept for reads (history, replays) and readiness: what the
/// pool of turns can never take from them.
pub const READ_CONNECTIONS: u32 = 3;

impl Store {
    /// Opens (creating it if needed) and migrates the database at `url`, with at most
    /// `connections` connections to it (with PostgreSQL, [`READ_CONNECTIONS`] of them kept for
    /// reads; at least one for turns).
    pub async fn open(url: &str, connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let options = || AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        if url.starts_with("sqlite:") {
            let pool = options()
                .max_connections(connections.max(1))
                // An embedded database's connection cannot go stale: no ping (a round trip to
                // its worker thread) before each use.
                .test_before_acquire(false)
                // Both per-connection settings. A deleted message's text is overwritten in the
                // file, not left in its free pages; old copies in the WAL go at its checkpoint.
                // A commit is not synced to the disk by itself ([`OFFSETS_SKIPPED_AT_START`]).
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        sqlx::raw_sql("PRAGMA secure_delete = ON; PRAGMA synchronous = NORMAL")
                            .execute(connection)
                            .await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await
                .map_err(StoreError::Open)?;
            // Readers no longer wait for the writer.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
            sqlx::migrate!("migrations/sqlite").run(&pool).await?;
            skip_offsets(&pool).await?;
            let database = Database::Sqlite(Arc::default());
            Ok(Self { pool, database })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = options()
                .max_connections(READ_CONNECTIONS)
                .connect(url)
                .await
                .map_err(StoreError::Open)?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            let lock_timeout = format!("SET lock_timeout = {}", TURN_WAIT.as_millis());
            let turns = options()
                .max_connections(connections.saturating_sub(READ_CONNECTIONS).max(1))
                .after_connect(move |connection, _| {
                    let set = lock_timeout.clone();
                    Box::pin(async move {
                        sqlx::raw_sql(sqlx::AssertSqlSafe(set))
                            .execute(connection)
                            .await?;
                        Ok(())
                    })
                })
                .connect_lazy(url)
                .map_err(StoreError::Open)?;
            let local = Arc::default();
            let database = Database::Postgres { local, turns };
            Ok(Self { pool, database })
        } else {
            Err(StoreError::UnsupportedUrl(crate::config::redacted(url)))
        }
    }

    /// The secret the server signs identities with ([`crate::identity`]): the one stored here,
    /// or `fresh` stored now if there is none yet. Nodes sharing the database share it, whichever
    /// stored it first.
    pub async fn identity_secret(&self, fresh: &str) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(IDENTITY_SECRET)
        .bind(fresh)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT value FROM secrets WHERE name = $1")
            .bind(IDENTITY_SECRET)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("value")?)
    }

    /// Whether the database answers: a trivial query through the pool.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Stores `message` and, if it is new, hands it to `relay` before any later message of the
    /// same room is stored: a room's offsets are relayed in increasing order, whichever node
    /// stores them, and each one only once committed. So a client that joins a room and then
    /// reads what it missed has every message either live or in that read, and its highest
    /// offset is a safe place to resume from.
    ///
    /// **Exactly once** — the one statement of the resend rule, which every other place links
    /// to: a message whose (person, room, client offset) is stored already is a resend. Nothing
    /// is stored, `relay` is not called, the resend's text is not looked at, and the stored
    /// message comes back as it is now ([`Stored::Duplicate`]): its id acknowledges the resend,
    /// and the caller relays it again, since its first relay may never have happened
    /// ([`publish_message`](crate::chat::delivery::publish_message)). A client offset the
    /// person used in the room for a change names no message ([`Stored::KeyInUse`]). The same
    /// client offset from another person or in another room is another message.
    pub async fn insert_then(
        &self,
        message: NewMessage<'_>,
        relay: impl AsyncFnOnce(&ChatMessage),
    ) -> Result<Stored, StoreError> {
        self.in_turn(message.room, async |connection| {
            let stored = insert(connection, message).await?;
            if let Stored::New(new) = &stored {
                relay(new).await;
            }
            Ok(stored)
        })
        .await
    }

    /// Stores `change` if its author may make it and, if it is new, hands the message's new
    /// state to `relay` in the room's turn, like [`Store::insert_then`]: a change takes its
    /// offset from the messages' sequence and is relayed in offset order with them, so whoever
    /// resumes from an offset has every change after it either live or in its replay
    /// ([`Store::changes_after`]).
    ///
    /// Only the message's author changes it: `change.person` is the server-side identity of the
    /// connection that asked, never anything the client claimed. A deleted message's text is
    /// gone (its earlier edits' too) and it cannot change again. **Exactly once** as messages
    /// are ([`Store::insert_then`]): a change whose (person, room, client offset) is stored
    /// already is a resend ([`Changed::Duplicate`], acknowledged with its first revision even
    /// if the message was deleted since), so a late resend of an old edit never undoes a newer
    /// one; the key of a message, of another message's change or of the other kind of change
    /// is refused ([`Rejection::BadMeta`]).
    pub async fn change_then(
        &self,
        change: NewChange<'_>,
        relay: impl AsyncFnOnce(&MessageChange),
    ) -> Result<Changed, StoreError> {
        self.in_turn(change.room, async |connection| {
            let changed = apply(connection, change).await?;
            if let Changed::New(new) = &changed {
                relay(new).await;
            }
            Ok(changed)
        })
        .await
    }

    /// Runs `write` with a connection, holding `room`'s turn: a room's writes are committed and
    /// relayed one at a time, whichever node makes them.
    async fn in_turn<T>(
        &self,
        room: &str,
        write: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.database {
            Database::Sqlite(turns) => {
                let _turn = turns.take(room).await;
                write(&mut *self.pool.acquire().await?).await
            }
            Database::Postgres { local, turns } => {
                let _here = tokio::time::timeout(TURN_WAIT, local.take(room))
                    .await
                    .map_err(|_| StoreError::TurnTimeout(TURN_WAIT))?;
                let mut turn = SharedTurn::take(turns, room).await?;
                let written = write(turn.connection()).await?;
                turn.release().await;
                Ok(written)
            }
        }
    }

    /// The highest offset stored before `millis` (Unix time): where to resume for whoever may
    /// have missed what was relayed since.
    pub async fn offset_at(&self, millis: i64) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT COALESCE(MAX(id), 0) AS offset FROM messages WHERE sent_at < $1")
                .bind(millis)
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get("offset")?)
    }

    /// The rooms with messages after `offset`.
    pub async fn rooms_after(&self, offset: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT room FROM messages WHERE id > $1")
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok(row.try_get("room")?)).collect()
    }

    /// The room's highest offset so far (0 for an empty room): a page showing the room up to
    /// here resumes from it. Per room, because only a room's offsets are committed in order.
    pub async fn latest_offset(&self, room: &str) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT COALESCE(MAX(id), 0) AS latest FROM messages WHERE room = $1")
                .bind(room)
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get("latest")?)
    }

    /// The room's messages after `offset`, oldest first, at most `limit`.
    pub async fn after(
        &self,
        room: &str,
        offset: i64,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        self.read_after(room, offset, limit, End::Oldest).await
    }

    /// The room's newest `limit` messages after `offset`, oldest first.
    pub async fn newest_after(
        &self,
        room: &str,
        offset: i64,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        self.read_after(room, offset, limit, End::Newest).await
    }

    /// At most `limit` of the room's messages after `offset`, taken from `end`, oldest first.
    async fn read_after(
        &self,
        room: &str,
        offset: i64,
        limit: usize,
        end: End,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let query = match end {
            End::Oldest => select_messages!("room = $1 AND id > $2 ORDER BY id LIMIT $3"),
            End::Newest => select_messages!("room = $1 AND id > $2 ORDER BY id DESC LIMIT $3"),
        };
        let rows = sqlx::query(query)
            .bind(room)
            .bind(offset)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        let mut messages = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        if let End::Newest = end {
            messages.reverse();
        }
        Ok(messages)
    }

    /// The current state of the room's messages up to `up_to` that changed after `offset`, in
    /// the order of their latest changes, at most `limit`: for a client resuming from `offset`,
    /// the messages it may hold (`up_to` = `offset`); for the catch-up after a Redis outage,
    /// all of them (`i64::MAX`).
    pub async fn changes_after(
        &self,
        room: &str,
        offset: i64,
        up_to: i64,
        limit: usize,
    ) -> Result<Vec<MessageChange>, StoreError> {
        let rows = sqlx::query(select_messages!(
            "room = $1 AND revision > $2 AND id <= $3 ORDER BY revision LIMIT $4"
        ))
        .bind(room)
        .bind(offset)
        .bind(up_to)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change_from_row).collect()
    }

    /// The room's last `limit` messages before `before` (or the very last ones), oldest first.
    pub async fn before(
        &self,
        room: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let rows = sqlx::query(select_messages!(
            "room = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind(room)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().rev().map(from_row).collect()
    }
}

async fn insert(
    connection: &mut AnyConnection,
    message: NewMessage<'_>,
) -> Result<Stored, StoreError> {
    let sent_at = now_millis();
    let inserted = sqlx::query(
        "INSERT INTO messages (room, author, person, body, client_offset, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (person, room, client_offset) DO NOTHING RETURNING id",
    )
    .bind(message.room)
    .bind(message.user)
    .bind(message.person)
    .bind(message.text)
    .bind(message.client_offset)
    .bind(sent_at)
    .fetch_optional(&mut *connection)
    .await?;
    match (inserted, message.client_offset) {
        (Some(row), _) => Ok(Stored::New(ChatMessage {
            text: message.text.to_owned(),
            meta: MessageMeta {
                id: row.try_get("id")?,
                user: message.user.to_owned(),
                person: message.person.to_owned(),
                room: message.room.to_owned(),
                at: rfc3339(sent_at),
                client_offset: message.client_offset.map(str::to_owned),
                ..MessageMeta::default()
            },
        })),
        (None, Some(client_offset)) => {
            let row = sqlx::query(select_messages!(
                "person = $1 AND room = $2 AND client_offset = $3"
            ))
            .bind(message.person)
            .bind(message.room)
            .bind(client_offset)
            .fetch_optional(&mut *connection)
            .await?;
            match row {
                Some(row) => Ok(Stored::Duplicate(from_row(&row)?)),
                None => Ok(Stored::KeyInUse),
            }
        }
        (None, None) => unreachable!("only a client offset can conflict"),
    }
}

/// Checks and stores a change; the caller holds the room's turn.
async fn apply(
    connection: &mut AnyConnection,
    change: NewChange<'_>,
) -> Result<Changed, StoreError> {
    if let Some(client_offset) = change.client_offset {
        let earlier = sqlx::query(
            "SELECT id, target, deleted_at FROM messages \
             WHERE person = $1 AND room = $2 AND client_offset = $3",
        )
        .bind(change.person)
        .bind(change.room)
        .bind(client_offset)
        .fetch_optional(&mut *connection)
        .await?;
        if let Some(earlier) = earlier {
            // The key must name this very change: of this message, and of this kind (a
            // deletion row has `deleted_at`, an edit row never does).
            let was_deletion = earlier.try_get::<Option<i64>, _>("deleted_at")?.is_some();
            if earlier.try_get::<Option<i64>, _>("target")? != Some(change.id)
                || was_deletion != change.text.is_none()
            {
                return Ok(Changed::Refused(Rejection::BadMeta));
            }
            let row = sqlx::query(select_messages!("id = $1"))
                .bind(change.id)
                .fetch_one(&mut *connection)
                .await?;
            return Ok(Changed::Duplicate {
                revision: earlier.try_get("id")?,
                now: change_from_row(&row)?,
            });
        }
    }
    let target = sqlx::query(select_messages!("id = $1 AND room = $2"))
        .bind(change.id)
        .bind(change.room)
        .fetch_optional(&mut *connection)
        .await?;
    let Some(target) = target else {
        return Ok(Changed::Refused(Rejection::NotFound));
    };
    let target = from_row(&target)?;
    if target.meta.deleted {
        return Ok(Changed::Refused(Rejection::NotFound));
    }
    if target.meta.person.is_empty() || target.meta.person != change.person {
        return Ok(Changed::Refused(Rejection::NotYours));
    }
    let at = now_millis();
    let deleted_at = change.text.is_none().then_some(at);
    let mut transaction = connection.begin().await?;
    let revision: i64 = sqlx::query(
        "INSERT INTO messages (room, author, person, body, client_offset, sent_at, target, \
         deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(change.room)
    .bind(change.user)
    .bind(change.person)
    .bind(change.text.unwrap_or_default())
    .bind(change.client_offset)
    .bind(at)
    .bind(change.id)
    .bind(deleted_at)
    .fetch_one(&mut *transaction)
    .await?
    .try_get("id")?;
    match change.text {
        Some(text) => {
            sqlx::query(
                "UPDATE messages SET body = $1, edited_at = $2, revision = $3 WHERE id = $4",
            )
            .bind(text)
            .bind(at)
            .bind(revision)
            .bind(change.id)
            .execute(&mut *transaction)
            .await?;
        }
        None => {
            sqlx::query(
                "UPDATE messages SET body = '', deleted_at = $1, revision = $2 WHERE id = $3",
            )
            .bind(at)
            .bind(revision)
            .bind(change.id)
            .execute(&mut *transaction)
            .await?;
            // Taken back: nothing of what it said stays, its edits' texts neither.
            sqlx::query("UPDATE messages SET body = '' WHERE target = $1")
                .bind(change.id)
                .execute(&mut *transaction)
                .await?;
        }
    }
    transaction.commit().await?;
    Ok(Changed::New(MessageChange {
        id: change.id,
        room: change.room.to_owned(),
        revision,
        text: change.text.map(str::to_owned),
        edited_at: change.text.map(|_| rfc3339(at)),
        deleted: change.text.is_none(),
    }))
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<ChatMessage, StoreError> {
    let edited_at: Option<i64> = row.try_get("edited_at")?;
    let deleted_at: Option<i64> = row.try_get("deleted_at")?;
    Ok(ChatMessage {
        text: row.try_get("body")?,
        meta: MessageMeta {
            id: row.try_get("id")?,
            user: row.try_get("author")?,
            person: row.try_get("person")?,
            room: row.try_get("room")?,
            at: rfc3339(row.try_get("sent_at")?),
            client_offset: row.try_get("client_offset")?,
            edited_at: edited_at.filter(|_| deleted_at.is_none()).map(rfc3339),
            deleted: deleted_at.is_some(),
            revision: row.try_get("revision")?,
        },
    })
}

/// A message's current state, as a change tells it.
fn change_from_row(row: &sqlx::any::AnyRow) -> Result<MessageChange, StoreError> {
    Ok(from_row(row)?.as_change())
}

pub(crate) fn now_millis() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn rfc3339(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn scratch() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("chat.db").display());
        (Store::open(&url, 10).await.unwrap(), dir)
    }

    fn message<'a>(room: &'a str, text: &'a str, client_offset: Option<&'a str>) -> NewMessage<'a> {
        NewMessage {
            room,
            user: "Ana",
            person: "p-ana",
            text,
            client_offset,
        }
    }

    #[tokio::test]
    async fn offsets_grow_and_pages_come_oldest_first() {
        let (store, _dir) = scratch().await;
        let mut ids = Vec::new();
        for n in 0..5 {
            let Stored::New(stored) = store
                .insert_then(message("a", &format!("m{n}"), None), async |_| {})
                .await
                .unwrap()
            else {
                panic!("a new message");
            };
            ids.push(stored.meta.id);
        }
        store
            .insert_then(message("b", "elsewhere", None), async |_| {})
            .await
            .unwrap();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));

        let texts = |page: Vec<ChatMessage>| page.into_iter().map(|m| m.text).collect::<Vec<_>>();
        assert_eq!(
            texts(store.after("a", ids[1], 2).await.unwrap()),
            ["m2", "m3"]
        );
        assert_eq!(texts(store.after("a", 0, 100).await.unwrap()).len(), 5);
        assert_eq!(
            texts(store.before("a", None, 2).await.unwrap()),
            ["m3", "m4"]
        );
        assert_eq!(
            texts(store.before("a", Some(ids[2]), 10).await.unwrap()),
            ["m0", "m1"]
        );
        assert!(store.after("c", 0, 10).await.unwrap().is_empty());
        assert_eq!(store.latest_offset("a").await.unwrap(), ids[4]);
        assert_eq!(store.latest_offset("c").await.unwrap(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_room_relays_its_offsets_in_increasing_order() {
        let (store, _dir) = scratch().await;
        let relayed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let senders = (0..8).map(|sender| {
            let (store, relayed) = (store.clone(), relayed.clone());
            tokio::spawn(async move {
                for n in 0..25 {
                    let text = format!("{sender}-{n}");
                    store
                        .insert_then(message("a", &text, None), async |new| {
                            // Give the others every chance to overtake.
                            tokio::task::yield_now().await;
                            relayed.lock().unwrap().push(new.meta.id);
                        })
                        .await
                        .unwrap();
                }
            })
        });
        for sender in senders.collect::<Vec<_>>() {
            sender.await.unwrap();
        }
        let relayed = relayed.lock().unwrap();
        assert_eq!(relayed.len(), 200);
        assert!(
            relayed.windows(2).all(|pair| pair[0] < pair[1]),
            "{relayed:?}"
        );
    }

    #[tokio::test]
    async fn a_client_offset_is_stored_once() {
        let (store, _dir) = scratch().await;
        let relayed = std::sync::Mutex::new(0);
        let count = async |_: &ChatMessage| *relayed.lock().unwrap() += 1;
        let first = store
            .insert_then(message("a", "hola", Some("u-1")), count)
            .await
            .unwrap();
        let again = store
            .insert_then(message("a", "hola", Some("u-1")), count)
            .await
            .unwrap();
        assert_eq!(*relayed.lock().unwrap(), 1, "a resend is not relayed");
        let (Stored::New(first), Stored::Duplicate(again)) = (first, again) else {
            panic!("new, then duplicate");
        };
        assert_eq!(first, again);
        assert_eq!(store.after("a", 0, 10).await.unwrap().len(), 1);
        assert!(first.meta.at.ends_with('Z'), "{}", first.meta.at);
    }

    /// A machine crash may lose the last commits of a history that does not sync each one
    /// ([`OFFSETS_SKIPPED_AT_START`]); whoever saw one keeps its offset, so the reopened history
    /// must never hand that offset to another message.
    #[tokio::test]
    async fn an_offset_lost_in_a_crash_is_never_handed_out_again() {
        let (store, dir) = scratch().await;
        let store_new = async |store: &Store, text: &str| {
            let stored = store.insert_then(message("a", text, None), async |_| {});
            match stored.await.unwrap() {
                Stored::New(stored) => stored.meta.id,
                other => panic!("a new message, not {other:?}"),
            }
        };
        let kept = store_new(&store, "kept").await;
        let lost = store_new(&store, "lost in the crash").await;
        // What the file holds after the crash: the sequence and the table as before `lost`.
        sqlx::query("DELETE FROM messages WHERE id = $1")
            .bind(lost)
            .execute(&store.pool)
            .await
            .unwrap();
        sqlx::query("UPDATE sqlite_sequence SET seq = $1 WHERE name = 'messages'")
            .bind(kept)
            .execute(&store.pool)
            .await
            .unwrap();
        store.pool.close().await;

        let url = format!("sqlite://{}?mode=rwc", dir.path().join("chat.db").display());
        let reopened = Store::open(&url, 10).await.unwrap();
        let next = store_new(&reopened, "after the restart").await;
        assert!(next > lost, "{next} must come after the lost {lost}");
        assert_eq!(reopened.latest_offset("a").await.unwrap(), next);
    }

    #[tokio::test]
    async fn a_client_offset_is_its_authors_own_in_its_room() {
        let (store, _dir) = scratch().await;
        let store_new = async |message: NewMessage<'_>| {
            let stored = store.insert_then(message, async |_| {}).await.unwrap();
            assert!(matches!(stored, Stored::New(_)), "{message:?}: {stored:?}");
        };
        store_new(message("a", "de Ana", Some("k-1"))).await;
        // Another person's key, however equal, is another message...
        let beto = NewMessage {
            person: "p-beto",
            user: "Beto",
            ..message("a", "de Beto", Some("k-1"))
        };
        store_new(beto).await;
        // ...and so is the same person's key in another room.
        store_new(message("b", "de Ana en b", Some("k-1"))).await;
        let texts = |page: Vec<ChatMessage>| page.into_iter().map(|m| m.text).collect::<Vec<_>>();
        assert_eq!(
            texts(store.after("a", 0, 10).await.unwrap()),
            ["de Ana", "de Beto"]
        );
        assert_eq!(
            texts(store.after("b", 0, 10).await.unwrap()),
            ["de Ana en b"]
        );
    }

    /// One send of a generated history: a room, an author, and a client offset from a small set
    /// so that resends (and the same key from others) are frequent.
    fn sends() -> impl proptest::strategy::Strategy<Value = Vec<(usize, usize, Option<u8>)>> {
        proptest::collection::vec((0..3usize, 0..2usize, proptest::option::of(0..8u8)), 1..40)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// The resume contract, against a model: every new message gets a higher offset than
        /// all before it and is relayed once; a resend (same author, room and client offset)
        /// gets the first one's message back and is relayed never; and from any offset a client
        /// may hold, a room's `after` is exactly that room's later messages in order.
        #[test]
        fn offsets_keep_the_resume_contract(sends in sends()) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let (store, _dir) = scratch().await;
                let rooms = ["a", "b", "c"];
                let people = ["p-ana", "p-beto"];
                let mut model: Vec<ChatMessage> = Vec::new();
                for (n, (room, person, client_offset)) in sends.iter().enumerate() {
                    let text = format!("m{n}");
                    let client_offset = client_offset.map(|k| format!("u-{k}"));
                    let relayed = std::sync::Mutex::new(Vec::new());
                    let sent = NewMessage {
                        person: people[*person],
                        ..message(rooms[*room], &text, client_offset.as_deref())
                    };
                    let stored = store
                        .insert_then(sent, async |new| relayed.lock().unwrap().push(new.clone()))
                        .await
                        .unwrap();
                    let relayed = relayed.into_inner().unwrap();
                    let first = model.iter().find(|m| {
                        client_offset.is_some()
                            && m.meta.client_offset == client_offset
                            && m.meta.room == rooms[*room]
                            && m.meta.person == people[*person]
                    });
                    match (stored, first) {
                        (Stored::Duplicate(again), Some(first)) => {
                            assert_eq!(&again, first);
                            assert!(relayed.is_empty(), "a resend is relayed");
                        }
                        (Stored::New(new), None) => {
                            assert!(model.last().is_none_or(|last| last.meta.id < new.meta.id));
                            assert_eq!(relayed, std::slice::from_ref(&new));
                            model.push(new);
                        }
                        (stored, first) => panic!("stored {stored:?}, first sent as {first:?}"),
                    }
                }
                for room in rooms {
                    let of_room: Vec<&ChatMessage> = model.iter().filter(|m| m.meta.room == room).collect();
                    let latest = of_room.last().map_or(0, |m| m.meta.id);
                    assert_eq!(store.latest_offset(room).await.unwrap(), latest);
                    let held = std::iter::once(0).chain(model.iter().map(|m| m.meta.id));
                    for offset in held {
                        let expected: Vec<&ChatMessage> =
                            of_room.iter().copied().filter(|m| m.meta.id > offset).collect();
                        let after = store.after(room, offset, usize::MAX >> 1).await.unwrap();
                        assert_eq!(after.iter().collect::<Vec<_>>(), expected, "{room} after {offset}");
                    }
                }
            });
        }
    }
}
