#!/usr/bin/env python3
"""Writes the sample legacy exports of examples/legacy/ (fictional people).

Standard library only. Run from this folder: python3 make_examples.py
The codici fiscali are computed here and checked by tests with `siso check cf`.
Comuni are of the Monza e Brianza area (ISTAT 108033 Monza, 108023 Desio,
108039 Seregno, 108028 Lissone) so an import into the example ambito works.
"""
import datetime
import zipfile

ODD = {**{str(d): v for d, v in zip("0123456789", [1, 0, 5, 7, 9, 13, 15, 17, 19, 21])},
       **{c: v for c, v in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                               [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23])}}
EVEN = {**{str(d): d for d in range(10)}, **{c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}}
MONTHS = "ABCDEHLMPRST"
FOLD = str.maketrans("ÀÈÉÌÒÙàèéìòù", "AEEIOUAEEIOU")


def letters(s):
    s = s.translate(FOLD).upper()
    return [c for c in s if c.isalpha()]


def part(s, is_name):
    ls = letters(s)
    cons = [c for c in ls if c not in "AEIOU"]
    vow = [c for c in ls if c in "AEIOU"]
    if is_name and len(cons) >= 4:
        cons = [cons[0], cons[2], cons[3]]
    return "".join((cons + vow + ["X"] * 3)[:3])


def codice_fiscale(cognome, nome, sesso, nascita, belfiore):
    day = nascita.day + (40 if sesso == "F" else 0)
    first15 = f"{part(cognome, False)}{part(nome, True)}{nascita.year % 100:02d}{MONTHS[nascita.month - 1]}{day:02d}{belfiore}"
    total = sum(ODD[c] if i % 2 == 0 else EVEN[c] for i, c in enumerate(first15))
    return first15 + chr(ord("A") + total % 26)


D = datetime.date
PERSONE = [
    # id, cognome, nome, sesso, nascita, belfiore, residenza ISTAT, indirizzo, telefono
    ("A0001", "Rossi", "Nicolò", "M", D(1950, 12, 25), "F704", "108033", "Via Italia 12", "039 123456"),
    ("A0002", "Brambilla", "Anna", "F", D(1960, 2, 1), "F704", "108033", "Piazza Trento e Trieste 3", ""),
    ("A0003", "Colombo", "Luca", "M", D(1975, 7, 14), "D286", "108023", "Via Garibaldi 40", "333 1234567"),
    ("A0004", "Fumagalli", "Maria Grazia", "F", D(1942, 3, 9), "I625", "108039", "Via Cavour 7", ""),
    ("A0005", "Cantù", "Lucia", "F", D(1988, 11, 30), "E617", "108028", "Via Città di Monza 21", "039 654321"),
    ("A0006", "D'Alessandro", "Pietro", "M", D(2001, 5, 3), "F205", "108033", "Via Lecco 2", ""),
]


def dmy(d):
    return d.strftime("%d/%m/%Y")


def cf(p):
    return codice_fiscale(p[1], p[2], p[3], p[4], p[5])


def write(name, text, encoding, newline="\r\n"):
    with open(name, "wb") as f:
        f.write(text.replace("\n", newline).encode(encoding))


# One file per entity, as an old Windows cartella exports them: Windows-1252,
# ';', CRLF, dd/mm/yyyy, decimal commas, a trailing ';' on every line.
rows = ["ID_ASSISTITO;COGNOME;NOME;COD_FISCALE;SESSO;DT_NASCITA;COMUNE_NASCITA;COMUNE_RESIDENZA;INDIRIZZO;TELEFONO;"]
for p in PERSONE:
    rows.append(f"{p[0]};{p[1]};{p[2]};{cf(p)};{p[3]};{dmy(p[4])};{p[5]};{p[6]};{p[7]};{p[8]};")
write("cartella_old_persone.csv", "\n".join(rows) + "\n", "cp1252")

