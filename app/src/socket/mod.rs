//! A small typed Rust face on the official socket.io-client.
//!
//! The JavaScript client brings reconnection, buffering while offline, acknowledgements with
//! retries and the long-polling fallback; this module only translates between its callbacks and
//! Rust types. It compiles on the server too (wasm-bindgen imports are inert there) but is only
//! ever called from effects and event handlers, which run in the browser alone.

mod ffi;

use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::connection::ConnectionState;

/// How long the client waits for each acknowledgement before it sends the event again.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times an unacknowledged event is sent again while connected. Time spent offline does
/// not count: queued events wait for the connection and go out in order.
const RETRIES: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("the socket.io client script is not loaded")]
    ClientMissing,
    #[error("the server did not acknowledge")]
    NoAck,
    #[error("could not encode or decode a payload: {0}")]
    Payload(String),
}

/// One connection to the server's default namespace.
#[derive(Clone)]
pub struct Socket {
    raw: ffi::JsSocket,
}

impl Socket {
    /// Connects to the origin that served the page. `auth` is asked for the handshake at every
    /// (re)connection, so it can carry the latest offset.
    pub fn connect<A: Serialize>(auth: impl Fn() -> A + 'static) -> Result<Self, SocketError> {
        let auth = Closure::<dyn Fn(js_sys::Function)>::new(move |reply: js_sys::Function| {
            if let Ok(handshake) = serde_wasm_bindgen::to_value(&auth()) {
                reply.call1(&JsValue::NULL, &handshake).ok();
            }
        });
        let options = js_sys::Object::new();
        let set = |key: &str, value: &JsValue| js_sys::Reflect::set(&options, &key.into(), value);
        set("auth", auth.as_ref())
            .and_then(|_| set("ackTimeout", &(ACK_TIMEOUT.as_millis() as f64).into()))
            .and_then(|_| set("retries", &RETRIES.into()))
            .map_err(|_| SocketError::ClientMissing)?;
        // The socket lives as long as the page, and so must its callbacks.
        auth.forget();
        let raw = ffi::io(&options).map_err(|_| SocketError::ClientMissing)?;
        Ok(Self { raw })
    }

