//! The smallest hydrated Leptos pages, to measure the floor under the chat's WASM: a counter
//! (Leptos's runtime and hydration alone) and, with the feature `seed`, the seed's page (a list
//! of messages, a form that sends one, each new one appended, through the official client).
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

#[cfg(not(feature = "seed"))]
#[component]
fn Page() -> impl IntoView {
    let count = RwSignal::new(0);
    view! { <button on:click=move |_| *count.write() += 1>{count}</button> }
}

#[cfg(feature = "seed")]
#[wasm_bindgen]
extern "C" {
    type Socket;
    #[wasm_bindgen(js_name = io)]
    fn io() -> Socket;
    #[wasm_bindgen(method)]
    fn on(this: &Socket, event: &str, f: &js_sys::Function);
    #[wasm_bindgen(method)]
    fn emit(this: &Socket, event: &str, text: &str);
}

/// What the seed's page does: a list of messages, a form that sends one, each new one appended.
#[cfg(feature = "seed")]
#[component]
fn Page() -> impl IntoView {
    let messages = RwSignal::new(Vec::<(usize, String)>::new());
    let text = RwSignal::new(String::new());
    let socket = std::rc::Rc::new(io());
    let on_message = Closure::<dyn Fn(JsValue)>::new(move |value: JsValue| {
        if let Ok(m) = serde_wasm_bindgen::from_value::<String>(value) {
            messages.update(|list| {
                let id = list.len();
                list.push((id, m));
            });
        }
    });
    socket.on("nuevo mensaje", on_message.as_ref().unchecked_ref());
    on_message.forget();
    view! {
        <ul>
            <For each=move || messages.get() key=|m| m.0 let:m>
                <li>{m.1}</li>
            </For>
        </ul>
        <form on:submit=move |ev| {
            ev.prevent_default();
            socket.emit("nuevo mensaje", &text.get_untracked());
            text.set(String::new());
        }>
            <input bind:value=text />
            <button>"Enviar"</button>
        </form>
    }
}

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(Page);
}
