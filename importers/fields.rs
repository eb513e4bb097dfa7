//! The fields an import can fill, per entity, with their kind and the legacy
//! header names that map to them automatically. The names follow the tables of
//! migration 0003 (`cartella`, `intervento`...), with amounts in plain units
//! (the reader turns "1.234,56" into 123456 cents).

/// What a legacy file describes. `Flat` files carry persona + cartella +
/// intervento (+ erogazione) on one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Persona,
    Cartella,
    CartellaStato,
    Intervento,
    Erogazione,
    Diario,
    Nucleo,
    Operatore,
    /// SINA assessments, read from SIUSS XML flows only: not in [`ENTITIES`],
    /// so no CSV mapping targets it (its `dati` is a JSON document).
    ValutazioneSina,
}

pub const ENTITIES: [Entity; 8] = [
    Entity::Persona,
    Entity::Cartella,
    Entity::CartellaStato,
    Entity::Intervento,
    Entity::Erogazione,
    Entity::Diario,
    Entity::Nucleo,
    Entity::Operatore,
];

impl Entity {
    pub fn name(self) -> &'static str {
        match self {
            Entity::Persona => "persona",
            Entity::Cartella => "cartella",
            Entity::CartellaStato => "cartella_stato",
            Entity::Intervento => "intervento",
            Entity::Erogazione => "erogazione",
            Entity::Diario => "diario",
            Entity::Nucleo => "nucleo",
            Entity::Operatore => "operatore",
            Entity::ValutazioneSina => "valutazione_sina",
        }
    }

    pub fn from_name(name: &str) -> Option<Entity> {
        ENTITIES.into_iter().find(|e| e.name() == name.trim())
    }

    /// The entity this one hangs from, and its reference field.
    pub fn parent(self) -> Option<(Entity, &'static str)> {
        match self {
            Entity::Cartella => Some((Entity::Persona, "persona_id_legacy")),
            Entity::CartellaStato => Some((Entity::Cartella, "cartella_id_legacy")),
            Entity::Intervento => Some((Entity::Cartella, "cartella_id_legacy")),
            Entity::Erogazione => Some((Entity::Intervento, "intervento_id_legacy")),
            Entity::Diario => Some((Entity::Cartella, "cartella_id_legacy")),
            Entity::Nucleo => Some((Entity::Persona, "persona_id_legacy")),
            Entity::ValutazioneSina => Some((Entity::Persona, "persona_id_legacy")),
            Entity::Persona | Entity::Operatore => None,
        }
    }

    /// Words in a file name that say which entity a one-entity file holds.
    fn file_words(self) -> &'static [&'static str] {
        match self {
            Entity::Persona => &[
                "persone",
                "anagrafica",
                "anagrafiche",
                "assistiti",
                "utenti",
            ],
            Entity::Cartella => &["cartelle"],
            Entity::CartellaStato => &["stati", "storico"],
            Entity::Intervento => &["interventi", "fogli", "servizi"],
            Entity::Erogazione => &["erogazioni", "spese", "pagamenti"],
            Entity::Diario => &["diario", "diari", "note", "colloqui"],
            Entity::Nucleo => &["nucleo", "nuclei", "familiari"],
            Entity::Operatore => &["operatori"],
            Entity::ValutazioneSina => &[],
        }
    }

    /// The entity a file name speaks of ("cartella_old_interventi.csv"), if any.
    pub fn from_file_name(name: &str) -> Option<Entity> {
        let lower = name.to_lowercase();
        let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).collect();
        ENTITIES
            .into_iter()
            .find(|e| e.file_words().iter().any(|w| words.contains(w)))
    }
}

/// How a field's text becomes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Trimmed text.
    Text,
    /// Trimmed, upper-case code (codice fiscale, ISTAT, Belfiore, sex).
    Code,
    Date,
    /// Money, in cents.
    Cents,
    /// Quantities, in thousandths.
    Milli,
    /// Yes/no.
    Flag,
}

impl Kind {
    pub fn scale(self) -> u8 {
        match self {
            Kind::Cents => 2,
            Kind::Milli => 3,
            _ => 0,
        }
    }
}

/// One target field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub entity: Entity,
    pub name: &'static str,
    pub kind: Kind,
    /// Normalised legacy header names that map here automatically.
    pub headers: &'static [&'static str],
}

impl Field {
    /// `entity.name`, the spelling of mappings.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.entity.name(), self.name)
    }
}

