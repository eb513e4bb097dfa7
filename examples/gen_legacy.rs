//! Generates realistic legacy exports for the import benchmark: an old
//! cartella system's persons, cases, interventions and deliveries, in the
//! shape such systems write them (Windows-1252, `;`, dd/mm/yyyy, decimal
//! commas), with a few percent of dirty rows of every kind the importer
//! rejects. Fictional people; codici fiscali are computed so that the clean
//! ones are valid and match their birth data.
//!
//! `cargo run --release --example gen_legacy -- OUT_DIR PERSONS [SEED]`
//! writes persone.csv, cartelle.csv, interventi.csv, erogazioni.csv and a
//! mapping TOML beside each. Rows: PERSONS x (1 + 1 + 1.5 + 3).

use std::io::Write as _;
use std::path::Path;

const COGNOMI: &[&str] = &[
    "Rossi",
    "Brambilla",
    "Colombo",
    "Fumagalli",
    "Bianchi",
    "Ferrari",
    "Galbiati",
    "Mauri",
    "Villa",
    "Sala",
    "Citterio",
    "Cazzaniga",
    "D'Angelo",
    "Pellò",
    "Nicolò",
];
const NOMI_M: &[&str] = &[
    "Mario", "Luca", "Giuseppe", "Niccolò", "Andrea", "Giovanni", "Paolo", "Carlo",
];
const NOMI_F: &[&str] = &[
    "Anna",
    "Maria Grazia",
    "Laura",
    "Chiara",
    "Francesca",
    "Lucia",
    "Elena",
    "Noemi",
];
/// (ISTAT, Belfiore) of Monza-area comuni.
const COMUNI: &[(&str, &str)] = &[
    ("108033", "F704"),
    ("108023", "D286"),
    ("108039", "I625"),
    ("108050", "M052"),
    ("108015", "B729"),
];
const SERVIZI: &[&str] = &["SAD", "ADM", "TRASP", "CONTR"];
const MONTHS: &[u8] = b"ABCDEHLMPRST";

/// A tiny deterministic generator (xorshift), so runs are repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn check_char(first15: &str) -> char {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let mut sum = 0;
    for (i, c) in first15.bytes().enumerate() {
        let v = if c.is_ascii_digit() {
            (c - b'0') as usize
        } else {
            (c - b'A') as usize
        };
        sum += if i % 2 == 0 { ODD[v] } else { v as u32 };
    }
    (b'A' + (sum % 26) as u8) as char
}

