//! Access boundaries per ambito on PostgreSQL: which login may see which
//! ambito's data, as a tecnico (personal data of the ambito's titolari) or a
//! lettore (aggregate report views only).
//!
//! Migration 0009 holds the roles' privileges and the row-level security
//! policies; this module keeps the list of grants (`accesso_ambito`) and the
//! login roles in step with it. Everything here is PostgreSQL only (roles do
//! not exist on SQLite), so the queries run on the PostgreSQL pool directly
//! instead of through `on_db!`.

use serde::Serialize;
use sqlx::Row as _;
use sqlx::postgres::{PgPool, Postgres};
use time::OffsetDateTime;

use crate::audit::{AuditWrite as _, Entry};
use crate::error::{DbContext as _, Error, Result};
use crate::store::Db;

/// Why `siso access` refuses a SQLite database.
pub const SQLITE_REFUSAL: &str = "access boundaries need PostgreSQL: SQLite is a single-user file protected by its permissions (0600)";

/// What a login may do within its ambito.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ruolo {
    /// Reads and writes the personal data of the ambito's titolari.
    Tecnico,
    /// Reads the aggregate report views of the ambito; no personal data.
    Lettore,
}

impl Ruolo {
    pub fn as_str(self) -> &'static str {
        match self {
            Ruolo::Tecnico => "tecnico",
            Ruolo::Lettore => "lettore",
        }
    }

    /// The group role (created by migration 0009) carrying the privileges.
    pub fn gruppo(self) -> &'static str {
        match self {
            Ruolo::Tecnico => "siso_tecnico",
            Ruolo::Lettore => "siso_lettore",
        }
    }

    pub fn parse(s: &str) -> Option<Ruolo> {
        match s.trim() {
            "tecnico" => Some(Ruolo::Tecnico),
            "lettore" => Some(Ruolo::Lettore),
            _ => None,
        }
    }
}

/// Checks a login name before it goes anywhere near SQL: `^[a-z_][a-z0-9_]{0,62}$`
/// (a PostgreSQL identifier that needs no quoting and fits in 63 bytes), not
/// reserved (`pg_*`) and not one of siso's group roles.
pub fn check_login(login: &str) -> Result<&str> {
    let bytes = login.as_bytes();
    let shape_ok = !bytes.is_empty()
        && bytes.len() <= 63
        && (bytes[0].is_ascii_lowercase() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
    if !shape_ok {
        return Err(Error::Usage(format!(
            "invalid login {login:?}: use 1 to 63 lower-case letters, digits or '_', not starting with a digit"
        )));
    }
    if login.starts_with("pg_") || login == "siso_tecnico" || login == "siso_lettore" {
        return Err(Error::Usage(format!(
            "login {login:?} is reserved (pg_* or a siso group role): choose a personal login"
        )));
    }
    Ok(login)
}

fn postgres(db: &Db) -> Result<&PgPool> {
    match db {
        Db::Postgres(pool) => Ok(pool),
        Db::Sqlite(_) => Err(Error::Usage(SQLITE_REFUSAL.into())),
    }
}

/// One grant, as `siso access list` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accesso {
    pub login: String,
    pub ambito: String,
    pub ruolo: Ruolo,
    pub concesso_il: String,
}

/// Every grant, by ambito and login; only those of one ambito if given.
pub async fn list(db: &Db, ambito: Option<&str>) -> Result<Vec<Accesso>> {
    let pool = postgres(db)?;
    let rows = sqlx::query(
        "SELECT a.login, e.codice, a.ruolo, a.concesso_il FROM accesso_ambito a \
         JOIN ente e ON e.id = a.ambito_id WHERE ($1::TEXT IS NULL OR e.codice = $1) \
         ORDER BY e.codice, a.login",
    )
    .bind(ambito)
    .fetch_all(pool)
    .await
    .db("cannot read the access grants (accesso_ambito)")?;
    rows.iter()
        .map(|r| {
            let ruolo: String = r.try_get(2).db("accesso_ambito.ruolo")?;
            let at: OffsetDateTime = r.try_get(3).db("accesso_ambito.concesso_il")?;
            Ok(Accesso {
                login: r.try_get(0).db("accesso_ambito.login")?,
                ambito: r.try_get(1).db("ente.codice")?,
                ruolo: Ruolo::parse(&ruolo).ok_or_else(|| {
                    Error::Schema(format!("accesso_ambito holds an unknown role {ruolo:?}"))
                })?,
                concesso_il: crate::rfc3339(at),
            })
        })
        .collect()
}

/// What a grant changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Esito {
    /// A new grant; `login_creato` when the login role did not exist.
    Concesso { login_creato: bool },
    /// The login already had this ambito with another role.
    RuoloCambiato { da: Ruolo },
    /// Nothing to do: the grant and the role membership were already there.
    GiaConcesso,
}

