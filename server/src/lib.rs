//! The chat server as a library, so integration tests build the very same server as `main`.

pub mod config;
mod http;
mod page;
mod realtime;
mod server_fns;
pub mod store;

use std::future::Future;

use anyhow::Context;

use axum::Router;
use socketioxide::SocketIo;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use config::Config;

/// The assembled server: its HTTP routes and a handle on its Socket.IO side.
pub struct App {
    pub router: Router,
    pub io: SocketIo,
}

pub async fn app(config: &Config) -> anyhow::Result<App> {
    let options = config.leptos_options()?;
    // Leptos spawns its rendering tasks through this global executor. Setting it a second time
    // (tests build several apps in one process) fails harmlessly and keeps the first.
    any_spawner::Executor::init_tokio().ok();
    let store = store::Store::open(&config.database_url)
        .await
        .with_context(|| format!("cannot open the message store at {}", config.database_url))?;
    let (socket_layer, io) = realtime::layer(realtime::Realtime {
        limits: config.limits(),
        store: store.clone(),
        presence: realtime::Presence::default(),
    });
    let backend = server_fns::ChatBackend {
        store,
        io: io.clone(),
        limits: config.limits(),
    }
    .handle();
    // socketioxide's layer answers every path under /socket.io/, the client script's included,
    // so the script routes sit outside the layered part of the router.
    let site = server_fns::routes(backend.clone())
        .merge(page::routes(options, backend))
        .layer(socket_layer);
    let router = http::client_script::routes()
        .fallback_service(site)
        .layer(TraceLayer::new_for_http());
    Ok(App { router, io })
}

/// Serves `app` until `shutdown` resolves, then disconnects every client and returns.
pub async fn serve(
    listener: TcpListener,
    App { router, io }: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Open websockets would keep the graceful shutdown waiting forever.
            io.close().await;
        })
        .await
}
