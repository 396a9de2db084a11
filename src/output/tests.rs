//! The writer against every kind of path, in a temporary folder (and `/dev/null`, the
//! only real device written to): what is there afterwards, and what is not.

use super::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt, symlink};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn message(error: OutputError) -> String {
    error.to_string()
}

#[test]
fn a_new_path_and_a_regular_file_are_replaced_with_their_mode_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.md");
    write_atomic(&path, b"one").unwrap();
    assert_eq!(read(&path), "one");
    assert_eq!(path.metadata().unwrap().permissions().mode() & 0o777, 0o644);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    write_atomic(&path, b"two").unwrap();
    assert_eq!(read(&path), "two");
    assert_eq!(path.metadata().unwrap().permissions().mode() & 0o777, 0o600);
    // Nothing else was left in the folder (no temporary file).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn symlinks_are_written_through_to_their_final_target() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let real = shared.join("report.md");
    std::fs::write(&real, "old").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let relative = dir.path().join("relative.md");
    symlink("shared/report.md", &relative).unwrap();
    let absolute = dir.path().join("absolute.md");
    symlink(&real, &absolute).unwrap();
    // A chain of two: chain.md → relative.md → shared/report.md.
    let chain = dir.path().join("chain.md");
    symlink("relative.md", &chain).unwrap();
    for (link, target) in [
        (&relative, Path::new("shared/report.md")),
        (&absolute, real.as_path()),
        (&chain, Path::new("relative.md")),
    ] {
        let text = format!("via {}", link.display());
        write_atomic(link, text.as_bytes()).unwrap();
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_link(link).unwrap(), target);
        assert_eq!(read(&real), text);
        assert!(real.symlink_metadata().unwrap().file_type().is_file());
        assert_eq!(real.metadata().unwrap().permissions().mode() & 0o777, 0o640);
        assert_eq!(
            resolve(link).unwrap(),
            Target::File {
                real: real_path(link)
            }
        );
        assert_eq!(
            std::fs::canonicalize(real_path(link)).unwrap(),
            std::fs::canonicalize(&real).unwrap()
        );
    }
    // The temporary file went beside the target, and was renamed away.
    assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 1);
}

#[test]
fn a_dangling_symlink_gets_its_target_created() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("shared")).unwrap();
    let link = dir.path().join("report.md");
    symlink("shared/new.md", &link).unwrap();
    write_atomic(&link, b"new").unwrap();
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(read(&dir.path().join("shared/new.md")), "new");
    // A target whose folder is missing: named, with the link that leads there.
    let lost = dir.path().join("lost.md");
    symlink("nowhere/new.md", &lost).unwrap();
    let text = message(write_atomic(&lost, b"x").unwrap_err());
    assert!(
        text.contains("the folder") && text.contains("nowhere does not exist"),
        "{text}"
    );
    assert!(text.contains("is a symbolic link to"), "{text}");
}

