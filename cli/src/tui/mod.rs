//! The full-screen client: [`Screen`] is what it shows, `draw` how, and [`run`] the loop that
//! feeds it keys, the server's events and the answers to what it asked.

mod draw;
mod screen;

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use protocol::{
    ChatMessage, Credentials, RoomSummary, DEFAULT_NAME, TYPING_IDLE, TYPING_RELAYED_EVERY,
};
use ratatui::DefaultTerminal;
use tokio::{sync::mpsc, task::JoinHandle};

pub use screen::{Command, Screen, Status};

use crate::{
    args::Settings,
    clock::Zone,
    history::HistoryReader,
    link::{Inbox, Incoming, Link},
    Failure,
};

/// How long after a failed connection the next attempt starts.
const REDIAL_AFTER: Duration = Duration::from_secs(2);
/// After a refusal ([`HandshakeError::CoolingDown`](protocol::HandshakeError::CoolingDown)), the
/// server's default cool-down is waited out.
const REDIAL_AFTER_REFUSAL: Duration = protocol::DEFAULT_FLOOD_COOLDOWN;

/// Runs the full-screen client until `/salir` or Ctrl+C.
pub async fn run(settings: &Settings) -> Result<(), Failure> {
    if !std::io::stdout().is_terminal() {
        return Err(Failure::NoTerminal);
    }
    let mut terminal = ratatui::try_init()?;
    let outcome = Session::new(settings.clone()).run(&mut terminal).await;
    ratatui::restore();
    outcome
}

/// What a task the loop started came back with.
enum Answer {
    Joined(Result<(Link, Credentials, Inbox), Failure>),
    Sent(String, Result<i64, Failure>),
    Rooms(Result<Vec<RoomSummary>, Failure>),
    /// Messages read from the history pages of `room`.
    History(String, Result<Vec<ChatMessage>, Failure>),
}

struct Session {
    settings: Settings,
    screen: Screen,
    link: Option<Link>,
    inbox: Option<Inbox>,
    /// The connection being made, if one is.
    joining: Option<JoinHandle<()>>,
    answers: (
        mpsc::UnboundedSender<Answer>,
        mpsc::UnboundedReceiver<Answer>,
    ),
    history: HistoryReader,
    /// When `typing` was last sent, and when a key last changed the message.
    typing_sent: Option<Instant>,
    last_key: Instant,
}

impl Session {
    fn new(settings: Settings) -> Self {
        let name = settings
            .name
            .clone()
            .or(settings.profile.load().name)
            .unwrap_or_else(|| DEFAULT_NAME.to_owned());
        Self {
            screen: Screen::new(&settings.room, &name, Zone::Local),
            history: HistoryReader::new(&settings.url),
            settings,
            link: None,
            inbox: None,
            joining: None,
            answers: mpsc::unbounded_channel(),
            typing_sent: None,
            last_key: Instant::now(),
        }
    }

    async fn run(mut self, terminal: &mut DefaultTerminal) -> Result<(), Failure> {
        let mut keys = EventStream::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        self.join(Duration::ZERO);
        loop {
            let today = self.screen.zone.today();
            terminal.draw(|frame| self.screen.draw(frame, today))?;
            tokio::select! {
                key = keys.next() => match key {
                    Some(Ok(Event::Key(key))) => {
                        if let Some(command) = self.screen.key(key) {
                            if !self.obey(command) {
                                break;
                            }
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return Err(error.into()),
                    None => break,
                },
                incoming = next_incoming(&mut self.inbox) => match incoming {
                    Some(incoming) => self.receive(incoming),
                    // The link is gone for good: make another.
                    None => {
                        self.inbox = None;
                        self.link = None;
                        self.screen.set_status(Status::Offline);
                        self.join(REDIAL_AFTER);
                    }
                },
                Some(answer) = self.answers.1.recv() => self.answered(answer),
                _ = tick.tick() => self.idle(),
            }
        }
        if let Some(link) = self.link.take() {
            link.close().await;
        }
        Ok(())
    }

    /// Connects to the room shown, after `delay`, dropping any other connection.
    fn join(&mut self, delay: Duration) {
        if let Some(link) = self.link.take() {
            tokio::spawn(async move { link.close().await });
        }
        self.inbox = None;
        if let Some(joining) = self.joining.take() {
            joining.abort();
        }
        self.screen.set_status(Status::Connecting);
        let (settings, answers) = (self.settings.clone(), self.answers.0.clone());
        self.joining = Some(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let joined = Link::join(&settings, &settings.room, true).await;
            answers.send(Answer::Joined(joined)).ok();
        }));
    }

