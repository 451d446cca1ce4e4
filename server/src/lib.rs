//! The chat server as a library, so that integration tests build the very same server as
//! `main.rs`: [`build`] assembles a [`Server`] from a [`Config`], and [`serve`] runs it until
//! shutdown.
//!
//! # Layout
//!
//! - [`config`]: every setting, from flags or environment variables.
//! - [`chat`]: the chat itself — the state every part shares ([`chat::Chat`]) and storing then
//!   delivering a message or a change to its room on every node ([`chat::delivery`]).
//! - [`realtime`]: Socket.IO — the engine's settings, admission, and one named handler per
//!   event, each an adapter from a socket event to [`chat`]; presence, typing, replay, and the
//!   cluster over Redis.
//! - [`flood`]: rate limits per connection and per address, connection caps, cut-off and
//!   cool-down, shared by the socket handlers and the HTTP routes.
//! - [`store`]: the history in SQLite or PostgreSQL (sqlx): exactly-once inserts and changes in
//!   a room's turn, pages, the identity secret.
//! - [`identity`]: server-issued identities (signed tokens, public person ids).
//! - [`page`]: the room pages, rendered by Leptos with their first history page.
//! - [`server_fns`]: the server side of the page's `#[server]` functions and `/api/*`.
//! - [`http`]: everything else over HTTP — the client script, health and metrics, the engine's
//!   admission gate, closable transports, origins, headers, the request log.
//! - [`metrics`]: the Prometheus registry.
//! - [`memory`]: giving a crowd's memory back to the system once it has left.

// The layout above names private modules: the docs are built with `--document-private-items`
// (scripts/test), where those links resolve and are checked.
#![allow(rustdoc::private_intra_doc_links)]

mod chat;
pub mod config;
mod flood;
mod http;
pub mod identity;
pub mod memory;
mod metrics;
mod page;
mod realtime;
mod server_fns;
pub mod store;

use std::{
    future::{Future, IntoFuture},
    time::Duration,
};

use anyhow::Context;

use axum::Router;
use leptos::config::LeptosOptions;
use socketioxide::{adapter::Adapter, layer::SocketIoLayer, SocketIo};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

pub use config::Config;
pub use realtime::Io;

use chat::Chat;

/// The assembled server: its HTTP routes and a handle on its Socket.IO side.
pub struct Server {
    pub router: Router,
    pub io: Io,
    /// How long a graceful shutdown may take.
    pub grace: Duration,
    /// The messages being stored, which a graceful shutdown waits for.
    pub writes: TaskTracker,
    /// How long a connection may leave the server's writes unread.
    pub stalled_reader: Duration,
}

/// Opens the store, reads or makes the identity secret, joins the cluster if there is one, and
/// assembles the routes.
pub async fn build(config: &Config) -> anyhow::Result<Server> {
    let options = config.leptos_options()?;
    // Leptos spawns its rendering tasks through this global executor. Setting it a second time
    // (tests build several apps in one process) fails harmlessly and keeps the first.
    any_spawner::Executor::init_tokio().ok();
    let store = store::Store::open(&config.database_url, config.database_connections)
        .await
        .with_context(|| {
            let url = config::redacted(&config.database_url);
            format!("cannot open the message store at {url}")
        })?;
    let secret = match &config.identity_secret {
        Some(secret) => secret.clone(),
        None => store
            .identity_secret(&identity::new_secret())
            .await
            .context("cannot read or keep the identity secret in the message store")?,
    };
    let chat = Chat::new(chat::Shared {
        limits: config.limits(),
        store,
        link: Default::default(),
        roster: Default::default(),
        metrics: Default::default(),
        flood: flood::Flood::new(config.flood_limits()),
        issuer: identity::Issuer::new(secret.as_bytes()),
        transports: Default::default(),
        node_room: config.redis_url.is_some().then(chat::new_node_room),
        writes: Default::default(),
    });
    let grace = config.shutdown_grace();
    let stalled_reader = config.stalled_reader();
    let writes = chat.writes.clone();
    let origins = http::origin::AllowedOrigins::new(&config.allowed_origins);
    Ok(match &config.redis_url {
        None => {
            let (layer, io) = realtime::single_node(chat.clone());
            Server {
                router: routes(options, chat, origins, &io, layer),
                io: Io::Single(io),
                grace,
                writes,
                stalled_reader,
            }
        }
        Some(url) => {
            let (layer, io) = realtime::cluster_node(chat.clone(), url)
                .await
                .with_context(|| {
                    let url = config::redacted(url);
                    format!("cannot join the cluster through Redis at {url}")
                })?;
            Server {
                router: routes(options, chat, origins, &io, layer),
                io: Io::Cluster(io),
                grace,
                writes,
                stalled_reader,
            }
        }
    })
}

fn routes<A: Adapter>(
    options: LeptosOptions,
    chat: Chat,
    origins: http::origin::AllowedOrigins,
    io: &SocketIo<A>,
    socket_layer: SocketIoLayer<A>,
) -> Router {
    let backend = server_fns::ChatBackend {
        chat: chat.clone(),
        io: io.clone(),
    }
    .handle();
    // socketioxide's layer answers every path under the engine's, the client script's
    // included, so the script routes sit outside the layered part of the router.
    let site = http::headers::compressed(
        server_fns::routes(backend.clone(), chat.flood.clone()).merge(page::routes(
            options,
            backend,
            chat.flood.clone(),
        )),
    )
    .layer(socket_layer)
    .layer(axum::middleware::map_request(
        http::own_request::own_request,
    ))
    .layer(axum::middleware::from_fn_with_state(
        http::engine::Gate {
            flood: chat.flood.clone(),
            transports: chat.transports.clone(),
        },
        http::engine::gate,
    ));
    let outside = http::headers::compressed(http::client_script::routes())
        .merge(http::operations::routes(chat))
        .fallback_service(site);
    http::headers::secured(outside)
        .layer(axum::middleware::from_fn_with_state(
            origins,
            http::origin::check_origin,
        ))
        .layer(axum::middleware::from_fn(http::request_log::log_request))
}

/// Serves `server` until `shutdown` resolves, then stops accepting, disconnects every client (they
/// reconnect elsewhere, or here after a restart) and returns once the open connections and the
/// messages being stored are done, or after the server's grace period if some are not.
pub async fn serve(
    listener: TcpListener,
    Server {
        router,
        io,
        grace,
        writes,
        stalled_reader,
    }: Server,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = http::transports::ClosableListener::new(listener, stalled_reader);
    let (stopping, began) = tokio::sync::oneshot::channel::<()>();
    // The peer's address is what flood control counts by; its closer ends a transport.
    let service = router.into_make_service_with_connect_info::<http::transports::Peer>();
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        shutdown.await;
        stopping.send(()).ok();
        // Open websockets would keep the graceful shutdown waiting forever.
        io.close().await;
    });
    let deadline = async move {
        match began.await {
            Ok(()) => tokio::time::sleep(grace).await,
            // The server ended before any shutdown: nothing to bound.
            Err(_) => std::future::pending().await,
        }
    };
    let finished = async move {
        let served = server.into_future().await;
        writes.close();
        writes.wait().await;
        served
    };
    tokio::select! {
        served = finished => served,
        () = deadline => {
            tracing::warn!(?grace, "connections or writes still open after the grace period: stopping anyway");
            Ok(())
        }
    }
}