macro_rules! f {
    ($e:ident, $n:literal, $k:ident, [$($h:literal),*]) => {
        Field { entity: Entity::$e, name: $n, kind: Kind::$k, headers: &[$($h),*] }
    };
}

/// Every field, grouped by entity, in the order `--suggest-mapping` writes them.
pub const FIELDS: &[Field] = &[
    f!(
        Persona,
        "id_legacy",
        Code,
        [
            "ID_PERSONA",
            "ID_ASSISTITO",
            "ID_UTENTE",
            "COD_ASSISTITO",
            "COD_UTENTE",
            "ID_ANAGRAFICA",
            "ID_SOGGETTO"
        ]
    ),
    f!(
        Persona,
        "codice_fiscale",
        Code,
        [
            "CODICE_FISCALE",
            "COD_FISCALE",
            "CF",
            "CODFISC",
            "COD_FISC",
            "CODICEFISCALE"
        ]
    ),
    f!(Persona, "cognome", Text, ["COGNOME"]),
    f!(Persona, "nome", Text, ["NOME"]),
    f!(Persona, "sesso", Code, ["SESSO", "SEX", "GENERE"]),
    f!(
        Persona,
        "data_nascita",
        Date,
        [
            "DATA_NASCITA",
            "DT_NASCITA",
            "DATANASCITA",
            "DATA_DI_NASCITA",
            "NATO_IL",
            "DT_NASC"
        ]
    ),
    f!(
        Persona,
        "luogo_nascita",
        Text,
        [
            "LUOGO_NASCITA",
            "COMUNE_NASCITA",
            "LUOGO_DI_NASCITA",
            "COD_COMUNE_NASCITA",
            "BELFIORE_NASCITA",
            "NATO_A"
        ]
    ),
    f!(
        Persona,
        "cittadinanza",
        Code,
        ["CITTADINANZA", "NAZIONALITA", "COD_CITTADINANZA"]
    ),
    f!(
        Persona,
        "residenza_istat",
        Code,
        [
            "ISTAT_RESIDENZA",
            "COMUNE_RESIDENZA",
            "COD_ISTAT_RESIDENZA",
            "RESIDENZA",
            "COD_COMUNE_RESIDENZA"
        ]
    ),
    f!(
        Persona,
        "indirizzo",
        Text,
        ["INDIRIZZO", "INDIRIZZO_RESIDENZA", "VIA"]
    ),
    f!(
        Persona,
        "telefono",
        Text,
        ["TELEFONO", "TEL", "CELLULARE", "RECAPITO_TELEFONICO"]
    ),
    f!(
        Persona,
        "email",
        Text,
        ["EMAIL", "E_MAIL", "MAIL", "INDIRIZZO_EMAIL"]
    ),
    f!(
        Persona,
        "data_decesso",
        Date,
        ["DATA_DECESSO", "DT_DECESSO", "DATA_MORTE"]
    ),
    f!(Cartella, "id_legacy", Code, ["ID_CARTELLA", "COD_CARTELLA"]),
    f!(Cartella, "persona_id_legacy", Code, []),
    f!(
        Cartella,
        "numero",
        Text,
        [
            "NUMERO_CARTELLA",
            "NUM_CARTELLA",
            "N_CARTELLA",
            "NR_CARTELLA"
        ]
    ),
    f!(
        Cartella,
        "comune_istat",
        Code,
        [
            "COMUNE_ISTAT",
            "ISTAT_COMUNE",
            "COD_ISTAT_COMUNE",
            "COMUNE_CARTELLA",
            "ISTAT_CARTELLA"
        ]
    ),
    f!(
        Cartella,
        "aperta_il",
        Date,
        [
            "DATA_APERTURA",
            "DT_APERTURA",
            "APERTA_IL",
            "DATA_APERTURA_CARTELLA"
        ]
    ),
    f!(
        Cartella,
        "chiusa_il",
        Date,
        [
            "DATA_CHIUSURA",
            "DT_CHIUSURA",
            "CHIUSA_IL",
            "DATA_CHIUSURA_CARTELLA"
        ]
    ),
    f!(Cartella, "stato", Text, ["STATO", "STATO_CARTELLA"]),
    f!(
        Cartella,
        "operatore",
        Text,
        [
            "OPERATORE",
            "ASSISTENTE_SOCIALE",
            "OPERATORE_RIFERIMENTO",
            "ID_OPERATORE"
        ]
    ),
    f!(
        Cartella,
        "categoria",
        Text,
        ["CATEGORIA", "CATEGORIA_SISO", "AREA_INTERVENTO"]
    ),
    f!(CartellaStato, "cartella_id_legacy", Code, []),
    f!(CartellaStato, "stato", Text, ["STATO"]),
    f!(
        CartellaStato,
        "dal",
        Date,
        ["DAL", "DATA_STATO", "DATA", "DATA_INIZIO"]
    ),
    f!(CartellaStato, "nota", Text, ["NOTA", "NOTE"]),
    f!(
        Intervento,
        "id_legacy",
        Code,
        ["ID_INTERVENTO", "COD_INTERVENTO", "ID_FOGLIO"]
    ),
    f!(Intervento, "cartella_id_legacy", Code, []),
    f!(
        Intervento,
        "prestazione",
        Code,
        [
            "PRESTAZIONE",
            "COD_PRESTAZIONE",
            "CODICE_PRESTAZIONE",
            "COD_SERVIZIO",
            "SERVIZIO",
            "CODICE_SERVIZIO"
        ]
    ),
    f!(
        Intervento,
        "inizio",
        Date,
        ["DATA_INIZIO", "DT_INIZIO", "INIZIO", "INIZIO_INTERVENTO"]
    ),
    f!(
        Intervento,
        "fine",
        Date,
        ["DATA_FINE", "DT_FINE", "FINE", "FINE_INTERVENTO"]
    ),
    f!(
        Intervento,
        "periodicita",
        Text,
        ["PERIODICITA", "TIPO_INTERVENTO"]
    ),
    f!(
        Intervento,
        "importo_previsto",
        Cents,
        ["IMPORTO_PREVISTO", "IMPORTO", "IMPORTO_INTERVENTO"]
    ),
    f!(Intervento, "area_utenza", Text, ["AREA_UTENZA", "AREA"]),
    f!(
        Erogazione,
        "id_legacy",
        Code,
        ["ID_EROGAZIONE", "COD_EROGAZIONE", "ID_MOVIMENTO"]
    ),
    f!(Erogazione, "intervento_id_legacy", Code, []),
    f!(
        Erogazione,
        "data",
        Date,
        ["DATA_EROGAZIONE", "DT_EROGAZIONE", "DATA", "DATA_PAGAMENTO"]
    ),
    f!(Erogazione, "periodo_dal", Date, ["PERIODO_DAL", "DAL"]),
    f!(Erogazione, "periodo_al", Date, ["PERIODO_AL", "AL"]),
    f!(
        Erogazione,
        "importo",
        Cents,
        ["IMPORTO_EROGATO", "IMPORTO", "IMPORTO_EROGAZIONE"]
    ),
    f!(
        Erogazione,
        "quota_utente",
        Cents,
        ["QUOTA_UTENTE", "COMPARTECIPAZIONE"]
    ),
    f!(
        Erogazione,
        "quota_ssn",
        Cents,
        ["QUOTA_SSN", "QUOTA_SANITARIA"]
    ),
    f!(
        Erogazione,
        "quota_ente",
        Cents,
        ["QUOTA_ENTE", "QUOTA_COMUNE"]
    ),
    f!(Erogazione, "quantita", Milli, ["QUANTITA", "QTA", "ORE"]),
    f!(Erogazione, "unita", Text, ["UNITA", "UNITA_MISURA", "UM"]),
    f!(Diario, "id_legacy", Code, ["ID_DIARIO", "ID_NOTA"]),
    f!(Diario, "cartella_id_legacy", Code, []),
    f!(
        Diario,
        "data",
        Date,
        ["DATA", "DATA_NOTA", "DATA_COLLOQUIO"]
    ),
    f!(Diario, "tipo", Text, ["TIPO", "TIPO_NOTA"]),
    f!(Diario, "testo", Text, ["TESTO", "NOTA", "DESCRIZIONE"]),
    f!(
        Diario,
        "riservato",
        Flag,
        ["RISERVATO", "RISERVATA", "CONFIDENZIALE"]
    ),
    f!(Diario, "operatore", Text, ["OPERATORE", "ID_OPERATORE"]),
    f!(Nucleo, "id_legacy", Code, ["ID_COMPONENTE", "ID_FAMILIARE"]),
    f!(Nucleo, "persona_id_legacy", Code, []),
    f!(
        Nucleo,
        "componente_id_legacy",
        Code,
        ["ID_PERSONA_COMPONENTE", "ID_PERSONA_FAMILIARE"]
    ),
    f!(Nucleo, "cognome", Text, ["COGNOME", "COGNOME_COMPONENTE"]),
    f!(Nucleo, "nome", Text, ["NOME", "NOME_COMPONENTE"]),
    f!(Nucleo, "data_nascita", Date, ["DATA_NASCITA", "DT_NASCITA"]),
    f!(
        Nucleo,
        "relazione",
        Text,
        ["RELAZIONE", "PARENTELA", "GRADO_PARENTELA", "RAPPORTO"]
    ),
    f!(
        Operatore,
        "id_legacy",
        Code,
        ["ID_OPERATORE", "COD_OPERATORE", "MATRICOLA"]
    ),
    f!(
        Operatore,
        "codice_fiscale",
        Code,
        ["CODICE_FISCALE", "COD_FISCALE", "CF"]
    ),
    f!(Operatore, "cognome", Text, ["COGNOME"]),
    f!(Operatore, "nome", Text, ["NOME"]),
    f!(
        Operatore,
        "professione",
        Text,
        ["PROFESSIONE", "QUALIFICA", "PROFILO"]
    ),
    f!(
        Operatore,
        "attivo_dal",
        Date,
        ["ATTIVO_DAL", "DATA_INIZIO", "DAL"]
    ),
    f!(
        Operatore,
        "attivo_al",
        Date,
        ["ATTIVO_AL", "DATA_FINE", "AL"]
    ),
];

