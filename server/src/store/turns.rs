//! A room's turn to store and relay: while one message of a room is being stored and relayed,
//! the next one of that room waits, so a room's offsets go out in increasing order.

use std::hash::{BuildHasher, RandomState};

use sqlx::{pool::PoolConnection, Any, AnyConnection, AnyPool};
use tokio::sync::{Mutex, MutexGuard};
use tracing::warn;

use super::StoreError;

/// Turns within one process (SQLite: one node owns the file). Rooms share a fixed set of locks
/// by hash: two rooms may wait for each other now and then, but nothing grows with the number of
/// rooms and nothing needs cleaning up.
#[derive(Debug)]
pub struct LocalTurns {
    stripes: [Mutex<()>; STRIPES],
    hasher: RandomState,
}

const STRIPES: usize = 64;

impl Default for LocalTurns {
    fn default() -> Self {
        Self {
            stripes: std::array::from_fn(|_| Mutex::new(())),
            hasher: RandomState::new(),
        }
    }
}

impl LocalTurns {
    /// Waits for `room`'s turn; it lasts as long as the guard.
    pub async fn take(&self, room: &str) -> MutexGuard<'_, ()> {
        let stripe = self.hasher.hash_one(room) as usize % STRIPES;
        self.stripes[stripe].lock().await
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