CARTELLE = [
    ("C100", "A0001", "2019/001", "108033", D(2019, 1, 15), None, "IN CARICO", "ROSSI M.", "ANZIANI"),
    ("C101", "A0002", "2020/014", "108033", D(2020, 3, 2), D(2023, 6, 30), "CHIUSA", "ROSSI M.", "ADULTI"),
    ("C102", "A0003", "2021/007", "108023", D(2021, 9, 20), None, "APERTA", "BIANCHI S.", "DISABILITÀ"),
    ("C103", "A0004", "2018/033", "108039", D(2018, 5, 4), None, "IN CARICO", "BIANCHI S.", "ANZIANI"),
    ("C104", "A0005", "2022/002", "108028", D(2022, 1, 10), None, "SEGNALATA", "VERDI P.", "FAMIGLIA E MINORI"),
]
rows = ["ID_CARTELLA;ID_ASSISTITO;NUM_CARTELLA;COMUNE_CARTELLA;DT_APERTURA;DT_CHIUSURA;STATO;OPERATORE;CATEGORIA;"]
for c in CARTELLE:
    rows.append(f"{c[0]};{c[1]};{c[2]};{c[3]};{dmy(c[4])};{dmy(c[5]) if c[5] else ''};{c[6]};{c[7]};{c[8]};")
write("cartella_old_cartelle.csv", "\n".join(rows) + "\n", "cp1252")

INTERVENTI = [
    ("I500", "C100", "SAD", D(2019, 2, 1), None, "P", "4.680,00", "ANZ", "Assistenza domiciliare anziani"),
    ("I501", "C101", "CONTR", D(2020, 4, 1), D(2020, 4, 1), "U", "1.234,56", "POV", "Contributo una tantum — affitto"),
    ("I502", "C102", "TRASP", D(2021, 10, 4), D(2022, 6, 30), "P", "2.150,5", "DIS", "Trasporto al centro diurno"),
    ("I503", "C103", "SAD", D(2018, 6, 1), None, "P", "12.000", "ANZ", "Assistenza domiciliare, 3 accessi/settimana"),
    ("I504", "C104", "ADM", D(2022, 2, 14), None, "P", "3.600,00", "MIN", "Attività educativa domiciliare"),
]
rows = ["ID_INTERVENTO;ID_CARTELLA;COD_SERVIZIO;DESCRIZIONE_SERVIZIO;DT_INIZIO;DT_FINE;PERIODICITA;IMPORTO_PREVISTO;AREA"]
for i in INTERVENTI:
    rows.append(f"{i[0]};{i[1]};{i[2]};{i[8]};{dmy(i[3])};{dmy(i[4]) if i[4] else ''};{i[5]};{i[6]};{i[7]}")
write("cartella_old_interventi.csv", "\n".join(rows) + "\n", "cp1252")

# One row per person + case + intervention, as a reporting tool extracts it:
# UTF-8 with BOM, ',' with quotes, LF, ISO dates, decimal points.
rows = ["ID_PERSONA,CF,COGNOME,NOME,DATA_NASCITA,ID_CARTELLA,NUMERO_CARTELLA,COMUNE_ISTAT,DATA_APERTURA,DATA_CHIUSURA,STATO,ID_INTERVENTO,COD_PRESTAZIONE,DATA_INIZIO,DATA_FINE,PERIODICITA,IMPORTO_PREVISTO"]
by_person = {p[0]: p for p in PERSONE}
for c in CARTELLE:
    p = by_person[c[1]]
    for i in (i for i in INTERVENTI if i[1] == c[0]):
        amount = i[6].replace(".", "").replace(",", ".")
        rows.append(
            f'{p[0]},{cf(p)},"{p[1]}","{p[2]}",{p[4].isoformat()},{c[0]},"{c[2]}",{c[3]},{c[4].isoformat()},{c[5].isoformat() if c[5] else ""},'
            f'{c[6]},{i[0]},{i[2]},{i[3].isoformat()},{i[4].isoformat() if i[4] else ""},{i[5]},{amount}'
        )
with open("estrazione_flat.csv", "wb") as f:
    f.write(b"\xef\xbb\xbf" + ("\n".join(rows) + "\n").encode("utf-8"))

# Operators as a spreadsheet: real date cells, a number cell, inline strings.
OPERATORI = [
    ("OP1", "Rossi", "Marta", "Assistente sociale", D(2015, 9, 1), None, 36),
    ("OP2", "Bianchi", "Sergio", "Educatore", D(2018, 1, 8), D(2024, 12, 31), 18.5),
    ("OP3", "Verdi", "Paola", "Psicologa", D(2020, 3, 16), None, 24),
]


def col(i):
    return chr(ord("A") + i)


class Err(str):
    """A cell holding a spreadsheet error such as #N/A."""


