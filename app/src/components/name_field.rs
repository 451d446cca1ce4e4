use leptos::{ev::SubmitEvent, html::Input, prelude::*};

use protocol::MAX_NAME_CHARS;

/// The reader's nickname: shown with their messages, kept in this browser.
#[component]
pub fn NameField(#[prop(into)] name: Signal<String>, on_rename: Callback<String>) -> impl IntoView {
    let input = NodeRef::<Input>::new();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Some(field) = input.get_untracked() {
            on_rename.run(field.value());
        }
    };
    view! {
        <form class="name" on:submit=submit>
            <label class="name__label" for="nombre">"Tu nombre"</label>
            <input
                id="nombre"
                class="name__input"
                node_ref=input
                prop:value=move || name.get()
                aria-label="Tu nombre"
                maxlength=MAX_NAME_CHARS
                autocomplete="nickname"
                on:change=move |ev| on_rename.run(event_target_value(&ev))
            />
        </form>
    }
}
