use leptos::{prelude::*, task::spawn_local};

use crate::notifications::{self, Permission};

/// `#avisos`: asks for notifications («Activar avisos»), then switches them off and on for this
/// room. Nothing while the server renders: only the browser knows what it allows.
#[component]
pub fn NotificationSwitch(room: String) -> impl IntoView {
    let permission = RwSignal::new(None::<Permission>);
    let room_off = RwSignal::new(false);
    let room_for_state = room.clone();
    Effect::new(move || {
        permission.set(Some(notifications::permission()));
        room_off.set(notifications::room_off(&room_for_state));
    });
    let ask = move |_| {
        spawn_local(async move { permission.set(Some(notifications::ask().await)) });
    };
    let label = format!("Avisos de #{room}");
    let toggle = move |_| {
        let off = !room_off.get_untracked();
        notifications::set_room_off(&room, off);
        room_off.set(off);
    };
    move || {
        match permission.get() {
        None | Some(Permission::Unsupported) => ().into_any(),
        Some(Permission::NotAsked) => view! {
            <button
                id="avisos"
                class="notify"
                type="button"
                title="Te avisamos de los mensajes nuevos mientras la pestaña está en segundo plano"
                on:click=ask
            >
                "Activar avisos"
            </button>
        }
        .into_any(),
        Some(Permission::Granted) => view! {
            <button
                id="avisos"
                class="notify"
                type="button"
                aria-label=label.clone()
                aria-pressed=move || (!room_off.get()).to_string()
                title="Las menciones a ti avisan siempre"
                on:click=toggle.clone()
            >
                {move || if room_off.get() { "Avisos: no" } else { "Avisos: sí" }}
            </button>
        }
        .into_any(),
        Some(Permission::Denied) => view! {
            <span
                id="avisos"
                class="notify notify--blocked"
                title="El navegador tiene bloqueados los avisos de este sitio: se cambia en su configuración"
            >
                "Avisos bloqueados"
            </span>
        }
        .into_any(),
    }
    }
}
