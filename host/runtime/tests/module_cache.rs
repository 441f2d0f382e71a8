//! The precompiled-module cache: a second runtime loads what the first
//! compiled, and a file that cannot be trusted is never loaded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use captoken_runtime::{ModuleSource, Runtime, RuntimeConfig};

fn load(dir: &Path) -> Runtime {
    Runtime::embedded_with(RuntimeConfig::default().cache_dir(dir)).unwrap()
}

fn cache_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

/// The same answers as a runtime that compiled the module itself.
fn works_like_a_compiled_one(runtime: &Runtime) {
    let compiled = Runtime::embedded().unwrap();
    assert_eq!(compiled.module_source(), &ModuleSource::Compiled);
    assert_eq!(
        runtime.keygen([9; 32]).unwrap(),
        compiled.keygen([9; 32]).unwrap()
    );
    assert_eq!(runtime.info().unwrap(), compiled.info().unwrap());
}

#[test]
fn the_second_runtime_loads_what_the_first_compiled() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let first = load(&cache);
    let file = cache_file(&cache);
    assert_eq!(
        first.module_source(),
        &ModuleSource::CacheWritten(file.clone())
    );
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with(Runtime::embedded_module_sha256()),
        "{name}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&cache), mode(&file)), (0o700, 0o600));
    }

    let second = load(&cache);
    assert_eq!(second.module_source(), &ModuleSource::CacheHit(file));
    works_like_a_compiled_one(&second);
}

#[test]
fn a_corrupt_file_is_compiled_over_never_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    load(&cache);
    let file = cache_file(&cache);
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&file, &bytes).unwrap();

    let runtime = load(&cache);
    match runtime.module_source() {
        ModuleSource::CacheSkipped(why) => {
            assert!(
                why.starts_with("corrupt") && why.ends_with("(rewritten)"),
                "{why}"
            );
        }
        other => panic!("{other:?}"),
    }
    works_like_a_compiled_one(&runtime);
    assert!(matches!(
        load(&cache).module_source(),
        ModuleSource::CacheHit(_)
    ));

    // Cut short (a torn write without the rename's protection).
    std::fs::write(&file, b"0123").unwrap();
    assert!(matches!(
        load(&cache).module_source(),
        ModuleSource::CacheSkipped(why) if why.contains("shorter than its digest")
    ));
}

#[cfg(unix)]
#[test]
fn a_cache_others_can_write_is_neither_loaded_nor_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    load(&cache);
    let file = cache_file(&cache);
    let before = std::fs::read(&file).unwrap();

    for (path, mode) in [(&cache, 0o770), (&file, 0o622)] {
        let original = std::fs::metadata(path).unwrap().permissions().mode();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        let runtime = load(&cache);
        match runtime.module_source() {
            ModuleSource::CacheSkipped(why) => {
                assert!(why.contains("others could write"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        works_like_a_compiled_one(&runtime);
        assert_eq!(std::fs::read(&file).unwrap(), before);
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(original)).unwrap();
    }
    assert!(matches!(
        load(&cache).module_source(),
        ModuleSource::CacheHit(_)
    ));
}

#[cfg(unix)]
#[test]
fn symlinks_and_a_swappable_directory_are_not_trusted() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    load(&real);
    let file = cache_file(&real);
    let skipped = |cache: &Path, needle: &str| match load(cache).module_source() {
        ModuleSource::CacheSkipped(why) => assert!(why.contains(needle), "{why}"),
        other => panic!("{other:?}"),
    };

    // The cache directory reached through a symlink.
    let linked_dir = dir.path().join("linked");
    std::os::unix::fs::symlink(&real, &linked_dir).unwrap();
    skipped(&linked_dir, "is not a directory");

    // A cache file that is a symlink to a file elsewhere (say, one planted
    // by someone who cannot write the directory but could once).
    let other = dir.path().join("other");
    load(&other);
    let planted = dir.path().join("planted.cwasm");
    std::fs::rename(cache_file(&other), &planted).unwrap();
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&planted, &file).unwrap();
    skipped(&real, "cannot open");
    // …and it is neither followed nor replaced.
    assert!(
        std::fs::symlink_metadata(&file)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    // A directory whose parent anyone may write (without the sticky bit)
    // could be renamed away and replaced.
    let open_parent = dir.path().join("open");
    std::fs::create_dir(&open_parent).unwrap();
    let cache = open_parent.join("cache");
    load(&cache);
    std::fs::set_permissions(&open_parent, std::fs::Permissions::from_mode(0o777)).unwrap();
    skipped(&cache, "others could replace the cache directory");
    // With the sticky bit (as /tmp has), only the owner may rename it.
    std::fs::set_permissions(&open_parent, std::fs::Permissions::from_mode(0o1777)).unwrap();
    assert!(matches!(
        load(&cache).module_source(),
        ModuleSource::CacheHit(_)
    ));
}
