//! Embeds the SQL migrations of each backend into the binary.
//!
//! Every `migrations/<backend>/NNNN_name.up.sql` must have its `.down.sql`; the
//! generated list is sorted by version, so a file cannot be forgotten in a
//! hand-written registry.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo");
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo");
    for backend in ["sqlite", "postgres"] {
        let dir = Path::new(&root).join("migrations").join(backend);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut ups: Vec<(i64, String, std::path::PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("readable migrations folder").path();
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            let Some(stem) = file.strip_suffix(".up.sql") else {
                continue;
            };
            let (version, name) = stem
                .split_once('_')
                .unwrap_or_else(|| panic!("{file}: expected NNNN_name.up.sql"));
            let version: i64 = version
                .parse()
                .unwrap_or_else(|_| panic!("{file}: version is not a number"));
            let down = dir.join(format!("{stem}.down.sql"));
            assert!(down.exists(), "{file} has no {stem}.down.sql");
            ups.push((version, name.to_string(), path));
        }
        ups.sort_by_key(|(v, _, _)| *v);
        for pair in ups.windows(2) {
            assert!(
                pair[0].0 != pair[1].0,
                "two {backend} migrations share version {}",
                pair[0].0
            );
        }
        let mut code = String::from("&[\n");
        for (version, name, up) in &ups {
            let down = up.with_file_name(
                up.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .replace(".up.sql", ".down.sql"),
            );
            writeln!(
                code,
                "    Migration {{ version: {version}, name: {name:?}, up: include_str!({up:?}), down: include_str!({down:?}) }},",
                up = up.display().to_string(),
                down = down.display().to_string()
            )
            .unwrap();
        }
        code.push(']');
        std::fs::write(
            Path::new(&out_dir).join(format!("migrations_{backend}.rs")),
            code,
        )
        .unwrap();
    }
}
