use std::collections::HashMap;

use leptos::{ev, html::Ul, prelude::*};

use crate::clock::{self, Today};
use crate::rich_text::{segments, Segment};
use crate::timeline::{Delivery, Line, RowLayout, ShownMessage, Timeline};

/// How close to the bottom (in pixels) the reader must be for the list to keep following new
/// messages. Further up, they are reading older ones and the list must not jump.
const FOLLOW_SLACK_PX: i32 = 48;

/// One of my messages that the server did not store, to send again under its client offset (so
/// that it is stored once, however many times it arrives).
#[derive(Debug, Clone)]
pub struct FailedMessage {
    pub client_offset: String,
    pub text: String,
}

/// What the page's title says, with how many messages the reader has not seen yet.
pub fn page_title(room: &str, unseen: usize) -> String {
    match unseen {
        0 => format!("#{room} — Sala de chat"),
        unseen => format!("({unseen}) #{room} — Sala de chat"),
    }
}

/// `#listado-msjs`: the messages, always rendered as text, newest kept in view; and what tells
/// the reader there is something they have not seen: the tab's title («(3) #general — Sala de
/// chat») and, when they have scrolled up, «Nuevos mensajes ↓».
#[component]
pub fn MessageList(
    room: String,
    #[prop(into)] timeline: Signal<Timeline>,
    /// The reader's public id, once the server has said it.
    #[prop(into)]
    me: Signal<Option<String>>,
    /// The reader's name, once the page runs: a mention of it is emphasised.
    #[prop(into)]
    my_name: Signal<Option<String>>,
    #[prop(into)] today: Signal<Today>,
    /// Sends one of my failed messages again.
    on_retry: Callback<FailedMessage>,
    /// Edits one of my messages: (id, new text).
    on_edit: Callback<(i64, String)>,
    /// Deletes one of my messages.
    on_delete: Callback<i64>,
    /// The reader scrolled to the top: time for older messages.
    on_top: Callback<()>,
) -> impl IntoView {
    let list = NodeRef::<Ul>::new();
    // The list as last laid out: whether the reader was at the bottom (then follow the newest)
    // or reading higher up (then keep their place, even when older messages are added above)
    // is judged against it.
    let laid_out = StoredValue::new(LaidOut::default());
    let attention = Attention::new();

    let layout = Memo::new(move |_| {
        timeline.with(|timeline| {
            me.with(|me| timeline.layout(me.as_deref(), today.get(), clock::day_of))
        })
    });

    // In the browser only: what the reader has seen starts with what the page opened with.
    Effect::new(move || {
        attention.start(timeline.with_untracked(Timeline::last_id));
    });
    Effect::new(move || {
        if attention.at_newest.get() && attention.page_visible.get() {
            attention.seen(timeline.with(Timeline::last_id));
        }
    });
    let unseen = Memo::new(move |_| {
        attention.read_up_to.get().map_or(0, |seen| {
            timeline.with(|timeline| me.with(|me| timeline.count_newer(seen, me.as_deref())))
        })
    });
    Effect::new(move || document().set_title(&page_title(&room, unseen.get())));

    // Screen readers hear each new message of someone else, once; never the history or the older
    // pages loaded above (the list itself is not a live region).
    let announcement = RwSignal::new(String::new());
    let announced_up_to = StoredValue::new(None::<i64>);
    Effect::new(move || {
        let newest =
            timeline.with(|timeline| me.with(|me| timeline.newest_from_others(me.as_deref())));
        let Some((id, said)) = newest else {
            return;
        };
        match announced_up_to.get_value() {
            None => announced_up_to.set_value(attention.read_up_to.get_untracked().or(Some(id))),
            Some(up_to) if id > up_to => {
                announced_up_to.set_value(Some(id));
                announcement.set(said);
            }
            Some(_) => {}
        }
    });

    Effect::new(move || {
        let first = timeline.with(|t| {
            t.lines
                .first()
                .map(|l| l.key().to_owned())
                .unwrap_or_default()
        });
        request_animation_frame(move || {
            let Some(list) = list.get_untracked() else {
                return;
            };
            let previous = laid_out.get_value();
            let at_bottom =
                previous.height - list.scroll_top() - list.client_height() <= FOLLOW_SLACK_PX;
            if at_bottom {
                list.set_scroll_top(list.scroll_height());
            } else if first != previous.first_key {
                list.set_scroll_top(list.scroll_top() + list.scroll_height() - previous.height);
            }
            laid_out.set_value(LaidOut {
                height: list.scroll_height(),
                first_key: first,
            });
        });
    });

    let on_scroll = move |_| {
        if let Some(list) = list.get_untracked() {
            let at_newest =
                list.scroll_height() - list.scroll_top() - list.client_height() <= FOLLOW_SLACK_PX;
            if attention.at_newest.get_untracked() != at_newest {
                attention.at_newest.set(at_newest);
            }
            let scrollable = list.scroll_height() > list.client_height();
            if scrollable && list.scroll_top() <= FOLLOW_SLACK_PX {
                on_top.run(());
            }
        }
    };
    let jump_to_newest = move |_| {
        if let Some(list) = list.get_untracked() {
            list.set_scroll_top(list.scroll_height());
        }
    };

    view! {
        <div class="timeline">
            <ul
                id="listado-msjs"
                class="messages"
                node_ref=list
                aria-label="Mensajes"
                on:scroll=on_scroll
            >
                <For
                    each=move || timeline.with(|timeline| timeline.lines.clone())
                    key=|line| line.key().to_owned()
                    let:line
                >
                    {
                        let key = line.key().to_owned();
                        let row = Signal::derive(move || {
                            layout.with(|rows: &HashMap<String, RowLayout>| rows.get(&key).copied().unwrap_or_default())
                        });
                        match line {
                            Line::Message(message) => {
                                view! { <MessageRow message row timeline me my_name today on_retry on_edit on_delete /> }.into_any()
                            }
                            Line::Notice { text, .. } => view! { <li class="notice-line">{text}</li> }.into_any(),
                        }
                    }
                </For>
            </ul>
            <p id="anuncio" class="visually-hidden" aria-live="polite">
                {move || announcement.get()}
            </p>
            <Show when=move || { !attention.at_newest.get() && unseen.get() > 0 }>
                <button id="nuevos" class="jump" type="button" on:click=jump_to_newest>
                    {move || format!("Nuevos mensajes ({}) ↓", unseen.get())}
                </button>
            </Show>
        </div>
    }
}

