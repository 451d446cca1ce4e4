//! Server functions: history pages (rendered into the page, and older ones on scroll-up) and the
//! message form for browsers without JavaScript. Their bodies run on the server only, against
//! the backend the server provides as context.

use leptos::prelude::*;

pub use protocol::HistoryPage;

#[server(endpoint = "historial", output = BrowserJson)]
pub async fn load_history(room: String, before: Option<i64>) -> Result<HistoryPage, ServerFnError> {
    let backend = expect_context::<backend::Handle>();
    Ok(backend.0.history(room, before).await?)
}

/// The composer's `<form>` posts here when the page runs without JavaScript; the browser is
/// then sent back to the room.
#[server(endpoint = "enviar")]
pub async fn post_message(room: String, text: String) -> Result<(), ServerFnError> {
    let backend = expect_context::<backend::Handle>();
    backend.0.post(room, text).await?;
    Ok(())
}

/// A server function's answer as JSON, read in the browser by the browser's own `JSON.parse`
/// (through `serde-wasm-bindgen`, which the socket's payloads use already), so that the page's
/// WASM carries no JSON parser (13 KB of its brotli, `docs/BENCHMARKS.md`). On the wire it is
/// plain JSON, which the terminal client and `curl` read.
pub type BrowserJson = leptos::server_fn::codec::Post<BrowserJsonEncoding>;

/// The encoding of [`BrowserJson`].
pub struct BrowserJsonEncoding;

mod browser_json {
    use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
    use serde::{de::DeserializeOwned, Serialize};

    use super::BrowserJsonEncoding;

    impl ContentType for BrowserJsonEncoding {
        const CONTENT_TYPE: &'static str = "application/json";
    }

    impl FormatType for BrowserJsonEncoding {
        const FORMAT_TYPE: Format = Format::Text;
    }

    impl<T: Serialize> Encodes<T> for BrowserJsonEncoding {
        type Error = serde_json::Error;

        fn encode(value: &T) -> Result<Bytes, Self::Error> {
            serde_json::to_vec(value).map(Bytes::from)
        }
    }

    #[cfg(target_arch = "wasm32")]
    impl<T: DeserializeOwned> Decodes<T> for BrowserJsonEncoding {
        type Error = serde_wasm_bindgen::Error;

        fn decode(bytes: Bytes) -> Result<T, Self::Error> {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| serde_wasm_bindgen::Error::new("the answer is not UTF-8"))?;
            serde_wasm_bindgen::from_value(js_sys::JSON::parse(text)?)
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    impl<T: DeserializeOwned> Decodes<T> for BrowserJsonEncoding {
        type Error = serde_json::Error;

        fn decode(bytes: Bytes) -> Result<T, Self::Error> {
            serde_json::from_slice(&bytes)
        }
    }
}

#[cfg(feature = "ssr")]
pub mod backend {
    use std::{future::Future, pin::Pin, sync::Arc};

    use super::HistoryPage;
    use protocol::{HandshakeError, Rejection};

    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

    /// What the server functions need from the server; the server crate implements it over
    /// its store and its Socket.IO handle.
    pub trait Backend: Send + Sync {
        fn history(
            &self,
            room: String,
            before: Option<i64>,
        ) -> BoxFuture<'_, Result<HistoryPage, BackendError>>;
        fn post(&self, room: String, text: String) -> BoxFuture<'_, Result<(), BackendError>>;
    }

    /// The context value server functions look up.
    #[derive(Clone)]
    pub struct Handle(pub Arc<dyn Backend>);

    #[derive(Debug, thiserror::Error)]
    pub enum BackendError {
        #[error(transparent)]
        Room(#[from] HandshakeError),
        #[error(transparent)]
        Message(#[from] Rejection),
    }
}

#[cfg(test)]
mod tests {
    use leptos::server_fn::ServerFn;

    #[test]
    fn the_history_endpoint_is_where_the_protocol_says() {
        assert_eq!(
            <super::LoadHistory as ServerFn>::PATH,
            protocol::HISTORY_PAGE_PATH
        );
    }
}
