//! How a [`Screen`] looks: title and connection, the room's messages (grouped, with day
//! separators), who is here, who is typing, the message being written.

use chrono::{NaiveDate, NaiveDateTime};
use ratatui::{
    layout::{Constraint, Layout, Position, Rect},
    style::{Color, Modifier, Style, Stylize},
    text::{Line, Span},
    widgets::{Block, Paragraph, Wrap},
    Frame,
};

use super::screen::{Screen, Status};
use crate::{
    clock::{day_name, hour_minute},
    outbox::Sending,
};

/// The narrowest terminal that also shows the people here.
const PEOPLE_FROM_WIDTH: u16 = 70;
const PEOPLE_WIDTH: u16 = 24;
/// The most lines the message being written takes on screen.
const INPUT_LINES: u16 = 5;

/// Colours people are told apart by (the terminal's own palette, so they suit its theme).
const PERSON_COLOURS: [Color; 6] = [
    Color::Cyan,
    Color::Green,
    Color::Yellow,
    Color::Magenta,
    Color::Blue,
    Color::Red,
];

fn colour_of(person: &str) -> Color {
    let hash = person.bytes().fold(0u32, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(byte.into())
    });
    PERSON_COLOURS[hash as usize % PERSON_COLOURS.len()]
}

impl Screen {
    /// Draws the whole screen; `today` names the day separators.
    pub fn draw(&self, frame: &mut Frame, today: NaiveDate) {
        let input_lines = (self.input.split('\n').count() as u16).clamp(1, INPUT_LINES);
        let notice_lines = u16::from(self.notice.is_some());
        let [title, body, typing, notice, input, help] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
            Constraint::Length(notice_lines),
            Constraint::Length(input_lines + 2),
            Constraint::Length(1),
        ])
        .areas(frame.area());
        frame.render_widget(self.title_line(), title);
        if body.width >= PEOPLE_FROM_WIDTH {
            let [messages, people] =
                Layout::horizontal([Constraint::Min(20), Constraint::Length(PEOPLE_WIDTH)])
                    .areas(body);
            self.draw_messages(frame, messages, today);
            frame.render_widget(self.people_list(), people);
        } else {
            self.draw_messages(frame, body, today);
        }
        frame.render_widget(Paragraph::new(self.typing_line()).dim().italic(), typing);
        if let Some(text) = &self.notice {
            frame.render_widget(
                Paragraph::new(text.as_str())
                    .yellow()
                    .wrap(Wrap { trim: true }),
                notice,
            );
        }
        self.draw_input(frame, input, input_lines);
        frame.render_widget(
            Paragraph::new(
                "Intro envía · Alt+Intro: otra línea · RePág/AvPág · /sala /nombre /salas /salir",
            )
            .dim(),
            help,
        );
    }

    fn title_line(&self) -> Line<'_> {
        let status = match &self.status {
            Status::Connecting => Span::from("Conectando…").yellow(),
            Status::Online => Span::from("● En línea").green(),
            Status::Offline => Span::from("Sin conexión · reintentando…").yellow().bold(),
            Status::Refused(reason) => Span::from(format!("Rechazado: {reason}")).red().bold(),
        };
        Line::from(vec![
            Span::from(" Sala de chat ").reversed(),
            Span::from(format!(" #{} ", self.room)).bold(),
            Span::from(format!("· {} · ", self.name)).dim(),
            status,
        ])
    }

    /// The messages, newest at the bottom, scrolled back by `scroll` lines.
    fn draw_messages(&self, frame: &mut Frame, area: Rect, today: NaiveDate) {
        let lines = self.message_lines(today);
        let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
        let total = paragraph.line_count(area.width) as u16;
        let hidden = total.saturating_sub(area.height);
        let top = hidden.saturating_sub(self.scroll.min(hidden));
        frame.render_widget(paragraph.scroll((top, 0)), area);
    }

    fn message_lines(&self, today: NaiveDate) -> Vec<Line<'_>> {
        let mut lines = Vec::new();
        if self.messages.is_empty() && self.outbox.items().is_empty() {
            lines.push(
                Line::from("Aún no hay mensajes en esta sala.")
                    .dim()
                    .italic(),
            );
        }
        let mut previous: Option<(&str, Option<NaiveDateTime>)> = None;
        for message in self.messages.values() {
            let at = self.zone.of(&message.meta.at);
            let day = at.map(|at| at.date());
            let previous_day = previous.and_then(|(_, at)| at).map(|at| at.date());
            if let Some(day) = day.filter(|day| Some(*day) != previous_day) {
                let name = day_name(day, today);
                lines.push(Line::from(format!("── {name} ──")).dim().centered());
                previous = None;
            }
            let grouped = previous.is_some_and(|(person, earlier)| {
                person == message.meta.person
                    && !person.is_empty()
                    && matches!((earlier, at), (Some(earlier), Some(at))
                        if protocol::joins_group((at - earlier).num_minutes()))
            });
            if !grouped {
                let mut header = vec![
                    Span::from(hour_minute(&message.meta.at, self.zone)).dim(),
                    Span::from(" "),
                    Span::styled(
                        message.meta.user.as_str(),
                        Style::new()
                            .fg(colour_of(&message.meta.person))
                            .add_modifier(Modifier::BOLD),
                    ),
                ];
                if self.me.as_deref() == Some(message.meta.person.as_str()) {
                    header.push(Span::from(" (tú)").dim());
                }
                lines.push(Line::from(header));
            }
            if message.meta.deleted {
                lines.extend(
                    text_lines("mensaje eliminado", None)
                        .into_iter()
                        .map(|line| line.dim()),
                );
            } else {
                let edited = message
                    .meta
                    .edited_at
                    .is_some()
                    .then(|| Span::from(" (editado)").dim());
                lines.extend(text_lines(&message.text, edited));
            }
            previous = Some((&message.meta.person, at));
        }
        for item in self.outbox.items() {
            let state = match &item.state {
                Sending::Pending => Span::from(" (enviando…)").dim(),
                Sending::Sent(_) => Span::from(" (enviado)").dim(),
                Sending::Failed(why) => Span::from(format!(" (no enviado: {why})")).red(),
            };
            lines.push(Line::from(vec![
                Span::from("--:--").dim(),
                Span::from(" "),
                Span::from(self.name.as_str()).bold(),
                Span::from(" (tú)").dim(),
            ]));
            lines.extend(text_lines(&item.text, Some(state)));
        }
        lines
    }

    fn people_list(&self) -> Paragraph<'_> {
        let mut lines: Vec<Line> = self
            .people
            .iter()
            .map(|member| {
                let mut line = vec![Span::styled(
                    member.name.as_str(),
                    Style::new().fg(colour_of(&member.person)),
                )];
                if self.me.as_deref() == Some(member.person.as_str()) {
                    line.push(Span::from(" (tú)").dim());
                }
                Line::from(line)
            })
            .collect();
        if self.online > self.people.len() {
            lines.push(Line::from(format!("y {} más", self.online - self.people.len())).dim());
        }
        Paragraph::new(lines).block(
            Block::bordered()
                .title(format!(" En la sala · {} ", self.online))
                .border_style(Style::new().dim()),
        )
    }

    fn typing_line(&self) -> String {
        let names: Vec<&str> = self
            .typing
            .values()
            .map(|(name, _)| name.as_str())
            .collect();
        match names.as_slice() {
            [] => String::new(),
            [one] => format!("{one} está escribiendo…"),
            [one, two] => format!("{one} y {two} están escribiendo…"),
            _ => "Varias personas están escribiendo…".to_owned(),
        }
    }

    fn draw_input(&self, frame: &mut Frame, area: Rect, shown_lines: u16) {
        let before_cursor = &self.input[..self.cursor];
        let row = before_cursor.matches('\n').count() as u16;
        let column = before_cursor
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count() as u16;
        let first_shown = row.saturating_sub(shown_lines - 1);
        let block = Block::bordered().title(format!(" Mensaje para #{} ", self.room));
        let inner = block.inner(area);
        frame.render_widget(
            Paragraph::new(self.input.as_str())
                .block(block)
                .scroll((first_shown, 0)),
            area,
        );
        frame.set_cursor_position(Position::new(
            inner.x + column.min(inner.width.saturating_sub(1)),
            inner.y + row - first_shown,
        ));
    }
}

