//! What the server answers over plain HTTP: the server-rendered page and the client script.

mod support;

use reqwest::{header, StatusCode};
use scraper::{Html, Selector};
use support::{page_texts, Address, ChatClient, TestServer, Transport};

fn select<'a>(page: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    page.select(&Selector::parse(css).unwrap()).collect()
}

fn one<'a>(page: &'a Html, css: &str) -> scraper::ElementRef<'a> {
    let found = select(page, css);
    assert_eq!(found.len(), 1, "exactly one {css}");
    found[0]
}

#[tokio::test]
async fn the_page_is_rendered_with_the_seeds_elements() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let response = reqwest::get(server.url()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = Html::parse_document(&response.text().await.unwrap());

    assert_eq!(one(&page, "html").attr("lang"), Some("es"));
    assert_eq!(one(&page, "h3").text().collect::<String>(), "Mensajes:");
    let list = one(&page, "ul#listado-msjs");
    assert_eq!(
        list.attr("aria-live"),
        None,
        "history is not read out message by message"
    );
    let announcer = one(&page, "#anuncio");
    assert_eq!(announcer.attr("aria-live"), Some("polite"));
    one(&page, "form#env-msjs");
    let input = one(&page, "form#env-msjs textarea#nuevo-msj");
    assert_eq!(input.attr("placeholder"), Some("Nuevo mensaje"));
    let button = one(&page, "form#env-msjs button#btn-msj");
    assert_eq!(button.attr("type"), Some("submit"));
    assert_eq!(button.text().collect::<String>().trim(), "Enviar");
    let status = one(&page, "#estado");
    assert_eq!(status.attr("data-state"), Some("connecting"));

    let scripts: Vec<_> = select(&page, "script[src]")
        .iter()
        .filter_map(|s| s.attr("src"))
        .collect();
    assert!(
        scripts.contains(&"/socket.io/socket.io.min.js"),
        "{scripts:?}"
    );
    assert!(
        select(&page, "link[rel=modulepreload], script")
            .iter()
            .any(|e| e.html().contains("/pkg/chat.js")),
        "the hydration script is there"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_official_client_is_served_where_nodes_socket_io_serves_it() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    for (path, marker) in [
        ("/socket.io/socket.io.js", "Socket.IO v4.8.4"),
        ("/socket.io/socket.io.min.js", "Socket.IO v4.8.4"),
    ] {
        let response = reqwest::get(format!("{}{path}", server.url()))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/javascript; charset=utf-8"
        );
        let etag = response.headers()[header::ETAG].clone();
        assert!(response.text().await.unwrap().contains(marker), "{path}");

        let cached = reqwest::Client::new()
            .get(format!("{}{path}", server.url()))
            .header(header::IF_NONE_MATCH, etag)
            .send()
            .await
            .unwrap();
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED, "{path}");
    }

    // The Engine.IO endpoint right beside it still answers: the script routes did not shadow it.
    let handshake = reqwest::get(format!(
        "{}/socket.io/?EIO=4&transport=polling",
        server.url()
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(handshake.starts_with("0{\"sid\":"), "{handshake}");
    server.stop().await;
}

/// The page's client script goes to a brotli client compressed once at brotli's best, as its own
/// representation: the same script, under its own ETag.
#[tokio::test]
async fn the_minified_client_goes_out_compressed_ahead_to_brotli_clients() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let client = reqwest::Client::new();
    let url = format!("{}/socket.io/socket.io.min.js", server.url());
    let fetch = |encoding: &'static str, etag: Option<header::HeaderValue>| {
        let request = client.get(&url).header(header::ACCEPT_ENCODING, encoding);
        match etag {
            Some(etag) => request.header(header::IF_NONE_MATCH, etag),
            None => request,
        }
        .send()
    };

    let plain = fetch("identity", None).await.unwrap();
    let plain_etag = plain.headers()[header::ETAG].clone();
    let script = plain.bytes().await.unwrap();

    let compressed = fetch("gzip, deflate, br", None).await.unwrap();
    assert_eq!(compressed.status(), StatusCode::OK);
    let headers = compressed.headers().clone();
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(headers[header::VARY], "accept-encoding");
    assert_ne!(headers[header::ETAG], plain_etag, "another representation");
    let body = compressed.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    brotli::BrotliDecompress(&mut &body[..], &mut unpacked).unwrap();
    assert_eq!(unpacked, script);
    assert!(body.len() * 3 < script.len(), "{} bytes", body.len());

    let cached = fetch("br", Some(headers[header::ETAG].clone()))
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    let stale = fetch("br", Some(plain_etag)).await.unwrap();
    assert_eq!(
        stale.status(),
        StatusCode::OK,
        "the plain ETag is not the brotli copy's"
    );
    assert_eq!(stale.headers()[header::CONTENT_ENCODING], "br");
    server.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_bad_room_names_are_404() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    for path in ["/no-existe", "/sala/", "/sala/Con%20Espacio", "/sala/a/b"] {
        let response = reqwest::get(format!("{}{path}", server.url()))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_page_carries_the_rooms_last_fifty_messages() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let writer = ChatClient::connect(&server, Transport::Websocket).await;
    for n in 0..60 {
        assert!(writer.send(&format!("mensaje {n}")).await.is_accepted());
    }

    let texts = page_texts(&server, "/").await;
    let expected: Vec<String> = (10..60).map(|n| format!("mensaje {n}")).collect();
    assert_eq!(texts, expected);
    assert!(page_texts(&server, "/sala/otra").await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_plain_form_post_sends_a_message_and_returns_to_the_room() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut listener = ChatClient::connect(&server, Transport::Websocket).await;

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirects
        .post(format!("{}/api/enviar", server.url()))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, format!("{}/", server.url()))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("room=general&text=hola+sin+JavaScript+%3Cb%3E")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    // Back to the room (leptos leaves an empty query where it strips old error details).
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert_eq!(location.trim_end_matches('?'), format!("{}/", server.url()));

    let relayed = listener.next_message().await;
    assert_eq!(relayed.text, "hola sin JavaScript <b>");
    assert_eq!(relayed.meta.user, "Anónimo");
    assert_eq!(page_texts(&server, "/").await, ["hola sin JavaScript <b>"]);
    server.stop().await;
}

