//! Times as the reader reads them: in their own time zone, in Spanish, with the day they fall on.
//!
//! The server stamps messages in UTC ([`protocol::MessageMeta::at`]) and cannot know the reader's
//! zone, so what it renders carries only the instant (`<time datetime>`); the browser fills in
//! local times once it has hydrated ([`Today`] is `None` until then), so the server's HTML and the
//! first render in the browser are the same. Formatting goes through the browser's own `Intl`,
//! which holds the time-zone and language data: none of it is compiled into the WASM.

/// A day of the reader's calendar, as days since 1970-01-01 (so that two can be subtracted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalDay(pub i64);

/// The reader's today, once the page runs in the browser: `None` on the server and while hydrating.
pub type Today = Option<LocalDay>;

/// What a day separator says: «Hoy», «Ayer», or the day written out (`long_name`, asked only
/// then: «martes 24 de noviembre»).
pub fn day_label(day: LocalDay, today: LocalDay, long_name: impl FnOnce() -> String) -> String {
    match today.0 - day.0 {
        0 => "Hoy".to_owned(),
        1 => "Ayer".to_owned(),
        _ => long_name(),
    }
}

/// Minutes since 1970-01-01T00:00Z of an RFC 3339 time (`2026-11-25T10:00:00.123Z`, or with an
/// offset), or `None` if it is not one. Both the server and the browser group messages with it,
/// so they render the same list; a date crate in the WASM for one subtraction would cost more
/// than these lines.
pub fn unix_minutes(at: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = at.get(range)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute) = (number(11..13)?, number(14..16)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let zone = at
        .get(16..)?
        .trim_start_matches(|c: char| c == ':' || c == '.' || c.is_ascii_digit());
    let offset = match zone.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let minutes = zone[1..3].parse::<i64>().ok()? * 60 + zone[4..6].parse::<i64>().ok()?;
            if *sign == b'+' {
                minutes
            } else {
                -minutes
            }
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 1440 + hour * 60 + minute - offset)
}

/// Days since 1970-01-01 of a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The browser's side: reading the local calendar and writing times with `Intl`.
#[cfg(target_arch = "wasm32")]
mod browser {
    use js_sys::{Array, Date, Function, Intl::DateTimeFormat, Object, Reflect};
    use wasm_bindgen::JsValue;

    use super::{days_from_civil, LocalDay};

    /// Formatters are built once: making an `Intl.DateTimeFormat` costs far more than using one.
    struct Formats {
        time_of_day: Function,
        full: Function,
        day: Function,
        day_with_year: Function,
    }

    thread_local! {
        static FORMATS: Formats = Formats {
            time_of_day: format(&[("hour", "2-digit"), ("minute", "2-digit")]),
            full: format(&[("dateStyle", "full"), ("timeStyle", "medium")]),
            day: format(&[("weekday", "long"), ("day", "numeric"), ("month", "long")]),
            day_with_year: format(&[
                ("weekday", "long"),
                ("day", "numeric"),
                ("month", "long"),
                ("year", "numeric"),
            ]),
        };
    }

    fn format(options: &[(&str, &str)]) -> Function {
        let object = Object::new();
        for (key, value) in options {
            let _ = Reflect::set(&object, &(*key).into(), &(*value).into());
        }
        DateTimeFormat::new(&Array::of1(&"es".into()), &object).format()
    }

    fn write(with: impl Fn(&Formats) -> &Function, date: &Date) -> String {
        FORMATS.with(|formats| {
            with(formats)
                .call1(&JsValue::NULL, date)
                .ok()
                .and_then(|text| text.as_string())
                .unwrap_or_default()
        })
    }

    fn parse(at: &str) -> Option<Date> {
        let date = Date::new(&at.into());
        (!date.get_time().is_nan()).then_some(date)
    }

    fn local_day(date: &Date) -> LocalDay {
        LocalDay(days_from_civil(
            i64::from(date.get_full_year()),
            i64::from(date.get_month()) + 1,
            i64::from(date.get_date()),
        ))
    }

    /// The reader's today.
    pub fn today() -> LocalDay {
        local_day(&Date::new_0())
    }

    /// The local day a time falls on.
    pub fn day_of(at: &str) -> Option<LocalDay> {
        parse(at).map(|date| local_day(&date))
    }

    /// «11:05».
    pub fn time_of_day(at: &str) -> String {
        parse(at).map_or_else(String::new, |date| write(|f| &f.time_of_day, &date))
    }

    /// «martes, 24 de noviembre de 2026, 11:05:42», shown on hover.
    pub fn full(at: &str) -> String {
        parse(at).map_or_else(String::new, |date| write(|f| &f.full, &date))
    }

    /// «martes 24 de noviembre», with the year when it is not this year's.
    pub fn long_day(at: &str) -> String {
        let Some(date) = parse(at) else {
            return String::new();
        };
        let this_year = Date::new_0().get_full_year() == date.get_full_year();
        write(|f| if this_year { &f.day } else { &f.day_with_year }, &date).replacen(',', "", 1)
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::{day_of, full, long_day, time_of_day, today};

// The server never localises (it renders with `Today` = `None`); these keep the crate's one API.
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::LocalDay;

    pub fn today() -> LocalDay {
        LocalDay(0)
    }
    pub fn day_of(_at: &str) -> Option<LocalDay> {
        None
    }
    pub fn time_of_day(_at: &str) -> String {
        String::new()
    }
    pub fn full(_at: &str) -> String {
        String::new()
    }
    pub fn long_day(_at: &str) -> String {
        String::new()
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::{day_of, full, long_day, time_of_day, today};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_become_minutes_since_the_epoch() {
        assert_eq!(unix_minutes("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_minutes("1970-01-02T00:01:00.999Z"), Some(1441));
        assert_eq!(
            unix_minutes("2026-11-25T10:00:00+01:00"),
            unix_minutes("2026-11-25T09:00:00Z")
        );
        assert_eq!(
            unix_minutes("2026-11-25T10:00:00-03:30"),
            unix_minutes("2026-11-25T13:30:00Z")
        );
        // 2026-11-25 is day 20,782 of the epoch.
        assert_eq!(unix_minutes("2026-11-25T00:00:00Z"), Some(20_782 * 1440));
        assert_eq!(
            unix_minutes("2024-02-29T12:00:00Z").map(|m| m / 1440),
            Some(19_782)
        );
        for bad in [
            "",
            "2026-11-25",
            "2026-13-01T00:00Z",
            "2026-11-25T10:00:00",
            "x026-11-25T10:00Z",
            "2026-11-25T10:00:00+1",
        ] {
            assert_eq!(unix_minutes(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn separators_say_today_yesterday_or_the_day() {
        let today = LocalDay(100);
        assert_eq!(day_label(LocalDay(100), today, || unreachable!()), "Hoy");
        assert_eq!(day_label(LocalDay(99), today, || unreachable!()), "Ayer");
        assert_eq!(
            day_label(LocalDay(95), today, || "jueves 19".into()),
            "jueves 19"
        );
    }
}
