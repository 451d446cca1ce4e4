use leptos::{html::Ul, prelude::*};

use crate::timeline::{Delivery, Line, ShownMessage, Timeline};

/// How close to the bottom (in pixels) the reader must be for the list to keep following new
/// messages. Further up, they are reading older ones and the list must not jump.
const FOLLOW_SLACK_PX: i32 = 48;

/// `#listado-msjs`: the messages, always rendered as text, newest kept in view.
#[component]
pub fn MessageList(
    #[prop(into)] timeline: Signal<Timeline>,
    /// The reader's public id, once the server has said it.
    #[prop(into)]
    me: Signal<Option<String>>,
    /// Sends one of my failed messages again: (client offset, text).
    on_retry: Callback<(String, String)>,
    /// The reader scrolled to the top: time for older messages.
    on_top: Callback<()>,
) -> impl IntoView {
    let list = NodeRef::<Ul>::new();
    // The list's height and first row as last laid out: whether the reader was at the bottom
    // (then follow the newest) or reading higher up (then keep their place, even when older
    // messages are added above) is judged against them.
    let laid_out = StoredValue::new((0, String::new()));

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
            let (height, previous_first) = laid_out.get_value();
            let at_bottom = height - list.scroll_top() - list.client_height() <= FOLLOW_SLACK_PX;
            if at_bottom {
                list.set_scroll_top(list.scroll_height());
            } else if first != previous_first {
                list.set_scroll_top(list.scroll_top() + list.scroll_height() - height);
            }
            laid_out.set_value((list.scroll_height(), first));
        });
    });

    let on_scroll = move |_| {
        if let Some(list) = list.get_untracked() {
            let scrollable = list.scroll_height() > list.client_height();
            if scrollable && list.scroll_top() <= FOLLOW_SLACK_PX {
                on_top.run(());
            }
        }
    };

    view! {
        <ul
            id="listado-msjs"
            class="messages"
            node_ref=list
            role="log"
            aria-live="polite"
            aria-label="Mensajes"
            on:scroll=on_scroll
        >
            <For
                each=move || timeline.with(|timeline| timeline.lines.clone())
                key=|line| line.key().to_owned()
                let:line
            >
                {match line {
                    Line::Message(message) => view! { <Message message timeline me on_retry /> }.into_any(),
                    Line::Notice { text, .. } => view! { <li class="notice-line">{text}</li> }.into_any(),
                }}
            </For>
        </ul>
    }
}

#[component]
fn Message(
    message: ShownMessage,
    timeline: Signal<Timeline>,
    me: Signal<Option<String>>,
    on_retry: Callback<(String, String)>,
) -> impl IntoView {
    let mine = {
        let message = message.clone();
        move || me.with(|me| message.is_mine(me.as_deref()))
    };
    let ShownMessage {
        user,
        person,
        text,
        at,
        delivery,
        client_offset,
        ..
    } = message;
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
    let delivery_for_class = delivery.clone();
    let class = move || {
        let state = match delivery_for_class.get() {
            Delivery::Pending => " message--pending",
            Delivery::Sent => "",
            Delivery::Failed => " message--failed",
        };
        format!(
            "message{}{state}",
            if mine() { " message--mine" } else { "" }
        )
    };
    let retry_text = text.clone();
    let status = move || match delivery.get() {
        Delivery::Pending => view! { <span class="message__state">"enviando…"</span> }.into_any(),
        Delivery::Sent => ().into_any(),
        Delivery::Failed => {
            let (offset, text) = (
                client_offset.clone().unwrap_or_default(),
                retry_text.clone(),
            );
            view! {
                <span class="message__state">"no enviado"</span>
                <button
                    class="message__retry"
                    type="button"
                    on:click=move |_| on_retry.run((offset.clone(), text.clone()))
                >
                    "Reintentar"
                </button>
            }
            .into_any()
        }
    };
    view! {
        <li class=class>
            <span class="message__meta">
                <span class="message__user" style=format!("color: hsl({hue} 65% 42%)")>{user}</span>
                {tag}
                <time class="message__time">{move || at.get().map(|at| clock(&at))}</time>
            </span>
            <span class="message__text">{text}</span>
            {status}
        </li>
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

/// "HH:MM" of an RFC 3339 time (UTC, as the server stamps it).
fn clock(at: &str) -> String {
    at.get(11..16).unwrap_or_default().to_owned()
}
