//! Output built the way iproute2's print_* helpers build it: each field written once for the
//! text and once for `-j`, in one pass. Used where the text and JSON forms differ field by field
//! (link kind details, rules, next hops).

use super::{Layout, Paint};
use serde::ser::{Serialize, Serializer};
use serde_json::{Value, json};
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Printed {
    pub text: String,
    pub json: serde_json::Map<String, Value>,
    /// The colour setting of the text (Layout::color).
    pub color: Option<bool>,
}

impl Serialize for Printed {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(ser)
    }
}

impl Printed {
    pub fn both(&mut self, key: &str, text: std::fmt::Arguments, json: Value) {
        let _ = self.text.write_fmt(text);
        self.json.insert(key.to_string(), json);
    }

    pub fn uint(&mut self, key: &str, word: &str, v: u64) {
        self.both(key, format_args!("{word} {v} "), json!(v));
    }

    pub fn string(&mut self, key: &str, word: &str, v: &str) {
        self.both(key, format_args!("{word} {v} "), json!(v));
    }

    /// print_on_off: `on`/`off` in the text, a boolean in JSON.
    pub fn on_off(&mut self, key: &str, word: &str, v: bool) {
        let w = if v { "on" } else { "off" };
        self.both(key, format_args!("{word} {w} "), json!(v));
    }

    /// print_0xhex with `%#llx`: `0` for zero, `0x…` otherwise; a string in JSON.
    pub fn hex(&mut self, key: &str, word: &str, v: u64) {
        let s = if v == 0 {
            "0".to_string()
        } else {
            format!("{v:#x}")
        };
        self.both(key, format_args!("{word} {s} "), json!(s));
    }

    /// A flag printed only when set: `word ` in the text, `true` in JSON.
    pub fn flag(&mut self, key: &str, word: &str) {
        self.both(key, format_args!("{word} "), json!(true));
    }

    /// Bridge timers arrive in centiseconds and print as `%4i.%.2i`.
    pub fn timer(&mut self, key: &str, centis: u64) {
        let (s, c) = (centis / 100, centis % 100);
        self.both(
            key,
            format_args!("{key} {s:>4}.{c:02} "),
            json!(s as f64 + c as f64 / 100.0),
        );
    }

    /// Text only (print_string(PRINT_FP, …)).
    pub fn fp(&mut self, text: std::fmt::Arguments) {
        let _ = self.text.write_fmt(text);
    }

    /// JSON only (print_*(PRINT_JSON, …)).
    pub fn js(&mut self, key: &str, v: Value) {
        self.json.insert(key.to_string(), v);
    }

    /// print_color_string: the value coloured in the text, a string in JSON.
    pub fn painted(&mut self, key: &str, paint: Option<Paint>, text: std::fmt::Arguments, v: &str) {
        let layout = Layout {
            color: self.color,
            ..Layout::default()
        };
        layout.paint(&mut self.text, paint, text);
        self.js(key, json!(v));
    }
}