#[derive(Debug, Clone, Default)]
struct LaidOut {
    height: i32,
    /// The key of the first row: when it changes, older messages were added above.
    first_key: String,
}

/// Whether the reader is looking at the newest messages, and which they have seen.
#[derive(Clone, Copy)]
struct Attention {
    /// Scrolled to the bottom of the list (or it does not scroll).
    at_newest: RwSignal<bool>,
    /// The tab is shown (not in the background, not minimised).
    page_visible: RwSignal<bool>,
    /// The newest message id the reader has had in view; `None` on the server.
    read_up_to: RwSignal<Option<i64>>,
}

impl Attention {
    fn new() -> Self {
        Self {
            at_newest: RwSignal::new(true),
            page_visible: RwSignal::new(true),
            read_up_to: RwSignal::new(None),
        }
    }

    /// Called once in the browser: follows the tab's visibility from now on.
    fn start(self, newest: Option<i64>) {
        self.read_up_to.set(Some(newest.unwrap_or(0)));
        let visible = || !document().hidden();
        self.page_visible.set(visible());
        let page_visible = self.page_visible;
        // Lives as long as the page.
        let _ = window_event_listener(ev::visibilitychange, move |_| page_visible.set(visible()));
    }

    fn seen(self, newest: Option<i64>) {
        if newest > self.read_up_to.get_untracked() {
            self.read_up_to.set(newest);
        }
    }
}

