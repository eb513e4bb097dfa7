//! One self-contained HTML page: inline CSS, inline SVG charts, no script,
//! no font or image from the network; printable on A4 (portrait, tables
//! kept whole where they fit, the header repeated on each page).

use super::{Style, cell, numeric, plotted};
use crate::report::model::{Cell, Chart, Report, Table};

const CSS: &str = r#"
:root { --ink: #1b2733; --muted: #5b6b7a; --line: #c9d3dd; --head: #e8eef4; --a: #1f5f99; --b: #d9822b; --c: #4c9a6a; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 2rem auto; max-width: 60rem; padding: 0 1rem; font-size: 11pt; line-height: 1.4; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid var(--a); padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
.sub { color: var(--muted); margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .25rem .45rem; vertical-align: top; }
th { background: var(--head); text-align: left; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.tot td { font-weight: 700; background: #f4f7fa; }
td.hid { color: var(--muted); font-style: italic; }
.note { color: var(--muted); font-size: .85rem; margin: .2rem 0 .8rem; }
figure { margin: .6rem 0 1rem; }
figcaption { font-size: .85rem; color: var(--muted); }
svg text { font-family: inherit; font-size: 11px; fill: var(--ink); }
footer { margin-top: 2rem; border-top: 1px solid var(--line); padding-top: .6rem; font-size: .85rem; color: var(--muted); }
@page { size: A4 portrait; margin: 14mm 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  .block { break-inside: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
}
"#;

const COLORS: [&str; 3] = ["#1f5f99", "#d9822b", "#4c9a6a"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn render(report: &Report) -> String {
    let style = Style::Human(report.lang);
    let lang = match report.lang {
        crate::report::model::Lang::It => "it",
        crate::report::model::Lang::En => "en",
    };
    let mut out = String::new();
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
        esc(&report.title),
        esc(&report.title)
    ));
    for s in &report.subtitle {
        out.push_str(&format!("<p class=\"sub\">{}</p>\n", esc(s)));
    }
    out.push_str("</header>\n<main>\n");
    for section in &report.sections {
        out.push_str(&format!("<section>\n<h2>{}</h2>\n", esc(&section.title)));
        for t in &section.tables {
            out.push_str(&format!(
                "<div class=\"block\" id=\"{}\">\n<h3>{}</h3>\n",
                esc(&t.id),
                esc(&t.title)
            ));
            for chart in &t.charts {
                out.push_str(&svg(t, chart, report.min_cell, style));
            }
            out.push_str(&table(t, report.min_cell, style));
            for n in &t.notes {
                out.push_str(&format!("<p class=\"note\">{}</p>\n", esc(n)));
            }
            out.push_str("</div>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n<footer>\n<ol>\n");
    for f in &report.footnotes {
        out.push_str(&format!("<li>{}</li>\n", esc(f)));
    }
    out.push_str("</ol>\n</footer>\n</body>\n</html>\n");
    out
}

fn table(t: &Table, min_cell: i64, style: Style) -> String {
    let mut out = String::from("<table>\n<thead><tr>");
    for c in &t.columns {
        out.push_str(&format!("<th scope=\"col\">{}</th>", esc(&c.header)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (r, row) in t.rows.iter().enumerate() {
        let class = if Some(r) == t.total_row {
            " class=\"tot\""
        } else {
            ""
        };
        out.push_str(&format!("<tr{class}>"));
        for c in row {
            let class = match c {
                Cell::Suppressed | Cell::Withheld => " class=\"n hid\"",
                c if numeric(c) => " class=\"n\"",
                _ => "",
            };
            out.push_str(&format!(
                "<td{class}>{}</td>",
                esc(&cell(c, style, min_cell))
            ));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// Rows that are drawn: all but the total row.
fn body_rows(t: &Table) -> Vec<&Vec<Cell>> {
    t.rows
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != t.total_row)
        .map(|(_, r)| r)
        .collect()
}

fn svg(t: &Table, chart: &Chart, min_cell: i64, style: Style) -> String {
    let rows = body_rows(t);
    if rows.is_empty() {
        return String::new();
    }
    let label = |r: &Vec<Cell>| {
        r.first()
            .map(|c| cell(c, style, min_cell))
            .unwrap_or_default()
    };
    match chart {
        Chart::Trend { columns } => {
            // Vertical grouped bars, one group per month.
            let (w, h, left, bottom, top) = (720.0, 220.0, 60.0, 40.0, 24.0);
            let max = rows
                .iter()
                .flat_map(|r| columns.iter().filter_map(|&c| r.get(c).and_then(plotted)))
                .fold(0.0_f64, f64::max);
            let group = (w - left - 10.0) / rows.len() as f64;
            let bar = (group * 0.8 / columns.len() as f64).max(1.0);
            let plot_h = h - bottom - top;
            let mut s = format!(
                "<figure><svg viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{}\">\n",
                esc(&t.title)
            );
            s.push_str(&format!(
                "<line x1=\"{left}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#888\"/>\n",
                y = h - bottom,
                x2 = w - 10.0
            ));
            s.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n<text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>\n",
                left - 4.0,
                top + 4.0,
                esc(&super::number(max, if max < 10.0 { 1 } else { 0 }, style)),
                left - 4.0,
                h - bottom
            ));
            for (i, r) in rows.iter().enumerate() {
                let gx = left + i as f64 * group + group * 0.1;
                for (k, &c) in columns.iter().enumerate() {
                    let Some(v) = r.get(c).and_then(plotted) else {
                        continue;
                    };
                    let bh = if max > 0.0 {
                        v.max(0.0) / max * plot_h
                    } else {
                        0.0
                    };
                    s.push_str(&format!(
                        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {}</title></rect>\n",
                        gx + k as f64 * bar,
                        h - bottom - bh,
                        bar,
                        bh,
                        COLORS[k % 3],
                        esc(&label(r)),
                        esc(&cell(&r[c], style, min_cell))
                    ));
                }
                if rows.len() <= 24 || i % 2 == 0 {
                    s.push_str(&format!(
                        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                        gx + group * 0.4,
                        h - bottom + 16.0,
                        esc(&label(r))
                    ));
                }
            }
            for (k, &c) in columns.iter().enumerate() {
                let x = left + k as f64 * 200.0;
                s.push_str(&format!(
                    "<rect x=\"{x}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"13\">{}</text>\n",
                    COLORS[k % 3],
                    x + 14.0,
                    esc(&t.columns[c].header)
                ));
            }
            s.push_str("</svg></figure>\n");
            s
        }
        Chart::Bars { column } => {
            // Horizontal bars, one per row, labelled with the value.
            let (w, left, row_h) = (720.0, 260.0, 18.0);
            let h = rows.len() as f64 * row_h + 28.0;
            let max = rows
                .iter()
                .filter_map(|r| r.get(*column).and_then(plotted))
                .fold(0.0_f64, f64::max);
            let plot_w = w - left - 80.0;
            let mut s = format!(
                "<figure><svg viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{}\">\n\
                 <text x=\"0\" y=\"12\" font-weight=\"600\">{}</text>\n",
                esc(&t.title),
                esc(&t.columns[*column].header)
            );
            for (i, r) in rows.iter().enumerate() {
                let y = 22.0 + i as f64 * row_h;
                let mut name = label(r);
                if name.chars().count() > 40 {
                    name = name.chars().take(39).collect::<String>() + "…";
                }
                s.push_str(&format!(
                    "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
                    left - 6.0,
                    y + 12.0,
                    esc(&name)
                ));
                let value = r.get(*column);
                let bw = match value.and_then(plotted) {
                    Some(v) if max > 0.0 => v.max(0.0) / max * plot_w,
                    _ => 0.0,
                };
                s.push_str(&format!(
                    "<rect x=\"{left}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{}\"/>\n<text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
                    y + 2.0,
                    row_h - 5.0,
                    COLORS[0],
                    left + bw + 4.0,
                    y + 12.0,
                    esc(&value.map(|c| cell(c, style, min_cell)).unwrap_or_default())
                ));
            }
            s.push_str("</svg></figure>\n");
            s
        }
    }
}
