use leptos::prelude::*;

use super::message_list::name_hue;

/// Who is in the room, each person once.
#[component]
pub fn People(#[prop(into)] people: Signal<Vec<String>>) -> impl IntoView {
    view! {
        <section class="people" aria-label="Personas en la sala">
            <h2 class="sidebar__heading">
                "En línea " <span id="en-linea" class="people__count">{move || people.with(Vec::len)}</span>
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
