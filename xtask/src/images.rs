//! `cargo xtask images`: container images built without any image registry, from Debian's
//! packages, tagged for the container launcher (`corsproof_targets::container`):
//!
//! - `corsproof/nginx:local`: a `debootstrap --variant=minbase bookworm` root file system with
//!   `nginx-light`, imported with `docker import` (`CMD nginx -g 'daemon off;'`, as the
//!   upstream `nginx` image);
//! - `corsproof/serve:local`: a minbase root file system with the release `corsproof` binary
//!   in `/usr/local/bin` (`ENTRYPOINT corsproof`, `CMD serve --policy
//!   /etc/corsproof/policy.toml --listen 0.0.0.0:8080`). The binary links the host's glibc;
//!   bookworm's is the same as this machine's.
//!
//! - `corsproof/apps:local` (`cargo xtask images --apps`, not part of CI): a minbase root
//!   file system with every matrix target's Debian packages (`Target::packages()`: Node.js
//!   with Express and cors, Flask, Starlette, Django, Go with rs/cors and gorilla/handlers,
//!   Rack, Apache, nginx), for running the emitted applications in a container.
//!
//! Each root file system is kept as a tarball under `target/images/` (named after the suite
//! and the packages), so a second run only rebuilds the binary and re-imports. The Debian
//! mirror is the one apt uses here (`/etc/apt/sources.list*`), or `CORSPROOF_DEBIAN_MIRROR`.
//! Needs root, `debootstrap` (Debian: `apt-get install debootstrap`) and a Docker engine.
//! Every external step is bounded in time.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The Debian release the images are built from (the host's, so the binary's glibc matches).
const SUITE: &str = "bookworm";
/// The nginx image's tag (`CORSPROOF_NGINX_IMAGE` default in the launcher).
pub const NGINX_TAG: &str = "corsproof/nginx:local";
/// The `corsproof serve` image's tag (`CORSPROOF_SERVE_IMAGE` default in the launcher).
pub const SERVE_TAG: &str = "corsproof/serve:local";
/// The image with every matrix target's packages.
pub const APPS_TAG: &str = "corsproof/apps:local";
/// Longest a debootstrap run may take.
const DEBOOTSTRAP_LIMIT: Duration = Duration::from_secs(20 * 60);
/// Longest a `docker import` may take.
const IMPORT_LIMIT: Duration = Duration::from_secs(5 * 60);

/// Runs `cmd`, killing it after `limit`; fails on a non-zero exit.
fn run_bounded(cmd: &mut Command, what: &str, limit: Duration) -> Result<()> {
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    loop {
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                bail!("{what} failed ({status})");
            }
            return Ok(());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{what} took longer than {limit:?}; stopped");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The first Debian mirror apt uses for `SUITE` (deb822 `.sources` or one-line `.list`).
fn debian_mirror() -> String {
    if let Ok(m) = std::env::var("CORSPROOF_DEBIAN_MIRROR") {
        if !m.trim().is_empty() {
            return m.trim().to_string();
        }
    }
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        more.sort();
        files.extend(more);
    }
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if let Some(m) = mirror_in(&text) {
            return m;
        }
    }
    "http://deb.debian.org/debian".to_string()
}

/// The URI of the first entry of `text` (a sources file in either format) that serves `SUITE`
/// itself (not `-security` or `-updates`).
fn mirror_in(text: &str) -> Option<String> {
    // One-line format: `deb [options] URI SUITE COMPONENTS`.
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("deb") {
            continue;
        }
        let rest: Vec<&str> = words.collect();
        let rest: Vec<&str> = if rest.first().is_some_and(|w| w.starts_with('[')) {
            let close = rest.iter().position(|w| w.ends_with(']'))?;
            rest[close + 1..].to_vec()
        } else {
            rest
        };
        if let [uri, suite, ..] = rest.as_slice() {
            if *suite == SUITE && uri.starts_with("http") {
                return Some(uri.to_string());
            }
        }
    }
    // deb822 format: stanzas separated by blank lines with `URIs:` and `Suites:` fields.
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().to_string())
            })
        };
        let (Some(uris), Some(suites)) = (field("URIs"), field("Suites")) else {
            continue;
        };
        if suites.split_whitespace().any(|s| s == SUITE) {
            if let Some(uri) = uris.split_whitespace().find(|u| u.starts_with("http")) {
                return Some(uri.to_string());
            }
        }
    }
    None
}

