use leptos::{ev::SubmitEvent, html::Input, prelude::*};

use crate::protocol::is_blank;

/// `#env-msjs`: a real form, so Enter sends as well as the button.
#[component]
pub fn Composer(
    on_send: Callback<String>,
    #[prop(into)] notice: Signal<Option<String>>,
) -> impl IntoView {
    let input = NodeRef::<Input>::new();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(field) = input.get_untracked() else {
            return;
        };
        let text = field.value();
        if !is_blank(&text) {
            on_send.run(text);
            field.set_value("");
        }
        let _ = field.focus();
    };

    view! {
        <form id="env-msjs" class="composer" on:submit=submit>
            <input
                id="nuevo-msj"
                class="composer__input"
                node_ref=input
                placeholder="Nuevo mensaje"
                aria-label="Nuevo mensaje"
                autocomplete="off"
                enterkeyhint="send"
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