/// The ambito ente a grant is for: it must exist, be an ambito, and be a signatory.
async fn ambito_id(tx: &mut sqlx::Transaction<'_, Postgres>, codice: &str) -> Result<i64> {
    let row = sqlx::query("SELECT id, tipo, stato FROM ente WHERE codice = $1")
        .bind(codice)
        .fetch_optional(&mut **tx)
        .await
        .db("cannot read ente")?
        .ok_or_else(|| {
            Error::Refused(format!(
                "no ente with code {codice}: see `siso ente list` for the codes"
            ))
        })?;
    let (id, tipo, stato): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
    if tipo != "ambito" {
        return Err(Error::Refused(format!(
            "{codice} is a {tipo}, not an ambito: access is granted per ambito (its comuni are included)"
        )));
    }
    if stato != "aderente" {
        return Err(Error::Refused(format!(
            "{codice} is '{stato}', not an approved signatory ('aderente'): no access can be granted to it"
        )));
    }
    Ok(id)
}

/// Refuses a login that row-level security would not restrict: a superuser,
/// a role with BYPASSRLS, or one that can act as the owner of the tables.
/// Says whether the role exists.
async fn check_restricted(tx: &mut sqlx::Transaction<'_, Postgres>, login: &str) -> Result<bool> {
    let row = sqlx::query(
        "SELECT r.rolsuper, r.rolbypassrls, \
                pg_has_role(r.oid, (SELECT relowner FROM pg_class WHERE oid = 'accesso_ambito'::regclass), 'MEMBER') \
         FROM pg_roles r WHERE r.rolname = $1",
    )
    .bind(login)
    .fetch_optional(&mut **tx)
    .await
    .db("cannot read the PostgreSQL roles")?;
    let Some(row) = row else {
        return Ok(false);
    };
    let (superuser, bypass, owner): (bool, bool, bool) = (row.get(0), row.get(1), row.get(2));
    if superuser || bypass || owner {
        let why = if superuser {
            "is a superuser"
        } else if bypass {
            "has BYPASSRLS"
        } else {
            "owns (or is a member of the owner of) the siso tables"
        };
        return Err(Error::Refused(format!(
            "login {login} {why}: row-level security would not restrict it; grant access to a personal login instead"
        )));
    }
    Ok(true)
}

async fn is_member(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    login: &str,
    gruppo: &str,
) -> Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_auth_members m \
           JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member \
          WHERE g.rolname = $1 AND u.rolname = $2)",
    )
    .bind(gruppo)
    .bind(login)
    .fetch_one(&mut **tx)
    .await
    .db("cannot read the role memberships")
}

/// Removes `login` from `ruolo`'s group unless another grant in this
/// database still needs it; says whether it did.
async fn drop_membership_if_unused(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    login: &str,
    ruolo: Ruolo,
) -> Result<bool> {
    let still_used: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM accesso_ambito WHERE login = $1 AND ruolo = $2)",
    )
    .bind(login)
    .bind(ruolo.as_str())
    .fetch_one(&mut **tx)
    .await
    .db("cannot read the access grants (accesso_ambito)")?;
    if still_used || !is_member(tx, login, ruolo.gruppo()).await? {
        return Ok(false);
    }
    // Both names are checked identifiers (check_login, a constant).
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "REVOKE {} FROM \"{login}\"",
        ruolo.gruppo()
    )))
    .execute(&mut **tx)
    .await
    .db(&format!(
        "cannot remove login {login} from {}",
        ruolo.gruppo()
    ))?;
    Ok(true)
}

