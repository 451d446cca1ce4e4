//! Per-socket, in-order processing of one event.
//!
//! socketioxide spawns a task for every incoming event, so two messages from one client may run
//! concurrently and reach the others swapped. A chat must keep each sender's order. The
//! synchronous `call` below runs in arrival order for a given socket (it is invoked from the
//! socket's packet loop), so it only queues the event; one task per socket then handles the queue
//! one event at a time. That task and its queue are made at the socket's first event: most
//! connections of a large room only listen, and each would otherwise hold them (≈ 4 KiB).

use std::{
    future::Future,
    sync::{Arc, Mutex, OnceLock},
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

/// How many events of one kind a single client may have waiting. Beyond it the client is sending
/// faster than the server can store and relay, and the excess is refused.
const QUEUE_DEPTH: usize = 256;

/// One event as it arrived, not yet decoded: decoding happens in the worker, off the socket loop.
pub struct Event<A: Adapter> {
    /// Which of the queue's events ([`InOrder::route`]).
    name: &'static str,
    socket: Arc<Socket<A>>,
    data: Value,
    ack_id: Option<i64>,
    arrived: Instant,
}

impl<A: Adapter> Event<A> {
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

/// Decides, as an event arrives, whether it may be queued at all.
type Admit<A> = Box<dyn Fn(&Event<A>) -> Result<(), Rejection> + Send + Sync>;
/// What becomes of an event refused at the door, or that finds the queue full.
type OnRefused<A> = Box<dyn Fn(Event<A>, Rejection) + Send + Sync>;

/// Runs `handler` for one socket's events strictly in the order they arrived, whichever of the
/// events it serves ([`InOrder::route`]: a person's edit never overtakes their message). Create
/// one per socket, in the connect handler.
pub struct InOrder<A: Adapter> {
    queue: OnceLock<mpsc::Sender<Event<A>>>,
    start: Mutex<Option<Start<A>>>,
    admit: Admit<A>,
    on_refused: OnRefused<A>,
}

/// Makes the queue and spawns its worker.
type Start<A> = Box<dyn FnOnce() -> mpsc::Sender<Event<A>> + Send>;

impl<A: Adapter> InOrder<A> {
    /// `admit` runs in the socket's packet loop, before the event is queued; a full queue refuses
    /// with `Rejection::TooFast`.
    pub fn new<F, Fut>(
        handler: F,
        admit: impl Fn(&Event<A>) -> Result<(), Rejection> + Send + Sync + 'static,
        on_refused: impl Fn(Event<A>, Rejection) + Send + Sync + 'static,
    ) -> Self
    where
        F: Fn(Event<A>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let start: Start<A> = Box::new(move || {
            let (queue, mut events) = mpsc::channel::<Event<A>>(QUEUE_DEPTH);
            // The worker ends when the socket (which owns `queue` through its handler) is gone.
            // It holds no socket of its own between events, so it does not keep the socket
            // alive.
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    handler(event).await;
                }
            });
            queue
        });
        Self {
            queue: OnceLock::new(),
            start: Mutex::new(Some(start)),
            admit: Box::new(admit),
            on_refused: Box::new(on_refused),
        }
    }

    /// The socketioxide handler of the event `name`, queued here with the others.
    pub fn route(self: &Arc<Self>, name: &'static str) -> Route<A> {
        Route {
            queue: self.clone(),
            name,
        }
    }

    fn queue(&self) -> &mpsc::Sender<Event<A>> {
        self.queue.get_or_init(|| {
            let start = self.start.lock().unwrap().take();
            start.expect("the queue is made once")()
        })
    }
}

/// One event of an [`InOrder`] queue, as socketioxide calls it.
pub struct Route<A: Adapter> {
    queue: Arc<InOrder<A>>,
    name: &'static str,
}

/// Distinguishes this handler from socketioxide's closure handlers at the type level.
pub struct InOrderMarker;

impl<A: Adapter> MessageHandler<A, InOrderMarker> for Route<A> {
    fn call(&self, socket: Arc<Socket<A>>, data: Value, ack_id: Option<i64>) {
        let queue = &self.queue;
        let event = Event {
            name: self.name,
            socket,
            data,
            ack_id,
            arrived: Instant::now(),
        };
        if let Err(reason) = (queue.admit)(&event) {
            return (queue.on_refused)(event, reason);
        }
        if let Err(mpsc::error::TrySendError::Full(event)) = queue.queue().try_send(event) {
            (queue.on_refused)(event, Rejection::TooFast);
        }
    }
}
