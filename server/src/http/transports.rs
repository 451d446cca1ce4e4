//! Closing a client's transport from the chat's side.
//!
//! socketioxide closes a Socket.IO session's engine when the transport fails, and when the
//! server stops, but offers no way to close one session's engine: a client that leaves its
//! namespace (`41`) keeps its Engine.IO connection, pinging, for as long as it likes, and a
//! client that stops reading cannot even be sent a goodbye (its buffer is full). So the server
//! closes what it can reach itself:
//!
//! - every TCP connection it accepts is [`Closable`]: its [`Closer`] travels with each request it
//!   carries (in `ConnectInfo<`[`Peer`]`>`) and ends the connection for whoever holds it — a
//!   websocket's session with it;
//! - a long-polling session holds no connection: [`Transports`] refuses its next requests instead
//!   (`400`, as for an unknown session), and the engine drops it when its pings go unanswered.
//!
//! A session's engine request parts are its handshake's, so the closer they hold is the right
//! one for a session that began on a websocket; one that began polling and upgraded has its
//! websocket's closer noted here when the upgrade passes ([`Transports::note`]).

use std::{
    collections::HashMap,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, Weak,
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{
    extract::{connect_info::Connected, ConnectInfo},
    http::request::Parts,
    serve::{IncomingStream, Listener},
};
use futures_util::task::AtomicWaker;
use socketioxide::{adapter::Adapter, extract::SocketRef, TransportType};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
};

/// Ends one TCP connection, from anywhere: its reads see the end of the stream and its writes
/// fail, so whoever serves it (hyper, a websocket) lets it go.
#[derive(Clone, Default)]
pub struct Closer(Arc<CloserState>);

#[derive(Default)]
struct CloserState {
    closed: AtomicBool,
    reader: AtomicWaker,
    writer: AtomicWaker,
}

impl std::fmt::Debug for Closer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Closer").field(&self.is_closed()).finish()
    }
}

impl Closer {
    pub fn close(&self) {
        if !self.0.closed.swap(true, Ordering::AcqRel) {
            self.0.reader.wake();
            self.0.writer.wake();
        }
    }

    pub fn is_closed(&self) -> bool {
        self.0.closed.load(Ordering::Acquire)
    }
}

/// A TCP connection the server accepted, which its [`Closer`] can end.
pub struct Closable {
    stream: TcpStream,
    closer: Closer,
}

