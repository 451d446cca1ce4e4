//! A small typed Rust face on the official socket.io-client.
//!
//! The JavaScript client brings reconnection, buffering while offline, acknowledgements and the
//! long-polling fallback; this module only translates between its callbacks and Rust types. It
//! compiles on the server too (wasm-bindgen imports are inert there) but is only ever called from
//! effects and event handlers, which run in the browser alone.

mod ffi;

use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::connection::ConnectionState;

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("the socket.io client script is not loaded")]
    ClientMissing,
    #[error("the server did not acknowledge in time")]
    Timeout,
    #[error("could not encode or decode a payload: {0}")]
    Payload(String),
}

/// One connection to the server's default namespace.
#[derive(Clone)]
pub struct Socket {
    raw: ffi::Socket,
}

impl Socket {
    /// Connects to the origin that served the page.
    pub fn connect() -> Result<Self, SocketError> {
        let raw = ffi::io(&js_sys::Object::new()).map_err(|_| SocketError::ClientMissing)?;
        Ok(Self { raw })
    }

    /// Calls `listener` with the first argument of every `event`, decoded as `T`. Payloads that
    /// do not decode are dropped: a misbehaving peer must not break the page.
    pub fn on<T: DeserializeOwned + 'static>(
        &self,
        event: &str,
        mut listener: impl FnMut(T) + 'static,
    ) {
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |arg: JsValue| {
            if let Ok(value) = serde_wasm_bindgen::from_value(arg) {
                listener(value);
            }
        });
        self.raw.on(event, callback.as_ref().unchecked_ref());
        // The socket lives as long as the page, and so must its listeners: hand the closure to
        // the JavaScript garbage collector.
        callback.forget();
    }

    /// Reports every change of the connection's state, as the page should show it.
    pub fn on_state(&self, listener: impl Fn(ConnectionState) + 'static) {
        let listener = std::rc::Rc::new(listener);
        let on_socket = |event: &str, state: ConnectionState| {
            let listener = listener.clone();
            let callback = Closure::<dyn Fn()>::new(move || listener(state));
            self.raw.on(event, callback.as_ref().unchecked_ref());
            callback.forget();
        };
        on_socket("connect", ConnectionState::Connected);
        on_socket("disconnect", ConnectionState::Disconnected);
        on_socket("connect_error", ConnectionState::Disconnected);
    }

    /// Emits `event` with one argument and waits for the server's acknowledgement.
    pub async fn emit_with_ack<A: Serialize, R: DeserializeOwned>(
        &self,
        event: &str,
        arg: &A,
        timeout: Duration,
    ) -> Result<R, SocketError> {
        let arg =
            serde_wasm_bindgen::to_value(arg).map_err(|e| SocketError::Payload(e.to_string()))?;
        let promise = self
            .raw
            .timeout(timeout.as_millis() as f64)
            .emit_with_ack(event, &arg);
        let reply = JsFuture::from(promise)
            .await
            .map_err(|_| SocketError::Timeout)?;
        serde_wasm_bindgen::from_value(reply).map_err(|e| SocketError::Payload(e.to_string()))
    }
}