/// A message's text as indented lines, the last one followed by `state` if any.
fn text_lines<'a>(text: &'a str, state: Option<Span<'a>>) -> Vec<Line<'a>> {
    let mut lines: Vec<Line> = text
        .split('\n')
        .map(|line| Line::from(vec![Span::from("  "), Span::from(line)]))
        .collect();
    if let (Some(state), Some(last)) = (state, lines.last_mut()) {
        last.push_span(state);
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use chrono::FixedOffset;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use protocol::{ChatMessage, Credentials, Member, MessageMeta, Presence, UserEvent};
    use ratatui::{backend::TestBackend, Terminal};

    use super::*;
    use crate::{clock::Zone, link::Incoming, tui::screen::Command, Failure};

    fn message(id: i64, person: &str, user: &str, at: &str, text: &str) -> Incoming {
        Incoming::Message(ChatMessage {
            text: text.into(),
            meta: MessageMeta {
                id,
                user: user.into(),
                person: person.into(),
                room: "general".into(),
                at: at.into(),
                client_offset: None,
                ..MessageMeta::default()
            },
        })
    }

    /// The screen as text, one string per row.
    fn rendered(screen: &Screen, width: u16, height: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        terminal.draw(|frame| screen.draw(frame, today)).unwrap();
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }

    fn madrid() -> Zone {
        Zone::Fixed(FixedOffset::east_opt(3600).unwrap())
    }

    #[test]
    fn messages_people_and_typing_are_drawn_in_local_time_and_grouped() {
        let now = Instant::now();
        let mut screen = Screen::new("general", "Ana", madrid());
        screen.apply(Incoming::Admitted, now);
        screen.apply(
            Incoming::Identity(Credentials {
                person: "p-ana".into(),
                token: "t".into(),
            }),
            now,
        );
        screen.apply(
            Incoming::Presence(Presence {
                room: "general".into(),
                users: vec![
                    Member {
                        person: "p-ana".into(),
                        name: "Ana".into(),
                    },
                    Member {
                        person: "p-luis".into(),
                        name: "Luis".into(),
                    },
                ],
                online: 2,
            }),
            now,
        );
        screen.apply(
            message(1, "p-luis", "Luis", "2026-12-02T21:00:00Z", "buenas noches"),
            now,
        );
        screen.apply(
            message(2, "p-luis", "Luis", "2026-12-03T09:00:00Z", "buenos días"),
            now,
        );
        screen.apply(
            message(3, "p-luis", "Luis", "2026-12-03T09:02:00Z", "¿hay alguien?"),
            now,
        );
        screen.apply(
            Incoming::Typing(UserEvent {
                user: "Luis".into(),
                person: "p-luis".into(),
                room: "general".into(),
            }),
            now,
        );
        let rows = rendered(&screen, 80, 20);
        let all = rows.join("\n");
        assert!(
            rows[0].contains("#general") && rows[0].contains("En línea"),
            "{all}"
        );
        assert!(all.contains("── Ayer ──"), "{all}");
        assert!(
            all.contains("22:00 Luis"),
            "UTC 21:00 is 22:00 in Madrid: {all}"
        );
        assert!(all.contains("── Hoy ──"), "{all}");
        assert!(all.contains("10:00 Luis"), "{all}");
        assert!(!all.contains("10:02 Luis"), "grouped under 10:00: {all}");
        assert!(all.contains("¿hay alguien?"), "{all}");
        assert!(all.contains("En la sala · 2"), "{all}");
        assert!(all.contains("Ana (tú)"), "{all}");
        assert!(all.contains("Luis está escribiendo…"), "{all}");
        // A message from Luis clears his typing notice.
        screen.apply(
            message(4, "p-luis", "Luis", "2026-12-03T09:03:00Z", "hola"),
            now,
        );
        assert!(!rendered(&screen, 80, 20).join("\n").contains("escribiendo"));
    }

    #[test]
    fn a_message_typed_is_pending_then_sent_then_the_rooms() {
        let now = Instant::now();
        let mut screen = Screen::new("general", "Ana", madrid());
        screen.apply(Incoming::Admitted, now);
        for c in "hola a todos".chars() {
            screen.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        let rows = rendered(&screen, 80, 20);
        assert!(
            rows.iter().any(|row| row.starts_with("│hola a todos")),
            "typed into the input: {rows:#?}"
        );
        let Some(Command::Send { client_offset, .. }) =
            screen.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
        else {
            panic!("sent");
        };
        let all = rendered(&screen, 80, 20).join("\n");
        assert!(all.contains("hola a todos (enviando…)"), "{all}");
        screen.answered(&client_offset, &Err(Failure::Lost));
        assert!(rendered(&screen, 80, 20).join("\n").contains("(enviando…)"));
        screen.answered(&client_offset, &Ok(9));
        assert!(rendered(&screen, 80, 20)
            .join("\n")
            .contains("hola a todos (enviado)"));
        screen.apply(
            message(9, "p-ana", "Ana", "2026-12-03T09:05:00Z", "hola a todos"),
            now,
        );
        let all = rendered(&screen, 80, 20).join("\n");
        assert!(all.contains("10:05 Ana"), "{all}");
        assert!(
            !all.contains("(enviado)"),
            "shown once, as the room's: {all}"
        );
    }

    #[test]
    fn a_refused_message_says_why_and_the_status_says_offline() {
        let now = Instant::now();
        let mut screen = Screen::new("general", "Ana", madrid());
        for c in "x".chars() {
            screen.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        let Some(Command::Send { client_offset, .. }) =
            screen.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
        else {
            panic!("sent");
        };
        screen.answered(
            &client_offset,
            &Err(Failure::Rejected {
                reason: protocol::Rejection::TooFast,
                message: protocol::Rejection::TooFast.to_string(),
            }),
        );
        screen.apply(Incoming::Lost, now);
        let rows = rendered(&screen, 60, 16);
        let all = rows.join("\n");
        assert!(rows[0].contains("Sin conexión · reintentando…"), "{all}");
        assert!(all.contains("no enviado: Vas demasiado rápido"), "{all}");
        assert!(
            !all.contains("En la sala"),
            "no people pane at 60 columns: {all}"
        );
    }

    #[test]
    fn edits_and_deletions_are_drawn_newest_first_wins() {
        let now = Instant::now();
        let mut screen = Screen::new("general", "Ana", madrid());
        screen.apply(Incoming::Admitted, now);
        screen.apply(
            message(1, "p-luis", "Luis", "2026-12-03T09:00:00Z", "hola, mundp"),
            now,
        );
        screen.apply(
            message(2, "p-luis", "Luis", "2026-12-03T09:01:00Z", "adiós"),
            now,
        );
        let change = |id, revision, text: Option<&str>| {
            Incoming::Changed(protocol::MessageChange {
                id,
                room: "general".into(),
                revision,
                text: text.map(Into::into),
                edited_at: text.map(|_| "2026-12-03T09:02:00Z".into()),
                deleted: text.is_none(),
            })
        };
        screen.apply(change(1, 4, Some("hola, mundo")), now);
        screen.apply(change(1, 3, Some("más antiguo")), now);
        screen.apply(change(2, 5, None), now);
        let rows = rendered(&screen, 60, 12).join("\n");
        assert!(rows.contains("hola, mundo (editado)"), "{rows}");
        assert!(rows.contains("mensaje eliminado"), "{rows}");
        assert!(
            !rows.contains("adiós") && !rows.contains("más antiguo"),
            "{rows}"
        );
    }
}