impl AsyncRead for Closable {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.closer.0.reader.register(cx.waker());
        if this.closer.is_closed() {
            // The end of the stream.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl Closable {
    /// Registers the writer's waker; an error once closed.
    fn writable(&self, cx: &Context<'_>) -> Result<(), io::Error> {
        self.closer.0.writer.register(cx.waker());
        if self.closer.is_closed() {
            Err(io::ErrorKind::ConnectionAborted.into())
        } else {
            Ok(())
        }
    }
}

impl AsyncWrite for Closable {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.writable(cx)?;
        Pin::new(&mut this.stream).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.writable(cx)?;
        Pin::new(&mut this.stream).poll_write_vectored(cx, data)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.writable(cx)?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Accepts TCP connections as [`Closable`] ones (axum's own accepting, errors and retries
/// included), with `TCP_NODELAY`: chat frames are small and must leave at once — with Nagle's
/// algorithm a frame written while the previous one is unacknowledged waits for the peer's
/// delayed ACK (up to 40 ms on Linux).
pub struct ClosableListener {
    listener: TcpListener,
    stalled_reader: Duration,
}

impl ClosableListener {
    /// Accepts from `listener`; each connection is closed by the kernel once what the server
    /// sent it has waited unread for [`Config::stalled_reader`](crate::Config::stalled_reader) (zero: the system's default).
    pub fn new(listener: TcpListener, stalled_reader: Duration) -> Self {
        Self {
            listener,
            stalled_reader,
        }
    }
}

impl Listener for ClosableListener {
    type Io = Closable;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.listener).await;
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
        }
        // A peer that stops reading shuts its receive window, and the kernel would probe it
        // forever; the websocket writer, blocked on it, cannot be cancelled in between. This
        // bounds how long (and so how long such a peer holds its place and its presence).
        if let Err(error) =
            socket2::SockRef::from(&stream).set_tcp_user_timeout(Some(self.stalled_reader))
        {
            tracing::debug!(%error, "cannot set TCP_USER_TIMEOUT on a connection");
        }
        let closable = Closable {
            stream,
            closer: Closer::default(),
        };
        (closable, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// Who a request came from: the TCP peer, and the closer of the connection that carried it.
#[derive(Clone, Debug)]
pub struct Peer {
    pub addr: SocketAddr,
    pub closer: Closer,
}

#[cfg(test)]
impl Peer {
    /// A peer whose connection nothing here can close (requests built by hand, in tests).
    pub fn detached(addr: SocketAddr) -> Self {
        Self {
            addr,
            closer: Closer::default(),
        }
    }
}

impl Connected<IncomingStream<'_, ClosableListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, ClosableListener>) -> Self {
        Self {
            addr: *stream.remote_addr(),
            closer: stream.io().closer.clone(),
        }
    }
}

/// How long a closed session's id is remembered: past the engine's ping interval and timeout
/// (25 s + 20 s), by when the engine has dropped the session itself.
const FORGET_CLOSED_AFTER: Duration = Duration::from_secs(60);

/// The sessions the chat closed, and the websockets sessions upgraded to.
#[derive(Clone, Default)]
pub struct Transports(Arc<Mutex<Registry>>);

#[derive(Default)]
struct Registry {
    /// Session id → the websocket it upgraded to (held weakly: the connection's end drops it).
    upgraded: HashMap<String, Weak<CloserState>>,
    /// Session id → when the chat closed it.
    closed: HashMap<String, Instant>,
    /// The sizes after the last sweep: the next one comes when a map has doubled.
    swept: (usize, usize),
}

impl Transports {
    /// What an Engine.IO request with `sid` passing on its way to the engine tells: refused
    /// (`false`) if the chat closed the session; noted if it upgrades the session to a websocket.
    pub fn note(&self, sid: &str, transport: Option<&str>, request: &Parts) -> bool {
        let mut registry = self.0.lock().unwrap();
        if registry.closed.contains_key(sid) {
            return false;
        }
        if transport == Some("websocket") {
            if let Some(ConnectInfo(peer)) = request.extensions.get::<ConnectInfo<Peer>>() {
                registry
                    .upgraded
                    .insert(sid.to_owned(), Arc::downgrade(&peer.closer.0));
                registry.sweep();
            }
        }
        true
    }

    /// Closes `socket`'s Engine.IO session: a websocket at once, a long-polling session at its
    /// next request.
    pub fn close<A: Adapter>(&self, socket: &SocketRef<A>) {
        let sid = socket.id.to_string();
        let upgraded = {
            let mut registry = self.0.lock().unwrap();
            registry.closed.insert(sid.clone(), Instant::now());
            let upgraded = registry.upgraded.remove(&sid);
            registry.sweep();
            upgraded.and_then(|closer| closer.upgrade()).map(Closer)
        };
        let websocket = upgraded.or_else(|| {
            // Began on a websocket: its handshake's connection is the websocket. (A polling
            // handshake's connection may carry anybody's next request: never closed.)
            (socket.transport_type() == TransportType::Websocket)
                .then(|| socket.req_parts().extensions.get::<ConnectInfo<Peer>>())
                .flatten()
                .map(|ConnectInfo(peer)| peer.closer.clone())
        });
        if let Some(closer) = websocket {
            closer.close();
        }
    }
}

impl Registry {
    fn sweep(&mut self) {
        let (upgraded, closed) = self.swept;
        if self.upgraded.len() > 2 * upgraded.max(64) || self.closed.len() > 2 * closed.max(64) {
            self.upgraded.retain(|_, closer| closer.strong_count() > 0);
            self.closed
                .retain(|_, at| at.elapsed() < FORGET_CLOSED_AFTER);
            self.swept = (self.upgraded.len(), self.closed.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_closed_connection_ends_for_its_reader_and_its_writer() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = ClosableListener::new(listener, Duration::ZERO);
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut served, _) = listener.accept().await;
        let closer = served.closer.clone();

        // A reader waiting for bytes that never come is woken, and sees the end.
        let reading = tokio::spawn(async move {
            let mut buf = [0; 16];
            let read = served.read(&mut buf).await.unwrap();
            (read, served)
        });
        tokio::task::yield_now().await;
        closer.close();
        let (read, mut served) = reading.await.unwrap();
        assert_eq!(read, 0, "the end of the stream");
        assert!(served.write_all(b"late").await.is_err());

        // The peer sees the connection end once the server lets it go.
        drop(served);
        let mut rest = Vec::new();
        assert_eq!(client.read_to_end(&mut rest).await.unwrap(), 0);
    }
}