    /// Carries out a command; `false` to quit.
    fn obey(&mut self, command: Command) -> bool {
        match command {
            Command::Quit => return false,
            Command::Send {
                text,
                client_offset,
            } => {
                self.stop_typing();
                self.send(text, client_offset);
            }
            Command::SwitchRoom(room) => {
                if self.screen.outbox().pending().next().is_some() {
                    self.screen.say(
                        "Espera a que se envíen tus mensajes pendientes para cambiar de sala.",
                    );
                } else {
                    self.stop_typing();
                    self.settings.room = room.clone();
                    self.screen.enter_room(&room);
                    self.join(Duration::ZERO);
                }
            }
            Command::Rename(name) => {
                self.settings.name = Some(name.clone());
                self.screen.rename(&name);
                self.screen.say(format!("Ahora te llamas {name}."));
                // The server takes the name from the handshake: connect again with it (the
                // same person, by the token; pending messages are resent).
                self.join(Duration::ZERO);
            }
            Command::ListRooms => match self.link.clone() {
                Some(link) => {
                    let answers = self.answers.0.clone();
                    tokio::spawn(async move {
                        answers.send(Answer::Rooms(link.rooms().await)).ok();
                    });
                }
                None => self
                    .screen
                    .say("Sin conexión: la lista de salas, cuando vuelva."),
            },
            Command::Typing => {
                self.last_key = Instant::now();
                let due = self
                    .typing_sent
                    .is_none_or(|sent| sent.elapsed() >= TYPING_RELAYED_EVERY);
                if let (true, Some(link)) = (due, self.link.clone()) {
                    self.typing_sent = Some(Instant::now());
                    tokio::spawn(async move { link.typing(true).await });
                }
            }
        }
        true
    }

    fn send(&self, text: String, client_offset: String) {
        // Without a connection it stays pending, and goes when one is made.
        if let Some(link) = self.link.clone() {
            let answers = self.answers.0.clone();
            tokio::spawn(async move {
                let answer = link.send(&text, &client_offset).await;
                answers.send(Answer::Sent(client_offset, answer)).ok();
            });
        }
    }

    /// Sends again every message without an ack (the same client offsets: stored once).
    fn resend_pending(&self) {
        for item in self.screen.outbox().pending() {
            self.send(item.text.clone(), item.client_offset.clone());
        }
    }

    fn stop_typing(&mut self) {
        if self.typing_sent.take().is_some() {
            if let Some(link) = self.link.clone() {
                tokio::spawn(async move { link.typing(false).await });
            }
        }
    }

    /// Reads the history pages after the newest message shown (the newest page, at first).
    fn catch_up(&self) {
        let (history, answers) = (self.history.clone(), self.answers.0.clone());
        let (room, last) = (self.screen.room().to_owned(), self.screen.last_id());
        tokio::spawn(async move {
            let read = match last {
                0 => history.page(&room, None).await,
                last => history.after(&room, last).await,
            };
            answers.send(Answer::History(room, read)).ok();
        });
    }

    fn receive(&mut self, incoming: Incoming) {
        match &incoming {
            // Back after a gap: what was said meanwhile, and what we had not got through.
            Incoming::Admitted => {
                self.catch_up();
                self.resend_pending();
            }
            Incoming::Identity(credentials) => {
                let url = self.settings.url.clone();
                let remembered = self.settings.profile.update(|profile| {
                    profile.identities.insert(url, credentials.clone());
                });
                if let Err(error) = remembered {
                    self.screen
                        .say(format!("No se pudo guardar tu identidad: {error}"));
                }
            }
            _ => {}
        }
        self.screen.apply(incoming, Instant::now());
    }

    fn answered(&mut self, answer: Answer) {
        match answer {
            Answer::Joined(Ok((link, credentials, inbox))) => {
                self.joining = None;
                self.link = Some(link);
                self.inbox = Some(inbox);
                self.screen.set_status(Status::Online);
                self.screen
                    .apply(Incoming::Identity(credentials), Instant::now());
                self.catch_up();
                self.resend_pending();
            }
            Answer::Joined(Err(failure)) => {
                self.joining = None;
                let delay = match &failure {
                    Failure::Refused(reason) => {
                        self.screen.set_status(Status::Refused(reason.clone()));
                        REDIAL_AFTER_REFUSAL
                    }
                    _ => {
                        self.screen.set_status(Status::Offline);
                        REDIAL_AFTER
                    }
                };
                self.join(delay);
                // `join` says «Conectando…»; until the attempt starts, the reason stays.
                if let Failure::Refused(reason) = failure {
                    self.screen.set_status(Status::Refused(reason));
                } else {
                    self.screen.set_status(Status::Offline);
                }
            }
            Answer::Sent(client_offset, answer) => self.screen.answered(&client_offset, &answer),
            Answer::Rooms(rooms) => self.screen.rooms_listed(rooms),
            Answer::History(room, read) => match read {
                Ok(messages) if room == self.screen.room() => self
                    .screen
                    .apply(Incoming::History(messages), Instant::now()),
                Ok(_) => {}
                Err(failure) => self.screen.say(failure.to_string()),
            },
        }
    }

    /// Once a second: typing notices expire, and ours stops when the keys did.
    fn idle(&mut self) {
        self.screen.tick(Instant::now());
        if self.last_key.elapsed() >= TYPING_IDLE {
            self.stop_typing();
        }
    }
}

async fn next_incoming(inbox: &mut Option<Inbox>) -> Option<Incoming> {
    match inbox {
        Some(inbox) => inbox.recv().await,
        None => std::future::pending().await,
    }
}
