//! Generated files never drift from the code: `crds/`, `completions/`; and the krew manifest
//! keeps its structure. Set `KUBESTASH_UPDATE_GENERATED=1` to rewrite the files.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::{repository_root, run};

fn updating() -> bool {
    std::env::var_os("KUBESTASH_UPDATE_GENERATED").is_some_and(|value| value == "1")
}

fn files_in(directory: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    (
                        name,
                        std::fs::read_to_string(entry.path()).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn assert_same(committed: &Path, generated: BTreeMap<String, String>, how: &str) {
    if updating() {
        std::fs::create_dir_all(committed).unwrap();
        for name in files_in(committed).keys() {
            std::fs::remove_file(committed.join(name)).unwrap();
        }
        for (name, contents) in &generated {
            let path = committed.join(name);
            std::fs::write(&path, contents).unwrap();
            if contents.starts_with("#!") {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                        .unwrap();
                }
            }
        }
        return;
    }
    let existing = files_in(committed);
    let stale: Vec<&String> = existing
        .keys()
        .filter(|name| !generated.contains_key(*name))
        .collect();
    let missing: Vec<&String> = generated
        .keys()
        .filter(|name| !existing.contains_key(*name))
        .collect();
    let changed: Vec<&String> = generated
        .iter()
        .filter(|(name, contents)| existing.get(*name).is_some_and(|old| old != *contents))
        .map(|(name, _)| name)
        .collect();
    assert!(
        stale.is_empty() && missing.is_empty() && changed.is_empty(),
        "{} drifted from the code: stale {stale:?}, missing {missing:?}, changed {changed:?}\nhint: {how}",
        committed.display()
    );
}

#[test]
fn committed_crds_match_the_code() {
    let directory = tempfile::tempdir().unwrap();
    let result = run(&["crds", "--out", directory.path().to_str().unwrap()]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let generated = files_in(directory.path());
    assert_eq!(generated.len(), 15, "14 KubeStash kinds and AppBinding");
    assert_same(
        &repository_root().join("crds"),
        generated,
        "run `cargo run -p kubectl-kubestash -- crds --out crds` and commit",
    );
}

#[test]
fn printed_crds_are_the_written_ones() {
    let result = run(&["crds"]);
    assert_eq!(result.code, 0);
    assert_eq!(
        result
            .stdout
            .matches("kind: CustomResourceDefinition")
            .count(),
        15
    );
    assert!(result
        .stdout
        .contains("name: backupconfigurations.core.kubestash.com"));
}

#[test]
fn committed_completions_match_the_code() {
    let generated: BTreeMap<String, String> =
        kubectl_kubestash::commands::completion::generated_files()
            .into_iter()
            .map(|(name, contents)| (name.to_string(), contents))
            .collect();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let result = run(&["completion", shell]);
        assert_eq!(result.code, 0, "{}", result.stderr);
        assert!(
            generated
                .values()
                .any(|contents| *contents == result.stdout),
            "`completion {shell}` differs from the generated file"
        );
    }
    assert_same(
        &repository_root().join("completions"),
        generated,
        "run `KUBESTASH_UPDATE_GENERATED=1 cargo nextest run -p kubectl-kubestash --test e2e generated` and commit",
    );
}

#[test]
fn krew_manifest_has_every_platform() {
    let text = std::fs::read_to_string(repository_root().join("krew-manifest.yaml")).unwrap();
    let manifest: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(
        manifest["apiVersion"].as_str(),
        Some("krew.googlecontainertools.github.com/v1alpha2")
    );
    assert_eq!(manifest["kind"].as_str(), Some("Plugin"));
    assert_eq!(manifest["metadata"]["name"].as_str(), Some("kubestash"));
    assert_eq!(manifest["spec"]["version"].as_str(), Some("{{VERSION}}"));
    assert!(manifest["spec"]["shortDescription"]
        .as_str()
        .is_some_and(|text| !text.is_empty() && !text.contains('\n')));
    let platforms = manifest["spec"]["platforms"].as_sequence().unwrap();
    let mut seen = Vec::new();
    for platform in platforms {
        let os = platform["selector"]["matchLabels"]["os"].as_str().unwrap();
        let arch = platform["selector"]["matchLabels"]["arch"]
            .as_str()
            .unwrap();
        let suffix = if os == "windows" { ".exe" } else { "" };
        let extension = if os == "windows" { "zip" } else { "tar.gz" };
        assert_eq!(
            platform["bin"].as_str(),
            Some(format!("kubectl-kubestash-{os}-{arch}{suffix}").as_str())
        );
        let uri = platform["uri"].as_str().unwrap();
        assert!(
            uri.ends_with(&format!("/kubectl-kubestash-{os}-{arch}.{extension}")),
            "{uri}"
        );
        assert!(uri.starts_with("https://"), "{uri}");
        let placeholder = format!(
            "{{{{SHA256_{}_{}}}}}",
            os.to_uppercase(),
            arch.to_uppercase()
        );
        assert_eq!(platform["sha256"].as_str(), Some(placeholder.as_str()));
        assert_eq!(platform["files"][0]["from"].as_str(), Some("*"));
        seen.push(format!("{os}/{arch}"));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "darwin/amd64",
            "darwin/arm64",
            "linux/amd64",
            "linux/arm",
            "linux/arm64",
            "windows/amd64"
        ]
    );
}