    /// Calls `listener` with the first argument of every `event`, decoded as `T`. Payloads that
    /// do not decode are dropped: a misbehaving peer must not break the page.
    pub fn on<T: DeserializeOwned + 'static>(
        &self,
        event: &str,
        mut listener: impl FnMut(T) + 'static,
    ) {
        self.on_pair(event, move |first: T, _: serde::de::IgnoredAny| {
            listener(first)
        });
    }

    /// Like [`Socket::on`], for events with two arguments.
    pub fn on_pair<A, B>(&self, event: &str, mut listener: impl FnMut(A, B) + 'static)
    where
        A: DeserializeOwned + 'static,
        B: DeserializeOwned + 'static,
    {
        let callback =
            Closure::<dyn FnMut(JsValue, JsValue)>::new(move |a: JsValue, b: JsValue| {
                if let (Ok(a), Ok(b)) = (
                    serde_wasm_bindgen::from_value(a),
                    serde_wasm_bindgen::from_value(b),
                ) {
                    listener(a, b);
                }
            });
        self.raw.on(event, callback.as_ref().unchecked_ref());
        callback.forget();
    }

    /// Reports every change of the connection's state, as the page should show it.
    pub fn on_state(&self, listener: impl Fn(ConnectionState) + 'static) {
        let listener = std::rc::Rc::new(listener);
        for (event, state) in [
            ("connect", ConnectionState::Connected),
            ("disconnect", ConnectionState::Disconnected),
            ("connect_error", ConnectionState::Disconnected),
        ] {
            let listener = listener.clone();
            let callback = Closure::<dyn Fn()>::new(move || listener(state));
            self.raw.on(event, callback.as_ref().unchecked_ref());
            callback.forget();
        }
    }

    /// Reports when the server turned the client away — refused its handshake (with the reason
    /// it gave) or cut it off (no reason) — after which the official client does not try again
    /// by itself.
    pub fn on_turned_away(&self, listener: impl Fn(Option<String>) + 'static) {
        let listener = std::rc::Rc::new(listener);
        let (refused, socket) = (listener.clone(), self.raw.clone());
        let on_error = Closure::<dyn Fn(JsValue)>::new(move |error: JsValue| {
            if !socket.active() {
                let reason = js_sys::Reflect::get(&error, &"message".into())
                    .ok()
                    .and_then(|message| message.as_string());
                refused(reason);
            }
        });
        self.raw
            .on("connect_error", on_error.as_ref().unchecked_ref());
        on_error.forget();
        let on_disconnect = Closure::<dyn Fn(JsValue)>::new(move |reason: JsValue| {
            if reason.as_string().as_deref() == Some("io server disconnect") {
                listener(None);
            }
        });
        self.raw
            .on("disconnect", on_disconnect.as_ref().unchecked_ref());
        on_disconnect.forget();
    }

    /// Tries to connect again, after the server turned the client away.
    pub fn try_again(&self) {
        self.raw.connect();
    }

    /// Emits `event` with `args` (a tuple: each element is one argument; `()` for none) and waits
    /// for the acknowledgement, through the client's queue: sent in order, retried, held while
    /// offline.
    pub async fn request<A: Serialize, R: DeserializeOwned>(
        &self,
        event: &str,
        args: &A,
    ) -> Result<R, SocketError> {
        self.emit_acknowledged(&self.raw, event, args).await
    }

    /// Like [`Socket::request`], but outside the client's queue: sent now or not at all (the
    /// client drops it while offline, or while its transport is busy — mid-upgrade, say), never
    /// retried by the client, and given up after `wait`; so a question whose answer is stale
    /// once late never waits behind — nor holds up — the messages in the queue. The caller asks
    /// again if it still cares ([`SocketError::NoAck`]).
    pub async fn ask<A: Serialize, R: DeserializeOwned>(
        &self,
        event: &str,
        args: &A,
        wait: Duration,
    ) -> Result<R, SocketError> {
        let through = self.raw.volatile().timeout(wait.as_millis() as f64);
        self.emit_acknowledged(&through, event, args).await
    }

    async fn emit_acknowledged<A: Serialize, R: DeserializeOwned>(
        &self,
        through: &ffi::JsSocket,
        event: &str,
        args: &A,
    ) -> Result<R, SocketError> {
        let payload = |e: serde_wasm_bindgen::Error| SocketError::Payload(e.to_string());
        // A tuple serialises to an array; `()` (no arguments) to `undefined`.
        let args = serde_wasm_bindgen::to_value(args).map_err(payload)?;
        let args = if args.is_undefined() {
            js_sys::Array::new()
        } else {
            args.dyn_into::<js_sys::Array>()
                .map_err(|_| SocketError::Payload("arguments must be a tuple".to_owned()))?
        };
        args.unshift(&event.into());
        let promise = ffi::emit_with_ack(through, &args).map_err(|_| SocketError::NoAck)?;
        let reply = JsFuture::from(promise)
            .await
            .map_err(|_| SocketError::NoAck)?;
        serde_wasm_bindgen::from_value(reply).map_err(payload)
    }

    /// Emits `event` without arguments now, or never: for signals that are stale once late.
    pub fn signal(&self, event: &str) {
        self.raw.volatile().emit(event);
    }

    /// Drops the connection and makes a new one, with a fresh handshake.
    pub fn reconnect(&self) {
        self.raw.disconnect();
        self.raw.connect();
    }
}

/// Resolves after `duration` (the browser's timer).
pub async fn pause(duration: Duration) {
    let waited = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    &resolve,
                    duration.as_millis() as i32,
                )
                .ok();
        }
    });
    JsFuture::from(waited).await.ok();
}
