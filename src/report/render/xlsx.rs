//! A workbook with a cover sheet (title, period, footnotes) and one sheet per
//! table: numbers as numbers, euro with two decimals, dates as dates, headers
//! in the report's language, hidden counts as the text `<3`.

use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};

use crate::error::{Error, Result};
use crate::report::model::{Cell, Report};

fn sheet_name(id: &str, used: &mut Vec<String>) -> String {
    // Excel: at most 31 characters, unique, none of []:*?/\
    let mut name: String = id
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(28)
        .collect();
    let base = name.clone();
    let mut k = 2;
    while used.contains(&name) {
        name = format!("{base}_{k}");
        k += 1;
    }
    used.push(name.clone());
    name
}

fn write(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_background_color("#E8EEF4");
    let int = Format::new().set_num_format("#,##0");
    let money = Format::new().set_num_format("#,##0.00");
    let rate = Format::new().set_num_format("0.00");
    let day = Format::new().set_num_format("dd/mm/yyyy");
    let hidden = Format::new().set_align(FormatAlign::Right);
    let mut used = Vec::new();

    let cover = wb.add_worksheet();
    cover.set_name(sheet_name(report.lang.t("Report", "Report"), &mut used))?;
    cover.write_with_format(0, 0, &report.title, &title)?;
    let mut r = 2;
    for s in &report.subtitle {
        cover.write(r, 0, s)?;
        r += 1;
    }
    r += 1;
    cover.write_with_format(r, 0, report.lang.t("Note", "Notes"), &bold)?;
    for f in &report.footnotes {
        r += 1;
        cover.write(r, 0, f)?;
    }
    cover.set_column_width(0, 120)?;

    for table in report.tables() {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&table.id, &mut used))?;
        ws.write_with_format(0, 0, &table.title, &bold)?;
        for (c, col) in table.columns.iter().enumerate() {
            ws.write_with_format(2, c as u16, &col.header, &header)?;
            ws.set_column_width(c as u16, if c == 0 { 34 } else { 16 })?;
        }
        ws.set_row_height(2, 45)?;
        for (i, row) in table.rows.iter().enumerate() {
            let r = 3 + i as u32;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Int(n) => ws
                        .write_number_with_format(r, c, *n as f64, &int)
                        .map(|_| ())?,
                    Cell::Money(cents) => ws
                        .write_number_with_format(r, c, *cents as f64 / 100.0, &money)
                        .map(|_| ())?,
                    Cell::Rate(Some(x)) => {
                        ws.write_number_with_format(r, c, *x, &rate).map(|_| ())?
                    }
                    Cell::Rate(None) | Cell::Empty => {}
                    Cell::Date(d) => {
                        let dt =
                            ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day())?;
                        ws.write_datetime_with_format(r, c, &dt, &day)?;
                    }
                    Cell::Text(s) => ws.write_string(r, c, s).map(|_| ())?,
                    Cell::Suppressed => ws
                        .write_string_with_format(r, c, format!("<{}", report.min_cell), &hidden)
                        .map(|_| ())?,
                    Cell::Withheld => ws
                        .write_string_with_format(r, c, "X", &hidden)
                        .map(|_| ())?,
                }
            }
        }
        for (r, n) in (4 + table.rows.len() as u32..).zip(&table.notes) {
            ws.write(r, 0, n)?;
        }
        ws.set_freeze_panes(3, 1)?;
    }
    wb.save_to_buffer()
}

pub fn render(report: &Report) -> Result<Vec<u8>> {
    write(report).map_err(|e| Error::Input(format!("cannot build the xlsx workbook: {e}")))
}
