//! `siso report monitoring`: the "grado di utilizzo" of the system (Art. 5)
//! per comune and ente of one ambito or of all.
//!
//! Activity of a comune: any dated event of the cartelle recorded for it
//! (`cartella.comune_istat`): a cartella opened or closed, a state change
//! (cartella_stato), an intervention started, a delivery (erogazione), a
//! diary note; plus the import batches of the comune's own ente. Events dated
//! after `as_of` are ignored. "Last 30 days" is the 30 days ending with
//! `as_of` (as_of included), likewise 90. A comune with no activity in the
//! last 90 days is flagged, and the command exits 1 (for scheduled checks).
//! Memberships are those valid on `as_of`.

use std::collections::{BTreeMap, HashMap};

use time::{Date, Duration};

use super::model::{Cell, Chart, Column, Lang, Report, Section, Table};
use super::period::Period;
use super::query;
use crate::error::{Error, Result};
use crate::store::Db;

#[derive(Debug, Clone)]
pub struct MonitoringOptions {
    pub ambito: Option<String>,
    pub as_of: Date,
    pub lang: Lang,
    pub min_cell: i64,
    /// How many months the adoption trend shows (ending with as_of's month).
    pub months: u32,
}

pub struct Monitoring {
    pub report: Report,
    /// Comuni (names) without activity in the 90 days ending on as_of.
    pub inattivi: Vec<String>,
}

