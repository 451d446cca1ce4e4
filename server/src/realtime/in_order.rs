//! Per-socket, in-order processing of a socket's writes.
//!
//! socketioxide spawns a task for every incoming event, so two messages from one client may run
//! concurrently and reach the others swapped. A chat must keep each sender's order. The
//! synchronous [`MessageHandler::call`] of a [`Route`] runs in arrival order for a given socket
//! (it is invoked from the socket's packet loop), so it only queues the event; one task per
//! socket then handles the queue one event at a time. That task and its queue are made at the
//! socket's first event ([`LazyLock`]): most connections of a large room only listen, and each
//! would otherwise hold them (≈ 4 KiB).

use std::{
    future::Future,
    sync::{Arc, LazyLock},
    time::Instant,
};

use protocol::Rejection;
use serde::de::DeserializeOwned;
use socketioxide::{
    adapter::Adapter,
    extract::{AckSender, SocketRef, TryData},
    handler::{FromMessageParts, MessageHandler},
    socket::Socket,
    ParserError,
};
use socketioxide_core::Value;
use tokio::sync::mpsc;

/// How many events one client may have waiting. Beyond it the client is sending faster than the
/// server can store and relay, and the excess is refused.
const QUEUE_DEPTH: usize = 256;

/// One event as it arrived, not yet decoded: decoding happens in the worker, off the socket loop.
pub struct Queued<A: Adapter> {
    /// Which of the queue's events ([`InOrder::route`]).
    name: &'static str,
    socket: Arc<Socket<A>>,
    data: Value,
    ack_id: Option<i64>,
    arrived: Instant,
}

impl<A: Adapter> Queued<A> {
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// When the socket's packet loop handed it over, before any wait in the queue.
    pub fn arrived(&self) -> Instant {
        self.arrived
    }

    pub fn socket(&self) -> SocketRef<A> {
        SocketRef::from(self.socket.clone())
    }

    /// The event's first argument, decoded as `T`.
    pub fn data<T: DeserializeOwned>(&mut self) -> Result<T, ParserError> {
        let Ok(TryData(data)) =
            TryData::from_message_parts(&self.socket, &mut self.data, &self.ack_id);
        data
    }

    /// Answers the client's acknowledgement callback, if it sent one (otherwise a no-op).
    pub fn ack(&self) -> AckSender<A> {
        let Ok(ack) = AckSender::from_message_parts(
            &self.socket,
            &mut Value::Bytes(Default::default()),
            &self.ack_id,
        );
        ack
    }
}

/// What an [`InOrder`] queue does with its events.
pub trait Handler<A: Adapter>: Send + Sync + 'static {
    /// Whether `event` may be queued at all; runs in the socket's packet loop, so it must be
    /// quick and must not wait.
    fn admit(&self, event: &Queued<A>) -> Result<(), Rejection>;

    /// What becomes of an event refused at the door ([`Handler::admit`]), or that finds the
    /// queue full ([`Rejection::TooFast`]).
    fn refuse(&self, event: Queued<A>, reason: Rejection);

    /// Handles one event; the next waits until this one is done.
    fn handle(&self, event: Queued<A>) -> impl Future<Output = ()> + Send;
}

/// Makes the queue and spawns its worker, once.
type StartQueue<A> = Box<dyn FnOnce() -> mpsc::Sender<Queued<A>> + Send>;

/// Runs a [`Handler`] for one socket's events strictly in the order they arrived, whichever of
/// the events it serves ([`InOrder::route`]: a person's edit never overtakes their message).
/// Create one per socket, in the connect handler.
pub struct InOrder<A: Adapter, H> {
    handler: Arc<H>,
    queue: LazyLock<mpsc::Sender<Queued<A>>, StartQueue<A>>,
}

impl<A: Adapter, H: Handler<A>> InOrder<A, H> {
    pub fn new(handler: H) -> Self {
        let handler = Arc::new(handler);
        let worker = handler.clone();
        let start: StartQueue<A> = Box::new(move || {
            let (queue, mut events) = mpsc::channel::<Queued<A>>(QUEUE_DEPTH);
            // The worker ends when the socket (which owns `queue` through its routes) is gone.
            // It holds no socket of its own between events, so it does not keep the socket
            // alive.
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    worker.handle(event).await;
                }
            });
            queue
        });
        Self {
            handler,
            queue: LazyLock::new(start),
        }
    }

    /// The socketioxide handler of the event `name`, queued here with the others.
    pub fn route(self: &Arc<Self>, name: &'static str) -> Route<A, H> {
        Route {
            queue: self.clone(),
            name,
        }
    }
}

/// One event of an [`InOrder`] queue, as socketioxide calls it.
pub struct Route<A: Adapter, H> {
    queue: Arc<InOrder<A, H>>,
    name: &'static str,
}

/// Distinguishes this handler from socketioxide's closure handlers at the type level.
pub struct InOrderMarker;

impl<A: Adapter, H: Handler<A>> MessageHandler<A, InOrderMarker> for Route<A, H> {
    fn call(&self, socket: Arc<Socket<A>>, data: Value, ack_id: Option<i64>) {
        let InOrder { handler, queue } = &*self.queue;
        let event = Queued {
            name: self.name,
            socket,
            data,
            ack_id,
            arrived: Instant::now(),
        };
        if let Err(reason) = handler.admit(&event) {
            return handler.refuse(event, reason);
        }
        if let Err(mpsc::error::TrySendError::Full(event)) = queue.try_send(event) {
            handler.refuse(event, Rejection::TooFast);
        }
    }
}
