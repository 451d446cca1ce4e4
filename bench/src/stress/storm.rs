//! The reconnect storm: waves of clients that connect all at once and drop all at once.

use std::time::Instant;

use tokio::task::spawn_local;

use super::{
    plan::{Storm, MIN_WAVES},
    report::StormReport,
};
use crate::{
    client::{loopback_address, Client, Connector, Transport},
    run::{connect_all, Crowd},
};

/// The storm's clients are people of another room, a crowded one: what they cost the people is
/// the server's work for them (handshakes, presence, departures), not their room's traffic.
const STORM_AUTH: &str = r#"{"room":"tormenta","name":"Tormenta"}"#;

/// Waves, back to back until `until` (and at least [`MIN_WAVES`]): all connect, stay `hold`, all
/// drop.
pub(super) async fn waves(url: &str, storm: &Storm, until: Instant) -> StormReport {
    let connectors: Vec<Connector> = (0..storm.addresses.max(1))
        .map(|n| Connector::from_address(Transport::Websocket, Some(loopback_address(1, n))))
        .collect();
    let urls = [url.to_owned()];
    let mut report = StormReport::default();
    while report.waves.len() < MIN_WAVES || Instant::now() < until {
        let crowd = Crowd {
            count: storm.clients,
            urls: &urls,
            connectors: &connectors,
            auth: STORM_AUTH,
            timeout: storm.connect_timeout,
            concurrency: storm.concurrency,
        };
        let (clients, connects) = connect_all(crowd, |_, client| spawn_local(idle(client))).await;
        report.waves.push(connects);
        tokio::time::sleep(storm.hold).await;
        for client in clients {
            client.abort();
        }
    }
    report
}

/// A client that only keeps its connection alive.
async fn idle(mut client: Client) {
    while let Some(packet) = client.next_packet().await {
        if packet.as_str() == "2" && client.pong().await.is_err() {
            return;
        }
    }
}