pub async fn monitoring(db: &Db, opts: &MonitoringOptions) -> Result<Monitoring> {
    let lang = opts.lang;
    let ambiti = query::ambiti(db, opts.ambito.as_deref()).await?;
    if let (Some(code), true) = (&opts.ambito, ambiti.is_empty()) {
        return Err(Error::Usage(format!(
            "no ambito with code {code}: see `siso ente list` for the codes of the ambiti"
        )));
    }
    let scope = opts
        .ambito
        .as_ref()
        .and_then(|_| ambiti.first().map(|a| a.id));
    let what = opts.ambito.as_deref().unwrap_or("all the ambiti");
    query::check_sees_all(db, scope, what).await?;
    let day = Period::new(opts.as_of, opts.as_of)?;
    let memberships = query::memberships(db, &day, scope).await?;
    let mut comuni: Vec<String> = memberships.iter().map(|m| m.comune.clone()).collect();
    comuni.sort();
    comuni.dedup();
    let info = query::comuni(db, &comuni).await?;
    let attivita = query::attivita(db, opts.as_of, &comuni).await?;
    let first_month = month_start(opts.as_of, opts.months.saturating_sub(1));
    let mensile = query::attivita_mensile(db, first_month, opts.as_of, &comuni).await?;
    let imports: Vec<query::ImportRow> = query::imports(db)
        .await?
        .into_iter()
        .filter(|i| i.giorno <= opts.as_of && i.stato == "completato")
        .collect();
    let enti_comune = query::enti_comune(db).await?;
    let ente_of_comune: HashMap<&str, (i64, &str)> = enti_comune
        .iter()
        .map(|(id, istat, nome)| (istat.as_str(), (*id, nome.as_str())))
        .collect();
    let d90 = opts.as_of - Duration::days(90);
    let imports_of = |ente: i64| -> (i64, i64, Option<Date>) {
        let mine: Vec<&query::ImportRow> = imports.iter().filter(|i| i.ente_id == ente).collect();
        (
            mine.len() as i64,
            mine.iter().filter(|i| i.giorno > d90).count() as i64,
            mine.iter().map(|i| i.giorno).max(),
        )
    };
    let nome = |c: &str| {
        info.get(c)
            .map_or_else(|| c.to_string(), |i| i.nome.clone())
    };

    // Per comune.
    let mut t1 = Table::new(
        "attivita_comuni",
        lang.t("Attività per comune", "Activity per comune"),
        vec![
            Column::plain("Ambito"),
            Column::plain("Comune"),
            Column::plain(lang.t("Ultima attività", "Last activity")),
            Column::count_alone(lang.t("Eventi ultimi 30 giorni", "Events, last 30 days")),
            Column::count_alone(lang.t("Eventi ultimi 90 giorni", "Events, last 90 days")),
            Column::plain(lang.t("Importazioni", "Imports")),
            Column::plain(lang.t("Stato", "Status")),
        ],
    );
    let mut inattivi = Vec::new();
    // (ambito id) -> (comuni, comuni active in 90 days)
    let mut share: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for a in &ambiti {
        let mut mine: Vec<&String> = memberships
            .iter()
            .filter(|m| m.ambito_id == a.id && m.valid_on(opts.as_of))
            .map(|m| &m.comune)
            .collect();
        mine.sort_by_key(|c| nome(c));
        mine.dedup();
        for c in mine {
            let act = attivita.get(c.as_str());
            let import = ente_of_comune
                .get(c.as_str())
                .map(|(id, _)| imports_of(*id));
            let last_import = import.and_then(|i| i.2);
            let ultima = [act.and_then(|a| a.ultima), last_import]
                .into_iter()
                .flatten()
                .max();
            let recent = act.map_or(0, |a| a.ultimi_90) + import.map_or(0, |i| i.1);
            let entry = share.entry(a.id).or_default();
            entry.0 += 1;
            let stato = if recent > 0 {
                entry.1 += 1;
                lang.t("attivo", "active").to_string()
            } else {
                inattivi.push(nome(c));
                lang.t("NESSUNA ATTIVITÀ DA 90 GIORNI", "NO ACTIVITY FOR 90 DAYS")
                    .to_string()
            };
            t1.rows.push(vec![
                Cell::text(&a.denominazione),
                Cell::Text(nome(c)),
                ultima.map_or(Cell::Empty, Cell::Date),
                Cell::Int(act.map_or(0, |a| a.ultimi_30)),
                Cell::Int(act.map_or(0, |a| a.ultimi_90)),
                Cell::Int(import.map_or(0, |i| i.0)),
                Cell::Text(stato),
            ]);
        }
    }

    // Per ambito: share of comuni with activity, imports of its entes.
    let mut t2 = Table::new(
        "utilizzo_ambiti",
        lang.t("Grado di utilizzo per ambito", "Degree of use per ambito"),
        vec![
            Column::plain("Ambito"),
            Column::plain(lang.t("Comuni", "Comuni")),
            Column::plain(lang.t(
                "Comuni attivi negli ultimi 90 giorni",
                "Comuni active in the last 90 days",
            )),
            Column::plain(lang.t("Quota comuni attivi (%)", "Share of active comuni (%)")),
            Column::plain(lang.t("Importazioni dell'ambito", "Imports by the ambito")),
            Column::plain(lang.t(
                "Ultima importazione dell'ambito",
                "Last import by the ambito",
            )),
        ],
    );
    for a in &ambiti {
        let (n, active) = share.get(&a.id).copied().unwrap_or((0, 0));
        let (imp, _, last) = imports_of(a.id);
        t2.rows.push(vec![
            Cell::text(&a.denominazione),
            Cell::Int(n),
            Cell::Int(active),
            Cell::Rate((n > 0).then(|| active as f64 * 100.0 / n as f64)),
            Cell::Int(imp),
            last.map_or(Cell::Empty, Cell::Date),
        ]);
    }
    t2.charts.push(Chart::Bars { column: 3 });

    // Per ente (the ambito and its comuni that are entes): imports.
    let mut t3 = Table::new(
        "importazioni_enti",
        lang.t("Importazioni per ente", "Imports per ente"),
        vec![
            Column::plain("Ente"),
            Column::plain(lang.t("Importazioni completate", "Completed imports")),
            Column::plain(lang.t("Negli ultimi 90 giorni", "In the last 90 days")),
            Column::plain(lang.t("Ultima importazione", "Last import")),
        ],
    );
    for a in &ambiti {
        let mut entes: Vec<(i64, String)> = vec![(a.id, a.denominazione.clone())];
        for m in memberships.iter().filter(|m| m.ambito_id == a.id) {
            if let Some((id, nome)) = ente_of_comune.get(m.comune.as_str())
                && !entes.iter().any(|(e, _)| e == id)
            {
                entes.push((*id, nome.to_string()));
            }
        }
        for (id, nome) in entes {
            let (imp, recent, last) = imports_of(id);
            t3.rows.push(vec![
                Cell::Text(nome),
                Cell::Int(imp),
                Cell::Int(recent),
                last.map_or(Cell::Empty, Cell::Date),
            ]);
        }
    }

    // Adoption trend by month.
    let months = Period::new(first_month, opts.as_of)?.months();
    let mut per_month: Vec<(i64, std::collections::HashSet<&str>, i64)> =
        vec![(0, Default::default(), 0); months.len()];
    for (comune, mese, k) in &mensile {
        if let Some(i) = months.iter().position(|m| m == mese) {
            per_month[i].0 += k;
            if *k > 0 {
                per_month[i].1.insert(comune.as_str());
            }
        }
    }
    let relevant: std::collections::HashSet<i64> = ambiti
        .iter()
        .map(|a| a.id)
        .chain(
            comuni
                .iter()
                .filter_map(|c| ente_of_comune.get(c.as_str()).map(|(id, _)| *id)),
        )
        .collect();
    for i in imports.iter().filter(|i| relevant.contains(&i.ente_id)) {
        let mese = format!("{:04}-{:02}", i.giorno.year(), i.giorno.month() as u8);
        if let Some(k) = months.iter().position(|m| *m == mese) {
            per_month[k].2 += 1;
        }
    }
    let mut t4 = Table::new(
        "adozione_mensile",
        lang.t(
            "Andamento dell'adozione per mese",
            "Adoption trend by month",
        ),
        vec![
            Column::plain(lang.t("Mese", "Month")),
            Column::count_alone(lang.t("Eventi", "Events")),
            Column::plain(lang.t("Comuni con attività", "Comuni with activity")),
            Column::plain(lang.t("Importazioni", "Imports")),
        ],
    );
    for (i, mese) in months.iter().enumerate() {
        t4.rows.push(vec![
            Cell::text(mese),
            Cell::Int(per_month[i].0),
            Cell::Int(per_month[i].1.len() as i64),
            Cell::Int(per_month[i].2),
        ]);
    }
    t4.charts.push(Chart::Trend { columns: vec![2] });

    let fmt = |d: Date| format!("{:02}/{:02}/{}", d.day(), d.month() as u8, d.year());
    let title = match (&opts.ambito, ambiti.first()) {
        (Some(_), Some(a)) => format!(
            "{} — {}",
            lang.t(
                "Monitoraggio dell'utilizzo (Art. 5)",
                "Usage monitoring (Art. 5)"
            ),
            a.denominazione
        ),
        _ => lang
            .t(
                "Monitoraggio dell'utilizzo (Art. 5) — tutti gli ambiti",
                "Usage monitoring (Art. 5) — all ambiti",
            )
            .to_string(),
    };
    let report = Report {
        title,
        subtitle: vec![format!("{} {}", lang.t("Situazione al", "As of"), fmt(opts.as_of))],
        lang,
        min_cell: opts.min_cell,
        sections: vec![
            Section {
                title: lang.t("Comuni", "Comuni").to_string(),
                tables: vec![t1],
            },
            Section {
                title: lang.t("Ambiti ed enti", "Ambiti and entes").to_string(),
                tables: vec![t2, t3],
            },
            Section {
                title: lang.t("Adozione nel tempo", "Adoption over time").to_string(),
                tables: vec![t4],
            },
        ],
        footnotes: vec![lang
            .t(
                "Attività: apertura o chiusura di cartelle, cambi di stato, avvio di interventi, erogazioni e note di diario delle cartelle del comune, e importazioni dell'ente comune. Un comune senza attività negli ultimi 90 giorni è segnalato.",
                "Activity: cases opened or closed, state changes, interventions started, deliveries and diary notes of the comune's cases, and imports by the comune's ente. A comune with no activity in the last 90 days is flagged.",
            )
            .to_string()],
    };
    Ok(Monitoring { report, inattivi })
}

/// The first day of the month `back` months before the month of `day`.
fn month_start(day: Date, back: u32) -> Date {
    let total = day.year() * 12 + (day.month() as i32 - 1) - back as i32;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = time::Month::try_from(month0 as u8 + 1).expect("1..=12");
    Date::from_calendar_date(year, month, 1).expect("the 1st exists")
}

#[cfg(test)]
mod tests {
    use super::month_start;
    use time::macros::date;

    #[test]
    fn month_start_goes_back_across_years() {
        assert_eq!(month_start(date!(2025 - 02 - 15), 0), date!(2025 - 02 - 01));
        assert_eq!(
            month_start(date!(2025 - 02 - 15), 11),
            date!(2024 - 03 - 01)
        );
        assert_eq!(month_start(date!(2025 - 01 - 31), 1), date!(2024 - 12 - 01));
    }
}
