//! For a terminal: comfy-table tables and, for a trend, a small bar chart
//! of block characters (one line per month).

use comfy_table::{CellAlignment, ContentArrangement, Table as Comfy, presets};

use super::{Style, cell, numeric, plotted};
use crate::report::model::{Chart, Report, Table};

pub fn render(report: &Report) -> String {
    let style = Style::Human(report.lang);
    let mut out = format!("{}\n", report.title);
    for s in &report.subtitle {
        out.push_str(&format!("{s}\n"));
    }
    for section in &report.sections {
        out.push_str(&format!("\n== {}\n", section.title));
        for t in &section.tables {
            out.push_str(&format!("\n{}\n", t.title));
            let mut table = Comfy::new();
            table
                .load_style(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header(t.columns.iter().map(|c| c.header.clone()));
            for row in &t.rows {
                table.add_row(row.iter().map(|c| {
                    let cell_ = comfy_table::Cell::new(cell(c, style, report.min_cell));
                    if numeric(c) {
                        cell_.set_alignment(CellAlignment::Right)
                    } else {
                        cell_
                    }
                }));
            }
            out.push_str(&format!("{table}\n"));
            for chart in &t.charts {
                if let Chart::Trend { columns } = chart {
                    out.push_str(&bars(t, columns, report.min_cell, style));
                }
            }
            for n in &t.notes {
                out.push_str(&format!("  {n}\n"));
            }
        }
    }
    out.push('\n');
    for (i, f) in report.footnotes.iter().enumerate() {
        out.push_str(&format!("({}) {f}\n", i + 1));
    }
    out
}

/// One line per row (not the total row): label, then a bar per column
/// scaled to the largest value, 30 characters wide.
fn bars(t: &Table, columns: &[usize], min_cell: i64, style: Style) -> String {
    const WIDTH: f64 = 30.0;
    const MARKS: [char; 3] = ['█', '▒', '░'];
    let rows: Vec<&Vec<crate::report::model::Cell>> = t
        .rows
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != t.total_row)
        .map(|(_, r)| r)
        .collect();
    let max = rows
        .iter()
        .flat_map(|r| columns.iter().filter_map(|&c| r.get(c).and_then(plotted)))
        .fold(0.0_f64, f64::max);
    let mut out = String::new();
    let legend: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(k, &c)| format!("{} {}", MARKS[k % 3], t.columns[c].header))
        .collect();
    out.push_str(&format!("  {}\n", legend.join("   ")));
    for r in rows {
        let label = r
            .first()
            .map(|c| cell(c, style, min_cell))
            .unwrap_or_default();
        let mut line = format!("  {label:>8} ");
        for (k, &c) in columns.iter().enumerate() {
            let Some(cell_) = r.get(c) else { continue };
            let n = match plotted(cell_) {
                Some(v) if max > 0.0 => ((v.max(0.0) / max) * WIDTH).round() as usize,
                _ => 0,
            };
            line.push_str(&MARKS[k % 3].to_string().repeat(n));
            line.push_str(&format!(" {} ", cell(cell_, style, min_cell)));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