def cell(ref, v):
    if v is None:
        return ""
    if isinstance(v, Err):
        return f'<c r="{ref}" t="e"><v>{v}</v></c>'
    if isinstance(v, D):
        serial = (v - D(1899, 12, 30)).days
        return f'<c r="{ref}" s="1"><v>{serial}</v></c>'
    if isinstance(v, (int, float)):
        return f'<c r="{ref}"><v>{v}</v></c>'
    esc = v.replace("&", "&amp;").replace("<", "&lt;")
    return f'<c r="{ref}" t="inlineStr"><is><t>{esc}</t></is></c>'


def xlsx(name, sheet_name, table):
    sheet_rows = []
    for r, values in enumerate(table, start=1):
        cells = "".join(cell(f"{col(i)}{r}", v) for i, v in enumerate(values))
        sheet_rows.append(f'<row r="{r}">{cells}</row>')
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        "</Relationships>",
        "xl/styles.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        "</styleSheet>",
        "xl/worksheets/sheet1.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData>{"".join(sheet_rows)}</sheetData></worksheet>',
    }
    with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as z:
        for part_name, xml in parts.items():
            # A fixed date keeps the file byte-identical on every run.
            info = zipfile.ZipInfo(part_name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, xml)


xlsx("operatori.xlsx", "Operatori",
     [("ID_OPERATORE", "COGNOME", "NOME", "QUALIFICA", "ATTIVO_DAL", "ATTIVO_AL", "ORE_SETTIMANALI")]
     + [list(o) for o in OPERATORI])

# A spreadsheet with an error cell (#N/A from a broken lookup) and a date typed as text.
xlsx("dirty/operatori_errori.xlsx", "Foglio1",
     [("ID_OPERATORE", "COGNOME", "NOME", "ATTIVO_DAL"),
      ("OP1", "Rossi", "Marta", D(2015, 9, 1)),
      ("OP2", Err("#N/A"), "Sergio", D(2018, 1, 8)),
      ("OP3", "Verdi", "Paola", "16/03/2020")])

# Dirty rows of the usual kinds, one file each kind can be seen in.
p = PERSONE
rows = [
    "ID_ASSISTITO;COGNOME;NOME;COD_FISCALE;DT_NASCITA;NOTE",
    f"{p[0][0]};{p[0][1]};{p[0][2]};{cf(p[0])};{dmy(p[0][4])};ok",
    f"{p[1][0]};{p[1][1]};{p[1][2]};{cf(p[1])};31/02/1960;giorno che non esiste",
    f"{p[2][0]};{p[2][1]};{p[2][2]};{cf(p[2])};{dmy(p[2][4])};nota; con un punto e virgola",
    f"{p[3][0]};{p[3][1]};{p[3][2]};{cf(p[3])};{dmy(p[3][4])};\"nota su\ndue righe\"",
    f"{p[4][0]};{p[4][1]};{p[4][2]}",
    f"{p[5][0]};{p[5][1]};{p[5][2]};{cf(p[5])};{dmy(p[5][4])};ok",
]
write("dirty/persone_sporche.csv", "\n".join(rows) + "\n", "cp1252")

# Every date has day and month <= 12: dd/mm or mm/dd? Refused without a mapping.
rows = ["ID_ASSISTITO;COGNOME;DT_NASCITA", "A0001;Rossi;01/02/1950", "A0002;Brambilla;03/04/1960", "A0003;Colombo;12/11/1975"]
write("dirty/date_ambigue.csv", "\n".join(rows) + "\n", "cp1252")

# Old Mac line endings (CR only), tab-delimited, two-digit years.
rows = ["ID_ASSISTITO\tCOGNOME\tDT_NASCITA", "A0001\tRossi\t25/12/50", "A0003\tColombo\t14/7/75"]
write("dirty/mac_cr_tab.txt", "\n".join(rows) + "\n", "cp1252", newline="\r")

# UTF-16 with BOM, as some tools "save as Unicode text": tab-delimited.
rows = ["ID_ASSISTITO\tCOGNOME\tNOME", "A0001\tRossi\tNicolò", "A0005\tCantù\tLucia"]
write("dirty/unicode_utf16.txt", "\ufeff" + "\n".join(rows) + "\n", "utf-16-le")

# Amounts like 1.000 and 2.500: thousands or decimals? Refused without a mapping.
rows = ["ID_INTERVENTO;ID_CARTELLA;IMPORTO_PREVISTO", "I500;C100;1.000", "I501;C101;2.500"]
write("dirty/importi_ambigui.csv", "\n".join(rows) + "\n", "cp1252")

for x in PERSONE:
    print(cf(x))
