//! A room's turn to store and relay: while one message of a room is being stored and relayed,
//! the next one of that room waits, so a room's offsets go out in increasing order.

use std::{collections::HashMap, sync::Arc};

use sqlx::{pool::PoolConnection, Any, AnyConnection, AnyPool};
use tokio::sync::{Mutex, OwnedMutexGuard};
use tracing::warn;

use super::StoreError;

/// Turns within one process: one lock per room that has a message being stored (or waiting to
/// be), dropped with its last user, so rooms never wait for each other and nothing grows with
/// rooms that went quiet.
#[derive(Debug, Default)]
pub struct LocalTurns {
    rooms: std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// A room's turn in this process; the next message of the room waits until it is dropped.
pub struct LocalTurn<'a> {
    turns: &'a LocalTurns,
    room: String,
    lock: Arc<Mutex<()>>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl LocalTurns {
    /// Waits for `room`'s turn; it lasts as long as the guard.
    pub async fn take(&self, room: &str) -> LocalTurn<'_> {
        let lock = self
            .rooms
            .lock()
            .unwrap()
            .entry(room.to_owned())
            .or_default()
            .clone();
        let guard = lock.clone().lock_owned().await;
        LocalTurn {
            turns: self,
            room: room.to_owned(),
            lock,
            guard: Some(guard),
        }
    }
}

impl Drop for LocalTurn<'_> {
    fn drop(&mut self) {
        self.guard.take();
        let mut rooms = self.turns.rooms.lock().unwrap();
        // Nobody else holds or waits for it (the map holds one, this turn the other): forgotten.
        // Whoever wants it next clones it out of the map under this same lock, so the count
        // cannot change meanwhile.
        if Arc::strong_count(&self.lock) == 2 {
            rooms.remove(&self.room);
        }
    }
}

/// A turn across every node (PostgreSQL): a session-level advisory lock on the room's name, held
/// by one pooled connection from storing through relaying, so the message is committed before
/// anyone hears of it.
pub struct SharedTurn {
    connection: Option<PoolConnection<Any>>,
    room: String,
}

impl SharedTurn {
    pub async fn take(pool: &AnyPool, room: &str) -> Result<Self, StoreError> {
        let mut connection = pool.acquire().await?;
        // Selected through a subquery: the lock function returns `void`, which sqlx cannot decode.
        sqlx::query("SELECT 1 AS taken FROM (SELECT pg_advisory_lock(hashtext($1))) AS turn")
            .bind(room)
            .execute(&mut *connection)
            .await?;
        Ok(Self {
            connection: Some(connection),
            room: room.to_owned(),
        })
    }

    pub fn connection(&mut self) -> &mut AnyConnection {
        self.connection
            .as_mut()
            .expect("a turn has its connection until released")
    }

    /// Ends the turn, giving the connection back to the pool.
    pub async fn release(mut self) {
        let unlocked = sqlx::query(
            "SELECT 1 AS released FROM (SELECT pg_advisory_unlock(hashtext($1))) AS turn",
        )
        .bind(&self.room)
        .execute(self.connection())
        .await;
        match unlocked {
            Ok(_) => drop(self.connection.take()),
            // Dropping the turn closes the connection, which ends the lock all the same.
            Err(error) => warn!(%error, room = self.room, "cannot release a room's turn"),
        }
    }
}

impl Drop for SharedTurn {
    /// A turn dropped unreleased (an error, a cancelled task) must not go back to the pool still
    /// holding the lock: its connection is closed, and PostgreSQL ends the lock with the session.
    fn drop(&mut self) {
        if let Some(mut connection) = self.connection.take() {
            connection.close_on_drop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_room_waits_for_itself_only_and_is_forgotten_when_quiet() {
        let turns = LocalTurns::default();
        let first = turns.take("a").await;
        // Another room goes on.
        drop(turns.take("b").await);
        // The same room waits.
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), turns.take("a"))
                .await
                .is_err()
        );
        drop(first);
        drop(turns.take("a").await);
        assert!(turns.rooms.lock().unwrap().is_empty());
    }
}