fn cp1252(s: &str) -> Vec<u8> {
    encoding_rs::WINDOWS_1252.encode(s).0.into_owned()
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen_legacy OUT_DIR PERSONS [SEED]");
        std::process::exit(2);
    }
    let out = Path::new(&args[1]);
    let persons: u64 = args[2].parse().expect("PERSONS is a number");
    let mut rng = Rng(args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5150_5150));
    std::fs::create_dir_all(out)?;
    let open = |name: &str| {
        std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out.join(name)).unwrap())
    };
    let (mut p, mut c, mut i, mut e) = (
        open("persone.csv"),
        open("cartelle.csv"),
        open("interventi.csv"),
        open("erogazioni.csv"),
    );
    p.write_all(b"ID_ASSISTITO;COD_FISCALE;COGNOME;NOME;SESSO;DT_NASCITA;COMUNE_NASCITA;COMUNE_RESIDENZA;INDIRIZZO\r\n")?;
    c.write_all(b"ID_CARTELLA;ID_ASSISTITO;COMUNE_CARTELLA;DT_APERTURA;DT_CHIUSURA;STATO\r\n")?;
    i.write_all(b"ID_INTERVENTO;ID_CARTELLA;COD_SERVIZIO;DT_INIZIO;DT_FINE;PERIODICITA;IMPORTO_PREVISTO\r\n")?;
    e.write_all(b"ID_EROGAZIONE;ID_INTERVENTO;DT_EROGAZIONE;IMPORTO;QUOTA_UTENTE\r\n")?;
    let (mut n_int, mut n_ero) = (0u64, 0u64);
    let dirty = |rng: &mut Rng| rng.below(1000) < 4; // 0.4% per kind, ~2% of rows in all
    for n in 0..persons {
        let female = rng.below(2) == 0;
        let cognome = *rng.pick(COGNOMI);
        let nome = if female {
            *rng.pick(NOMI_F)
        } else {
            *rng.pick(NOMI_M)
        };
        let (year, month, day) = (
            1930 + rng.below(80) as i32,
            1 + rng.below(12) as usize,
            1 + rng.below(28) as u32,
        );
        let (istat, belfiore) = *rng.pick(COMUNI);
        let letters: String = (0..6)
            .map(|_| (b'B' + rng.below(24) as u8) as char)
            .collect();
        let first15 = format!(
            "{letters}{:02}{}{:02}{belfiore}",
            year % 100,
            MONTHS[month - 1] as char,
            day + if female { 40 } else { 0 }
        );
        let mut cf = format!("{first15}{}", check_char(&first15));
        if dirty(&mut rng) {
            // a typo in the check character: CF_INVALID
            cf.pop();
            cf.push(if cf.ends_with('A') { 'B' } else { 'A' });
        }
        let sesso = if female { "F" } else { "M" };
        let row = format!(
            "A{n};{cf};{cognome};{nome};{sesso};{day:02}/{month:02}/{year};{belfiore};{istat};Via Italia {}\r\n",
            1 + rng.below(200)
        );
        p.write_all(&cp1252(&row))?;
        let opened = (
            2015 + rng.below(10) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        );
        let closed = if rng.below(3) == 0 {
            if dirty(&mut rng) {
                format!("{:02}/{:02}/{}", opened.2, opened.1, opened.0 - 1) // closed before opened
            } else {
                format!("{:02}/{:02}/{}", opened.2, opened.1, opened.0 + 1)
            }
        } else {
            String::new()
        };
        let stato = if closed.is_empty() {
            "IN CARICO"
        } else {
            "CHIUSA"
        };
        let persona_ref = if dirty(&mut rng) {
            format!("X{n}")
        } else {
            format!("A{n}")
        }; // orphan
        c.write_all(
            format!(
                "C{n};{persona_ref};{istat};{:02}/{:02}/{};{closed};{stato}\r\n",
                opened.2, opened.1, opened.0
            )
            .as_bytes(),
        )?;
        let interventions = 1 + (n % 2);
        for _ in 0..interventions {
            let servizio = if dirty(&mut rng) {
                "XYZ"
            } else {
                *rng.pick(SERVIZI)
            };
            let start = if dirty(&mut rng) {
                "31/02/2020".to_string()
            } else {
                format!("{:02}/{:02}/{}", opened.2, opened.1, opened.0)
            };
            let cents = 5_000 + rng.below(2_000_000);
            let amount = match cents / 100_000 {
                0 => format!("{},{:02}", cents / 100, cents % 100),
                thousands => format!("{thousands}.{:03},{:02}", (cents / 100) % 1000, cents % 100),
            };
            let periodic = if rng.below(4) == 0 { "U" } else { "P" };
            i.write_all(
                format!("I{n_int};C{n};{servizio};{start};;{periodic};{amount}\r\n").as_bytes(),
            )?;
            for _ in 0..2 {
                let euro = 1_000 + rng.below(50_000);
                let importo = if dirty(&mut rng) {
                    "12,3,4".to_string()
                } else {
                    format!("{},{:02}", euro / 100, euro % 100)
                };
                let quota = format!("{},{:02}", euro / 1000, euro % 100);
                e.write_all(
                    format!(
                        "E{n_ero};I{n_int};{:02}/{:02}/{};{importo};{quota}\r\n",
                        opened.2,
                        1 + rng.below(12),
                        opened.0 + 1
                    )
                    .as_bytes(),
                )?;
                n_ero += 1;
            }
            n_int += 1;
        }
    }
    for w in [&mut p, &mut c, &mut i, &mut e] {
        w.flush()?;
    }
    let mappings = [
        (
            "persone.toml",
            "entity = \"persona\"\nencoding = \"windows-1252\"\n[columns]\nID_ASSISTITO = \"id_legacy\"\nCOD_FISCALE = \"codice_fiscale\"\nDT_NASCITA = { field = \"data_nascita\", date_format = \"dd/mm/yyyy\" }\nCOMUNE_NASCITA = \"luogo_nascita\"\nCOMUNE_RESIDENZA = \"residenza_istat\"\n",
        ),
        (
            "cartelle.toml",
            "entity = \"cartella\"\n[columns]\nID_CARTELLA = \"id_legacy\"\nID_ASSISTITO = \"persona_id_legacy\"\nCOMUNE_CARTELLA = \"comune_istat\"\nDT_APERTURA = { field = \"aperta_il\", date_format = \"dd/mm/yyyy\" }\nDT_CHIUSURA = { field = \"chiusa_il\", date_format = \"dd/mm/yyyy\" }\n[values.stato]\n\"IN CARICO\" = \"presa_in_carico\"\n\"CHIUSA\" = \"chiusa\"\n",
        ),
        (
            "interventi.toml",
            "entity = \"intervento\"\n[columns]\nID_INTERVENTO = \"id_legacy\"\nID_CARTELLA = \"cartella_id_legacy\"\nCOD_SERVIZIO = \"prestazione\"\nDT_INIZIO = { field = \"inizio\", date_format = \"dd/mm/yyyy\" }\nDT_FINE = { field = \"fine\", date_format = \"dd/mm/yyyy\" }\nPERIODICITA = \"periodicita\"\nIMPORTO_PREVISTO = { field = \"importo_previsto\", decimal = \",\" }\n[values.prestazione]\nSAD = \"A2.07\"\nADM = \"A2.02\"\nTRASP = \"A1.16\"\nCONTR = \"A1.04\"\nXYZ = \"X9.99\"\n[values.periodicita]\nP = \"periodica\"\nU = \"una_tantum\"\n",
        ),
        (
            "erogazioni.toml",
            "entity = \"erogazione\"\n[columns]\nID_EROGAZIONE = \"id_legacy\"\nID_INTERVENTO = \"intervento_id_legacy\"\nDT_EROGAZIONE = { field = \"data\", date_format = \"dd/mm/yyyy\" }\nIMPORTO = { field = \"importo\", decimal = \",\" }\nQUOTA_UTENTE = { field = \"quota_utente\", decimal = \",\" }\n",
        ),
    ];
    for (name, text) in mappings {
        std::fs::write(out.join(name), text)?;
    }
    let rows = 2 * persons + n_int + n_ero;
    println!("{rows}");
    eprintln!(
        "{persons} persons, {persons} cases, {n_int} interventions, {n_ero} deliveries: {rows} rows in {}",
        out.display()
    );
    Ok(())
}
