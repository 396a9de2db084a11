//! The one handlebars registry every template renders through: strict mode (a template
//! that names a field the view lacks is an error, not an empty string), no HTML
//! escaping (Markdown), and the helpers — each a thin wrapper over one `units`
//! formatter, so a quantity reads the same in every block — plus the helpers that make
//! values from Prometheus safe where they land (table cell, inline text, code fence).

use crate::units;
use chrono::{DateTime, Utc};
use handlebars::{Handlebars, HelperDef, handlebars_helper};
use serde_json::Value;

fn number(v: &Value) -> Option<f64> {
    v.as_f64().filter(|f| f.is_finite())
}

fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// `f` of a number, or `missing` for null (a figure that could not be computed).
fn or(v: &Value, missing: &str, f: impl Fn(f64) -> String) -> String {
    number(v).map_or(missing.to_string(), f)
}

fn when(v: &Value, f: impl Fn(DateTime<Utc>) -> String) -> String {
    parse_time(v).map_or(units::NA.to_string(), f)
}

/// Text safe inline in Markdown: no HTML, no link or emphasis syntax, one line.
pub fn inline_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A code fence longer than any run of backticks in `values` (serialized), so nothing
/// they hold can close it.
pub fn fence_for(values: &impl serde::Serialize) -> String {
    let longest = serde_json::to_string(values)
        .unwrap_or_default()
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

handlebars_helper!(mb: |v: Json| or(v, units::NA, units::mb));
handlebars_helper!(mb_signed: |v: Json| or(v, units::NA, units::mb_signed));
handlebars_helper!(kb: |v: Json| or(v, units::NA, units::kb));
handlebars_helper!(mb_number: |v: Json| or(v, units::NA, units::mb_number));
handlebars_helper!(mbh: |v: Json| or(v, units::NA, units::mb_per_hour));
handlebars_helper!(mbh_number: |v: Json| or(v, units::NA, units::mb_per_hour_number));
handlebars_helper!(pct: |v: Json| or(v, units::NA, units::percent));
handlebars_helper!(ratio: |v: Json| or(v, units::NA, units::ratio));
handlebars_helper!(secs: |v: Json| or(v, units::NA, units::pause));
handlebars_helper!(count: |v: Json| or(v, "unknown", units::count));
handlebars_helper!(hours: |v: Json| or(v, units::NA, units::hours));
handlebars_helper!(per_second: |v: Json| or(v, units::NA, units::per_second));
handlebars_helper!(per_week: |v: Json| or(v, "unknown", units::per_week));
handlebars_helper!(time: |v: Json| when(v, units::time));
handlebars_helper!(tsec: |v: Json| when(v, units::time_seconds));
handlebars_helper!(date: |v: Json| when(v, units::date));
handlebars_helper!(hhmm: |v: Json| when(v, units::month_day_time));
handlebars_helper!(cell: |v: Json| inline_safe(&plain(v)));
handlebars_helper!(inline: |v: Json| inline_safe(&plain(v)));
handlebars_helper!(oneline: |v: Json| plain(v).replace(['\n', '\r'], " "));
handlebars_helper!(some: |v: Json| !v.is_null());
handlebars_helper!(check: |v: Json| if v.get("present") == Some(&Value::Bool(true)) { "x" } else { " " });
// A Prometheus duration (`for: 2h`) from seconds, as rule files write it.
handlebars_helper!(dur: |v: Json| number(v).filter(|s| *s >= 0.0).map_or(units::NA.into(), |s| crate::timespec::format_duration(std::time::Duration::from_secs_f64(s))));

/// A registry with every helper and `partials` (name, text) registered; templates are
/// added by the caller. Panics only on a built-in partial that does not parse, which the
/// unit tests catch.
pub fn registry(partials: &[(&str, &str)]) -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.register_escape_fn(handlebars::no_escape);
    hb.set_strict_mode(true);
    for (name, text) in partials {
        hb.register_partial(name, *text)
            .expect("built-in templates parse");
    }
    let helpers: [(&str, Box<dyn HelperDef + Send + Sync>); 23] = [
        ("mb", Box::new(mb)),
        ("mb_signed", Box::new(mb_signed)),
        ("mb_number", Box::new(mb_number)),
        ("mbh", Box::new(mbh)),
        ("mbh_number", Box::new(mbh_number)),
        ("pct", Box::new(pct)),
        ("ratio", Box::new(ratio)),
        ("secs", Box::new(secs)),
        ("count", Box::new(count)),
        ("hours", Box::new(hours)),
        ("dur", Box::new(dur)),
        ("per_week", Box::new(per_week)),
        ("time", Box::new(time)),
        ("tsec", Box::new(tsec)),
        ("date", Box::new(date)),
        ("hhmm", Box::new(hhmm)),
        ("cell", Box::new(cell)),
        ("inline", Box::new(inline)),
        ("oneline", Box::new(oneline)),
        ("some", Box::new(some)),
        ("check", Box::new(check)),
        ("kb", Box::new(kb)),
        ("per_second", Box::new(per_second)),
    ];
    for (name, helper) in helpers {
        hb.register_helper(name, helper);
    }
    hb
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inline_text_cannot_inject_markup() {
        let hostile = "a|b<script>[x](http://e) `c` **d**\nnext";
        let safe = inline_safe(hostile);
        assert!(!safe.contains('<'));
        assert!(!safe.contains('\n'));
        assert!(safe.contains("\\|"));
        assert!(safe.contains("\\[x\\]"));
    }

    #[test]
    fn strict_mode_refuses_a_missing_field() {
        let mut hb = registry(&[]);
        hb.register_template_string("t", "{{mb nope}}").unwrap();
        assert!(hb.render("t", &json!({})).is_err());
        assert_eq!(hb.render("t", &json!({"nope": 2e6})).unwrap(), "2.0 MB");
        assert_eq!(hb.render("t", &json!({"nope": null})).unwrap(), "n/a");
    }

    #[test]
    fn a_fence_outlasts_the_backticks_inside() {
        assert_eq!(fence_for(&json!({"q": "a ````` b"})), "``````");
        assert_eq!(fence_for(&json!({"q": "plain"})), "```");
    }
}