#[test]
fn the_release_script_fills_every_placeholder() {
    let directory = tempfile::tempdir().unwrap();
    let archives = directory.path().join("archives");
    std::fs::create_dir(&archives).unwrap();
    // An archive as a release builds it: the platform's binary at the top level.
    let archive = |platform: &str, binary: &str| {
        let extension = if platform.starts_with("windows") {
            "zip"
        } else {
            "tar.gz"
        };
        let path = archives.join(format!("kubectl-kubestash-{platform}.{extension}"));
        let made = Command::new("python3")
            .args([
                "-c",
                "import sys, tarfile, zipfile, io\n\
                 path, binary = sys.argv[1:]\n\
                 data = b'binary for ' + binary.encode()\n\
                 if path.endswith('.zip'):\n    zipfile.ZipFile(path, 'w').writestr(binary, data)\n\
                 else:\n    bundle = tarfile.open(path, 'w:gz'); info = tarfile.TarInfo(binary); info.size = len(data); info.mode = 0o755; bundle.addfile(info, io.BytesIO(data)); bundle.close()\n",
                path.to_str().unwrap(),
                binary,
            ])
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        path
    };
    for platform in [
        "linux-amd64",
        "linux-arm",
        "linux-arm64",
        "darwin-amd64",
        "darwin-arm64",
    ] {
        archive(platform, &format!("kubectl-kubestash-{platform}"));
    }
    let script = repository_root().join("plugin/release/krew-manifest.sh");
    let output_file = directory.path().join("kubestash.yaml");
    let fill = || {
        Command::new(&script)
            .args([
                "v0.1.0",
                archives.to_str().unwrap(),
                output_file.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let missing = fill();
    assert!(
        !missing.status.success(),
        "a missing Windows archive must fail"
    );
    assert!(!output_file.exists(), "nothing is written on failure");

    // A Windows archive without the binary the manifest's `bin` names.
    archive("windows-amd64", "kubectl-kubestash.exe");
    let wrong = fill();
    assert!(
        !wrong.status.success(),
        "an archive without its bin must fail"
    );
    assert!(
        String::from_utf8_lossy(&wrong.stderr)
            .contains("does not hold `kubectl-kubestash-windows-amd64.exe`"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert!(!output_file.exists(), "nothing is written on failure");

    let windows_archive = archive("windows-amd64", "kubectl-kubestash-windows-amd64.exe");
    let filled = fill();
    assert!(
        filled.status.success(),
        "{}",
        String::from_utf8_lossy(&filled.stderr)
    );
    let manifest: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&output_file).unwrap()).unwrap();
    assert_eq!(manifest["spec"]["version"].as_str(), Some("v0.1.0"));
    let windows_sum = String::from_utf8(
        Command::new("sha256sum")
            .arg(&windows_archive)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()[..64]
        .to_string();
    let windows = manifest["spec"]["platforms"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|platform| platform["selector"]["matchLabels"]["os"] == "windows")
        .unwrap();
    assert_eq!(windows["sha256"].as_str(), Some(windows_sum.as_str()));
    assert!(windows["uri"]
        .as_str()
        .unwrap()
        .contains("/download/v0.1.0/"));
}

#[test]
fn committed_install_bundle_matches_the_code() {
    let result = run(&["install", "--dry-run", "-o", "yaml"]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    // The CRDs are committed in crds/ already; the file holds the rest of the bundle.
    let rest: Vec<&str> = result
        .stdout
        .split("---\n")
        .filter(|doc| !doc.trim().is_empty() && !doc.contains("kind: CustomResourceDefinition\n"))
        .collect();
    let mut generated = BTreeMap::new();
    generated.insert(
        "install.yaml".to_string(),
        format!(
            "# Generated by `kubectl kubestash install --dry-run` (CRDs are in crds/).\n---\n{}",
            rest.join("---\n")
        ),
    );
    generated.insert(
        "Dockerfile".to_string(),
        std::fs::read_to_string(repository_root().join("operator/manifests/Dockerfile"))
            .unwrap_or_default(),
    );
    assert_same(
        &repository_root().join("operator/manifests"),
        generated,
        "run `KUBESTASH_UPDATE_GENERATED=1 cargo nextest run -p kubectl-kubestash --test e2e generated` and commit",
    );
    assert!(result.stdout.contains("kind: Deployment"));
    assert!(result.stdout.contains("name: workload-addon"));
}