#[tokio::test]
async fn the_page_allows_only_its_own_scripts_and_every_response_is_hardened() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let response = reqwest::get(server.url()).await.unwrap();
    let headers = response.headers().clone();
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    let nonce = policy
        .split_once("'nonce-")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(nonce, _)| nonce.to_owned())
        .expect("the policy names a nonce");
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(
        !policy.contains("'unsafe-eval'") && !policy.contains("script-src 'self' 'unsafe-inline'")
    );
    // Every inline script carries this response's nonce; the others come from the site.
    let page = Html::parse_document(&response.text().await.unwrap());
    let scripts = select(&page, "script");
    assert!(!scripts.is_empty());
    for script in scripts {
        let inline = script.attr("src").is_none();
        assert!(
            !inline || script.attr("nonce") == Some(nonce.as_str()),
            "inline script without the nonce: {}",
            script.html()
        );
    }
    let again = reqwest::get(server.url()).await.unwrap();
    assert_ne!(
        again.headers()[header::CONTENT_SECURITY_POLICY],
        headers[header::CONTENT_SECURITY_POLICY],
        "a fresh nonce per response"
    );

    for path in ["/", "/socket.io/socket.io.min.js", "/healthz"] {
        let response = reqwest::get(format!("{}{path}", server.url()))
            .await
            .unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn html_and_scripts_are_compressed_for_clients_that_accept_it() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let client = reqwest::Client::new();
    for (path, encoding) in [("/", "gzip"), ("/socket.io/socket.io.min.js", "br")] {
        let response = client
            .get(format!("{}{path}", server.url()))
            .header(header::ACCEPT_ENCODING, encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()[header::CONTENT_ENCODING],
            encoding,
            "{path}"
        );
    }
    let plain = client.get(server.url()).send().await.unwrap();
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    server.stop().await;
}

/// A site file's `.br` (as `cargo leptos build --precompress` writes it) goes to clients that
/// accept brotli; a gzip client gets the response compression's own gzip, not the `.gz` beside it.
#[cfg(not(feature = "embedded-site"))]
#[tokio::test]
async fn a_site_file_goes_out_precompressed_with_brotli_only() {
    let history = support::history();
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    let script = "export const greeting = 'hola';\n".repeat(100);
    std::fs::write(pkg.join("app.js"), &script).unwrap();
    let brotli = b"what the build's brotli wrote".to_vec();
    std::fs::write(pkg.join("app.js.br"), &brotli).unwrap();
    let stale_gzip = b"what the build's gzip wrote".to_vec();
    std::fs::write(pkg.join("app.js.gz"), &stale_gzip).unwrap();
    let mut config = support::config_on(&history);
    config.site_root = site.path().to_owned();
    let server = TestServer::start_unlimited(config).await;
    let client = reqwest::Client::new();
    let fetch = |encoding: &'static str| {
        client
            .get(format!("{}/pkg/app.js", server.url()))
            .header(header::ACCEPT_ENCODING, encoding)
            .send()
    };

    let response = fetch("gzip, deflate, br").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert_eq!(response.bytes().await.unwrap(), brotli);

    let response = fetch("gzip").await.unwrap();
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let body = response.bytes().await.unwrap();
    assert_ne!(body, stale_gzip);
    assert_eq!(body[..2], [0x1f, 0x8b], "a gzip stream");

    let response = fetch("identity").await.unwrap();
    assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(response.text().await.unwrap(), script);
    server.stop().await;
}
