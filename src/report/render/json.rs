//! JSON for scripts: typed values (integers, euro amounts as numbers, ISO
//! dates, `"<3"` for a hidden count, null for an empty cell).

use serde_json::{Value, json};

use crate::report::model::{Cell, Report};

fn value(c: &Cell, min_cell: i64) -> Value {
    match c {
        Cell::Int(n) => json!(n),
        Cell::Money(cents) => json!((*cents as f64) / 100.0),
        Cell::Rate(Some(r)) => json!((r * 100.0).round() / 100.0),
        Cell::Rate(None) | Cell::Empty => Value::Null,
        Cell::Date(d) => json!(d.to_string()),
        Cell::Text(s) => json!(s),
        Cell::Suppressed => json!(format!("<{min_cell}")),
        Cell::Withheld => json!("X"),
    }
}

pub fn render(report: &Report) -> String {
    let sections: Vec<Value> = report
        .sections
        .iter()
        .map(|s| {
            let tables: Vec<Value> = s
                .tables
                .iter()
                .map(|t| {
                    json!({
                        "id": t.id,
                        "titolo": t.title,
                        "colonne": t.columns.iter().map(|c| c.header.clone()).collect::<Vec<_>>(),
                        "righe": t.rows.iter().map(|r| r.iter().map(|c| value(c, report.min_cell)).collect::<Vec<_>>()).collect::<Vec<_>>(),
                        "note": t.notes,
                    })
                })
                .collect();
            json!({ "titolo": s.title, "tabelle": tables })
        })
        .collect();
    let doc = json!({
        "titolo": report.title,
        "sottotitolo": report.subtitle,
        "lingua": report.lang,
        "soglia_minima": report.min_cell,
        "sezioni": sections,
        "note": report.footnotes,
    });
    let mut out = serde_json::to_string_pretty(&doc).expect("JSON of plain values");
    out.push('\n');
    out
}
