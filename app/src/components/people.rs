use leptos::prelude::*;

use super::message_list::{person_hue, person_tag};
use protocol::Member;

/// Who is in the room, each person once: by name, and in a crowded room how many more.
#[component]
pub fn People(
    #[prop(into)] people: Signal<Vec<Member>>,
    #[prop(into)] unnamed: Signal<usize>,
) -> impl IntoView {
    let online = move || people.with(Vec::len) + unnamed.get();
    let shares_name = move |member: &Member| {
        people.with(|people| {
            people
                .iter()
                .any(|other| other.name == member.name && other.person != member.person)
        })
    };
    view! {
        <section class="people" aria-label="Personas en la sala">
            <h2 class="sidebar__heading">
                "En línea " <span id="en-linea" class="people__count">{online}</span>
            </h2>
            <ul id="personas" class="people__list">
                // Two people may share a name: each keeps a row, and shows the start of its id.
                <For
                    each=move || people.get()
                    key=|member| member.person.clone()
                    children=move |member| {
                        let tag = {
                            let member = member.clone();
                            move || {
                                shares_name(&member).then(|| {
                                    view! { <span class="people__tag">{person_tag(&member.person)}</span> }
                                })
                            }
                        };
                        view! {
                            <li class="people__item">
                                <span
                                    class="people__dot"
                                    style=format!("--hue: {}", person_hue(&member.person))
                                ></span>
                                {member.name}
                                {tag}
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
pub fn TypingIndicator(#[prop(into)] typing: Signal<Vec<Member>>) -> impl IntoView {
    let text = move || {
        typing.with(|typing| match typing.as_slice() {
            [] => String::new(),
            [one] => format!("{} está escribiendo…", one.name),
            [one, two] => format!("{} y {} están escribiendo…", one.name, two.name),
            [one, rest @ ..] => format!("{} y {} más están escribiendo…", one.name, rest.len()),
        })
    };
    view! { <p id="escribiendo" class="typing" aria-live="polite">{text}</p> }
}