#[test]
fn a_fifo_is_written_in_place_for_its_reader() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap())
    };
    write_atomic(&fifo, b"through the pipe").unwrap();
    assert_eq!(reader.join().unwrap(), b"through the pipe");
    assert!(fifo.symlink_metadata().unwrap().file_type().is_fifo());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn dev_null_stays_a_character_device() {
    assert_eq!(
        resolve(Path::new("/dev/null")).unwrap(),
        Target::Stream {
            kind: "a character device"
        }
    );
    write_atomic(Path::new("/dev/null"), b"discarded").unwrap();
    let meta = Path::new("/dev/null").symlink_metadata().unwrap();
    assert!(meta.file_type().is_char_device());
    // Through a link too: the link and the device both stay.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("null.md");
    symlink("/dev/null", &link).unwrap();
    write_atomic(&link, b"discarded").unwrap();
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert!(
        Path::new("/dev/null")
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn block_devices_sockets_and_folders_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    // A loop device node that no test opens: refused before any open.
    let disk = dir.path().join("disk");
    let made = std::process::Command::new("mknod")
        .arg(&disk)
        .args(["b", "7", "250"])
        .status()
        .unwrap();
    assert!(made.success(), "mknod needs root, as the tests run");
    let text = message(write_atomic(&disk, b"x").unwrap_err());
    assert!(text.contains("is a block device (a disk)"), "{text}");
    assert!(
        disk.symlink_metadata()
            .unwrap()
            .file_type()
            .is_block_device()
    );
    let socket = dir.path().join("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let text = message(write_atomic(&socket, b"x").unwrap_err());
    assert!(
        text.contains("is a socket, which cannot be opened for writing"),
        "{text}"
    );
    assert!(socket.symlink_metadata().unwrap().file_type().is_socket());
    let text = message(write_atomic(dir.path(), b"x").unwrap_err());
    assert!(text.contains("it is a folder; give a file name"), "{text}");
    for error in [
        write_atomic(&disk, b"x").unwrap_err(),
        check_folder(&socket).unwrap_err(),
    ] {
        assert_eq!(error.code(), crate::exit::OUTPUT);
    }
}

#[test]
fn a_file_where_a_folder_should_be_is_called_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("afile");
    std::fs::write(&file, "keep").unwrap();
    for path in [file.join("r.md"), file.join("deeper/r.md")] {
        let text = message(write_atomic(&path, b"x").unwrap_err());
        assert!(
            text.contains(&format!("{} is a file, not a folder", file.display())),
            "{text}"
        );
        assert!(!text.contains("does not exist"), "{text}");
    }
    assert_eq!(read(&file), "keep");
    let missing = dir.path().join("missing/r.md");
    let text = message(check_folder(&missing).unwrap_err());
    assert!(text.contains("missing does not exist; create it"), "{text}");
}

/// Stands in for `render::chart::assets_for`: `shared/real.md` → `shared/real-charts`.
fn beside(real: &Path) -> (PathBuf, String) {
    let stem = real.file_stem().unwrap().to_string_lossy();
    let name = format!("{stem}-charts");
    (real.parent().unwrap().join(&name), name)
}

#[test]
fn charts_go_beside_the_real_file_or_nowhere_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("shared")).unwrap();
    let link = dir.path().join("report.md");
    symlink("shared/real.md", &link).unwrap();
    let target = check_folder(&link).unwrap();
    let place = charts_place(Some(&link), Some(&target), None, beside).unwrap();
    assert_eq!(
        place,
        ChartsPlace::Folder {
            dir: dir.path().join("shared/real-charts"),
            link_prefix: "real-charts".into()
        }
    );
    let null = Path::new("/dev/null");
    let stream = check_folder(null).unwrap();
    match charts_place(Some(null), Some(&stream), None, beside).unwrap() {
        ChartsPlace::Nowhere { note: Some(note) } => {
            assert!(
                note.contains("/dev/null is a character device") && note.contains("--assets DIR"),
                "{note}"
            )
        }
        other => panic!("{other:?}"),
    }
    match charts_place(Some(Path::new("-")), None, None, beside).unwrap() {
        ChartsPlace::Nowhere { note: Some(note) } => {
            assert!(
                note.contains("standard output") && note.contains("--assets DIR"),
                "{note}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        charts_place(None, None, None, beside).unwrap(),
        ChartsPlace::Nowhere { note: None }
    );
}

#[test]
fn assets_links_are_relative_to_the_real_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("shared")).unwrap();
    let report = dir.path().join("shared/r.md");
    let target = check_folder(&report).unwrap();
    let charts = dir.path().join("charts");
    let place = charts_place(Some(&report), Some(&target), Some(&charts), beside).unwrap();
    assert_eq!(
        place,
        ChartsPlace::Folder {
            dir: charts.clone(),
            link_prefix: "../charts".into()
        }
    );
    // To standard output the folder is linked as given (only checked, not created).
    let place = charts_place(
        Some(Path::new("-")),
        None,
        Some(Path::new("charts/")),
        beside,
    )
    .unwrap();
    assert!(matches!(place, ChartsPlace::Folder { link_prefix, .. } if link_prefix == "charts"));
    // An --assets that is a file, or in a missing folder, fails before anything runs.
    std::fs::write(dir.path().join("f"), "").unwrap();
    let text = message(charts_place(None, None, Some(&dir.path().join("f")), beside).unwrap_err());
    assert!(text.contains("it is a file, not a folder"), "{text}");
    let text =
        message(charts_place(None, None, Some(&dir.path().join("no/charts")), beside).unwrap_err());
    assert!(text.contains("does not exist"), "{text}");
}

#[test]
fn dash_means_standard_output() {
    assert!(is_stdout(Path::new("-")));
    assert!(!is_stdout(Path::new("./-")));
    assert!(!is_stdout(Path::new("report.md")));
}
