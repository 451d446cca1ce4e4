//! What the message list shows, as plain data: messages in server-offset order, the reader's own
//! messages while they are on their way, and notices. Kept free of the DOM so it is unit-tested.

use leptos::prelude::{ArcRwSignal, Set};

use crate::me::is_mine;
use crate::protocol::ChatMessage;
use crate::server_fns::HistoryPage;

/// Where one of my messages stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Sent (or queued while offline), not yet acknowledged.
    Pending,
    /// Stored by the server.
    Sent,
    /// The server refused it or never answered: it can be sent again.
    Failed,
}

#[derive(Debug, Clone)]
pub struct ShownMessage {
    /// Stable across pending → sent, so the list keeps the same row.
    pub key: String,
    pub id: Option<i64>,
    pub client_offset: Option<String>,
    pub user: String,
    pub text: String,
    pub at: ArcRwSignal<Option<String>>,
    pub delivery: ArcRwSignal<Delivery>,
    pub mine: bool,
}

#[derive(Debug, Clone)]
pub enum Line {
    Message(ShownMessage),
    Notice { key: String, text: String },
}

impl Line {
    pub fn key(&self) -> &str {
        match self {
            Line::Message(message) => &message.key,
            Line::Notice { key, .. } => key,
        }
    }

    fn id(&self) -> Option<i64> {
        match self {
            Line::Message(message) => message.id,
            Line::Notice { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub lines: Vec<Line>,
    notices: u64,
    /// The store's offset when the first page was read (see `HistoryPage::offset`).
    watermark: Option<i64>,
}

impl Timeline {
    /// The offset to resume from: the highest server id shown, or the first page's watermark.
    pub fn last_id(&self) -> Option<i64> {
        self.lines
            .iter()
            .filter_map(Line::id)
            .chain(self.watermark)
            .max()
    }

    /// The lowest server id shown: older pages are read from below it.
    pub fn oldest_id(&self) -> Option<i64> {
        self.lines.iter().filter_map(Line::id).min()
    }

    /// The page the server rendered with, or an older page. `me` is the reader's user id.
    pub fn seed(&mut self, page: HistoryPage, me: &str) {
        self.watermark = self.watermark.max(Some(page.offset));
        for message in page.messages {
            self.receive(message, me);
        }
    }

    /// A stored message, live or replayed. Shown once, in id order; if it is one of my pending
    /// messages, that row becomes sent. `me` is the reader's user id.
    pub fn receive(&mut self, message: ChatMessage, me: &str) {
        let id = message.meta.id;
        if self.lines.iter().any(|line| line.id() == Some(id)) {
            return;
        }
        if let Some(offset) = &message.meta.client_offset {
            if let Some(mine) = self.own_mut(offset) {
                mine.id = Some(id);
                mine.at.set(Some(message.meta.at));
                mine.delivery.set(Delivery::Sent);
                return;
            }
        }
        let key = match &message.meta.client_offset {
            Some(offset) => format!("c:{offset}"),
            None => format!("m:{id}"),
        };
        let line = Line::Message(ShownMessage {
            key,
            id: Some(id),
            mine: is_mine(message.meta.client_offset.as_deref(), me),
            client_offset: message.meta.client_offset,
            user: message.meta.user,
            text: message.text,
            at: ArcRwSignal::new(Some(message.meta.at)),
            delivery: ArcRwSignal::new(Delivery::Sent),
        });
        // Before the first line with a larger id (a replayed message that was missed), else last.
        let at = self
            .lines
            .iter()
            .position(|line| line.id().is_some_and(|other| other > id))
            .unwrap_or(self.lines.len());
        self.lines.insert(at, line);
    }

    /// One of my messages, shown at once as pending.
    pub fn send(&mut self, client_offset: &str, user: &str, text: &str) {
        self.lines.push(Line::Message(ShownMessage {
            key: format!("c:{client_offset}"),
            id: None,
            client_offset: Some(client_offset.to_owned()),
            user: user.to_owned(),
            text: text.to_owned(),
            at: ArcRwSignal::new(None),
            delivery: ArcRwSignal::new(Delivery::Pending),
            mine: true,
        }));
    }

    /// The server stored my message as `id`.
    pub fn acknowledged(&mut self, client_offset: &str, id: i64) {
        if let Some(mine) = self.own_mut(client_offset) {
            mine.id = Some(id);
            mine.delivery.set(Delivery::Sent);
        }
    }

    pub fn delivery(&mut self, client_offset: &str, delivery: Delivery) {
        if let Some(mine) = self.own_mut(client_offset) {
            mine.delivery.set(delivery);
        }
    }

    pub fn notice(&mut self, text: String) {
        self.notices += 1;
        self.lines.push(Line::Notice {
            key: format!("n:{}", self.notices),
            text,
        });
    }

    fn own_mut(&mut self, client_offset: &str) -> Option<&mut ShownMessage> {
        self.lines.iter_mut().find_map(|line| match line {
            Line::Message(message) if message.client_offset.as_deref() == Some(client_offset) => {
                Some(message)
            }
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::MessageMeta;
    use leptos::prelude::Get;

    fn stored(id: i64, user: &str, text: &str, client_offset: Option<&str>) -> ChatMessage {
        ChatMessage {
            text: text.into(),
            meta: MessageMeta {
                id,
                user: user.into(),
                room: "general".into(),
                at: "2026-11-25T10:00:00Z".into(),
                client_offset: client_offset.map(Into::into),
            },
        }
    }

    fn texts(timeline: &Timeline) -> Vec<String> {
        timeline
            .lines
            .iter()
            .map(|line| match line {
                Line::Message(m) => m.text.clone(),
                Line::Notice { text, .. } => format!("[{text}]"),
            })
            .collect()
    }

    #[test]
    fn messages_are_shown_once_in_id_order() {
        let mut timeline = Timeline::default();
        timeline.receive(stored(5, "Beto", "cinco", None), "Ana");
        timeline.receive(stored(3, "Beto", "tres", None), "Ana");
        timeline.receive(stored(4, "Beto", "cuatro", None), "Ana");
        timeline.receive(stored(5, "Beto", "cinco", None), "Ana");
        assert_eq!(texts(&timeline), ["tres", "cuatro", "cinco"]);
        assert_eq!(timeline.last_id(), Some(5));
    }

    #[test]
    fn my_pending_message_becomes_sent_in_place() {
        let mut timeline = Timeline::default();
        timeline.send("ana-1", "Ana", "hola");
        let Line::Message(row) = &timeline.lines[0] else {
            panic!()
        };
        assert_eq!(row.delivery.get(), Delivery::Pending);
        let delivery = row.delivery.clone();
        timeline.receive(stored(9, "Ana", "hola", Some("ana-1")), "ana");
        assert_eq!(timeline.lines.len(), 1);
        assert_eq!(delivery.get(), Delivery::Sent);
        assert_eq!(timeline.last_id(), Some(9));
    }

    #[test]
    fn acknowledgement_and_failure_mark_my_message() {
        let mut timeline = Timeline::default();
        timeline.send("ana-1", "Ana", "uno");
        timeline.send("ana-2", "Ana", "dos");
        timeline.acknowledged("ana-1", 3);
        timeline.delivery("ana-2", Delivery::Failed);
        let deliveries: Vec<_> = timeline
            .lines
            .iter()
            .map(|line| match line {
                Line::Message(m) => m.delivery.get(),
                Line::Notice { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(deliveries, [Delivery::Sent, Delivery::Failed]);
    }

    #[test]
    fn older_pages_go_on_top_and_the_watermark_is_the_resume_point() {
        let mut timeline = Timeline::default();
        assert_eq!(timeline.last_id(), None);
        let page = |ids: &[i64], offset| HistoryPage {
            messages: ids
                .iter()
                .map(|&id| stored(id, "Beto", &id.to_string(), None))
                .collect(),
            offset,
        };
        timeline.seed(page(&[7, 8], 12), "Ana");
        assert_eq!(timeline.last_id(), Some(12));
        timeline.seed(page(&[2, 5], 12), "Ana");
        assert_eq!(texts(&timeline), ["2", "5", "7", "8"]);
        assert_eq!(timeline.oldest_id(), Some(2));
        // An empty room still has a resume point.
        let mut empty = Timeline::default();
        empty.seed(page(&[], 0), "Ana");
        assert_eq!(empty.last_id(), Some(0));
    }

    #[test]
    fn mine_is_whatever_my_user_id_sent_whatever_the_name() {
        let mut timeline = Timeline::default();
        timeline.receive(
            stored(1, "Anónimo", "de otra pestaña", Some("u7-1a-0")),
            "u7",
        );
        timeline.receive(
            stored(2, "Anónimo", "de otra persona", Some("u77-1a-0")),
            "u7",
        );
        timeline.receive(stored(3, "Anónimo", "sin offset", None), "u7");
        let mine: Vec<bool> = timeline
            .lines
            .iter()
            .map(|line| matches!(line, Line::Message(m) if m.mine))
            .collect();
        assert_eq!(mine, [true, false, false]);
    }

    #[test]
    fn notices_stay_where_they_happened() {
        let mut timeline = Timeline::default();
        timeline.receive(stored(1, "Beto", "uno", None), "Ana");
        timeline.notice("Caro se ha unido".into());
        timeline.receive(stored(2, "Caro", "dos", None), "Ana");
        assert_eq!(texts(&timeline), ["uno", "[Caro se ha unido]", "dos"]);
    }
}
