use leptos::prelude::*;

use super::message_list::name_hue;

/// Who is in the room, each person once: by name, and in a crowded room how many more.
#[component]
pub fn People(
    #[prop(into)] people: Signal<Vec<String>>,
    #[prop(into)] unnamed: Signal<usize>,
) -> impl IntoView {
    let online = move || people.with(Vec::len) + unnamed.get();
    view! {
        <section class="people" aria-label="Personas en la sala">
            <h2 class="sidebar__heading">
                "En línea " <span id="en-linea" class="people__count">{online}</span>
            </h2>
            <ul id="personas" class="people__list">
                // Two people may share a name: each keeps a row.
                <For
                    each=move || people.get().into_iter().enumerate()
                    key=|(at, name)| (*at, name.clone())
                    children=|(_, name)| {
                        view! {
                            <li class="people__item">
                                <span
                                    class="people__dot"
                                    style=format!("background: hsl({} 65% 42%)", name_hue(&name))
                                ></span>
                                {name}
                            </li>
                        }
                    }
                />
                <Show when=move || { unnamed.get() > 0 }>
                    <li class="people__item people__more">{move || format!("y {} más", unnamed.get())}</li>
                </Show>
            </ul>
        </section>
    }
}

/// "Ana está escribiendo…": who is typing now, if anybody.
#[component]
pub fn TypingIndicator(#[prop(into)] typing: Signal<Vec<String>>) -> impl IntoView {
    let text = move || {
        typing.with(|typing| match typing.as_slice() {
            [] => String::new(),
            [one] => format!("{one} está escribiendo…"),
            [one, two] => format!("{one} y {two} están escribiendo…"),
            [one, rest @ ..] => format!("{one} y {} más están escribiendo…", rest.len()),
        })
    };
    view! { <p id="escribiendo" class="typing" aria-live="polite">{text}</p> }
}
