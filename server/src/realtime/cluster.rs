//! Several nodes as one chat: socketioxide's Redis adapter (fred driver) carries broadcasts,
//! room queries and presence between nodes. This module connects it and keeps delivery whole
//! when Redis goes away and comes back.
//!
//! While Redis is unreachable a node relays to its own clients only (a cluster broadcast would
//! fail before reaching anyone). Messages are stored all the same, so when its connection comes
//! back each node replays to the whole cluster, room by room, what was stored since it was lost:
//! clients keep messages by id, so what they already had is not shown twice.

use std::{
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use fred::{
    clients::SubscriberClient,
    error::ErrorKind,
    interfaces::{ClientLike, PubsubInterface},
    prelude::{Builder, Config, EventInterface, ReconnectPolicy},
    types::{config::UnresponsiveConfig, RespVersion},
};
use protocol::{HISTORY, MESSAGE_CHANGED};
use socketioxide::{adapter::Emitter, SocketIo};
use socketioxide_redis::{
    drivers::fred::FredDriver, FredAdapter, RedisAdapterConfig, RedisAdapterCtr,
};
use tracing::{info, warn};

use super::history;
use crate::chat::Chat;
use crate::store::now_millis;

/// The adapter every node's namespace runs on.
pub type Adapter = FredAdapter<Emitter>;
pub type ClusterIo = SocketIo<Adapter>;

/// Messages stored this long before the connection was seen lost may not have reached the other
/// nodes either: they are replayed too.
const LOST_MARGIN_MILLIS: i64 = 2_000;

/// Whether broadcasts reach the other nodes, and since when they have not.
#[derive(Clone, Debug, Default)]
pub struct Link {
    lost_at: Arc<Mutex<Option<i64>>>,
    /// The Redis client, once connected: a node that finds the link broken makes it reconnect.
    client: Arc<OnceLock<SubscriberClient>>,
}

impl Link {
    pub fn is_up(&self) -> bool {
        self.lost_at.lock().unwrap().is_none()
    }

    fn lost(&self) {
        self.lost_at.lock().unwrap().get_or_insert_with(now_millis);
    }

    /// A broadcast to the other nodes failed (a timeout: Redis hung, a partition, a half-open
    /// connection — no error from the connection itself may ever come). The link is lost from
    /// now, unless it was already (the first failure is when messages began to miss the other
    /// nodes), and the client reconnects: once it has, the catch-up replays everything stored
    /// since then to the whole cluster.
    pub fn failed(&self) {
        let was_up = {
            let mut lost_at = self.lost_at.lock().unwrap();
            let was_up = lost_at.is_none();
            lost_at.get_or_insert_with(now_millis);
            was_up
        };
        if let (true, Some(client)) = (was_up, self.client.get()) {
            warn!("a broadcast to the other nodes failed: relaying to this node's clients only until Redis is back");
            let client = client.clone();
            tokio::spawn(async move {
                if let Err(error) = client.force_reconnection().await {
                    warn!(%error, "cannot reconnect to Redis yet");
                }
            });
        }
    }

    /// Marks the link up again; returns when it was lost, if it was.
    fn restored(&self) -> Option<i64> {
        self.lost_at.lock().unwrap().take()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("invalid Redis URL: {0}")]
    Url(#[source] fred::error::Error),
    #[error("cannot connect to Redis: {0}")]
    Connect(#[source] fred::error::Error),
    #[error("cannot subscribe to the cluster's channels: {0}")]
    Subscribe(String),
}

/// Messages from Redis a node may have waiting before it drops some (fred's channel, then the
/// adapter's): a few MiB at most, used only during bursts.
const PUBSUB_BUFFER: usize = 8_192;

/// How long a question to the other nodes (who is in a room, the barrier after a message) waits
/// for their answers. A node that just died never answers, and until this runs out the room
/// whose turn waits on it is stalled — 5 s with the adapter's default, long enough for clients
/// to time out and resend. A live node answers within milliseconds; only a saturated cluster
/// (broadcast p99 in seconds, docs/deploy.md) answers later, and then the barrier lets the turn
/// go without it: order across nodes may slip under overload, nothing is lost.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a command may go unanswered before its connection is taken for dead.
const UNRESPONSIVE_AFTER: Duration = Duration::from_secs(2);

/// The Redis client's delays between reconnection attempts: from the first, doubling, up to the
/// most; it never gives up.
const RECONNECT_FIRST_DELAY_MILLIS: u32 = 100;
const RECONNECT_MAX_DELAY_MILLIS: u32 = 2_000;

/// Connects to Redis at `url` and returns the adapter's constructor. The client reconnects
/// forever ([`RECONNECT_MAX_DELAY_MILLIS`]).
pub async fn connect(
    url: &str,
    link: &Link,
) -> Result<(RedisAdapterCtr<FredDriver>, Reconnections), ClusterError> {
    let mut config = Config::from_url(url).map_err(ClusterError::Url)?;
    // fred does not read `?protocol=resp3`; the adapter needs RESP3 pushes.
    config.version = RespVersion::RESP3;
    let client = Builder::from_config(config)
        .set_policy(ReconnectPolicy::new_exponential(
            0,
            RECONNECT_FIRST_DELAY_MILLIS,
            RECONNECT_MAX_DELAY_MILLIS,
            2,
        ))
        .with_connection_config(|connection| {
            // A connection that answers nothing (Redis hung, a partition, a half-open TCP
            // connection) is closed and made again, as a broken one would be.
            connection.unresponsive = UnresponsiveConfig {
                max_timeout: Some(UNRESPONSIVE_AFTER),
                interval: UNRESPONSIVE_AFTER / 4,
            };
        })
        .with_performance_config(|performance| {
            // A publish must fail soon rather than queue while Redis is away: the sender waits
            // on it with its room's turn held.
            performance.default_command_timeout = Duration::from_secs(1);
            // Every broadcast of the cluster passes through this channel; a burst larger than
            // it (fred's default is 32) makes the reader lag, and a lagging reader skips
            // messages — seen when 300 clients left at once.
            performance.broadcast_channel_capacity = PUBSUB_BUFFER;
        })
        .build_subscriber_client()
        .map_err(ClusterError::Url)?;
    client.on_error({
        let link = link.clone();
        move |(error, _)| {
            // Only a broken connection: it is followed by a reconnection, which restores the
            // link. (A relay that fails for another reason falls back on its own, per message.)
            if matches!(error.kind(), ErrorKind::IO | ErrorKind::Canceled) {
                if link.is_up() {
                    warn!(%error, "lost the connection to Redis: relaying to this node's clients only");
                }
                link.lost();
            }
            async { Ok(()) }
        }
    });
    let adapter = RedisAdapterConfig::default()
        .with_stream_buffer(PUBSUB_BUFFER)
        .with_request_timeout(REQUEST_TIMEOUT);
    let constructor = RedisAdapterCtr::new_with_fred_config(client.clone(), adapter)
        .await
        .map_err(ClusterError::Connect)?;
    link.client.set(client.clone()).ok();
    Ok((constructor, Reconnections { client }))
}

/// The Redis client's reconnections, to act on once the node's namespace is up.
pub struct Reconnections {
    client: SubscriberClient,
}

impl Reconnections {
    /// On every reconnection to Redis: subscribes again to the adapter's channels, then replays
    /// to every node each room's messages and changes stored since the link was lost
    /// ([`catch_up`]). In that order, so that whatever is stored after the replay's read
    /// arrives live.
    pub fn catch_up_on_reconnect(&self, io: ClusterIo, chat: Chat) {
        let client = self.client.clone();
        self.client.on_reconnect(move |_server| {
            let (client, io, chat) = (client.clone(), io.clone(), chat.clone());
            async move {
                if let Err(error) = resubscribe(&client).await {
                    warn!(%error, "cannot subscribe again to the cluster's channels");
                    return Ok(());
                }
                if let Some(lost_at) = chat.link.restored() {
                    info!("reconnected to Redis: replaying what was stored meanwhile");
                    tokio::spawn(catch_up(io, chat, lost_at - LOST_MARGIN_MILLIS));
                }
                Ok(())
            }
        });
    }
}

/// Subscribes again to the adapter's (sharded) channels. Not fred's `resubscribe_all`: it also
/// sends a SUBSCRIBE for plain channels, and with none (the adapter uses sharded ones) Redis
/// refuses that empty command and the sharded ones are never reached.
async fn resubscribe(client: &SubscriberClient) -> Result<(), fred::error::Error> {
    for channel in client.tracked_shard_channels() {
        client.ssubscribe(channel.to_string()).await?;
    }
    Ok(())
}

/// Replays, to every node, each room's messages stored since `since`, then the messages changed
/// since: what this node's clients
/// may have missed from the others, and what the others' clients may have missed from this node
/// (stored while it could not publish, perhaps after they had caught up already).
async fn catch_up(io: ClusterIo, chat: Chat, since: i64) {
    let store = &chat.store;
    let rooms = async {
        let offset = store.offset_at(since).await?;
        Ok::<_, crate::store::StoreError>((offset, store.rooms_after(offset).await?))
    };
    let (offset, rooms) = match rooms.await {
        Ok(found) => found,
        Err(error) => {
            warn!(%error, "cannot read the store: nothing replayed after the Redis outage");
            return;
        }
    };
    for room in rooms {
        let everyone = io.to(room.clone());
        history::replay(
            store,
            &room,
            offset,
            chat.limits.max_event_bytes(),
            |batch| {
                let everyone = everyone.clone();
                let batch: Vec<_> = batch.iter().map(|m| m.as_seen_by(None)).collect();
                async move { everyone.emit(HISTORY, &batch).await.is_ok() }
            },
        )
        .await;
        history::replay_changes(store, &room, offset, |change| {
            let everyone = everyone.clone();
            async move { everyone.emit(MESSAGE_CHANGED, &change).await.is_ok() }
        })
        .await;
    }
}
