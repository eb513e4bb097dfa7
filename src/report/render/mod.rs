//! Renderers: a [`Report`] in, a string or bytes out. None prints.
//!
//! | format | for | small counts |
//! |---|---|---|
//! | table | a terminal (comfy-table, the monthly trend as a bar chart) | as every format (see below) |
//! | csv | scripts: RFC 4180, one tidy row per cell (tabella, riga, colonna, valore) | `<3` |
//! | csv-excel-it | Italian Excel: `;`, decimal comma, UTF-8 with BOM, tables one under the other | `<3` |
//! | json | scripts: the report with typed values | `"<3"` |
//! | md | Markdown for mail and wikis | `<3` |
//! | html | one self-contained page with SVG charts, A4 print | `<3` |
//! | xlsx | one sheet per table, numbers as numbers, dates as dates | `<3` as text |
//!
//! Suppression happens before rendering (on the report), so no renderer can
//! leak a small count.

pub mod csv;
pub mod html;
pub mod json;
pub mod md;
pub mod text;
pub mod xlsx;

use super::model::{Cell, Lang};

/// How numbers and dates are written for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Italian: 1.234,50, 31/01/2025 (or English: 1,234.50, 2025-01-31).
    Human(Lang),
    /// Plain machine text: 1234.50, 2025-01-31, no grouping.
    Machine,
    /// For Italian Excel: 1234,50, 31/01/2025, no grouping (Excel parses it).
    ExcelIt,
}

fn group(digits: &str, sep: char) -> String {
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// `n` with `decimals` decimals in the style's notation.
pub fn number(value: f64, decimals: usize, style: Style) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if value < 0.0 && text.chars().any(|c| c != '0' && c != '.') {
        "-"
    } else {
        ""
    };
    let (int, point) = match style {
        Style::Human(Lang::It) => (group(int, '.'), ","),
        Style::Human(Lang::En) => (group(int, ','), "."),
        Style::Machine => (int.to_string(), "."),
        Style::ExcelIt => (int.to_string(), ","),
    };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}{point}{frac}")
    }
}

pub fn date(d: time::Date, style: Style) -> String {
    match style {
        Style::Human(Lang::It) | Style::ExcelIt => {
            format!("{:02}/{:02}/{}", d.day(), d.month() as u8, d.year())
        }
        Style::Human(Lang::En) | Style::Machine => d.to_string(),
    }
}

/// A cell as text.
pub fn cell(c: &Cell, style: Style, min_cell: i64) -> String {
    match c {
        Cell::Int(n) => number(*n as f64, 0, style),
        Cell::Money(cents) => number(*cents as f64 / 100.0, 2, style),
        Cell::Rate(Some(r)) => number(*r, 2, style),
        Cell::Rate(None) | Cell::Empty => String::new(),
        Cell::Date(d) => date(*d, style),
        Cell::Text(s) => s.clone(),
        Cell::Suppressed => format!("<{min_cell}"),
        Cell::Withheld => "X".to_string(),
    }
}

/// Whether a column is numeric (right-aligned).
pub fn numeric(c: &Cell) -> bool {
    matches!(
        c,
        Cell::Int(_) | Cell::Money(_) | Cell::Rate(_) | Cell::Suppressed | Cell::Withheld
    )
}

/// A value that can be drawn in a chart (hidden and empty cells cannot).
pub fn plotted(c: &Cell) -> Option<f64> {
    match c {
        Cell::Int(n) => Some(*n as f64),
        Cell::Money(cents) => Some(*cents as f64 / 100.0),
        Cell::Rate(r) => *r,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_each_notation() {
        assert_eq!(number(1234567.5, 2, Style::Human(Lang::It)), "1.234.567,50");
        assert_eq!(number(1234567.5, 2, Style::Human(Lang::En)), "1,234,567.50");
        assert_eq!(number(-1234.0, 0, Style::Machine), "-1234");
        assert_eq!(number(-0.001, 2, Style::ExcelIt), "0,00");
        assert_eq!(number(999.0, 0, Style::Human(Lang::It)), "999");
        assert_eq!(cell(&Cell::Suppressed, Style::Machine, 3), "<3");
        assert_eq!(cell(&Cell::Money(-150), Style::ExcelIt, 3), "-1,50");
    }
}
