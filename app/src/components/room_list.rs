use leptos::{ev::SubmitEvent, html::Input, prelude::*};

use protocol::{check_room, room_path, RoomSummary};

/// The rooms with someone in them, and a way to open any other.
#[component]
pub fn RoomList(#[prop(into)] rooms: Signal<Vec<RoomSummary>>, current: String) -> impl IntoView {
    let input = NodeRef::<Input>::new();
    let invalid = RwSignal::new(false);
    let go = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(field) = input.get_untracked() else {
            return;
        };
        match check_room(field.value().trim()) {
            Ok(room) => {
                if let Some(window) = web_sys::window() {
                    window.location().set_href(&room_path(&room)).ok();
                }
            }
            Err(_) => invalid.set(true),
        }
    };
    view! {
        <nav class="rooms" aria-label="Salas">
            <h2 class="sidebar__heading">"Salas"</h2>
            <ul id="salas" class="rooms__list">
                <For each=move || rooms.get() key=|room| room.name.clone() let:room>
                    <li>
                        <a
                            class="rooms__link"
                            href=room_path(&room.name)
                            aria-current=(room.name == current).then_some("page")
                        >
                            <span>"#" {room.name.clone()}</span>
                            <span class="rooms__online">{room.online}</span>
                        </a>
                    </li>
                </For>
            </ul>
            <form class="rooms__new" on:submit=go>
                <input
                    class="rooms__input"
                    node_ref=input
                    placeholder="otra-sala"
                    aria-label="Ir a la sala"
                    aria-invalid=move || invalid.get().then_some("true")
                    on:input=move |_| invalid.set(false)
                />
                <button class="rooms__go" type="submit">"Ir"</button>
            </form>
            <p class="rooms__hint" hidden=move || !invalid.get()>
                "Minúsculas, cifras, «-» y «_»."
            </p>
        </nav>
    }
}