/// Lets `login` work on `ambito`'s data as `ruolo`: creates the login role if
/// missing, makes it a member of the role's group, records the grant, and
/// appends `entry` to the audit log, all in one transaction.
pub async fn grant(
    db: &Db,
    login: &str,
    ambito: &str,
    ruolo: Ruolo,
    entry: &Entry,
) -> Result<Esito> {
    let login = check_login(login)?;
    let pool = postgres(db)?;
    let mut tx = pool.begin().await.db("cannot start a transaction")?;
    let ambito_id = ambito_id(&mut tx, ambito).await?;
    let exists = check_restricted(&mut tx, login).await?;
    if !exists {
        // The name is a checked identifier; quoted all the same.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE ROLE \"{login}\" LOGIN"
        )))
        .execute(&mut *tx)
        .await
        .db(&format!(
            "cannot create the login role {login} (the user running siso needs CREATEROLE)"
        ))?;
    }
    let was_member = exists && is_member(&mut tx, login, ruolo.gruppo()).await?;
    if !was_member {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "GRANT {} TO \"{login}\"",
            ruolo.gruppo()
        )))
        .execute(&mut *tx)
        .await
        .db(&format!(
            "cannot make login {login} a member of {} (the user running siso needs CREATEROLE \
             and ADMIN on the group role)",
            ruolo.gruppo()
        ))?;
    }
    let previous: Option<String> =
        sqlx::query_scalar("SELECT ruolo FROM accesso_ambito WHERE login = $1 AND ambito_id = $2")
            .bind(login)
            .bind(ambito_id)
            .fetch_optional(&mut *tx)
            .await
            .db("cannot read the access grants (accesso_ambito)")?;
    let previous = previous.as_deref().and_then(Ruolo::parse);
    if previous == Some(ruolo) && was_member {
        tx.rollback().await.db("cannot end the transaction")?;
        return Ok(Esito::GiaConcesso);
    }
    sqlx::query(
        "INSERT INTO accesso_ambito (login, ambito_id, ruolo, concesso_il) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (login, ambito_id) DO UPDATE SET ruolo = EXCLUDED.ruolo, concesso_il = EXCLUDED.concesso_il",
    )
    .bind(login)
    .bind(ambito_id)
    .bind(ruolo.as_str())
    .bind(crate::now_utc())
    .execute(&mut *tx)
    .await
    .db("cannot record the access grant")?;
    if let Some(old) = previous.filter(|old| *old != ruolo) {
        drop_membership_if_unused(&mut tx, login, old).await?;
    }
    tx.append_audit(entry).await?;
    tx.commit().await.db("cannot commit the access grant")?;
    Ok(match previous {
        Some(da) if da != ruolo => Esito::RuoloCambiato { da },
        _ => Esito::Concesso {
            login_creato: !exists,
        },
    })
}

/// A grant about to be revoked, or just revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revoca {
    pub login: String,
    pub ambito: String,
    pub ruolo: Ruolo,
    /// Whether the login leaves the group role (no other grant of that role
    /// in this database); with a dry run, whether it would.
    pub gruppo_revocato: bool,
}

/// The grant of `login` on `ambito`, or a refusal naming both.
pub async fn find(db: &Db, login: &str, ambito: &str) -> Result<Accesso> {
    let login = check_login(login)?;
    list(db, Some(ambito))
        .await?
        .into_iter()
        .find(|a| a.login == login)
        .ok_or_else(|| {
            Error::Refused(format!(
                "login {login} has no access to {ambito}: see `siso access list`"
            ))
        })
}

/// Removes the grant of `login` on `ambito` and, unless another grant of the
/// same role remains in this database, the login's membership of the group
/// role; appends `entry` in the same transaction. With `dry_run` everything
/// runs and is rolled back. The login role itself is kept (it may be used in
/// other databases of the cluster).
pub async fn revoke(
    db: &Db,
    login: &str,
    ambito: &str,
    dry_run: bool,
    entry: &Entry,
) -> Result<Revoca> {
    let login = check_login(login)?;
    let pool = postgres(db)?;
    let mut tx = pool.begin().await.db("cannot start a transaction")?;
    let ruolo: Option<String> = sqlx::query_scalar(
        "DELETE FROM accesso_ambito a USING ente e \
         WHERE e.id = a.ambito_id AND e.codice = $2 AND a.login = $1 RETURNING a.ruolo",
    )
    .bind(login)
    .bind(ambito)
    .fetch_optional(&mut *tx)
    .await
    .db("cannot remove the access grant")?;
    let ruolo = ruolo.as_deref().and_then(Ruolo::parse).ok_or_else(|| {
        Error::Refused(format!(
            "login {login} has no access to {ambito}: see `siso access list`"
        ))
    })?;
    let gruppo_revocato = drop_membership_if_unused(&mut tx, login, ruolo).await?;
    tx.append_audit(entry).await?;
    if dry_run {
        tx.rollback().await.db("cannot roll back the dry run")?;
    } else {
        tx.commit().await.db("cannot commit the revocation")?;
    }
    Ok(Revoca {
        login: login.to_string(),
        ambito: ambito.to_string(),
        ruolo,
        gruppo_revocato,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_plain_identifiers() {
        for ok in ["mrossi", "_x", "tecnico_monza_01", &"a".repeat(63)] {
            assert_eq!(check_login(ok).unwrap(), ok);
        }
        for bad in [
            "",
            "1abc",
            "MRossi",
            "m-rossi",
            "m rossi",
            "x\"; DROP ROLE postgres; --",
            "è",
            &"a".repeat(64),
            "pg_monitor",
            "siso_tecnico",
            "siso_lettore",
        ] {
            assert!(
                matches!(check_login(bad), Err(Error::Usage(_))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn roles_map_to_their_groups() {
        assert_eq!(Ruolo::parse("tecnico"), Some(Ruolo::Tecnico));
        assert_eq!(Ruolo::parse("lettore").unwrap().gruppo(), "siso_lettore");
        assert_eq!(Ruolo::parse("admin"), None);
    }
}
