//! Raw bindings to the official socket.io-client, loaded by the page as a classic script
//! (`/socket.io/socket.io.min.js`) that defines the global `io`.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `io(options)`: connects to the page's own origin.
    #[wasm_bindgen(catch, js_name = io)]
    pub fn io(options: &JsValue) -> Result<Socket, JsValue>;

    #[derive(Clone)]
    pub type Socket;

    #[wasm_bindgen(method)]
    pub fn on(this: &Socket, event: &str, listener: &Function);

    #[wasm_bindgen(method, js_name = emitWithAck)]
    pub fn emit_with_ack(this: &Socket, event: &str, arg: &JsValue) -> Promise;

    /// A one-shot view of the socket whose next `emitWithAck` rejects after `ms`.
    #[wasm_bindgen(method)]
    pub fn timeout(this: &Socket, ms: f64) -> Socket;
}
