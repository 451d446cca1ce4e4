//! The state of the page's link to the server, as the person using it should see it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// The first attempt is still under way.
    Connecting,
    Connected,
    /// The link dropped or could not be made; the client keeps retrying on its own.
    Disconnected,
}

impl ConnectionState {
    /// A stable name for styling and tests (`data-state`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "Conectando…",
            Self::Connected => "Conectado",
            Self::Disconnected => "Sin conexión · reintentando…",
        }
    }
}
