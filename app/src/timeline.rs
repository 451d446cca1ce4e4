//! What the message list shows, as plain data: messages in server-offset order, the reader's own
//! messages while they are on their way, and notices. Kept free of the DOM so it is unit-tested.

use std::collections::{BTreeSet, HashMap};

use leptos::prelude::{ArcRwSignal, Get, Set};

use crate::clock::{unix_minutes, LocalDay, Today};
use crate::server_fns::HistoryPage;
use protocol::{ChatMessage, MessageChange};

/// How a row sits among its neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RowLayout {
    /// The row is the first of this local day: a day separator goes above it. Known only once
    /// the page runs in the reader's browser (see [`Today`]).
    pub new_day: Option<LocalDay>,
    /// The row continues the group above it: its name and time are not repeated.
    pub continues: bool,
}

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
    /// The author's public id; empty for my messages sent before the server told me mine.
    pub person: String,
    pub text: String,
    pub at: ArcRwSignal<Option<String>>,
    pub delivery: ArcRwSignal<Delivery>,
    /// Sent from this tab: mine whatever my public id turns out to be.
    pub own: bool,
    /// When its author last edited it.
    pub edited_at: Option<String>,
    /// Its author deleted it (its text is empty).
    pub deleted: bool,
    /// The offset of its latest change shown (0: none): an older state never replaces it.
    pub revision: i64,
}

/// Separates a row's key from the revision it shows.
const REVISION_MARK: &str = "@r";

/// A message row's key: the same while the message is unchanged (pending → sent keeps its row),
/// another once it changes (the row is drawn again).
fn row_key(base: String, revision: i64) -> String {
    if revision == 0 {
        base
    } else {
        format!("{base}{REVISION_MARK}{revision}")
    }
}

impl ShownMessage {
    /// Whether the reader wrote it: from this tab, or under the reader's public id (`me`, as the
    /// server said at connection) from another tab or before a reload.
    pub fn is_mine(&self, me: Option<&str>) -> bool {
        self.own || (!self.person.is_empty() && me == Some(self.person.as_str()))
    }
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
    /// The room shown: messages of any other room are never shown here.
    room: String,
    pub lines: Vec<Line>,
    notices: u64,
    /// The room's offset when the first page was read (see [`HistoryPage::offset`]).
    watermark: Option<i64>,
    /// Each name shown, with the people (public ids) who wrote under it.
    names: HashMap<String, BTreeSet<String>>,
    /// The highest offset of a change received: changes are offsets too, relayed in order.
    changes_seen: Option<i64>,
    /// Changes of messages not shown yet, by message id ([`Timeline::apply`]).
    early_changes: HashMap<i64, MessageChange>,
}

/// At most this many changes wait for their messages: a page shows a few hundred messages.
const EARLY_CHANGES_KEPT: usize = 256;

impl Timeline {
    pub fn new(room: &str) -> Self {
        Self {
            room: room.to_owned(),
            ..Self::default()
        }
    }

    /// Whether somebody other than `person` wrote here under `name` too: then the page tells
    /// them apart by more than the name.
    pub fn name_is_shared(&self, name: &str, person: &str) -> bool {
        self.names
            .get(name)
            .is_some_and(|people| people.iter().any(|other| other != person))
    }

    /// The offset to resume from: the highest server id shown, or the first page's watermark.
    pub fn last_id(&self) -> Option<i64> {
        self.lines
            .iter()
            .filter_map(Line::id)
            .chain(self.watermark)
            .chain(self.changes_seen)
            .max()
    }

    /// How many messages of other people came after `seen`, the newest id the reader has seen.
    pub fn count_newer(&self, seen: i64, me: Option<&str>) -> usize {
        self.lines
            .iter()
            .filter(|line| {
                matches!(line, Line::Message(message)
                    if message.id.is_some_and(|id| id > seen) && !message.is_mine(me))
            })
            .count()
    }

    /// The newest stored message of someone else, as it is read out: its id and «Ana: hola».
    pub fn newest_from_others(&self, me: Option<&str>) -> Option<(i64, String)> {
        self.lines.iter().rev().find_map(|line| match line {
            Line::Message(message) if !message.is_mine(me) => {
                Some((message.id?, format!("{}: {}", message.user, message.text)))
            }
            _ => None,
        })
    }