/// The field named `entity.name`, or `name` within `default`.
pub fn find(spec: &str, default: Option<Entity>) -> Option<&'static Field> {
    let (entity, name) = match spec.trim().split_once('.') {
        Some((e, n)) => (Entity::from_name(e)?, n),
        None => (default?, spec.trim()),
    };
    FIELDS.iter().find(|f| f.entity == entity && f.name == name)
}

/// The fields of one entity.
pub fn of(entity: Entity) -> impl Iterator<Item = &'static Field> {
    FIELDS.iter().filter(move |f| f.entity == entity)
}

/// A header as the automatic mapping compares it: upper case, accents and
/// punctuation folded ("Data di nascita" -> "DATA_DI_NASCITA", "Nazionalità" -> "NAZIONALITA").
pub fn normalise_header(h: &str) -> String {
    let mut out = String::new();
    for c in h.trim().chars() {
        let c = match c {
            'à' | 'á' | 'À' | 'Á' => 'A',
            'è' | 'é' | 'È' | 'É' => 'E',
            'ì' | 'í' | 'Ì' | 'Í' => 'I',
            'ò' | 'ó' | 'Ò' | 'Ó' => 'O',
            'ù' | 'ú' | 'Ù' | 'Ú' => 'U',
            c => c.to_ascii_uppercase(),
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_headers_normalised() {
        let mut seen = std::collections::HashSet::new();
        for f in FIELDS {
            assert!(seen.insert(f.qualified()), "{} twice", f.qualified());
            for h in f.headers {
                assert_eq!(normalise_header(h), *h, "{h} is not in normal form");
            }
        }
        for e in ENTITIES {
            if let Some((_, reference)) = e.parent() {
                assert!(
                    find(reference, Some(e)).is_some(),
                    "{} lacks {reference}",
                    e.name()
                );
            }
        }
    }

    #[test]
    fn headers_fold_case_accents_and_punctuation() {
        assert_eq!(normalise_header(" Data di nascita "), "DATA_DI_NASCITA");
        assert_eq!(normalise_header("Nazionalità"), "NAZIONALITA");
        assert_eq!(normalise_header("COD.FISCALE"), "COD_FISCALE");
    }

    #[test]
    fn fields_by_spec() {
        assert_eq!(find("persona.cognome", None).unwrap().kind, Kind::Text);
        assert_eq!(
            find("importo", Some(Entity::Erogazione)).unwrap().kind,
            Kind::Cents
        );
        assert!(find("cognome", None).is_none());
        assert_eq!(
            Entity::from_file_name("cartella_old_interventi.csv"),
            Some(Entity::Intervento)
        );
        assert_eq!(
            Entity::from_file_name("cartella_old_persone.csv"),
            Some(Entity::Persona)
        );
    }
}
