//! Moving keyboard focus where a person's attention just went: into a confirmation that
//! opened, back to the button that opened it.

/// Focuses the element with `id` on the next frame, once what was just rendered is in the
/// document. Nothing happens on the server, or if no such element exists by then.
pub fn focus_next_frame(id: &'static str) {
    #[cfg(feature = "hydrate")]
    leptos::prelude::request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(element) = leptos::prelude::document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
