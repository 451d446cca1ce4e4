use leptos::{html::Ul, prelude::*};

/// How close to the bottom (in pixels) the reader must be for the list to keep following new
/// messages. Further up, they are reading older ones and the list must not jump.
const FOLLOW_SLACK_PX: i32 = 48;

/// One entry of the list, keyed by its position (the list only grows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub key: usize,
    pub text: String,
}

impl Line {
    pub fn new(key: usize, text: String) -> Self {
        Self { key, text }
    }
}

/// `#listado-msjs`: the messages, always rendered as text, newest kept in view.
#[component]
pub fn MessageList(#[prop(into)] lines: Signal<Vec<Line>>) -> impl IntoView {
    let list = NodeRef::<Ul>::new();
    let following = StoredValue::new(true);

    Effect::new(move || {
        lines.track();
        if following.get_value() {
            request_animation_frame(move || {
                if let Some(list) = list.get_untracked() {
                    list.set_scroll_top(list.scroll_height());
                }
            });
        }
    });

    let on_scroll = move |_| {
        if let Some(list) = list.get_untracked() {
            let gap = list.scroll_height() - list.scroll_top() - list.client_height();
            following.set_value(gap <= FOLLOW_SLACK_PX);
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
            <For each=move || lines.get() key=|line| line.key let:line>
                <li class="message">{line.text}</li>
            </For>
        </ul>
    }
}
