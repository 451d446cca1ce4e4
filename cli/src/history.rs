//! A room's history over HTTP ([`protocol::HISTORY_PAGE_PATH`]), read backwards a page at a
//! time, as the page reads older messages.
//!
//! `sala` catches up this way rather than through the socket's replay: the replay is bounded
//! ([`protocol::REPLAY_MAX_MESSAGES`]) and may interleave with live messages, while a client
//! that has already joined the room and then reads the pages misses nothing — every message is
//! either stored before the read (so in a page) or relayed to it after joining.

use std::time::Duration;

use protocol::{ChatMessage, HistoryPage, HISTORY_PAGE};
use reqwest::StatusCode;

use crate::Failure;

/// How many times a page refused for the address's rate (`429`) is asked for again.
const RATE_RETRIES: u32 = 20;

#[derive(Debug, Clone)]
pub struct HistoryReader {
    http: reqwest::Client,
    endpoint: String,
}

impl HistoryReader {
    /// Reads from the server at `url` (its base URL).
    pub fn new(url: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            endpoint: format!(
                "{}{}",
                url.trim_end_matches('/'),
                protocol::HISTORY_PAGE_PATH
            ),
        }
    }

    /// Up to a page of `room`'s messages before `before` (or its newest), oldest first.
    pub async fn page(&self, room: &str, before: Option<i64>) -> Result<Vec<ChatMessage>, Failure> {
        let mut form = vec![("room", room.to_owned())];
        if let Some(before) = before {
            form.push(("before", before.to_string()));
        }
        for _ in 0..RATE_RETRIES {
            let response = self
                .http
                .post(&self.endpoint)
                .form(&form)
                .send()
                .await
                .map_err(|error| Failure::History(error.to_string()))?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait.clamp(1, 60))).await;
                continue;
            }
            let body = response
                .text()
                .await
                .map_err(|error| Failure::History(error.to_string()))?;
            if !status.is_success() {
                return Err(Failure::History(format!("{status}: {}", body.trim())));
            }
            let page: HistoryPage = serde_json::from_str(&body)
                .map_err(|error| Failure::History(format!("respuesta inesperada: {error}")))?;
            return Ok(page.messages);
        }
        Err(Failure::History(
            "el servidor sigue diciendo que vamos demasiado rápido".to_owned(),
        ))
    }

    /// Every message of `room` after the id `since`, oldest first.
    pub async fn after(&self, room: &str, since: i64) -> Result<Vec<ChatMessage>, Failure> {
        let mut newest_first: Vec<ChatMessage> = Vec::new();
        let mut before = None;
        loop {
            let page = self.page(room, before).await?;
            let complete = page.len() < HISTORY_PAGE;
            let Some(oldest) = page.first().map(|message| message.meta.id) else {
                break;
            };
            newest_first.extend(
                page.into_iter()
                    .rev()
                    .filter(|message| message.meta.id > since),
            );
            if complete || oldest <= since {
                break;
            }
            before = Some(oldest);
        }
        newest_first.reverse();
        Ok(newest_first)
    }
}
