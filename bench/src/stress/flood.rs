//! The flooders: clients that send as fast as they can, whom the server must refuse and cut off.

use std::{
    cell::RefCell,
    rc::Rc,
    time::{Duration, Instant},
};

use tokio::task::spawn_local;

use super::report::FloodReport;
use crate::client::{loopback_address, Client, ClientError, Connector, Transport};

/// `flooders` clients sending a message every millisecond, each coming back 100 ms after the
/// server cuts it off, until `until`.
pub(super) async fn flood_until(url: &str, flooders: usize, until: Instant) -> FloodReport {
    let report = Rc::new(RefCell::new(FloodReport::default()));
    let tasks: Vec<_> = (0..flooders)
        .map(|n| {
            let connector =
                Connector::from_address(Transport::Websocket, Some(loopback_address(2, n)));
            let (url, report) = (url.to_owned(), report.clone());
            spawn_local(async move {
                while Instant::now() < until {
                    match connector.connect(&url, "", Duration::from_secs(10)).await {
                        Ok(client) => flood(client, &report, until).await,
                        Err(ClientError::Refused(_)) => {
                            report.borrow_mut().connections_refused += 1
                        }
                        Err(_) => {}
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.ok();
    }
    Rc::try_unwrap(report)
        .map(RefCell::into_inner)
        .unwrap_or_default()
}

/// One flooder's connection: sends with acknowledgements, counts the answers, until the server
/// cuts it off or `until`.
async fn flood(mut client: Client, report: &RefCell<FloodReport>, until: Instant) {
    let mut ticks = tokio::time::interval(Duration::from_millis(1));
    let mut ack = 0u64;
    loop {
        tokio::select! {
            packet = client.next_packet() => match packet {
                // `43<id>[{"ok":true,…}]` or `43<id>[{"error":"too_fast",…}]`
                Some(packet) if packet.starts_with("43") => {
                    let mut report = report.borrow_mut();
                    if packet.contains(r#""ok":true"#) {
                        report.accepted += 1;
                    } else if packet.contains(r#""error":"too_fast""#) {
                        report.refused_too_fast += 1;
                    }
                }
                Some(packet) if packet.as_str() == "2" => {
                    if client.pong().await.is_err() {
                        break;
                    }
                }
                // `41`: the server disconnected it.
                Some(packet) if packet.as_str() != "41" => {}
                _ => break,
            },
            _ = ticks.tick() => {
                if Instant::now() >= until {
                    return;
                }
                ack += 1;
                if client.send_with_ack(&format!("flood {ack}"), ack).await.is_err() {
                    break;
                }
                report.borrow_mut().sent += 1;
            }
        }
    }
    report.borrow_mut().cut_off += 1;
}