/// A cached minbase root file system tarball with `packages` (built when missing).
fn rootfs(debootstrap: &Path, dir: &Path, packages: &[&str], mirror: &str) -> Result<PathBuf> {
    let name = if packages.is_empty() {
        format!("{SUITE}-minbase.tar")
    } else {
        format!("{SUITE}-minbase-{}.tar", packages.join("-"))
    };
    let tarball = dir.join(&name);
    if tarball.is_file() {
        eprintln!("xtask images: {name}: cached ({})", tarball.display());
        return Ok(tarball);
    }
    let tree = dir.join(format!("{name}.d"));
    if tree.exists() {
        std::fs::remove_dir_all(&tree)
            .with_context(|| format!("cannot remove the stale {}", tree.display()))?;
    }
    let started = Instant::now();
    eprintln!(
        "xtask images: {name}: debootstrap --variant=minbase {SUITE} from {mirror} (a minute or two)"
    );
    let mut cmd = Command::new(debootstrap);
    cmd.arg("--variant=minbase")
        .arg(format!("--cache-dir={}", dir.join("debs").display()));
    if !packages.is_empty() {
        cmd.arg(format!("--include={}", packages.join(",")));
    }
    cmd.arg(SUITE)
        .arg(&tree)
        .arg(mirror)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    std::fs::create_dir_all(dir.join("debs"))?;
    let result = run_bounded(&mut cmd, "debootstrap", DEBOOTSTRAP_LIMIT);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tree);
        return Err(e);
    }
    trim(&tree)?;
    let partial = dir.join(format!("{name}.partial"));
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&tree)
        .args(["--numeric-owner", "-cf"])
        .arg(&partial)
        .arg(".")
        .status()
        .context("cannot start tar")?;
    let _ = std::fs::remove_dir_all(&tree);
    if !tar.success() {
        bail!("tar of the root file system failed ({tar})");
    }
    std::fs::rename(&partial, &tarball)?;
    eprintln!(
        "xtask images: {name}: built in {:.0} s ({} MB)",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(&tarball)?.len() / 1_000_000
    );
    Ok(tarball)
}

/// Removes from a root file system what an image never needs: the package cache and lists,
/// documentation, translations.
fn trim(tree: &Path) -> Result<()> {
    for sub in [
        "var/cache/apt/archives",
        "var/lib/apt/lists",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/locale",
        "usr/share/info",
    ] {
        let p = tree.join(sub);
        if p.is_dir() {
            std::fs::remove_dir_all(&p).with_context(|| format!("cannot trim {}", p.display()))?;
            std::fs::create_dir_all(&p)?;
        }
    }
    Ok(())
}

/// The 64-bit FNV-1a hash of `bytes`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Every matrix target's Debian packages, sorted, each once.
pub fn app_packages() -> Vec<&'static str> {
    let mut packages: Vec<&'static str> = corsproof_targets::registry::Target::ALL
        .iter()
        .flat_map(|t| t.packages().iter().copied())
        .collect();
    packages.sort_unstable();
    packages.dedup();
    packages
}

