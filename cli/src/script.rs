//! The modes for scripts: `sala send` and `sala tail`.

use std::{
    collections::BTreeSet,
    io::{ErrorKind, Write},
    time::Duration,
};

use protocol::ChatMessage;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{
    args::{Send, Settings, Tail},
    clock::{hour_minute, Zone},
    history::HistoryReader,
    link::{Inbox, Incoming, Link, PATIENCE},
    outbox::new_client_offset,
    Failure,
};

/// How many times one message is sent (with the same client offset) before `send` gives up.
const SEND_ATTEMPTS: u32 = 5;

/// `sala send`: each message once it is stored (its id on stdout), in order; stops at the first
/// one the server refuses.
pub async fn send(settings: &Settings, send: &Send) -> Result<(), Failure> {
    let (link, _, mut inbox) = Link::join(settings, &settings.room, true).await?;
    let sent = async {
        if let Some(text) = &send.text {
            return deliver(&link, &mut inbox, text).await;
        }
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        while let Some(line) = lines.next_line().await? {
            if !protocol::is_blank(&line) {
                deliver(&link, &mut inbox, &line).await?;
            }
        }
        Ok(())
    }
    .await;
    link.close().await;
    sent
}

/// Sends `text` until the server answers, through reconnections, always with the same client
/// offset: stored exactly once.
async fn deliver(link: &Link, inbox: &mut Inbox, text: &str) -> Result<(), Failure> {
    let client_offset = new_client_offset();
    for _ in 0..SEND_ATTEMPTS {
        match link.send(text, &client_offset).await {
            Ok(id) => return print_line(&id.to_string()),
            Err(failure) if failure.is_transient() => readmitted(inbox).await,
            Err(failure) => return Err(failure),
        }
    }
    Err(Failure::NoAck {
        attempts: SEND_ATTEMPTS,
    })
}

/// Waits (a while at most) until the link is admitted again, if it was lost.
async fn readmitted(inbox: &mut Inbox) {
    tokio::time::timeout(2 * PATIENCE, async {
        while let Some(incoming) = inbox.recv().await {
            if incoming == Incoming::Admitted {
                return;
            }
        }
    })
    .await
    .ok();
}

/// `sala tail`: the room's messages, each once, oldest first, history then live, until stopped.
pub async fn tail(settings: &Settings, tail: &Tail) -> Result<(), Failure> {
    let room = settings.room.as_str();
    let (link, _, mut inbox) = Link::join(settings, room, true).await?;
    let history = HistoryReader::new(&settings.url);
    let mut printer = Printer::new(tail.json, tail.since.unwrap_or(0));
    let first = match tail.since {
        Some(since) => history.after(room, since).await?,
        None => history.page(room, None).await?,
    };
    let printed = async {
        printer.print_all(first)?;
        // After a lost connection, what arrives live waits until the gap before it is read from
        // the pages: the client may hear a new message before it hears it was admitted again.
        let mut held: Option<Vec<ChatMessage>> = None;
        while let Some(incoming) = inbox.recv().await {
            match incoming {
                Incoming::Message(message) if message.meta.room == room => match &mut held {
                    Some(held) => held.push(message),
                    None => printer.print(&message)?,
                },
                Incoming::History(batch) => match &mut held {
                    Some(held) => held.extend(batch),
                    None => printer.print_all(batch)?,
                },
                // Back after a gap: whatever was stored meanwhile, from the pages.
                Incoming::Admitted => {
                    let mut found = catch_up(&history, room, printer.last).await;
                    found.extend(held.take().unwrap_or_default());
                    printer.print_all(found)?
                }
                Incoming::Lost => {
                    held.get_or_insert_with(Vec::new);
                    eprintln!("sala: se perdió la conexión; reconectando…")
                }
                Incoming::Refused(reason) => {
                    eprintln!("sala: el servidor rechazó la conexión ({reason}); se reintentará")
                }
                Incoming::Identity(credentials) => {
                    settings
                        .profile
                        .update(|profile| {
                            profile.identities.insert(settings.url.clone(), credentials);
                        })
                        .ok();
                }
                _ => {}
            }
        }
        Ok(())
    }
    .await;
    link.close().await;
    match printed {
        // The reader went away (`| head`): that is how a tail ends.
        Err(Failure::Io(error)) if error.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The room's messages after `last`, asked for until the server answers (it may just have
/// restarted).
async fn catch_up(history: &HistoryReader, room: &str, last: i64) -> Vec<ChatMessage> {
    let mut wait = Duration::from_millis(200);
    loop {
        match history.after(room, last).await {
            Ok(messages) => return messages,
            Err(failure) => {
                eprintln!("sala: {failure}; se reintentará");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Prints each message once: as JSON or as a line for people.
struct Printer {
    json: bool,
    /// Ids printed, the newest ones (a message relayed twice, or live and in a page, is one).
    printed: BTreeSet<i64>,
    /// The highest id printed (or asked to start after).
    last: i64,
    /// The id asked to start after: nothing up to it is printed.
    since: i64,
}

/// How many printed ids are remembered: far more than a replay and a page can repeat.
const REMEMBERED_IDS: usize = 100_000;

impl Printer {
    fn new(json: bool, since: i64) -> Self {
        Self {
            json,
            printed: BTreeSet::new(),
            last: since,
            since,
        }
    }

    fn print_all(&mut self, mut messages: Vec<ChatMessage>) -> Result<(), Failure> {
        messages.sort_by_key(|message| message.meta.id);
        messages.iter().try_for_each(|message| self.print(message))
    }

    fn print(&mut self, message: &ChatMessage) -> Result<(), Failure> {
        let id = message.meta.id;
        if id <= self.since || !self.printed.insert(id) {
            return Ok(());
        }
        if self.printed.len() > REMEMBERED_IDS {
            self.printed.pop_first();
        }
        self.last = self.last.max(id);
        print_line(&self.format(message))
    }

    fn format(&self, message: &ChatMessage) -> String {
        if self.json {
            // Client offsets are the author's business (none from the pages, either).
            return serde_json::to_string(&message.as_seen_by(None)).expect("a message is JSON");
        }
        let time = hour_minute(&message.meta.at, Zone::Local);
        let text = message.text.replace('\n', "\n      ");
        format!("{time} {}: {text}", message.meta.user)
    }
}

fn print_line(line: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::MessageMeta;

    fn message(id: i64) -> ChatMessage {
        ChatMessage {
            text: format!("m{id}"),
            meta: MessageMeta {
                id,
                user: "Ana".into(),
                person: "p".into(),
                room: "general".into(),
                at: "2026-12-03T10:00:00Z".into(),
                client_offset: Some("mine".into()),
                ..MessageMeta::default()
            },
        }
    }

    #[test]
    fn json_lines_are_the_protocols_messages_without_client_offsets() {
        let printer = Printer::new(true, 0);
        let line = printer.format(&message(3));
        let back: ChatMessage = serde_json::from_str(&line).unwrap();
        assert_eq!(back.meta.id, 3);
        assert_eq!(back.meta.client_offset, None);
        assert!(!line.contains('\n'));
    }
}
