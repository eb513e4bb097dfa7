//! Snapshots of every command's `--help`, so any change of the interface shows
//! up in review. Update with `INSTA_UPDATE=always cargo test --test help`.

use std::process::Command;

fn siso() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("siso"));
    cmd.env("COLUMNS", "100")
        .env_remove("SISO_DATABASE_URL")
        .env_remove("SISO_OPERATOR")
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn every_command_has_a_stable_help_text() {
    let out = siso().args(["generate", "commands"]).output().unwrap();
    assert!(out.status.success());
    let paths = String::from_utf8(out.stdout).unwrap();
    let paths: Vec<&str> = paths.lines().collect();
    assert!(paths.len() > 10, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.split_whitespace().collect();
        args.push("--help");
        let out = siso().args(&args).output().unwrap();
        assert!(out.status.success(), "siso {} failed", args.join(" "));
        let name = if path.is_empty() {
            "siso".to_string()
        } else {
            format!("siso-{}", path.replace(' ', "-"))
        };
        insta::assert_snapshot!(name, String::from_utf8(out.stdout).unwrap());
    }
}