/// `corsproof/apps:local`: the cached minbase root file system with [`app_packages`]
/// installed by apt inside it (debootstrap's own `--include` resolver cannot: it does not
/// follow alternatives such as node-qs' dependency on node-side-channel), cached as
/// `SUITE-minbase-apps-HASH.tar`, imported with a shell as its command.
fn apps_image(debootstrap: &Path, dir: &Path, mirror: &str) -> Result<()> {
    let started = Instant::now();
    let packages = app_packages();
    let base = rootfs(debootstrap, dir, &[], mirror)?;
    let name = format!(
        "{SUITE}-minbase-apps-{:016x}.tar",
        fnv1a(packages.join(" ").as_bytes())
    );
    let tarball = dir.join(&name);
    if tarball.is_file() {
        eprintln!("xtask images: {name}: cached ({})", tarball.display());
    } else {
        apt_install(&base, &tarball, &packages)?;
        eprintln!(
            "xtask images: {name}: {} packages installed in {:.0} s ({} MB)",
            packages.len(),
            started.elapsed().as_secs_f64(),
            std::fs::metadata(&tarball)?.len() / 1_000_000
        );
    }
    import(
        &tarball,
        APPS_TAG,
        &[
            "CMD [\"/bin/sh\"]",
            "WORKDIR /app",
            "LABEL org.opencontainers.image.description=corsproof-matrix-targets-debian-bookworm",
        ],
        &stamp(&[&tarball]),
    )?;
    eprintln!(
        "xtask images: {APPS_TAG} in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Unpacks `base` into a directory next to `out`, installs `packages` there with apt in a
/// chroot (no recommends; services are not started: `policy-rc.d` says no), trims it as
/// [`rootfs`] does and packs it into `out`.
fn apt_install(base: &Path, out: &Path, packages: &[&str]) -> Result<()> {
    let tree = out.with_extension("d");
    if tree.exists() {
        std::fs::remove_dir_all(&tree)?;
    }
    std::fs::create_dir_all(&tree)?;
    let result = (|| {
        run_bounded(
            Command::new("tar")
                .arg("-C")
                .arg(&tree)
                .arg("-xf")
                .arg(base),
            "tar -x of the base root file system",
            IMPORT_LIMIT,
        )?;
        std::fs::copy("/etc/resolv.conf", tree.join("etc/resolv.conf"))
            .context("cannot copy /etc/resolv.conf into the root file system")?;
        let policy_rc = tree.join("usr/sbin/policy-rc.d");
        std::fs::write(&policy_rc, "#!/bin/sh\nexit 101\n")?;
        run_bounded(
            Command::new("chmod").arg("755").arg(&policy_rc),
            "chmod policy-rc.d",
            IMPORT_LIMIT,
        )?;
        let apt = |args: &[&str]| {
            let mut cmd = Command::new("chroot");
            cmd.arg(&tree)
                .args(["apt-get", "-o", "Dpkg::Use-Pty=0", "-qq"])
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            cmd
        };
        run_bounded(
            &mut apt(&["update"]),
            "apt-get update (chroot)",
            DEBOOTSTRAP_LIMIT,
        )?;
        let mut install = vec!["install", "-y", "--no-install-recommends"];
        install.extend_from_slice(packages);
        run_bounded(
            &mut apt(&install),
            "apt-get install (chroot)",
            DEBOOTSTRAP_LIMIT,
        )?;
        std::fs::remove_file(&policy_rc)?;
        trim(&tree)?;
        let partial = out.with_extension("partial");
        run_bounded(
            Command::new("tar")
                .arg("-C")
                .arg(&tree)
                .args(["--numeric-owner", "-cf"])
                .arg(&partial)
                .arg("."),
            "tar -c of the apps root file system",
            IMPORT_LIMIT,
        )?;
        std::fs::rename(&partial, out)?;
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&tree);
    result
}

/// What an image was made from: names, sizes and modification times of its inputs.
fn stamp(inputs: &[&Path]) -> String {
    inputs
        .iter()
        .map(|p| {
            let meta = std::fs::metadata(p).ok();
            let size = meta.as_ref().map_or(0, |m| m.len());
            let mtime = meta
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            let name = p
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            format!("{name}:{size}:{mtime}")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The value of `label` on the local image `tag` and the image's id, if it exists.
fn image_label(tag: &str, label: &str) -> Option<(String, String)> {
    let format = format!("{{{{.Id}}}} {{{{index .Config.Labels \"{label}\"}}}}");
    let out = Command::new("docker")
        .args(["image", "inspect", "--format", &format, tag])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let (id, value) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    Some((id.to_string(), value.to_string()))
}

/// `docker import` of `tarball` as `tag` with Dockerfile-style `changes`, unless `tag`
/// already exists and was made from the same inputs (`stamp`, kept in a label); the image
/// it replaces is removed (when no container uses it).
fn import(tarball: &Path, tag: &str, changes: &[&str], stamp: &str) -> Result<()> {
    const LABEL: &str = "org.corsproof.source";
    let previous = image_label(tag, LABEL);
    if let Some((_, value)) = &previous {
        if value == stamp {
            eprintln!("xtask images: {tag}: up to date ({stamp})");
            return Ok(());
        }
    }
    let started = Instant::now();
    let mut cmd = Command::new("docker");
    cmd.arg("import");
    let label = format!("LABEL {LABEL}={stamp}");
    for c in changes.iter().copied().chain([label.as_str()]) {
        cmd.args(["--change", c]);
    }
    cmd.arg(tarball)
        .arg(tag)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    run_bounded(&mut cmd, &format!("docker import {tag}"), IMPORT_LIMIT)?;
    let size = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Size}}", tag])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or_else(
            || "size unknown".to_string(),
            |b| format!("{} MB", b / 1_000_000),
        );
    eprintln!(
        "xtask images: {tag}: imported in {:.1} s ({size})",
        started.elapsed().as_secs_f64()
    );
    if let (Some((old, _)), Some((new, _))) = (previous, image_label(tag, LABEL)) {
        if old != new {
            let _ = Command::new("docker")
                .args(["rmi", &old])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    Ok(())
}

/// `cargo xtask images [--apps]` (`apps`: also `corsproof/apps:local`).
pub fn images(root: &Path, cargo: &str, apps: bool) -> Result<()> {
    let started = Instant::now();
    let mut debootstrap = PathBuf::from("debootstrap");
    for tool in ["debootstrap", "docker", "tar"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
            .map(|d| d.join(tool))
            .find(|p| p.is_file());
        match found {
            Some(path) if tool == "debootstrap" => debootstrap = path,
            Some(_) => {}
            None => {
                bail!("xtask images needs `{tool}` (Debian: apt-get install debootstrap docker.io)")
            }
        }
    }
    let docker = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .context("cannot run docker")?;
    if !docker.status.success() {
        bail!(
            "the Docker engine is not reachable: {}",
            String::from_utf8_lossy(&docker.stderr).trim()
        );
    }
    let dir = root.join("target").join("images");
    std::fs::create_dir_all(&dir)?;
    let mirror = debian_mirror();

    if apps {
        apps_image(&debootstrap, &dir, &mirror)?;
    }
    // The release binary first: a compile error should not wait for debootstrap.
    crate::run(cargo, &["build", "--release", "-p", "corsproof"], &[])?;
    let binary = crate::target_dir(root).join("release").join("corsproof");

    let nginx = rootfs(&debootstrap, &dir, &["nginx-light"], &mirror)?;
    import(
        &nginx,
        NGINX_TAG,
        &[
            "CMD [\"nginx\", \"-g\", \"daemon off;\"]",
            "EXPOSE 80",
            "LABEL org.opencontainers.image.description=corsproof-nginx-light-debian-bookworm",
        ],
        &stamp(&[&nginx]),
    )?;

    let base = rootfs(&debootstrap, &dir, &[], &mirror)?;
    let serve_stamp = stamp(&[&base, &binary]);
    if image_label(SERVE_TAG, "org.corsproof.source").is_some_and(|(_, v)| v == serve_stamp) {
        eprintln!("xtask images: {SERVE_TAG}: up to date ({serve_stamp})");
        eprintln!(
            "xtask images: done in {:.0} s: {NGINX_TAG}, {SERVE_TAG}",
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    // The serve image: the base tarball with the binary appended (tar -r), so the cached
    // root file system is reused as is.
    let stage = dir.join("serve-stage");
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(stage.join("usr/local/bin"))?;
    std::fs::create_dir_all(stage.join("etc/corsproof"))?;
    std::fs::copy(&binary, stage.join("usr/local/bin/corsproof"))
        .with_context(|| format!("cannot copy {}", binary.display()))?;
    let serve_tar = dir.join("serve.tar");
    std::fs::copy(&base, &serve_tar)?;
    let appended = Command::new("tar")
        .arg("-C")
        .arg(&stage)
        .args(["--numeric-owner", "--owner=0", "--group=0", "-rf"])
        .arg(&serve_tar)
        .args(["./usr/local/bin/corsproof", "./etc/corsproof"])
        .status()
        .context("cannot start tar")?;
    if !appended.success() {
        bail!("appending the binary to the root file system failed ({appended})");
    }
    import(
        &serve_tar,
        SERVE_TAG,
        &[
            "ENTRYPOINT [\"/usr/local/bin/corsproof\"]",
            "CMD [\"serve\", \"--policy\", \"/etc/corsproof/policy.toml\", \"--listen\", \"0.0.0.0:8080\"]",
            "EXPOSE 8080",
        ],
        &serve_stamp,
    )?;
    let _ = std::fs::remove_file(&serve_tar);
    let _ = std::fs::remove_dir_all(&stage);
    eprintln!(
        "xtask images: done in {:.0} s: {NGINX_TAG}, {SERVE_TAG}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::mirror_in;

    #[test]
    fn mirror_from_deb822_skips_security() {
        let text = "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n";
        assert_eq!(
            mirror_in(text).as_deref(),
            Some("http://mirror.example/debian")
        );
    }

    #[test]
    fn the_apps_image_has_every_matrix_targets_packages_once() {
        let packages = super::app_packages();
        for p in [
            "node-express",
            "python3-flask-cors",
            "golang-go",
            "ruby-rack-cors",
            "apache2",
        ] {
            assert!(packages.contains(&p), "{p}");
        }
        assert_eq!(packages.iter().filter(|p| **p == "golang-go").count(), 1);
    }

    #[test]
    fn mirror_from_one_line_format() {
        let text =
            "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main\n";
        assert_eq!(mirror_in(text).as_deref(), Some("http://m.example/debian"));
        assert_eq!(mirror_in("deb http://m.example/debian trixie main\n"), None);
    }
}