    /// Whether the stored message `id` is shown already (a resend is relayed again, a replay may
    /// repeat a live message).
    pub fn holds(&self, id: i64) -> bool {
        self.lines.iter().any(|line| line.id() == Some(id))
    }

    /// The server id of the row `key`, once stored (my message gets it on its acknowledgement,
    /// in the same row).
    pub fn id_of(&self, key: &str) -> Option<i64> {
        self.lines
            .iter()
            .find(|line| line.key() == key)
            .and_then(Line::id)
    }

    /// The lowest server id shown: older pages are read from below it.
    pub fn oldest_id(&self) -> Option<i64> {
        self.lines.iter().filter_map(Line::id).min()
    }

    /// The page the server rendered with, or an older page.
    pub fn seed(&mut self, page: HistoryPage) {
        self.watermark = self.watermark.max(Some(page.offset));
        for message in page.messages {
            self.receive(message);
        }
    }

    /// A stored message, live or replayed. Shown once, in id order; if it is one of my pending
    /// messages, that row becomes sent. A message of another room is dropped: the server never
    /// sends one, and no misbehaving peer may put one here.
    pub fn receive(&mut self, message: ChatMessage) {
        let id = message.meta.id;
        if message.meta.room != self.room {
            return;
        }
        // A change that came before its message (live, while the message was being replayed).
        let early = self.early_changes.remove(&id);
        if self.holds(id) {
            // Shown already; a copy of a later state (a replay after a gap) updates it.
            let state = message.meta.revision.map(|_| message.as_change());
            for change in state.into_iter().chain(early) {
                self.show_state(change);
            }
            return;
        }
        if !message.meta.person.is_empty() {
            self.names
                .entry(message.meta.user.clone())
                .or_default()
                .insert(message.meta.person.clone());
        }
        if let Some(offset) = &message.meta.client_offset {
            if let Some(mine) = self.own_mut(offset) {
                mine.id = Some(id);
                mine.at.set(Some(message.meta.at.clone()));
                mine.delivery.set(Delivery::Sent);
                // Stored, and perhaps changed since from another tab of mine.
                let states = message.meta.revision.map(|_| message.as_change());
                for change in states.into_iter().chain(early) {
                    self.show_state(change);
                }
                return;
            }
        }
        let key = match &message.meta.client_offset {
            Some(offset) => format!("c:{offset}"),
            None => format!("m:{id}"),
        };
        let revision = message.meta.revision.unwrap_or(0);
        let line = Line::Message(ShownMessage {
            key: row_key(key, revision),
            id: Some(id),
            own: false,
            client_offset: message.meta.client_offset,
            user: message.meta.user,
            person: message.meta.person,
            text: message.text,
            at: ArcRwSignal::new(Some(message.meta.at)),
            delivery: ArcRwSignal::new(Delivery::Sent),
            edited_at: message.meta.edited_at,
            deleted: message.meta.deleted,
            revision,
        });
        // Before the first line with a larger id (a replayed message that was missed), else last.
        let at = self
            .lines
            .iter()
            .position(|line| line.id().is_some_and(|other| other > id))
            .unwrap_or(self.lines.len());
        self.lines.insert(at, line);
        if let Some(change) = early {
            self.show_state(change);
        }
    }

    /// A message's new state, live or replayed: shown if it is newer than what is shown (changes
    /// may come in any order; the highest revision wins). Its row is made again, under a key
    /// of its own.
    pub fn apply(&mut self, change: MessageChange) {
        if change.room != self.room {
            return;
        }
        self.changes_seen = self.changes_seen.max(Some(change.revision));
        self.show_state(change);
    }

