//! Which table each imported entity lands in, and its columns.

use crate::importers::fields::Entity;

/// A value bound to a database column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Db {
    Null,
    Text(String),
    Int(i64),
    Date(time::Date),
    Bool(bool),
    /// The id of another row (stored before, or of this batch).
    Id(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Date,
    Bool,
}

/// One table: its columns other than `id` and `titolare_id`, in insert order.
pub struct Spec {
    pub entity: Entity,
    pub table: &'static str,
    pub columns: &'static [(&'static str, Kind)],
}

use Kind::*;

pub const OPERATORE: Spec = Spec {
    entity: Entity::Operatore,
    table: "operatore",
    columns: &[
        ("codice_fiscale", Text),
        ("cognome", Text),
        ("nome", Text),
        ("professione", Text),
        ("attivo_dal", Date),
        ("attivo_al", Date),
    ],
};

pub const PERSONA: Spec = Spec {
    entity: Entity::Persona,
    table: "persona",
    columns: &[
        ("codice_fiscale", Text),
        ("cf_chiave", Text),
        ("id_temporaneo", Text),
        ("cognome", Text),
        ("nome", Text),
        ("sesso", Text),
        ("data_nascita", Date),
        ("luogo_nascita_belfiore", Text),
        ("residenza_istat", Text),
        ("indirizzo", Text),
        ("telefono", Text),
        ("email", Text),
        ("data_decesso", Date),
    ],
};

pub const CARTELLA: Spec = Spec {
    entity: Entity::Cartella,
    table: "cartella",
    columns: &[
        ("persona_id", Int),
        ("numero", Text),
        ("comune_istat", Text),
        ("operatore_id", Int),
        ("categoria_siso", Text),
        ("aperta_il", Date),
        ("chiusa_il", Date),
        ("stato", Text),
    ],
};

pub const CARTELLA_STATO: Spec = Spec {
    entity: Entity::CartellaStato,
    table: "cartella_stato",
    columns: &[
        ("cartella_id", Int),
        ("stato", Text),
        ("dal", Date),
        ("nota", Text),
    ],
};

pub const INTERVENTO: Spec = Spec {
    entity: Entity::Intervento,
    table: "intervento",
    columns: &[
        ("cartella_id", Int),
        ("prestazione_codice", Text),
        ("area_utenza_inps", Text),
        ("inizio", Date),
        ("fine", Date),
        ("periodicita", Text),
        ("importo_previsto_cent", Int),
    ],
};

pub const EROGAZIONE: Spec = Spec {
    entity: Entity::Erogazione,
    table: "erogazione",
    columns: &[
        ("intervento_id", Int),
        ("data", Date),
        ("periodo_dal", Date),
        ("periodo_al", Date),
        ("importo_cent", Int),
        ("quota_utente_cent", Int),
        ("quota_ssn_cent", Int),
        ("quota_ente_cent", Int),
        ("quantita_milli", Int),
        ("unita", Text),
    ],
};

pub const DIARIO: Spec = Spec {
    entity: Entity::Diario,
    table: "diario",
    columns: &[
        ("cartella_id", Int),
        ("data", Date),
        ("tipo", Text),
        ("testo", Text),
        ("riservato", Bool),
        ("operatore_id", Int),
    ],
};

pub const NUCLEO: Spec = Spec {
    entity: Entity::Nucleo,
    table: "nucleo_componente",
    columns: &[
        ("persona_id", Int),
        ("componente_persona_id", Int),
        ("cognome", Text),
        ("nome", Text),
        ("data_nascita", Date),
        ("relazione", Text),
    ],
};

/// SINA assessments (non-self-sufficiency, from SIUSS flows): `dati` is the
/// SINA element as JSON; the flow gives no assessment date, so `data` stays empty.
pub const VALUTAZIONE_SINA: Spec = Spec {
    entity: Entity::ValutazioneSina,
    table: "valutazione_sina",
    columns: &[
        ("persona_id", Int),
        ("intervento_id", Int),
        ("data", Date),
        ("dati", Text),
    ],
};

