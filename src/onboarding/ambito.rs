//! Which ambito a comune belongs to, with validity dates (`valido_al`
//! inclusive). A comune is never in two ambiti on the same day, and only a
//! comune active on those days (ISTAT reference data) can join.

use serde::Serialize;
use time::Date;

use super::tx::OnboardingWrite;
use super::validate;
use crate::error::{DbContext as _, Error, Result};
use crate::on_db;
use crate::store::Db;

/// A membership period as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Appartenenza {
    #[serde(skip)]
    pub id: i64,
    pub ambito: String,
    pub comune_istat: String,
    pub valido_dal: Date,
    pub valido_al: Option<Date>,
}

/// Every membership period, by ambito and comune.
pub async fn all(db: &Db) -> Result<Vec<Appartenenza>> {
    on_db!(db, pool => {
        sqlx::query_as::<_, Appartenenza>(
            "SELECT a.id, e.codice AS ambito, a.comune_istat, a.valido_dal, a.valido_al \
             FROM appartenenza_ambito a JOIN ente e ON e.id = a.ambito_id ORDER BY e.codice, a.comune_istat, a.valido_dal",
        )
        .fetch_all(pool)
        .await
        .db("cannot read appartenenza_ambito")
    })
}

/// Problems with a comune joining an ambito from `dal` to `al`, without the database.
pub fn check_period(istat: &str, dal: Date, al: Option<Date>) -> Vec<String> {
    let mut problems = Vec::new();
    if al.is_some_and(|al| al < dal) {
        problems.push(format!(
            "comune {istat}: the end {} is before the start {dal}",
            al.unwrap_or(dal)
        ));
    }
    for day in [Some(dal), al].into_iter().flatten() {
        if let Err(e) = validate::comune_attivo(istat, day) {
            problems.push(e);
            break;
        }
    }
    problems
}

/// Adds a membership inside the caller's transaction, refusing an overlap
/// and a withdrawn ambito (it takes no new comuni), whether the command or
/// an onboarding file asks.
pub async fn join<T: OnboardingWrite + Send>(
    tx: &mut T,
    ambito_id: i64,
    ambito: &str,
    istat: &str,
    dal: Date,
    al: Option<Date>,
) -> Result<()> {
    if let Some(other) = tx.overlapping_membership(istat, dal, al, None).await? {
        return Err(Error::Refused(format!(
            "comune {istat} is already in ambito {other} on some day from {dal}{}: a comune is never in two ambiti on the same day; end that membership first (`siso ente leave {other} --comune {istat} --on DATE`)",
            al.map(|a| format!(" to {a}")).unwrap_or_default()
        )));
    }
    if tx.ente_stato(ambito).await?.as_deref() == Some("receduto") {
        return Err(Error::Refused(format!(
            "{ambito} has withdrawn from the protocol (receduto, Art. 9): it takes no new comuni; \
             see `siso recesso status`"
        )));
    }
    tx.insert_membership(ambito_id, istat, dal, al).await
}
