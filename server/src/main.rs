use anyhow::Context;
use clap::Parser;
use server::{config::LogFormat, Config};
use tokio::net::{TcpListener, TcpSocket};
use tracing::{info, Level};
use tracing_subscriber::{
    filter::{filter_fn, FilterFn},
    fmt,
    prelude::*,
    EnvFilter,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let logs = tracing_subscriber::registry().with(log_filter());
    match config.log_format {
        LogFormat::Text => logs.with(fmt::layer().with_filter(payload_free())).init(),
        LogFormat::Json => logs
            .with(fmt::layer().json().with_filter(payload_free()))
            .init(),
    }

    let server = server::build(&config).await?;
    let listener =
        listen(config.addr).with_context(|| format!("cannot listen on {}", config.addr))?;
    info!("listening on http://{}", listener.local_addr()?);
    tokio::spawn(server::memory::give_back_after_crowds(server.io.clone()));
    server::serve(listener, server, shutdown_signal()).await?;
    info!("stopped");
    Ok(())
}

/// Libraries (targets and their modules) whose finest levels log every frame's payload, and
/// with it the private identity tokens a handshake carries (server/tests/lifecycle.rs).
const PAYLOAD_LOGGERS: [&str; 2] = ["tungstenite", "tokio_tungstenite"];

/// RUST_LOG, default `info`.
fn log_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Drops [`PAYLOAD_LOGGERS`]' events finer than `info`, whatever RUST_LOG asks (a filter of its
/// own: in RUST_LOG a directive for a module overrides one for its crate).
fn payload_free() -> FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool> {
    filter_fn(|metadata| {
        *metadata.level() <= Level::INFO
            || !PAYLOAD_LOGGERS
                .iter()
                .any(|logger| metadata.target().starts_with(logger))
    })
}

/// Connections the kernel may hold for the server before it accepts them. tokio's default of
/// 1,024 overflows when thousands of clients reconnect at once (a restart, a network cut): the
/// kernel then drops their SYNs and each waits a second to retry (measured by the stress run).
/// The kernel caps it at `net.core.somaxconn`.
const BACKLOG: u32 = 4_096;

fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // A restarted server binds its port again at once, as std's `bind` allows on Unix.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler cannot fail on Unix");
    tokio::select! {
        _ = interrupt => {},
        _ = terminate.recv() => {},
    }
    info!("shutting down");
}
