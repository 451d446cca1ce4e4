//! The chat server as a library, so integration tests build the very same server as `main`.

pub mod config;
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
use realtime::Realtime;

/// The assembled server: its HTTP routes and a handle on its Socket.IO side.
pub struct App {
    pub router: Router,
    pub io: Io,
    /// How long a graceful shutdown may take.
    pub grace: Duration,
    /// The messages being stored, which a graceful shutdown waits for.
    pub writes: TaskTracker,
    /// How long a connection may leave the server's writes unread.
    pub stalled_reader: Duration,
}

pub async fn app(config: &Config) -> anyhow::Result<App> {
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
    let realtime = Realtime {
        limits: config.limits(),
        store,
        link: Default::default(),
        presence: Default::default(),
        metrics: Default::default(),
        flood: realtime::flood::Flood::new(config.flood_limits()),
        issuer: identity::Issuer::new(secret.as_bytes()),
        transports: Default::default(),
        node_room: None,
        writes: Default::default(),
    };
    let grace = config.shutdown_grace();
    let stalled_reader = config.stalled_reader();
    let writes = realtime.writes.clone();
    let origins = http::origin::AllowedOrigins::new(&config.allowed_origins);
    Ok(match &config.redis_url {
        None => {
            let (layer, io) = realtime::single(realtime.clone());
            App {
                router: routes(options, realtime, origins, &io, layer),
                io: Io::Single(io),
                grace,
                writes,
                stalled_reader,
            }
        }
        Some(url) => {
            let (layer, io) = realtime::cluster(realtime.clone(), url)
                .await
                .with_context(|| {
                    let url = config::redacted(url);
                    format!("cannot join the cluster through Redis at {url}")
                })?;
            App {
                router: routes(options, realtime, origins, &io, layer),
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
    realtime: Realtime,
    origins: http::origin::AllowedOrigins,
    io: &SocketIo<A>,
    socket_layer: SocketIoLayer<A>,
) -> Router {
    let backend = server_fns::ChatBackend {
        realtime: realtime.clone(),
        io: io.clone(),
    }
    .handle();
    // socketioxide's layer answers every path under /socket.io/, the client script's included,
    // so the script routes sit outside the layered part of the router.
    let site = http::headers::compressed(
        server_fns::routes(backend.clone(), realtime.flood.clone()).merge(page::routes(
            options,
            backend,
            realtime.flood.clone(),
        )),
    )
    .layer(socket_layer)
    .layer(axum::middleware::map_request(
        http::own_request::own_request,
    ))
    .layer(axum::middleware::from_fn_with_state(
        http::engine::Gate {
            flood: realtime.flood.clone(),
            transports: realtime.transports.clone(),
        },
        http::engine::gate,
    ));
    let outside = http::headers::compressed(http::client_script::routes())
        .merge(http::operations::routes(realtime))
        .fallback_service(site);
    http::headers::secured(outside)
        .layer(axum::middleware::from_fn_with_state(
            origins,
            http::origin::check_origin,
        ))
        .layer(axum::middleware::from_fn(http::request_log::log_request))
}

/// Serves `app` until `shutdown` resolves, then stops accepting, disconnects every client (they
/// reconnect elsewhere, or here after a restart) and returns once the open connections and the
/// messages being stored are done, or after the app's grace period if some are not.
pub async fn serve(
    listener: TcpListener,
    App {
        router,
        io,
        grace,
        writes,
        stalled_reader,
    }: App,
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