/// The field of a staged record (see `importers::fields`) a column's value
/// comes from. A record whose source has no such field (no column of the
/// file is mapped to it) leaves a stored row's column as it is: an export
/// of names and telephone numbers updates those, and does not erase the
/// codice fiscale or the birth date it does not carry.
pub fn source_field(entity: Entity, column: &'static str) -> &'static str {
    match (entity, column) {
        (Entity::Persona, "cf_chiave" | "id_temporaneo") => "codice_fiscale",
        (Entity::Persona, "luogo_nascita_belfiore") => "luogo_nascita",
        (Entity::Cartella | Entity::Nucleo | Entity::ValutazioneSina, "persona_id") => {
            "persona_id_legacy"
        }
        (Entity::Nucleo, "componente_persona_id") => "componente_id_legacy",
        (Entity::Cartella | Entity::Diario, "operatore_id") => "operatore",
        (Entity::Cartella, "categoria_siso") => "categoria",
        (_, "cartella_id") => "cartella_id_legacy",
        (_, "intervento_id") => "intervento_id_legacy",
        (Entity::Intervento, "prestazione_codice") => "prestazione",
        (Entity::Intervento, "area_utenza_inps") => "area_utenza",
        (Entity::Intervento, "importo_previsto_cent") => "importo_previsto",
        (Entity::Erogazione, "importo_cent") => "importo",
        (Entity::Erogazione, "quota_utente_cent") => "quota_utente",
        (Entity::Erogazione, "quota_ssn_cent") => "quota_ssn",
        (Entity::Erogazione, "quota_ente_cent") => "quota_ente",
        (Entity::Erogazione, "quantita_milli") => "quantita",
        (_, column) => column,
    }
}

/// In the order rows must be written (parents first).
pub const ORDER: [&Spec; 9] = [
    &OPERATORE,
    &PERSONA,
    &CARTELLA,
    &CARTELLA_STATO,
    &INTERVENTO,
    &EROGAZIONE,
    &VALUTAZIONE_SINA,
    &DIARIO,
    &NUCLEO,
];

pub fn of(entity: Entity) -> &'static Spec {
    ORDER[rank(entity)]
}

/// Position of the entity's table in [`ORDER`].
pub const fn rank(entity: Entity) -> usize {
    match entity {
        Entity::Operatore => 0,
        Entity::Persona => 1,
        Entity::Cartella => 2,
        Entity::CartellaStato => 3,
        Entity::Intervento => 4,
        Entity::Erogazione => 5,
        Entity::ValutazioneSina => 6,
        Entity::Diario => 7,
        Entity::Nucleo => 8,
    }
}

/// Whether no imported record refers to the entity's rows (nothing points
/// at a delivery, a state change, a diary note, a household member or a
/// SINA assessment): the importer keeps no row ids for these (engine.rs).
pub const fn is_leaf(entity: Entity) -> bool {
    !matches!(
        entity,
        Entity::Operatore | Entity::Persona | Entity::Cartella | Entity::Intervento
    )
}

/// The table name as the crosswalk and `import_modifica` spell it.
pub fn table_of(entity: Entity) -> &'static str {
    of(entity).table
}

pub fn by_table(table: &str) -> Option<&'static Spec> {
    ORDER.iter().find(|s| s.table == table).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column comes from a field the mapping knows (or, for SINA
    /// assessments, that the SIUSS reader writes).
    #[test]
    fn every_column_has_a_known_source_field() {
        use crate::importers::fields::FIELDS;
        for sp in ORDER {
            for (column, _) in sp.columns {
                let field = source_field(sp.entity, column);
                let known = FIELDS
                    .iter()
                    .any(|f| f.entity == sp.entity && f.name == field)
                    || (sp.entity == Entity::ValutazioneSina
                        && matches!(
                            field,
                            "persona_id_legacy" | "intervento_id_legacy" | "data" | "dati"
                        ));
                assert!(known, "{}.{column} <- {field}", sp.table);
            }
        }
    }

    #[test]
    fn rank_is_the_position_in_order() {
        for (i, sp) in ORDER.iter().enumerate() {
            assert_eq!(rank(sp.entity), i, "{}", sp.table);
        }
    }
}
