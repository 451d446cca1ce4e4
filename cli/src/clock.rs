//! Times as the reader reads them: the server stamps messages in UTC
//! ([`protocol::MessageMeta::at`]); `sala` shows them in the zone of the machine it runs on.

use chrono::{DateTime, Datelike, FixedOffset, Local, NaiveDate, NaiveDateTime, Utc};

/// The zone times are shown in: the machine's, or a fixed one (tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Local,
    Fixed(FixedOffset),
}

impl Zone {
    /// `at` (RFC 3339) in this zone; `None` if it is not a time.
    pub fn of(self, at: &str) -> Option<NaiveDateTime> {
        let utc = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
        Some(match self {
            Zone::Local => utc.with_timezone(&Local).naive_local(),
            Zone::Fixed(offset) => utc.with_timezone(&offset).naive_local(),
        })
    }

    /// Today's date in this zone.
    pub fn today(self) -> NaiveDate {
        match self {
            Zone::Local => Local::now().date_naive(),
            Zone::Fixed(offset) => Utc::now().with_timezone(&offset).date_naive(),
        }
    }
}

/// `HH:MM` of `at` in `zone` (or `--:--` for a time the server did not write as one).
pub fn hour_minute(at: &str, zone: Zone) -> String {
    zone.of(at).map_or_else(
        || "--:--".to_owned(),
        |time| time.format("%H:%M").to_string(),
    )
}

/// A day as a separator names it: «Hoy», «Ayer», «martes 24 de noviembre» (with the year when
/// it is not this year's).
pub fn day_name(day: NaiveDate, today: NaiveDate) -> String {
    const WEEKDAYS: [&str; 7] = [
        "lunes",
        "martes",
        "miércoles",
        "jueves",
        "viernes",
        "sábado",
        "domingo",
    ];
    const MONTHS: [&str; 12] = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ];
    if day == today {
        return "Hoy".to_owned();
    }
    if today.pred_opt() == Some(day) {
        return "Ayer".to_owned();
    }
    let weekday = WEEKDAYS[day.weekday().num_days_from_monday() as usize];
    let month = MONTHS[day.month0() as usize];
    if day.year() == today.year() {
        format!("{weekday} {} de {month}", day.day())
    } else {
        format!("{weekday} {} de {month} de {}", day.day(), day.year())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn times_are_shown_in_the_readers_zone() {
        let madrid = Zone::Fixed(FixedOffset::east_opt(3600).unwrap());
        let mexico = Zone::Fixed(FixedOffset::west_opt(6 * 3600).unwrap());
        assert_eq!(hour_minute("2026-11-24T23:30:00.123Z", madrid), "00:30");
        assert_eq!(hour_minute("2026-11-24T23:30:00.123Z", mexico), "17:30");
        assert_eq!(hour_minute("ayer", madrid), "--:--");
    }

    #[test]
    fn days_are_named_in_spanish() {
        let today = date(2026, 12, 3);
        assert_eq!(day_name(today, today), "Hoy");
        assert_eq!(day_name(date(2026, 12, 2), today), "Ayer");
        assert_eq!(
            day_name(date(2026, 11, 24), today),
            "martes 24 de noviembre"
        );
        assert_eq!(
            day_name(date(2025, 11, 24), today),
            "lunes 24 de noviembre de 2025"
        );
    }
}
