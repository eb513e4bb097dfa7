//! CSV: RFC 4180 for scripts (one tidy row per cell) and the Italian Excel
//! flavour (semicolons, decimal comma, UTF-8 BOM, each table under its title).

use super::{Style, cell};
use crate::report::model::Report;

/// `tabella,riga,colonna,valore`: one line per cell, the row named by its
/// first cell; numbers without grouping, dot decimals, ISO dates, `<3` for
/// hidden counts.
pub fn plain(report: &Report) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let header = match report.lang {
        crate::report::model::Lang::It => ["tabella", "riga", "colonna", "valore"],
        crate::report::model::Lang::En => ["table", "row", "column", "value"],
    };
    w.write_record(header).expect("writing to memory");
    for table in report.tables() {
        for row in &table.rows {
            let label = row
                .first()
                .map(|c| cell(c, Style::Machine, report.min_cell))
                .unwrap_or_default();
            for (c, col) in row.iter().zip(&table.columns).skip(1) {
                let value = cell(c, Style::Machine, report.min_cell);
                w.write_record([table.id.as_str(), &label, &col.header, &value])
                    .expect("writing to memory");
            }
        }
    }
    w.into_inner().expect("flushing to memory")
}

/// For Excel set to Italian: BOM, `;`, decimal comma, dd/mm/yyyy; the title,
/// the tables one under the other with a blank line between, the footnotes.
pub fn excel_it(report: &Report) -> Vec<u8> {
    let mut w = ::csv::WriterBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    let mut line = |fields: &[String]| w.write_record(fields).expect("writing to memory");
    line(std::slice::from_ref(&report.title));
    for s in &report.subtitle {
        line(std::slice::from_ref(s));
    }
    for table in report.tables() {
        line(&[String::new()]);
        line(std::slice::from_ref(&table.title));
        line(
            &table
                .columns
                .iter()
                .map(|c| c.header.clone())
                .collect::<Vec<_>>(),
        );
        for row in &table.rows {
            line(
                &row.iter()
                    .map(|c| cell(c, Style::ExcelIt, report.min_cell))
                    .collect::<Vec<_>>(),
            );
        }
        for n in &table.notes {
            line(std::slice::from_ref(n));
        }
    }
    line(&[String::new()]);
    for f in &report.footnotes {
        line(std::slice::from_ref(f));
    }
    w.into_inner().expect("flushing to memory")
}
