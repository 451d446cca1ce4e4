//! Raw bindings to the official socket.io-client, loaded by the page as a classic script
//! ([`protocol::CLIENT_SCRIPT_PATH`]) that defines the global `io`.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `io(options)`: connects to the page's own origin.
    #[wasm_bindgen(catch, js_name = io)]
    pub fn io(options: &JsValue) -> Result<JsSocket, JsValue>;

    /// socket.io-client's own `Socket` object; [`super::Socket`] is its typed face.
    #[derive(Clone)]
    #[wasm_bindgen(js_name = Socket)]
    pub type JsSocket;

    #[wasm_bindgen(method)]
    pub fn on(this: &JsSocket, event: &str, listener: &Function);

    /// The bound `emitWithAck`, to call with a spread argument list.
    #[wasm_bindgen(method, getter = emitWithAck)]
    pub fn emit_with_ack_fn(this: &JsSocket) -> Function;

    /// A view of the socket whose next emit is dropped rather than queued when offline.
    #[wasm_bindgen(method, getter)]
    pub fn volatile(this: &JsSocket) -> JsSocket;

    /// A view of the socket whose next acknowledged emit fails after `ms` without an answer.
    #[wasm_bindgen(method)]
    pub fn timeout(this: &JsSocket, ms: f64) -> JsSocket;

    #[wasm_bindgen(method)]
    pub fn emit(this: &JsSocket, event: &str);

    #[wasm_bindgen(method)]
    pub fn connect(this: &JsSocket);

    /// Whether the client will go on trying to connect by itself.
    #[wasm_bindgen(method, getter)]
    pub fn active(this: &JsSocket) -> bool;

    #[wasm_bindgen(method)]
    pub fn disconnect(this: &JsSocket);
}

/// `emitWithAck` resolves with the server's first ack argument.
pub fn emit_with_ack(socket: &JsSocket, args: &js_sys::Array) -> Result<Promise, JsValue> {
    socket
        .emit_with_ack_fn()
        .apply(socket, args)
        .map(Promise::from)
}
