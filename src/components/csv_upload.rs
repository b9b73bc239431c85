//! Choosing a CSV file and sending its text to a server function, and showing every problem
//! the server found in it.

use leptos::{html, prelude::*};

use crate::csv_file::RowError;

/// A file field and a submit button. The file is read in the browser (at most 1 MiB, UTF-8
/// checked on the bytes) and handed to `on_file` as `(file name, text)`.
#[component]
pub fn CsvFileForm(
    label: &'static str,
    submit: &'static str,
    #[prop(into)] pending: Signal<bool>,
    on_file: Callback<(String, String)>,
) -> impl IntoView {
    let file_input = NodeRef::<html::Input>::new();
    let read_error = RwSignal::new(None::<String>);
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        read_error.set(None);
        #[cfg(feature = "hydrate")]
        {
            let Some(file) = file_input
                .get()
                .and_then(|input| input.files())
                .and_then(|files| files.get(0))
            else {
                read_error.set(Some("Choose a CSV file first.".to_string()));
                return;
            };
            // Same limit as the server's, checked before sending anything.
            if file.size() > 1024.0 * 1024.0 {
                read_error.set(Some("The file is larger than 1 MiB.".to_string()));
                return;
            }
            let file_name = file.name();
            leptos::task::spawn_local(async move {
                // Bytes, not text: a file that is not UTF-8 is refused, not silently garbled.
                match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                    Ok(buffer) => match String::from_utf8(js_sys::Uint8Array::new(&buffer).to_vec())
                    {
                        Ok(csv) => on_file.run((file_name, csv)),
                        Err(_) => read_error.set(Some(
                            "The file is not UTF-8 text: save it as \"CSV UTF-8\" and try again."
                                .to_string(),
                        )),
                    },
                    Err(_) => read_error.set(Some("The file could not be read.".to_string())),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (file_input, on_file);
    };
    view! {
        <form class="import-form" on:submit=on_submit>
            <label>
                {label} " "
                <input type="file" name="file" accept=".csv,text/csv" node_ref=file_input />
            </label>
            <button type="submit" class="button" disabled=move || pending.get()>
                {move || if pending.get() { "Importing…" } else { submit }}
            </button>
        </form>
        {move || read_error.get().map(|e| view! { <div class="notice notice-error" role="alert"><p>{e}</p></div> })}
    }
}

/// Every problem found in a refused file.
#[component]
pub fn RowErrors(errors: Vec<RowError>, more: usize) -> impl IntoView {
    view! {
        <div class="notice notice-error import-errors" role="alert">
            <p><strong>{format!("Nothing was imported: the file has {} problems.", errors.len() + more)}</strong></p>
            <ul>
                {errors.into_iter().map(|e| {
                    let at = match (e.line, e.column) {
                        (0, _) => "File".to_string(),
                        (line, Some(column)) => format!("Line {line}, {column}"),
                        (line, None) => format!("Line {line}"),
                    };
                    view! { <li><strong>{at}</strong>": "{e.message}</li> }
                }).collect_view()}
            </ul>
            {(more > 0).then(|| view! { <p>{format!("… and {more} more.")}</p> })}
        </div>
    }
}
