//! `siso report usage`: per comune of an ambito (or per ambito, side by
//! side) the cartelle, persons in charge, interventions, deliveries and
//! spending, operators, rates per 1,000 inhabitants, the monthly trend and
//! the data quality of a period. See [`super::query`] for which comune and
//! ambito a record counts for.
//!
//! Definitions (stated in the report's footnotes too):
//! - open at the start: opened before the first day, not closed before it;
//!   open at the end: opened by the last day, not closed by it. With
//!   unchanged membership, start + opened - closed = end.
//! - persons in charge: distinct persons with a case open on some day of the
//!   period, counted once per comune and SISO category (totals add these).
//! - interventions: started in the period; deliveries and spending: dated in
//!   the period, whatever the start of their intervention.
//! - active operators: responsible for a case opened or closed in the
//!   period, or author of a diary note in it; the total counts each once.
//! - rates per 1,000 inhabitants use the comune populations of the reference
//!   data (`comune.popolazione`); an ambito's population is the sum of its
//!   comuni in the period.
//!
//! Where the figures come from: the cartelle (stocks and flows, monthly
//! openings and closings, cases without an operator or without activity),
//! the interventions and the deliveries from the daily aggregates of
//! [`super::statistica`]; the distinct persons in charge and those without
//! a valid codice fiscale from the persons statistics of the same module
//! ([`query::persone_aggregati`]); the operators from the case rows
//! ([`super::query`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use time::Date;

use super::model::{Cell, Chart, Column, Lang, Report, Section, Table};
use super::period::Period;
use super::query;
use crate::error::{Error, Result};
use crate::store::Db;

#[derive(Debug, Clone)]
pub struct UsageOptions {
    pub period: Period,
    /// One ambito by ente code, or None for all the ambiti side by side.
    pub ambito: Option<String>,
    /// How many prestazione codes are listed before "the others".
    pub top: usize,
    pub lang: Lang,
    pub min_cell: i64,
    /// The day the report is made (shown under the title).
    pub today: Date,
}

/// A row of the per-territory tables: a comune, or an ambito.
struct Unit {
    label: String,
    popolazione: Option<i64>,
}

