//! Markdown: headings, pipe tables (numbers right-aligned), notes.

use super::{Style, cell, numeric};
use crate::report::model::Report;

fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('<', "&lt;")
}

pub fn render(report: &Report) -> String {
    let style = Style::Human(report.lang);
    let mut out = format!("# {}\n\n", escape(&report.title));
    for s in &report.subtitle {
        out.push_str(&format!("{}  \n", escape(s)));
    }
    for section in &report.sections {
        out.push_str(&format!("\n## {}\n", escape(&section.title)));
        for t in &section.tables {
            out.push_str(&format!("\n### {}\n\n", escape(&t.title)));
            out.push_str(&format!(
                "| {} |\n",
                t.columns
                    .iter()
                    .map(|c| escape(&c.header))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ));
            let align: Vec<&str> = (0..t.columns.len())
                .map(|i| {
                    if t.rows.iter().any(|r| r.get(i).is_some_and(numeric)) {
                        "---:"
                    } else {
                        "---"
                    }
                })
                .collect();
            out.push_str(&format!("| {} |\n", align.join(" | ")));
            for (r, row) in t.rows.iter().enumerate() {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| {
                        let text = escape(&cell(c, style, report.min_cell));
                        if Some(r) == t.total_row && !text.is_empty() {
                            format!("**{text}**")
                        } else {
                            text
                        }
                    })
                    .collect();
                out.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
            for n in &t.notes {
                out.push_str(&format!("\n_{}_\n", escape(n)));
            }
        }
    }
    out.push_str("\n---\n\n");
    for (i, f) in report.footnotes.iter().enumerate() {
        out.push_str(&format!("{}. {}\n", i + 1, escape(f)));
    }
    out
}
