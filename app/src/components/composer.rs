use leptos::{ev::SubmitEvent, html::Input, prelude::*};

use crate::server_fns::PostMessage;
use protocol::{is_blank, STOP_TYPING, TYPING, TYPING_IDLE};

/// `#env-msjs`: a real form, so Enter sends as well as the button. With JavaScript it sends over
/// the socket; without, the browser posts it to the `post_message` server function.
#[component]
pub fn Composer(
    room: String,
    on_send: Callback<String>,
    /// Emits a typing signal (`TYPING` / `STOP_TYPING`).
    on_signal: Callback<&'static str>,
    #[prop(into)] notice: Signal<Option<String>>,
) -> impl IntoView {
    let input = NodeRef::<Input>::new();
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
        if !typing.get_value() {
            typing.set_value(true);
            on_signal.run(TYPING);
        }
        if let Some(timer) = idle.get_value() {
            timer.clear();
        }
        idle.set_value(set_timeout_with_handle(stop_typing, TYPING_IDLE).ok());
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(field) = input.get_untracked() else {
            return;
        };
        let text = field.value();
        if !is_blank(&text) {
            stop_typing();
            on_send.run(text);
            field.set_value("");
        }
        let _ = field.focus();
    };

    view! {
        <form
            id="env-msjs"
            class="composer"
            method="post"
            action=post_url
            on:submit=submit
        >
            <input type="hidden" name="room" value=room />
            <input
                id="nuevo-msj"
                class="composer__input"
                node_ref=input
                name="text"
                placeholder="Nuevo mensaje"
                aria-label="Nuevo mensaje"
                autocomplete="off"
                enterkeyhint="send"
                on:input=keystroke
                on:blur=move |_| stop_typing()
            />
            <button id="btn-msj" class="composer__send" type="submit">
                "Enviar"
            </button>
        </form>
        <p id="aviso" class="notice" role="alert">
            {move || notice.get()}
        </p>
    }
}
