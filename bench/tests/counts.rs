//! The generator against the real server: it must count every message exactly. No timing is
//! asserted here (benchmarks are not tests); the figures are only checked to be consistent.

use std::time::Duration;

use bench::{
    client::Transport,
    probe::Processes,
    run::{run, Plan},
};
use server::Config;
use tokio::{net::TcpListener, sync::oneshot};

#[test]
fn every_message_reaches_every_websocket_client_once_and_is_counted_once() {
    every_message_counted_once(Transport::Websocket);
}

#[test]
fn every_message_reaches_every_polling_client_once_and_is_counted_once() {
    every_message_counted_once(Transport::Polling);
}

fn every_message_counted_once(transport: Transport) {
    let history = tempfile::tempdir().unwrap();
    let mut config = Config::defaults();
    // The generator's senders go faster than a person, all from 127.0.0.1.
    config.message_burst = 0;
    config.address_message_burst = 0;
    config.max_connections_per_address = 0;
    config.address_handshake_burst = 0;
    config.address_request_burst = 0;
    config.database_url = format!(
        "sqlite://{}?mode=rwc",
        history.path().join("chat.db").display()
    );
    // The server on a runtime of its own, as in production; the generator on one thread.
    let server = tokio::runtime::Runtime::new().unwrap();
    let (addr, stop) = server.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let built = server::build(&config).await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server::serve(listener, built, async {
            stopped.await.ok();
        }));
        (addr, stop)
    });

    let plan = Plan {
        label: "counts".into(),
        urls: vec![format!("http://{addr}")],
        transport,
        server: Processes(vec![std::process::id()]),
        clients: 30,
        senders: 3,
        rate: 20.0,
        duration: Duration::from_secs(1),
        payload_bytes: 128,
        connect_concurrency: 8,
        addresses: 1,
        auth: String::new(),
        connect_timeout: Duration::from_secs(10),
        settle: Duration::from_millis(200),
        drain: Duration::from_secs(10),
    };
    let generator = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = tokio::task::LocalSet::new()
        .block_on(&generator, run(plan))
        .unwrap();

    assert_eq!(report.connects.connected, 30, "{:?}", report.connects);
    assert_eq!(report.dropped, 0);
    let delivery = &report.delivery;
    // How many a sender manages in its second depends on the machine: counting is the point.
    assert!(delivery.sent > 0, "{delivery:?}");
    assert_eq!(delivery.expected, delivery.sent * 30);
    assert_eq!(delivery.unique, delivery.expected, "{delivery:?}");
    assert_eq!(delivery.delivered, delivery.unique);
    assert_eq!(
        (delivery.lost, delivery.duplicates, delivery.out_of_order),
        (0, 0, 0)
    );
    assert!(report.latency.p50_ms <= report.latency.max_ms);
    stop.send(()).ok();
}