/// One message's row: who and when, the text, and what I can do with it if it is mine.
#[component]
fn MessageRow(
    message: ShownMessage,
    row: Signal<RowLayout>,
    timeline: Signal<Timeline>,
    me: Signal<Option<String>>,
    my_name: Signal<Option<String>>,
    today: Signal<Today>,
    on_retry: Callback<FailedMessage>,
    on_edit: Callback<(i64, String)>,
    on_delete: Callback<i64>,
) -> impl IntoView {
    let mine = {
        let message = message.clone();
        move || me.with(|me| message.is_mine(me.as_deref()))
    };
    let stored_id = {
        let key = message.key.clone();
        Signal::derive(move || timeline.with(|timeline| timeline.id_of(&key)))
    };
    let ShownMessage {
        user,
        person,
        text,
        at,
        delivery,
        client_offset,
        edited_at,
        deleted,
        ..
    } = message;
    let editing = RwSignal::new(false);
    let hue = person_hue(&person);
    // Two people who chose one name: each also shows the start of their public id.
    let tag = {
        let (user, person) = (user.clone(), person.clone());
        move || {
            timeline
                .with(|timeline| timeline.name_is_shared(&user, &person))
                .then(|| view! { <span class="message__tag">{person_tag(&person)}</span> })
        }
    };
    let separator = {
        let at = at.clone();
        move || {
            let (day, today) = row.get().new_day.zip(today.get())?;
            let at = at.get();
            let label = clock::day_label(day, today, || {
                at.as_deref().map(clock::long_day).unwrap_or_default()
            });
            Some(view! { <li class="day-separator"><span>{label}</span></li> })
        }
    };
    let delivery_for_class = delivery.clone();
    let mine_for_actions = mine.clone();
    let class = move || {
        let state = match delivery_for_class.get() {
            Delivery::Pending => " message--pending",
            Delivery::Sent => "",
            Delivery::Failed => " message--failed",
        };
        let mine = if mine() { " message--mine" } else { "" };
        let continued = if row.get().continues {
            " message--continued"
        } else {
            ""
        };
        format!("message{mine}{continued}{state}")
    };
    let retry_text = text.clone();
    let status = move || match delivery.get() {
        Delivery::Pending => view! { <span class="message__state">"enviando…"</span> }.into_any(),
        Delivery::Sent => ().into_any(),
        Delivery::Failed => {
            let failed = FailedMessage {
                client_offset: client_offset.clone().unwrap_or_default(),
                text: retry_text.clone(),
            };
            view! {
                <span class="message__state">"no enviado"</span>
                <button
                    class="message__retry"
                    type="button"
                    on:click=move |_| on_retry.run(failed.clone())
                >
                    "Reintentar"
                </button>
            }
            .into_any()
        }
    };
    // Local times once the page runs; the server's HTML has the instant only (see `clock`).
    let (at_for_time, at_for_title, at_for_clock) = (at.clone(), at.clone(), at);
    let localised = move |at: &ArcRwSignal<Option<String>>, write: fn(&str) -> String| {
        today.get().and(at.get()).map(|at| write(&at))
    };
    let text_for_editor = text.clone();
    let body = move || {
        if deleted {
            return view! { <span class="message__deleted">"mensaje eliminado"</span> }.into_any();
        }
        my_name.with(|name| {
            segments(&text, name.as_deref())
                .into_iter()
                .map(|piece| match piece {
                    Segment::Text(text) => text.to_owned().into_any(),
                    Segment::Link(url) => view! {
                        <a href=url.to_owned() target="_blank" rel="noopener noreferrer nofollow">{url.to_owned()}</a>
                    }
                    .into_any(),
                    Segment::Mention { text, me } => {
                        let class = if me { "mention mention--me" } else { "mention" };
                        view! { <span class=class>{text.to_owned()}</span> }.into_any()
                    }
                })
                .collect_view()
                .into_any()
        })
    };
    let edited = move || {
        let edited_at = edited_at.clone()?;
        let title = move || {
            today
                .get()
                .map(|_| format!("Editado: {}", clock::full(&edited_at)))
        };
        Some(view! { <span class="message__edited" title=title>" (editado)"</span> })
    };
    // Mine, stored, not deleted: mine to change.
    let changeable = move || !deleted && mine_for_actions();
    let actions = move || {
        let id = stored_id.get()?;
        (changeable() && !editing.get()).then(|| {
            view! {
                <span class="message__actions">
                    <button class="message__action" type="button" on:click=move |_| editing.set(true)>
                        "Editar"
                    </button>
                    <button
                        class="message__action"
                        type="button"
                        on:click=move |_| {
                            let sure = window()
                                .confirm_with_message("¿Eliminar este mensaje? No se puede deshacer.")
                                .unwrap_or(false);
                            if sure {
                                on_delete.run(id);
                            }
                        }
                    >
                        "Eliminar"
                    </button>
                </span>
            }
        })
    };
    let editor = move || {
        let id = stored_id.get()?;
        editing.get().then(|| {
            view! {
                <MessageEditor
                    text=text_for_editor.clone()
                    on_save=move |text: String| {
                        editing.set(false);
                        on_edit.run((id, text));
                    }
                    on_cancel=move || editing.set(false)
                />
            }
        })
    };
    view! {
        {separator}
        <li class=class>
            <span class="message__meta">
                <span class="message__user" style=format!("--hue: {hue}")>{user}</span>
                {tag}
                <time
                    class="message__time"
                    datetime=move || at_for_time.get()
                    title=move || localised(&at_for_title, clock::full)
                >
                    {move || match localised(&at_for_clock, clock::time_of_day) {
                        Some(local) => local.into_any(),
                        // Shown only without JavaScript (`public/sin-js.css`): with it, the
                        // local time replaces it at once, and a UTC time never flashes by.
                        None => at_for_clock.get().map(|at| view! {
                            <span class="message__utc">{format!("{} UTC", at.get(11..16).unwrap_or_default())}</span>
                        }).into_any(),
                    }}
                </time>
            </span>
            {move || {
                (!editing.get())
                    .then(|| view! { <span class="message__text">{body.clone()}{edited.clone()}</span> })
            }}
            {editor}
            {status}
            {actions}
        </li>
    }
}