    /// Shows `change` if its message is here and it is newer than what the message shows;
    /// keeps it for its message otherwise.
    fn show_state(&mut self, change: MessageChange) {
        let Some(message) = self.lines.iter_mut().find_map(|line| match line {
            Line::Message(message) if message.id == Some(change.id) => Some(message),
            _ => None,
        }) else {
            // Its message may be on its way (in a replay): kept for it, newest only. Only
            // messages after the oldest shown can still arrive that way.
            if self.oldest_id().is_none_or(|oldest| change.id > oldest) {
                let kept = self.early_changes.get(&change.id);
                let newer = kept.is_none_or(|kept| kept.revision < change.revision);
                let room = kept.is_some() || self.early_changes.len() < EARLY_CHANGES_KEPT;
                if newer && room {
                    self.early_changes.insert(change.id, change);
                }
            }
            return;
        };
        if change.revision <= message.revision {
            return;
        }
        let base = message
            .key
            .split_once(REVISION_MARK)
            .map_or(message.key.as_str(), |(base, _)| base)
            .to_owned();
        message.key = row_key(base, change.revision);
        message.revision = change.revision;
        message.text = change.text.unwrap_or_default();
        message.edited_at = change.edited_at;
        message.deleted = change.deleted;
    }

    /// The server replays only the newest messages after a long absence, and leaves out those
    /// before `before`: what is shown is no longer one stretch of the room. Only my messages
    /// still on their way are kept; the replay that follows, then older pages as the reader
    /// scrolls back, bring the room back in order. The resume offset is kept.
    pub fn skip_to(&mut self, before: i64) {
        self.lines.retain(|line| match line {
            Line::Message(message) => message.id.is_none_or(|id| id >= before),
            Line::Notice { .. } => false,
        });
        self.names.clear();
        for line in &self.lines {
            if let Line::Message(message) = line {
                if !message.person.is_empty() {
                    self.names
                        .entry(message.user.clone())
                        .or_default()
                        .insert(message.person.clone());
                }
            }
        }
    }

    /// One of my messages, shown at once as pending. `person` is my public id, if the server has
    /// told me already.
    pub fn send(&mut self, client_offset: &str, user: &str, person: &str, text: &str) {
        self.lines.push(Line::Message(ShownMessage {
            key: format!("c:{client_offset}"),
            id: None,
            client_offset: Some(client_offset.to_owned()),
            user: user.to_owned(),
            person: person.to_owned(),
            text: text.to_owned(),
            at: ArcRwSignal::new(None),
            delivery: ArcRwSignal::new(Delivery::Pending),
            own: true,
            edited_at: None,
            deleted: false,
            revision: 0,
        }));
    }

