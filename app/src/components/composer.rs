use leptos::{
    ev::{KeyboardEvent, SubmitEvent},
    html::Textarea,
    prelude::*,
};

use crate::server_fns::PostMessage;
use protocol::{is_blank, DEFAULT_MAX_MESSAGE_CHARS, STOP_TYPING, TYPING, TYPING_IDLE};

/// The counter of characters shows from this length on: near the limit, not while chatting.
const COUNTER_FROM: usize = DEFAULT_MAX_MESSAGE_CHARS * 9 / 10;

/// What the counter says at `length` characters, if anything.
fn counter_text(length: usize) -> Option<String> {
    let max = DEFAULT_MAX_MESSAGE_CHARS;
    match length {
        length if length > max => Some(format!(
            "Demasiado largo para enviarlo: {length}/{max} caracteres (sobran {}).",
            length - max
        )),
        length if length >= COUNTER_FROM => Some(format!("{length}/{max}")),
        _ => None,
    }
}

/// `#env-msjs`: a real form. With JavaScript, Enter sends (Shift+Enter starts a new line) over
/// the socket; without, the button posts it to the
/// [`post_message`](crate::server_fns::post_message) server function.
#[component]
pub fn Composer(
    room: String,
    on_send: Callback<String>,
    /// Emits a typing signal ([`TYPING`] / [`STOP_TYPING`]).
    on_signal: Callback<&'static str>,
    #[prop(into)] notice: Signal<Option<String>>,
) -> impl IntoView {
    let input = NodeRef::<Textarea>::new();
    // Characters typed, as the server counts them (Unicode scalar values).
    let length = RwSignal::new(0usize);
    let too_long = move || length.get() > DEFAULT_MAX_MESSAGE_CHARS;
    let post_url = <PostMessage as leptos::server_fn::ServerFn>::PATH;
    let typing = StoredValue::new(false);
    let idle = StoredValue::new(None::<TimeoutHandle>);

    let stop_typing = move || {
        if let Some(timer) = idle.get_value() {
            timer.clear();
        }
        if typing.get_value() {
            typing.set_value(false);
            on_signal.run(STOP_TYPING);
        }
    };
    let keystroke = move |_| {
        if let Some(field) = input.get_untracked() {
            let typed = field.value().chars().count();
            if typed != length.get_untracked() {
                length.set(typed);
            }
        }
        if !typing.get_value() {
            typing.set_value(true);
            on_signal.run(TYPING);
        }
        if let Some(timer) = idle.get_value() {
            timer.clear();
        }
        idle.set_value(set_timeout_with_handle(stop_typing, TYPING_IDLE).ok());
    };

    let send_typed = move || {
        let Some(field) = input.get_untracked() else {
            return;
        };
        let text = field.value();
        if !is_blank(&text) && !too_long() {
            stop_typing();
            on_send.run(text.trim_end_matches(['\n', '\r']).to_owned());
            field.set_value("");
            length.set(0);
        }
        let _ = field.focus();
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send_typed();
    };
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send_typed();
        }
    };
    let counter = move || counter_text(length.get());

    view! {
        <form
            id="env-msjs"
            class="composer"
            method="post"
            action=post_url
            on:submit=submit
        >
            <input type="hidden" name="room" value=room />
            <textarea
                id="nuevo-msj"
                class="composer__input"
                node_ref=input
                name="text"
                rows="1"
                placeholder="Nuevo mensaje"
                aria-label="Nuevo mensaje"
                aria-describedby="contador"
                autocomplete="off"
                enterkeyhint="send"
                on:input=keystroke
                on:keydown=on_key
                on:blur=move |_| stop_typing()
            ></textarea>
            <button
                id="btn-msj"
                class="composer__send"
                type="submit"
                disabled=too_long
                aria-describedby="contador"
            >
                "Enviar"
            </button>
        </form>
        <p
            id="contador"
            class=move || if too_long() { "counter counter--over" } else { "counter" }
            hidden=move || counter().is_none()
        >
            {counter}
        </p>
        <p id="aviso" class="notice" role="alert">
            {move || notice.get()}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_shows_near_the_limit_and_says_why_past_it() {
        assert_eq!(counter_text(10), None);
        assert_eq!(counter_text(COUNTER_FROM).as_deref(), Some("1800/2000"));
        assert_eq!(
            counter_text(DEFAULT_MAX_MESSAGE_CHARS).as_deref(),
            Some("2000/2000")
        );
        assert_eq!(
            counter_text(DEFAULT_MAX_MESSAGE_CHARS + 31).as_deref(),
            Some("Demasiado largo para enviarlo: 2031/2000 caracteres (sobran 31).")
        );
    }
}
