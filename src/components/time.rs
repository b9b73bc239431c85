//! A stored time shown to the second in the viewer's time zone. The server renders it in UTC
//! (`<time datetime="2026-11-30T10:51:33Z" title="2026-11-30 10:51:33 UTC">2026-11-30 10:51:33
//! UTC</time>`), so hydration finds the same markup; once the page is live the browser
//! rewrites the text to local time (`2026-11-30 05:51:33 EST`) and the title keeps the UTC time.

use leptos::prelude::*;

/// A stored UTC time (`2026-11-30T10:51:33.306414Z`, with or without fractions, `Z` or
/// `+00:00`) as its `datetime` value to the second and its UTC text; `None` for anything else.
pub fn utc_parts(stored: &str) -> Option<(String, String)> {
    let second = stored.get(..19)?;
    let shaped = second.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    let rest = stored.get(19..)?;
    let zone = match rest.strip_prefix('.') {
        Some(fraction) => fraction.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    if !shaped || !matches!(zone, "Z" | "+00:00") {
        return None;
    }
    let (date, time) = second.split_at(10);
    Some((format!("{second}Z"), format!("{date} {} UTC", &time[1..])))
}

/// A stored time as a `<time>` element (see the module); text that is not a stored time is
/// shown as it is.
#[component]
pub fn Timestamp(#[prop(into)] at: String) -> impl IntoView {
    let Some((datetime, utc)) = utc_parts(&at) else {
        return view! { <span>{at}</span> }.into_any();
    };
    let local = RwSignal::new(None::<String>);
    // Effects run only in the browser, after hydration.
    #[cfg(feature = "hydrate")]
    {
        let iso = datetime.clone();
        Effect::new(move |_| local.set(browser::local_text(&iso)));
    }
    let shown = utc.clone();
    view! {
        <time datetime=datetime title=utc>
            {move || local.get().unwrap_or_else(|| shown.clone())}
        </time>
    }
    .into_any()
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::wasm_bindgen::JsValue;

    /// `2026-11-30 05:51:33 EST`: the browser's time zone, its short name last.
    pub fn local_text(iso: &str) -> Option<String> {
        let date = js_sys::Date::new(&JsValue::from_str(iso));
        if date.get_time().is_nan() {
            return None;
        }
        Some(format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {}",
            date.get_full_year(),
            date.get_month() + 1,
            date.get_date(),
            date.get_hours(),
            date.get_minutes(),
            date.get_seconds(),
            zone_name(&date),
        ))
    }

    /// The zone's short name at that date (`EST`, `GMT+1`), else its offset (`UTC-05:00`).
    fn zone_name(date: &js_sys::Date) -> String {
        let named = js_sys::JSON::parse(r#"{"timeZoneName":"short"}"#)
            .ok()
            .map(|options| String::from(date.to_locale_time_string_with_options("en-US", &options)))
            .and_then(|text| text.rsplit(' ').next().map(str::to_string))
            .filter(|name| !name.is_empty() && !name.contains(':'));
        named.unwrap_or_else(|| {
            // getTimezoneOffset is minutes behind UTC: 300 in New York's winter.
            let behind = date.get_timezone_offset();
            let sign = if behind > 0.0 { '-' } else { '+' };
            let minutes = behind.abs() as u32;
            format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::utc_parts;

    #[test]
    fn stored_times_are_cut_to_the_second() {
        assert_eq!(
            utc_parts("2026-11-30T10:51:33.306414Z"),
            Some((
                "2026-11-30T10:51:33Z".to_string(),
                "2026-11-30 10:51:33 UTC".to_string()
            ))
        );
        assert_eq!(
            utc_parts("2026-11-30T10:51:33Z").map(|p| p.1),
            Some("2026-11-30 10:51:33 UTC".to_string())
        );
        assert_eq!(
            utc_parts("2026-11-30T10:51:33+00:00").map(|p| p.0),
            Some("2026-11-30T10:51:33Z".to_string())
        );
    }

    #[test]
    fn other_text_is_not_a_time() {
        assert_eq!(utc_parts("odd"), None);
        assert_eq!(utc_parts("2026-11-30"), None);
        assert_eq!(utc_parts("2026-11-30T10:51:33+02:00"), None);
        assert_eq!(utc_parts("2026-11-30 10:51:33.1Z"), None);
        assert_eq!(utc_parts("2026-11-30T10:51:33.12é"), None);
    }
}
