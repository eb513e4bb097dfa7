//! Prints records as a table for people, or JSON / CSV for scripts. The same
//! fields, in the same order, in every format.

use std::io::Write as _;

use anyhow::Context as _;
use serde::Serialize;

use crate::context::Format;

fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Prints `records` on stdout in `format`.
pub fn print<T: Serialize>(format: Format, records: &[T]) -> anyhow::Result<()> {
    let values: Vec<serde_json::Value> = records
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .context("cannot serialise the records")?;
    let headers: Vec<String> = match values.first() {
        Some(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let rows = || {
        values.iter().map(|v| {
            headers
                .iter()
                .map(|h| cell(v.get(h).unwrap_or(&serde_json::Value::Null)))
                .collect::<Vec<_>>()
        })
    };
    if matches!(format, Format::Md | Format::Html | Format::Xlsx) {
        return Err(siso::Error::Usage(
            "--format md, html and xlsx are for `siso report`; this command prints table, json or csv".into(),
        )
        .into());
    }
    if format.is_input_only() {
        return Err(crate::context::input_only(format).into());
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &values).context("cannot write JSON")?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            if !headers.is_empty() {
                w.write_record(&headers)?;
            }
            for row in rows() {
                w.write_record(&row)?;
            }
            w.flush()?;
        }
        Format::Table => {
            if values.is_empty() {
                writeln!(out, "(nothing to show)")?;
                return Ok(());
            }
            let mut table = comfy_table::Table::new();
            table
                .load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
                .set_header(&headers);
            for row in rows() {
                table.add_row(row);
            }
            writeln!(out, "{table}")?;
        }
        Format::Md
        | Format::Html
        | Format::Xlsx
        | Format::Auto
        | Format::Siuss
        | Format::Bundle => unreachable!("refused above"),
    }
    Ok(())
}

/// A sentence for people: on stderr, so stdout stays data for scripts;
/// silenced by --quiet.
pub fn note(quiet: bool, message: impl std::fmt::Display) {
    if !quiet {
        eprintln!("{message}");
    }
}