/// The usage report, NOT yet suppressed: call [`Report::apply_suppression`]
/// before it leaves the process (the `siso report` command always does).
pub async fn usage(db: &Db, opts: &UsageOptions) -> Result<Report> {
    let lang = opts.lang;
    let p = opts.period;
    let ambiti = query::ambiti(db, opts.ambito.as_deref()).await?;
    let scope = match &opts.ambito {
        Some(code) => Some(
            ambiti
                .first()
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "no ambito with code {code}: see `siso ente list` for the codes of the ambiti"
                    ))
                })?
                .id,
        ),
        None => None,
    };
    let what = opts.ambito.as_deref().unwrap_or("all the ambiti");
    query::check_sees_all(db, scope, what).await?;
    let memberships = query::memberships(db, &p, scope).await?;
    let codes: Vec<String> = memberships.iter().map(|m| m.comune.clone()).collect();
    let comuni_info = query::comuni(db, &codes).await?;

    // The rows of the per-territory tables, and which row a record counts for.
    let mut units: Vec<Unit> = Vec::new();
    let mut unit_of: HashMap<(i64, String), usize> = HashMap::new();
    if scope.is_some() {
        let mut codes: Vec<&String> = memberships.iter().map(|m| &m.comune).collect();
        codes.sort();
        codes.dedup();
        let mut named: Vec<(String, String)> = codes
            .into_iter()
            .map(|c| {
                let nome = comuni_info
                    .get(c)
                    .map_or_else(|| c.clone(), |i| i.nome.clone());
                (nome, c.clone())
            })
            .collect();
        named.sort();
        for (nome, code) in named {
            for m in memberships.iter().filter(|m| m.comune == code) {
                unit_of.insert((m.ambito_id, code.clone()), units.len());
            }
            units.push(Unit {
                label: nome,
                popolazione: comuni_info.get(&code).and_then(|i| i.popolazione),
            });
        }
    } else {
        for a in &ambiti {
            let mut comuni: Vec<&String> = memberships
                .iter()
                .filter(|m| m.ambito_id == a.id)
                .map(|m| &m.comune)
                .collect();
            comuni.sort();
            comuni.dedup();
            let pops: Vec<Option<i64>> = comuni
                .iter()
                .map(|c| comuni_info.get(*c).and_then(|i| i.popolazione))
                .collect();
            let popolazione = if pops.is_empty() || pops.iter().any(Option::is_none) {
                None
            } else {
                Some(pops.iter().flatten().sum())
            };
            for c in comuni {
                unit_of.insert((a.id, c.clone()), units.len());
            }
            units.push(Unit {
                label: a.denominazione.clone(),
                popolazione,
            });
        }
    }
    let n = units.len();
    let unit = |ambito: i64, comune: &str| unit_of.get(&(ambito, comune.to_string())).copied();

    // Fetch.
    // Each query is timed at debug level (`-vv`), to find a slow one.
    macro_rules! timed {
        ($name:literal, $call:expr) => {{
            let started = std::time::Instant::now();
            let rows = $call.await?;
            tracing::debug!(
                "report query {}: {:.3} s",
                $name,
                started.elapsed().as_secs_f64()
            );
            rows
        }};
    }
    let flows = timed!("flows", query::flows_aggregati(db, &p, scope));
    let query::Persone {
        per_area: persone,
        senza_cf,
    } = timed!("persone", query::persone_aggregati(db, &p, scope));
    let interventi = timed!("interventi", query::interventi_aggregati(db, &p, scope));
    let erogazioni = timed!("erogazioni", query::erogazioni_aggregati(db, &p, scope));
    let operatori = timed!("operatori", query::operatori(db, &p, scope));
    let mesi = timed!("mesi", query::mesi_cartelle_aggregati(db, &p, scope));
    let dormienti = timed!("dormienti", query::dormienti_aggregati(db, &p, scope));
    let prestazioni = timed!("prestazioni", query::prestazioni(db));

    let unit_label = lang.t(
        if scope.is_some() { "Comune" } else { "Ambito" },
        if scope.is_some() { "Comune" } else { "Ambito" },
    );
    let total_label = lang.t("Totale", "Total").to_string();
    let pop_header = lang.t("Popolazione", "Population");
    let tot_pop: Option<i64> = if units.iter().all(|u| u.popolazione.is_some()) && n > 0 {
        Some(units.iter().filter_map(|u| u.popolazione).sum())
    } else {
        None
    };
    let rate = |count: i64, pop: Option<i64>| -> Cell {
        Cell::Rate(
            pop.filter(|&p| p > 0)
                .map(|p| count as f64 * 1000.0 / p as f64),
        )
    };

    // 1. Cartelle: stocks and flows.
    let mut f = vec![[0i64; 4]; n];
    for (a, c, v) in &flows {
        if let Some(u) = unit(*a, c) {
            for k in 0..4 {
                f[u][k] += v[k];
            }
        }
    }
    let mut t1 = Table::new(
        "cartelle",
        lang.t(
            "Cartelle sociali: aperte, chiuse, in carico",
            "Case records: opened, closed, open",
        ),
        vec![
            Column::plain(unit_label),
            Column::plain(pop_header),
            Column::count_alone(lang.t("Aperte a inizio periodo", "Open at start")),
            Column::count_alone(lang.t("Aperte nel periodo", "Opened")),
            Column::count_alone(lang.t("Chiuse nel periodo", "Closed")),
            Column::count_alone(lang.t("Aperte a fine periodo", "Open at end")),
            Column::follows(
                lang.t("Aperture per 1.000 ab.", "Openings per 1,000 inh."),
                3,
            ),
            Column::follows(
                lang.t(
                    "In carico a fine per 1.000 ab.",
                    "Open at end per 1,000 inh.",
                ),
                5,
            ),
        ],
    );
    let mut tot = [0i64; 4];
    for (u, unit) in units.iter().enumerate() {
        for k in 0..4 {
            tot[k] += f[u][k];
        }
        t1.rows.push(vec![
            Cell::text(&unit.label),
            unit.popolazione.map_or(Cell::Empty, Cell::Int),
            Cell::Int(f[u][0]),
            Cell::Int(f[u][1]),
            Cell::Int(f[u][2]),
            Cell::Int(f[u][3]),
            rate(f[u][1], unit.popolazione),
            rate(f[u][3], unit.popolazione),
        ]);
    }
    t1.rows.push(vec![
        Cell::text(&total_label),
        tot_pop.map_or(Cell::Empty, Cell::Int),
        Cell::Int(tot[0]),
        Cell::Int(tot[1]),
        Cell::Int(tot[2]),
        Cell::Int(tot[3]),
        rate(tot[1], tot_pop),
        rate(tot[3], tot_pop),
    ]);
    t1.total_row = Some(n);
    for r in 0..=n {
        t1.relations.push(vec![(r, 2), (r, 3), (r, 4), (r, 5)]);
    }
    t1.charts.push(Chart::Bars { column: 7 });
    t1.notes.push(
        lang.t(
            "Aperte a inizio + aperte nel periodo - chiuse nel periodo = aperte a fine, se l'appartenenza dei comuni all'ambito non cambia nel periodo.",
            "Open at start + opened - closed = open at end, when no comune joins or leaves the ambito in the period.",
        )
        .to_string(),
    );

    // 2. Persons in charge by SISO category.
    let categorie = ["1", "2", "3", "4", ""];
    let mut pc = vec![[0i64; 5]; n];
    for (a, c, cat, k) in &persone {
        if let (Some(u), Some(i)) = (unit(*a, c), categorie.iter().position(|x| x == cat)) {
            pc[u][i] += k;
        }
    }
    let mut t2 = Table::new(
        "persone_area",
        lang.t(
            "Persone in carico per area utenza (categoria SISO)",
            "Persons in charge by target area (SISO category)",
        ),
        vec![
            Column::plain(unit_label),
            Column::count(lang.t("Famiglia e minori", "Family and minors")),
            Column::count(lang.t("Disabili", "Disabled")),
            Column::count(lang.t("Adulti", "Adults")),
            Column::count(lang.t("Anziani", "Elderly")),
            Column::count(lang.t("Area non indicata", "Area not given")),
            Column::count_alone(lang.t("Totale", "Total")),
        ],
    );
    let mut ptot = [0i64; 5];
    for (u, unit) in units.iter().enumerate() {
        let mut row = vec![Cell::text(&unit.label)];
        for k in 0..5 {
            ptot[k] += pc[u][k];
            row.push(Cell::Int(pc[u][k]));
        }
        row.push(Cell::Int(pc[u].iter().sum()));
        t2.rows.push(row);
    }
    let mut row = vec![Cell::text(&total_label)];
    row.extend(ptot.iter().map(|&v| Cell::Int(v)));
    row.push(Cell::Int(ptot.iter().sum()));
    t2.rows.push(row);
    t2.total_row = Some(n);
    t2.total_col = Some(6);
    t2.notes.push(
        lang.t(
            "Persone distinte con una cartella aperta in almeno un giorno del periodo, contate una volta per comune e area, \
             nell'ambito di cui il comune faceva parte in quei giorni.",
            "Distinct persons with a case open on at least one day of the period, counted once per comune and area, \
             in the ambito the comune belonged to on those days.",
        )
        .to_string(),
    );

    // 3. Interventions and deliveries by prestazione code (top N).
    #[derive(Default, Clone)]
    struct ByCode {
        avviati: i64,
        erogazioni: i64,
        importi: [i64; 4],
    }
    let mut by_code: BTreeMap<Option<String>, ByCode> = BTreeMap::new();
    for r in &interventi {
        if unit(r.ambito_id, &r.comune).is_some() {
            by_code.entry(r.codice.clone()).or_default().avviati += r.avviati;
        }
    }
    for r in &erogazioni {
        if unit(r.ambito_id, &r.comune).is_some() {
            let e = by_code.entry(r.codice.clone()).or_default();
            e.erogazioni += r.erogazioni;
            for k in 0..4 {
                e.importi[k] += r.importi[k];
            }
        }
    }
    let senza_codice = by_code.remove(&None);
    let mut ranked: Vec<(String, ByCode)> = by_code
        .into_iter()
        .filter_map(|(k, v)| Some((k?, v)))
        .collect();
    ranked.sort_by(|a, b| {
        (b.1.avviati, b.1.erogazioni)
            .cmp(&(a.1.avviati, a.1.erogazioni))
            .then(a.0.cmp(&b.0))
    });
    let others: Vec<(String, ByCode)> = ranked.split_off(ranked.len().min(opts.top));
    let mut t3 = Table::new(
        "prestazioni",
        &format!(
            "{} {}",
            lang.t(
                "Interventi avviati ed erogazioni per prestazione INPS: prime",
                "Interventions started and deliveries by INPS prestazione: top"
            ),
            opts.top
        ),
        vec![
            Column::plain(lang.t("Prestazione", "Prestazione")),
            Column::count_alone(lang.t("Interventi avviati", "Interventions started")),
            Column::count_alone(lang.t("Erogazioni", "Deliveries")),
            Column::follows(lang.t("Spesa (€)", "Spending (€)"), 2),
            Column::follows(lang.t("Quota utente (€)", "User share (€)"), 2),
            Column::follows(lang.t("Quota SSN (€)", "NHS share (€)"), 2),
            Column::follows(lang.t("Quota ente (€)", "Ente share (€)"), 2),
        ],
    );
    let code_row = |label: String, v: &ByCode| -> Vec<Cell> {
        let mut row = vec![
            Cell::Text(label),
            Cell::Int(v.avviati),
            Cell::Int(v.erogazioni),
        ];
        row.extend(v.importi.iter().map(|&c| Cell::Money(c)));
        row
    };
    let mut ctot = ByCode::default();
    let add = |t: &mut ByCode, v: &ByCode| {
        t.avviati += v.avviati;
        t.erogazioni += v.erogazioni;
        for k in 0..4 {
            t.importi[k] += v.importi[k];
        }
    };
    for (code, v) in &ranked {
        add(&mut ctot, v);
        let label = match prestazioni.get(code) {
            Some((descr, _)) => format!("{code} {descr}"),
            None => code.clone(),
        };
        t3.rows.push(code_row(label, v));
    }
    if !others.is_empty() {
        let mut o = ByCode::default();
        for (_, v) in &others {
            add(&mut o, v);
        }
        add(&mut ctot, &o);
        let label = format!(
            "{} ({} {})",
            lang.t("Altre prestazioni", "Other prestazioni"),
            others.len(),
            lang.t("codici", "codes")
        );
        t3.rows.push(code_row(label, &o));
    }
    if let Some(v) = &senza_codice {
        add(&mut ctot, v);
        t3.rows.push(code_row(
            lang.t("Senza codice prestazione", "No prestazione code")
                .to_string(),
            v,
        ));
    }
    t3.total_row = Some(t3.rows.len());
    t3.rows.push(code_row(total_label.clone(), &ctot));
    t3.charts.push(Chart::Bars { column: 1 });

    // 4. Interventions started by macro group and territory.
    let gruppi = ["A1", "A2", "A3", "Z9", ""];
    let mut g = vec![[0i64; 5]; n];
    for r in &interventi {
        if let Some(u) = unit(r.ambito_id, &r.comune) {
            let key = if r.codice.is_none() {
                ""
            } else {
                r.gruppo.as_deref().unwrap_or("Z9")
            };
            let i = gruppi.iter().position(|x| *x == key).unwrap_or(3);
            g[u][i] += r.avviati;
        }
    }
    let mut t4 = Table::new(
        "macro_gruppi",
        lang.t(
            "Interventi avviati per macro gruppo",
            "Interventions started by macro group",
        ),
        vec![
            Column::plain(unit_label),
            Column::count(lang.t("A1 Contributi economici", "A1 Economic contributions")),
            Column::count(lang.t("A2 Servizi", "A2 Services")),
            Column::count(lang.t("A3 Strutture", "A3 Structures")),
            Column::count(lang.t("Z9 Altro", "Z9 Other")),
            Column::count(lang.t("Senza codice", "No code")),
            Column::count_alone(lang.t("Totale", "Total")),
        ],
    );
    let mut gtot = [0i64; 5];
    for (u, unit) in units.iter().enumerate() {
        let mut row = vec![Cell::text(&unit.label)];
        for k in 0..5 {
            gtot[k] += g[u][k];
            row.push(Cell::Int(g[u][k]));
        }
        row.push(Cell::Int(g[u].iter().sum()));
        t4.rows.push(row);
    }
    let mut row = vec![Cell::text(&total_label)];
    row.extend(gtot.iter().map(|&v| Cell::Int(v)));
    row.push(Cell::Int(gtot.iter().sum()));
    t4.rows.push(row);
    t4.total_row = Some(n);
    t4.total_col = Some(6);

    // 5. Deliveries and spending by territory.
    let mut er = vec![(0i64, [0i64; 4]); n];
    for r in &erogazioni {
        if let Some(u) = unit(r.ambito_id, &r.comune) {
            er[u].0 += r.erogazioni;
            for k in 0..4 {
                er[u].1[k] += r.importi[k];
            }
        }
    }
    let mut t5 = Table::new(
        "spesa",
        lang.t(
            "Erogazioni e spesa con compartecipazioni",
            "Deliveries and spending with co-payments",
        ),
        vec![
            Column::plain(unit_label),
            Column::count_alone(lang.t("Erogazioni", "Deliveries")),
            Column::follows(lang.t("Spesa (€)", "Spending (€)"), 1),
            Column::follows(lang.t("Quota utente (€)", "User share (€)"), 1),
            Column::follows(lang.t("Quota SSN (€)", "NHS share (€)"), 1),
            Column::follows(lang.t("Quota ente (€)", "Ente share (€)"), 1),
            Column::follows(
                lang.t("Spesa per abitante (€)", "Spending per inhabitant (€)"),
                1,
            ),
        ],
    );
    let per_inhabitant = |cents: i64, pop: Option<i64>| -> Cell {
        Cell::Rate(
            pop.filter(|&p| p > 0)
                .map(|p| cents as f64 / 100.0 / p as f64),
        )
    };
    let mut etot = (0i64, [0i64; 4]);
    for (u, unit) in units.iter().enumerate() {
        etot.0 += er[u].0;
        let mut row = vec![Cell::text(&unit.label), Cell::Int(er[u].0)];
        for k in 0..4 {
            etot.1[k] += er[u].1[k];
            row.push(Cell::Money(er[u].1[k]));
        }
        row.push(per_inhabitant(er[u].1[0], unit.popolazione));
        t5.rows.push(row);
    }
    let mut row = vec![Cell::text(&total_label), Cell::Int(etot.0)];
    row.extend(etot.1.iter().map(|&c| Cell::Money(c)));
    row.push(per_inhabitant(etot.1[0], tot_pop));
    t5.rows.push(row);
    t5.total_row = Some(n);
    t5.charts.push(Chart::Bars { column: 2 });

    // 6. Operators.
    let mut ops: Vec<HashSet<i64>> = vec![HashSet::new(); n];
    let mut all_ops: HashSet<i64> = HashSet::new();
    for (a, c, op) in &operatori {
        if let Some(u) = unit(*a, c) {
            ops[u].insert(*op);
            all_ops.insert(*op);
        }
    }
    let mut t6 = Table::new(
        "operatori",
        lang.t(
            "Operatori attivi e carico di lavoro",
            "Active operators and caseload",
        ),
        vec![
            Column::plain(unit_label),
            Column::count_alone(lang.t("Operatori attivi", "Active operators")),
            Column::count_alone(lang.t("Cartelle aperte a fine periodo", "Cases open at end")),
            Column::follows(lang.t("Cartelle per operatore", "Cases per operator"), 1),
        ],
    );
    let per_op = |cases: i64, ops: usize| Cell::Rate((ops > 0).then(|| cases as f64 / ops as f64));
    for (u, unit) in units.iter().enumerate() {
        t6.rows.push(vec![
            Cell::text(&unit.label),
            Cell::Int(ops[u].len() as i64),
            Cell::Int(f[u][3]),
            per_op(f[u][3], ops[u].len()),
        ]);
    }
    t6.rows.push(vec![
        Cell::text(&total_label),
        Cell::Int(all_ops.len() as i64),
        Cell::Int(tot[3]),
        per_op(tot[3], all_ops.len()),
    ]);
    t6.total_row = Some(n);
    t6.notes.push(
        lang.t(
            "Operatore attivo: responsabile di una cartella aperta o chiusa nel periodo, o autore di una nota di diario nel periodo. Nel totale ogni operatore conta una volta.",
            "Active operator: responsible for a case opened or closed in the period, or author of a diary note in it. The total counts each operator once.",
        )
        .to_string(),
    );

    // 7. Monthly trend.
    let months = p.months();
    let mut m = vec![[0i64; 4]; months.len()];
    for (a, mese, aperte, chiuse) in &mesi {
        if scope.is_none_or(|s| s == *a)
            && ambiti.iter().any(|x| x.id == *a)
            && let Some(i) = months.iter().position(|x| x == mese)
        {
            m[i][0] += aperte;
            m[i][1] += chiuse;
        }
    }
    for r in &erogazioni {
        if unit(r.ambito_id, &r.comune).is_some()
            && let Some(i) = months.iter().position(|x| *x == r.mese)
        {
            m[i][2] += r.erogazioni;
            m[i][3] += r.importi[0];
        }
    }
    let mut t7 = Table::new(
        "andamento_mensile",
        lang.t("Andamento mensile", "Monthly trend"),
        vec![
            Column::plain(lang.t("Mese", "Month")),
            Column::count_alone(lang.t("Cartelle aperte", "Cases opened")),
            Column::count_alone(lang.t("Cartelle chiuse", "Cases closed")),
            Column::count_alone(lang.t("Erogazioni", "Deliveries")),
            Column::follows(lang.t("Spesa (€)", "Spending (€)"), 3),
        ],
    );
    let mut mtot = [0i64; 4];
    for (i, mese) in months.iter().enumerate() {
        for k in 0..4 {
            mtot[k] += m[i][k];
        }
        t7.rows.push(vec![
            Cell::text(mese),
            Cell::Int(m[i][0]),
            Cell::Int(m[i][1]),
            Cell::Int(m[i][2]),
            Cell::Money(m[i][3]),
        ]);
    }
    t7.total_row = Some(months.len());
    t7.rows.push(vec![
        Cell::text(&total_label),
        Cell::Int(mtot[0]),
        Cell::Int(mtot[1]),
        Cell::Int(mtot[2]),
        Cell::Money(mtot[3]),
    ]);
    t7.charts.push(Chart::Trend {
        columns: vec![1, 2],
    });
    t7.charts.push(Chart::Trend { columns: vec![4] });

    // 8. Data quality.
    let mut q = vec![[0i64; 4]; n];
    for (a, c, k) in &senza_cf {
        if let Some(u) = unit(*a, c) {
            q[u][0] += k;
        }
    }
    for (a, c, v) in &flows {
        if let Some(u) = unit(*a, c) {
            q[u][1] += v[4];
        }
    }
    for (a, c, k) in &dormienti {
        if let Some(u) = unit(*a, c) {
            q[u][3] += k;
        }
    }
    for r in &interventi {
        if r.codice.is_none()
            && let Some(u) = unit(r.ambito_id, &r.comune)
        {
            q[u][2] += r.avviati;
        }
    }
    let mut t8 = Table::new(
        "qualita_dati",
        lang.t("Qualità dei dati", "Data quality"),
        vec![
            Column::plain(unit_label),
            Column::count_alone(lang.t(
                "Persone senza codice fiscale valido",
                "Persons without a valid codice fiscale",
            )),
            Column::count_alone(lang.t(
                "Cartelle senza operatore responsabile",
                "Cases without a responsible operator",
            )),
            Column::count_alone(lang.t(
                "Interventi senza codice prestazione",
                "Interventions without a code",
            )),
            Column::count_alone(lang.t(
                "Cartelle aperte da oltre 3 anni senza attività nell'ultimo anno",
                "Cases open over 3 years with no activity in the last year",
            )),
        ],
    );
    let mut qtot = [0i64; 4];
    for (u, unit) in units.iter().enumerate() {
        let mut row = vec![Cell::text(&unit.label)];
        for k in 0..4 {
            qtot[k] += q[u][k];
            row.push(Cell::Int(q[u][k]));
        }
        t8.rows.push(row);
    }
    let mut row = vec![Cell::text(&total_label)];
    row.extend(qtot.iter().map(|&v| Cell::Int(v)));
    t8.rows.push(row);
    t8.total_row = Some(n);
    t8.notes.push(
        lang.t(
            "Sulle cartelle aperte in almeno un giorno del periodo. Codice fiscale valido: 16 caratteri con carattere di controllo corretto (omocodie comprese) o codice provvisorio di 11 cifre. «Senza attività»: nessun cambio di stato, intervento avviato, erogazione o nota di diario nei 12 mesi che terminano con il periodo.",
            "Over the cases open on at least one day of the period. Valid codice fiscale: 16 characters with a correct check character (omocodia included) or a temporary 11-digit code. \"No activity\": no state change, intervention started, delivery or diary note in the 12 months ending with the period.",
        )
        .to_string(),
    );

    let title = match (&opts.ambito, ambiti.first()) {
        (Some(_), Some(a)) => format!(
            "{} — {}",
            lang.t("Utilizzo di SISO", "SISO usage"),
            a.denominazione
        ),
        _ => lang
            .t(
                "Utilizzo di SISO — ambiti a confronto",
                "SISO usage — ambiti side by side",
            )
            .to_string(),
    };
    let fmt = |d: Date| format!("{:02}/{:02}/{}", d.day(), d.month() as u8, d.year());
    let subtitle = vec![
        format!(
            "{} {} {} {}",
            lang.t("Periodo: dal", "Period: from"),
            fmt(p.start),
            lang.t("al", "to"),
            fmt(p.end)
        ),
        format!(
            "{} {}",
            lang.t("Prodotto il", "Produced on"),
            fmt(opts.today)
        ),
    ];
    let sections = vec![
        Section {
            title: lang
                .t(
                    "Cartelle e persone in carico",
                    "Case records and persons in charge",
                )
                .to_string(),
            tables: vec![t1, t2],
        },
        Section {
            title: lang
                .t(
                    "Interventi, erogazioni e spesa",
                    "Interventions, deliveries and spending",
                )
                .to_string(),
            tables: vec![t3, t4, t5],
        },
        Section {
            title: lang.t("Operatori", "Operators").to_string(),
            tables: vec![t6],
        },
        Section {
            title: lang.t("Andamento mensile", "Monthly trend").to_string(),
            tables: vec![t7],
        },
        Section {
            title: lang.t("Qualità dei dati", "Data quality").to_string(),
            tables: vec![t8],
        },
    ];
    let footnotes = vec![
        lang.t(
            "Una cartella conta per il comune indicato nella cartella e per l'ambito a cui il comune apparteneva alla data dell'evento (apertura, chiusura, avvio dell'intervento, erogazione); le cartelle aperte a inizio e fine periodo per l'appartenenza al primo e all'ultimo giorno.",
            "A case counts for the comune recorded on it, and for the ambito the comune belonged to on the date of the event (opening, closing, start of the intervention, delivery); cases open at the start and end of the period by membership on its first and last day.",
        )
        .to_string(),
        lang.t(
            "Tassi per 1.000 abitanti calcolati sulla popolazione dei comuni nei dati di riferimento di siso.",
            "Rates per 1,000 inhabitants use the comune populations in siso's reference data.",
        )
        .to_string(),
    ];
    Ok(Report {
        title,
        subtitle,
        lang,
        min_cell: opts.min_cell,
        sections,
        footnotes,
    })
}
