//! The report as plain data: sections of tables with typed cells and
//! footnotes. Renderers turn it into text, CSV, JSON, Markdown, HTML or xlsx;
//! queries fill it. Nothing here knows a database or a terminal.

use serde::Serialize;

/// Language of headers, labels and footnotes (Italian by default: the
/// readers are managers of Italian public bodies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    It,
    En,
}

impl Lang {
    /// Picks the Italian or the English text.
    pub fn t<'a>(self, it: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::It => it,
            Lang::En => en,
        }
    }
}

/// One typed value. `Suppressed` replaces a small count (and what could
/// reveal it) once the privacy rule ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tipo", content = "valore", rename_all = "lowercase")]
pub enum Cell {
    Int(i64),
    /// Euro cents.
    Money(i64),
    /// A ratio (per 1,000 inhabitants, per operator...); None when the
    /// denominator is zero or unknown.
    Rate(Option<f64>),
    Date(time::Date),
    Text(String),
    Empty,
    /// A count from 1 to min_cell - 1, hidden by the privacy rule; shown as
    /// `<N` with N the threshold.
    Suppressed,
    /// A larger value hidden because it would reveal a hidden count by
    /// subtraction, or an amount or rate about a hidden count; shown as `X`
    /// (ISTAT's mark for data withheld for confidentiality).
    Withheld,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// The count a cell holds, for the suppression rule.
    pub fn count(&self) -> Option<i64> {
        match self {
            Cell::Int(n) => Some(*n),
            _ => None,
        }
    }
}

/// What a column holds and how the privacy rule treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Never suppressed (names, populations, dates).
    Plain,
    /// A count of people, cases or events: small values are hidden. `sum`:
    /// the column adds up into the table's total column.
    Count { sum: bool },
    /// A value about the count in column `of` of the same row (money, a
    /// rate): hidden whenever that count is hidden.
    Follows { of: usize },
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub header: String,
    pub role: Role,
}

impl Column {
    pub fn plain(header: &str) -> Column {
        Column {
            header: header.to_string(),
            role: Role::Plain,
        }
    }
    pub fn count(header: &str) -> Column {
        Column {
            header: header.to_string(),
            role: Role::Count { sum: true },
        }
    }
    /// A count that is not part of a row sum (e.g. the total column itself,
    /// or a stock beside flows).
    pub fn count_alone(header: &str) -> Column {
        Column {
            header: header.to_string(),
            role: Role::Count { sum: false },
        }
    }
    pub fn follows(header: &str, of: usize) -> Column {
        Column {
            header: header.to_string(),
            role: Role::Follows { of },
        }
    }
}

/// Cells that obey a linear relation (a row and its total, a column and the
/// total row, stock at start + opened - closed = stock at end): if exactly
/// one of them were hidden it could be worked out from the others.
pub type Line = Vec<(usize, usize)>;

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// Stable identifier (sheet name, JSON key).
    pub id: String,
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// Index of the row that holds the column totals (the sum of the others).
    pub total_row: Option<usize>,
    /// Index of the column that holds the row totals (the sum of the
    /// `Count { sum: true }` columns).
    pub total_col: Option<usize>,
    /// Further relations between cells, beyond rows/columns and totals.
    #[serde(skip)]
    pub relations: Vec<Line>,
    /// Charts the HTML draws for this table.
    pub charts: Vec<Chart>,
    /// Notes shown under the table.
    pub notes: Vec<String>,
}

/// Charts drawn by the HTML renderer (and the terminal, for the trend).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chart {
    /// Bars per row (a month) for the listed columns.
    Trend { columns: Vec<usize> },
    /// Horizontal bars of one column, one per row (mix, comparison).
    Bars { column: usize },
}

impl Table {
    pub fn new(id: &str, title: &str, columns: Vec<Column>) -> Table {
        Table {
            id: id.to_string(),
            title: title.to_string(),
            columns,
            rows: Vec::new(),
            total_row: None,
            total_col: None,
            relations: Vec::new(),
            charts: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Every relation the privacy rule must respect: each row with its total
    /// column, each summed column with the total row, and the extra ones.
    pub fn lines(&self) -> Vec<Line> {
        let mut lines = self.relations.clone();
        let summed: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                matches!(c.role, Role::Count { sum: true }) && Some(*i) != self.total_col
            })
            .map(|(i, _)| i)
            .collect();
        if let Some(tc) = self.total_col {
            for r in 0..self.rows.len() {
                let mut line: Line = summed.iter().map(|&c| (r, c)).collect();
                line.push((r, tc));
                lines.push(line);
            }
        }
        if let Some(tr) = self.total_row {
            let counted = self
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| matches!(c.role, Role::Count { .. }))
                .map(|(i, _)| i);
            for c in counted {
                let mut line: Line = (0..self.rows.len())
                    .filter(|&r| r != tr)
                    .map(|r| (r, c))
                    .collect();
                line.push((tr, c));
                lines.push(line);
            }
        }
        lines
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub title: String,
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    /// Lines under the title: ambito, period, generation date.
    pub subtitle: Vec<String>,
    pub lang: Lang,
    /// The threshold of the privacy rule (counts 1..min_cell-1 are hidden).
    pub min_cell: i64,
    pub sections: Vec<Section>,
    pub footnotes: Vec<String>,
}

impl Report {
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.sections.iter().flat_map(|s| s.tables.iter())
    }

    pub fn tables_mut(&mut self) -> impl Iterator<Item = &mut Table> {
        self.sections.iter_mut().flat_map(|s| s.tables.iter_mut())
    }

    /// Hides small counts in every table (see [`crate::report::suppress`])
    /// and says so in a footnote.
    pub fn apply_suppression(&mut self) {
        let min = self.min_cell;
        for table in self.tables_mut() {
            super::suppress::apply(table, min);
        }
        let note = match self.lang {
            Lang::It => format!(
                "Tutela della riservatezza: i conteggi da 1 a {} sono indicati come «<{min}»; \
                 dove un totale avrebbe permesso di ricavarli per sottrazione è oscurato, con «X», \
                 anche un secondo valore (il più piccolo) o il totale; sono oscurati con «X» anche \
                 importi e tassi relativi a un conteggio oscurato. Il report non contiene dati personali.",
                min - 1
            ),
            Lang::En => format!(
                "Privacy: counts from 1 to {} are shown as \"<{min}\"; where a total would let \
                 them be worked out by subtraction, a second value (the smallest) or the total \
                 is hidden too, shown as \"X\", as are amounts and rates of a hidden count. \
                 The report holds no personal data.",
                min - 1
            ),
        };
        self.footnotes.insert(0, note);
    }
}
