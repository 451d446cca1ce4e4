use leptos::prelude::*;

use crate::connection::ConnectionState;

/// `#estado`: whether messages can flow right now.
#[component]
pub fn ConnectionStatus(#[prop(into)] state: Signal<ConnectionState>) -> impl IntoView {
    view! {
        <p id="estado" class="status" role="status" data-state=move || state.get().key()>
            <span class="status__dot" aria-hidden="true"></span>
            {move || state.get().label()}
        </p>
    }
}