/// Editing one of my messages in place: Enter saves, Shift+Enter adds a line, Escape cancels.
#[component]
fn MessageEditor(
    text: String,
    #[prop(into)] on_save: Callback<String>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let field = NodeRef::<leptos::html::Textarea>::new();
    let original = text.clone();
    let save = move || {
        let Some(field) = field.get_untracked() else {
            return;
        };
        let edited = field.value();
        if edited.trim().is_empty() || edited == original {
            on_cancel.run(());
        } else {
            on_save.run(edited);
        }
    };
    // Opened to be typed in: the cursor goes to the end of the text.
    Effect::new(move || {
        if let Some(field) = field.get() {
            field.focus().ok();
            let end = field.value().encode_utf16().count() as u32;
            field.set_selection_range(end, end).ok();
        }
    });
    let keys = {
        let save = save.clone();
        move |ev: ev::KeyboardEvent| match ev.key().as_str() {
            "Enter" if !ev.shift_key() && !ev.is_composing() => {
                ev.prevent_default();
                save();
            }
            "Escape" => {
                ev.prevent_default();
                on_cancel.run(());
            }
            _ => {}
        }
    };
    view! {
        <span class="message__editor">
            <textarea
                class="message__edit-input"
                node_ref=field
                aria-label="Editar el mensaje"
                rows="2"
                prop:value=text
                on:keydown=keys
            ></textarea>
            <span class="message__edit-buttons">
                <button class="message__action" type="button" on:click=move |_| save()>
                    "Guardar"
                </button>
                <button class="message__action" type="button" on:click=move |_| on_cancel.run(())>
                    "Cancelar"
                </button>
            </span>
        </span>
    }
}

/// A stable hue for a person (their public id, not their name: two people who chose one name
/// still look different), so each keeps their colour everywhere.
pub fn person_hue(person: &str) -> u32 {
    // FNV-1a: tiny, and the same in the server's HTML and the browser's WASM.
    let hash = person.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    hash % 360
}

/// What tells apart two people of one name: the start of their public id.
pub fn person_tag(person: &str) -> String {
    format!("#{}", person.get(..4).unwrap_or(person))
}