    /// The server stored my message as `id`.
    pub fn acknowledged(&mut self, client_offset: &str, id: i64) {
        if let Some(mine) = self.own_mut(client_offset) {
            mine.id = Some(id);
            mine.delivery.set(Delivery::Sent);
            if let Some(change) = self.early_changes.remove(&id) {
                self.show_state(change);
            }
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

    /// Where day separators go and which messages continue a group, by row key. `day_of` gives
    /// the reader's local day of a time; with `today` = `None` (the server, and hydration) there
    /// are no separators, and the grouping depends on the instants alone, so both render alike.
    pub fn layout(
        &self,
        me: Option<&str>,
        today: Today,
        day_of: impl Fn(&str) -> Option<LocalDay>,
    ) -> HashMap<String, RowLayout> {
        /// Who wrote a row, as grouping sees it: mine from every tab are one author; anyone
        /// else is their public id under one name.
        #[derive(PartialEq)]
        enum Author {
            Me,
            Other { person: String, name: String },
        }
        struct Previous {
            author: Author,
            minutes: Option<i64>,
        }
        let mut rows = HashMap::with_capacity(self.lines.len());
        let mut previous: Option<Previous> = None;
        let mut previous_day = None;
        for line in &self.lines {
            let Line::Message(message) = line else {
                previous = None;
                continue;
            };
            let at = message.at.get();
            let minutes = at.as_deref().and_then(unix_minutes);
            // My message on its way has no time yet: it is being sent today.
            let day = today.and_then(|today| at.as_deref().map_or(Some(today), &day_of));
            let new_day = day.filter(|day| previous_day != Some(*day));
            previous_day = day.or(previous_day);
            let author = if message.is_mine(me) {
                Author::Me
            } else {
                Author::Other {
                    person: message.person.clone(),
                    name: message.user.clone(),
                }
            };
            let continues = new_day.is_none()
                && previous.as_ref().is_some_and(|above| {
                    let close = match (above.minutes, minutes) {
                        (Some(above), Some(now)) => protocol::joins_group(now - above),
                        // Pending: sent just now, right after what is above.
                        (_, None) => true,
                        (None, Some(_)) => false,
                    };
                    above.author == author && close
                });
            rows.insert(message.key.clone(), RowLayout { new_day, continues });
            previous = Some(Previous {
                author,
                minutes: minutes.or(previous.and_then(|above| above.minutes)),
            });
        }
        rows
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
    use leptos::prelude::Get;
    use protocol::MessageMeta;

    fn stored(id: i64, user: &str, text: &str, client_offset: Option<&str>) -> ChatMessage {
        ChatMessage {
            text: text.into(),
            meta: MessageMeta {
                id,
                user: user.into(),
                person: format!("p-{}", user.to_lowercase()),
                room: "general".into(),
                at: "2026-11-25T10:00:00Z".into(),
                client_offset: client_offset.map(Into::into),
                ..MessageMeta::default()
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
        let mut timeline = Timeline::new("general");
        timeline.receive(stored(5, "Beto", "cinco", None));
        timeline.receive(stored(3, "Beto", "tres", None));
        timeline.receive(stored(4, "Beto", "cuatro", None));
        timeline.receive(stored(5, "Beto", "cinco", None));
        assert_eq!(texts(&timeline), ["tres", "cuatro", "cinco"]);
        assert_eq!(timeline.last_id(), Some(5));
    }

    #[test]
    fn my_pending_message_becomes_sent_in_place() {
        let mut timeline = Timeline::new("general");
        timeline.send("ana-1", "Ana", "", "hola");
        let Line::Message(row) = &timeline.lines[0] else {
            panic!()
        };
        assert_eq!(row.delivery.get(), Delivery::Pending);
        let delivery = row.delivery.clone();
        timeline.receive(stored(9, "Ana", "hola", Some("ana-1")));
        assert_eq!(timeline.lines.len(), 1);
        assert_eq!(delivery.get(), Delivery::Sent);
        assert_eq!(timeline.last_id(), Some(9));
    }

    #[test]
    fn acknowledgement_and_failure_mark_my_message() {
        let mut timeline = Timeline::new("general");
        timeline.send("ana-1", "Ana", "p-ana", "uno");
        timeline.send("ana-2", "Ana", "p-ana", "dos");
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
        let mut timeline = Timeline::new("general");
        assert_eq!(timeline.last_id(), None);
        let page = |ids: &[i64], offset| HistoryPage {
            messages: ids
                .iter()
                .map(|&id| stored(id, "Beto", &id.to_string(), None))
                .collect(),
            offset,
        };
        timeline.seed(page(&[7, 8], 12));
        assert_eq!(timeline.last_id(), Some(12));
        timeline.seed(page(&[2, 5], 12));
        assert_eq!(texts(&timeline), ["2", "5", "7", "8"]);
        assert_eq!(timeline.oldest_id(), Some(2));
        // An empty room still has a resume point.
        let mut empty = Timeline::new("general");
        empty.seed(page(&[], 0));
        assert_eq!(empty.last_id(), Some(0));
    }

    #[test]
    fn mine_is_what_this_tab_sent_or_my_public_id_wrote_whatever_the_name() {
        let mut timeline = Timeline::new("general");
        let mut from_another_tab = stored(1, "Anónimo", "de otra pestaña", None);
        from_another_tab.meta.person = "p-7".into();
        let mut from_someone_else = stored(2, "Anónimo", "de otra persona", None);
        from_someone_else.meta.person = "p-77".into();
        let mut legacy = stored(3, "Anónimo", "de antes de las identidades", None);
        legacy.meta.person.clear();
        timeline.receive(from_another_tab);
        timeline.receive(from_someone_else);
        timeline.receive(legacy);
        timeline.send("k-1", "Anónimo", "", "de esta pestaña");
        let mine = |me: Option<&str>| -> Vec<bool> {
            timeline
                .lines
                .iter()
                .map(|line| matches!(line, Line::Message(m) if m.is_mine(me)))
                .collect()
        };
        assert_eq!(mine(Some("p-7")), [true, false, false, true]);
        assert_eq!(mine(None), [false, false, false, true]);
        assert_eq!(mine(Some("")), [false, false, false, true]);
    }

    #[test]
    fn messages_of_another_room_are_never_shown() {
        let mut timeline = Timeline::new("general");
        let mut elsewhere = stored(1, "Beto", "de otra sala", None);
        elsewhere.meta.room = "otra".into();
        timeline.receive(elsewhere);
        timeline.receive(stored(2, "Beto", "de aquí", None));
        assert_eq!(texts(&timeline), ["de aquí"]);
        assert_eq!(timeline.last_id(), Some(2));
    }

    #[test]
    fn two_people_with_one_name_are_told_apart() {
        let mut timeline = Timeline::new("general");
        let ana = stored(1, "Ana", "una", None);
        let mut other_ana = stored(2, "Ana", "otra", None);
        other_ana.meta.person = "p-otra".into();
        timeline.receive(ana);
        assert!(!timeline.name_is_shared("Ana", "p-ana"));
        timeline.receive(other_ana);
        assert!(timeline.name_is_shared("Ana", "p-ana"));
        assert!(timeline.name_is_shared("Ana", "p-otra"));
        assert!(!timeline.name_is_shared("Beto", "p-beto"));
    }

    #[test]
    fn after_a_long_absence_only_the_replay_and_my_unsent_messages_stay() {
        let mut timeline = Timeline::new("general");
        timeline.receive(stored(3, "Beto", "viejo", None));
        timeline.notice("Caro se ha unido".into());
        timeline.send("k-1", "Ana", "p-ana", "sin enviar");
        timeline.skip_to(40);
        timeline.receive(stored(40, "Beto", "nuevo", None));
        assert_eq!(texts(&timeline), ["sin enviar", "nuevo"]);
        assert_eq!(
            timeline.oldest_id(),
            Some(40),
            "older pages are read from here"
        );
        assert_eq!(timeline.last_id(), Some(40));
    }

    #[test]
    fn one_persons_close_messages_group_and_days_and_notices_break_groups() {
        let at = |id: i64, user: &str, time: &str| {
            let mut message = stored(id, user, "x", None);
            message.meta.at = time.into();
            message
        };
        let mut timeline = Timeline::new("general");
        timeline.receive(at(1, "Beto", "2026-11-24T23:58:00Z"));
        timeline.receive(at(2, "Beto", "2026-11-25T00:02:00Z"));
        timeline.receive(at(3, "Beto", "2026-11-25T00:08:00Z"));
        timeline.receive(at(4, "Caro", "2026-11-25T00:09:00Z"));
        timeline.notice("Dani se ha unido".into());
        timeline.receive(at(5, "Caro", "2026-11-25T00:09:30Z"));
        timeline.send("k-1", "Caro", "p-caro", "pendiente");
        let rows = |today: Today| {
            let layout = timeline.layout(Some("p-caro"), today, |at: &str| {
                unix_minutes(at).map(|minutes| LocalDay(minutes.div_euclid(1440)))
            });
            timeline
                .lines
                .iter()
                .filter(|line| matches!(line, Line::Message(_)))
                .map(|line| layout[line.key()])
                .map(|row| (row.new_day.map(|day| day.0), row.continues))
                .collect::<Vec<_>>()
        };
        // Before the reader's calendar is known: grouped by time and author only.
        assert_eq!(
            rows(None),
            [
                (None, false),
                (None, true),
                (None, false),
                (None, false),
                (None, false),
                (None, true)
            ]
        );
        // In the browser: a separator at each new day, which also starts a new group.
        let (tuesday, wednesday) = (20_781, 20_782);
        assert_eq!(
            rows(Some(LocalDay(wednesday))),
            [
                (Some(tuesday), false),
                (Some(wednesday), false),
                (None, false),
                (None, false),
                (None, false),
                (None, true),
            ]
        );
    }

    #[test]
    fn unseen_messages_are_other_peoples_after_the_last_seen() {
        let mut timeline = Timeline::new("general");
        timeline.receive(stored(1, "Beto", "visto", None));
        timeline.receive(stored(2, "Beto", "nuevo", None));
        timeline.receive(stored(3, "Ana", "mío", None));
        timeline.send("k-1", "Ana", "p-ana", "mío, enviándose");
        timeline.receive(stored(4, "Caro", "nuevo", None));
        assert_eq!(timeline.count_newer(1, Some("p-ana")), 2);
        assert_eq!(timeline.count_newer(4, Some("p-ana")), 0);
    }

    #[test]
    fn notices_stay_where_they_happened() {
        let mut timeline = Timeline::new("general");
        timeline.receive(stored(1, "Beto", "uno", None));
        timeline.notice("Caro se ha unido".into());
        timeline.receive(stored(2, "Caro", "dos", None));
        assert_eq!(texts(&timeline), ["uno", "[Caro se ha unido]", "dos"]);
    }

    fn change(id: i64, revision: i64, text: Option<&str>) -> MessageChange {
        MessageChange {
            id,
            room: "general".into(),
            revision,
            text: text.map(Into::into),
            edited_at: text.map(|_| "2026-11-25T10:05:00Z".into()),
            deleted: text.is_none(),
        }
    }

    #[test]
    fn the_newest_change_of_a_message_wins_whatever_order_they_come_in() {
        let mut timeline = Timeline::new("general");
        timeline.receive(stored(3, "Beto", "hola", None));
        let key = timeline.lines[0].key().to_owned();
        timeline.apply(change(8, 9, Some("not held: ignored")));
        timeline.apply(change(3, 7, Some("segunda")));
        timeline.apply(change(3, 5, Some("primera")));
        assert_eq!(texts(&timeline), ["segunda"]);
        let Line::Message(row) = &timeline.lines[0] else {
            panic!()
        };
        assert!(row.edited_at.is_some() && !row.deleted);
        assert_ne!(row.key, key, "the row is drawn again");
        // Every change received counts in the resume offset, held or not.
        assert_eq!(timeline.last_id(), Some(9));

        timeline.apply(change(3, 10, None));
        timeline.apply(change(3, 7, Some("segunda")));
        let Line::Message(row) = &timeline.lines[0] else {
            panic!()
        };
        assert!(row.deleted && row.text.is_empty());
        assert_eq!(row.key, format!("m:3{REVISION_MARK}10"));

        let mut elsewhere = change(3, 11, Some("de otra sala"));
        elsewhere.room = "otra".into();
        timeline.apply(elsewhere);
        assert_eq!(timeline.last_id(), Some(10));
    }

    #[test]
    fn a_replayed_message_arrives_as_it_is_now() {
        let mut timeline = Timeline::new("general");
        let mut edited = stored(4, "Beto", "corregido", None);
        edited.meta.edited_at = Some("2026-11-25T10:05:00Z".into());
        edited.meta.revision = Some(6);
        timeline.receive(edited);
        // A change older than what the message shows is not shown.
        timeline.apply(change(4, 5, Some("antes")));
        assert_eq!(texts(&timeline), ["corregido"]);
    }

    #[test]
    fn a_change_that_overtakes_its_message_waits_for_it() {
        let mut timeline = Timeline::new("general");
        timeline.receive(stored(2, "Beto", "antes", None));
        // Live, while message 5 is still in the replay on its way.
        timeline.apply(change(5, 8, Some("corregido")));
        timeline.receive(stored(5, "Beto", "original", None));
        assert_eq!(texts(&timeline), ["antes", "corregido"]);
        // Mine, changed from another tab before this one heard its acknowledgement.
        timeline.send("ana-1", "Ana", "p-ana", "mío");
        timeline.apply(change(9, 10, None));
        timeline.acknowledged("ana-1", 9);
        let Line::Message(row) = timeline.lines.last().unwrap() else {
            panic!()
        };
        assert!(row.deleted);
    }

    #[test]
    fn a_replayed_copy_of_a_later_state_updates_what_is_shown() {
        let mut timeline = Timeline::new("general");
        timeline.receive(stored(3, "Beto", "hola", None));
        let mut later = stored(3, "Beto", "hola, editado", None);
        later.meta.revision = Some(7);
        later.meta.edited_at = Some("2026-11-25T10:05:00Z".into());
        timeline.receive(later);
        assert_eq!(texts(&timeline), ["hola, editado"]);
        // My own row, found by its client offset, takes the stored state too.
        timeline.send("ana-2", "Ana", "p-ana", "borrador");
        let mut gone = stored(11, "Ana", "", Some("ana-2"));
        gone.meta.deleted = true;
        gone.meta.revision = Some(12);
        timeline.receive(gone);
        let Line::Message(row) = timeline.lines.last().unwrap() else {
            panic!()
        };
        assert!(row.deleted && row.id == Some(11));
    }
}
