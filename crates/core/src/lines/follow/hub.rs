//! One file-change notifier for every follower in the process: a single
//! `notify` watcher (one thread; inotify on Linux) that watches each
//! followed file's directory once and wakes the followers of the names an
//! event mentions.
//!
//! A follower [`subscribe`]s before it first reads (so nothing written
//! between its read and its watch goes unseen), then at the end of the file
//! registers its waker and takes its slot's flag ([`Subscription::poll_changed`]).
//! The watcher thread never blocks on a follower: it sets the flag, then
//! wakes. Lost events (a queue overflow, a watcher error) mark every
//! follower changed; events never arrive on some file systems (NFS): the
//! follower's timer stays as the safety net.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::task::Context;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::slot::Slot;

/// Followers by watched directory, then by file name.
#[derive(Debug, Default)]
struct Table {
    dirs: HashMap<PathBuf, HashMap<OsString, Vec<Weak<Slot>>>>,
}

impl Table {
    fn mark_all(&self) {
        for names in self.dirs.values() {
            for slots in names.values() {
                mark(slots);
            }
        }
    }

    fn mark_path(&self, path: &Path) {
        if let Some(names) = self.dirs.get(path) {
            // The directory itself changed (removed, moved): check them all.
            for slots in names.values() {
                mark(slots);
            }
            return;
        }
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return;
        };
        if let Some(slots) = self.dirs.get(dir).and_then(|names| names.get(name)) {
            mark(slots);
        }
    }
}

fn mark(slots: &[Weak<Slot>]) {
    for slot in slots.iter().filter_map(Weak::upgrade) {
        slot.mark();
    }
}

/// The process's watcher and its table.
struct Hub {
    /// Also serialises subscribing and unsubscribing, so a directory is
    /// watched exactly while it has followers.
    watcher: Mutex<RecommendedWatcher>,
    table: Arc<Mutex<Table>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves the table consistent enough:
    // at worst a follower is woken needlessly.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The hub, started on first use; `None` if the platform's watcher could
/// not start (out of inotify instances, …): followers then poll.
fn hub() -> Option<&'static Hub> {
    static HUB: OnceLock<Option<Hub>> = OnceLock::new();
    HUB.get_or_init(|| {
        let table = Arc::new(Mutex::new(Table::default()));
        let events = Arc::clone(&table);
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let table = lock(&events);
            match event {
                Ok(event) if event.need_rescan() => table.mark_all(),
                // Opens and closes (including the follower's own) say nothing new.
                Ok(event) if matches!(event.kind, EventKind::Access(_)) => {}
                Ok(event) => {
                    for path in &event.paths {
                        table.mark_path(path);
                    }
                }
                Err(_) => table.mark_all(),
            }
        })
        .ok()?;
        Some(Hub {
            watcher: Mutex::new(watcher),
            table,
        })
    })
    .as_ref()
}

/// A follower's registration with the hub; unwatches its directory when
/// the last follower there drops.
#[derive(Debug)]
pub(crate) struct Subscription {
    slot: Arc<Slot>,
    dir: PathBuf,
    name: OsString,
}

/// Subscribes to changes of whatever `path` names, now or later (renames,
/// new files of that name included). Blocking: run it off the executor.
///
/// `None` when notification is unavailable: no watcher, a directory that
/// cannot be resolved or watched, or a symbolic link (its target's
/// directory is not watched).
pub(crate) fn subscribe(path: &Path) -> Option<Subscription> {
    let hub = hub()?;
    let name = path.file_name()?.to_os_string();
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return None;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Events name the watched directory as given: key by its real path.
    let dir = std::fs::canonicalize(parent).ok()?;
    let slot = Arc::new(Slot::default());
    let mut watcher = lock(&hub.watcher);
    let new_dir = {
        let mut table = lock(&hub.table);
        let new_dir = !table.dirs.contains_key(&dir);
        let names = table.dirs.entry(dir.clone()).or_default();
        names
            .entry(name.clone())
            .or_default()
            .push(Arc::downgrade(&slot));
        new_dir
    };
    // The table lock is released: the watcher thread may need it to
    // deliver events while `watch` waits for it.
    if new_dir && watcher.watch(&dir, RecursiveMode::NonRecursive).is_err() {
        let mut table = lock(&hub.table);
        table.dirs.remove(&dir);
        return None;
    }
    Some(Subscription { slot, dir, name })
}

impl Subscription {
    /// Registers `cx`'s waker, then takes the changed flag: `true` if
    /// something happened to the path since the last call.
    pub(crate) fn poll_changed(&self, cx: &mut Context<'_>) -> bool {
        self.slot.poll_changed(cx.waker())
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let Some(hub) = hub() else { return };
        let mut watcher = lock(&hub.watcher);
        let empty = {
            let mut table = lock(&hub.table);
            let Some(names) = table.dirs.get_mut(&self.dir) else {
                return;
            };
            if let Some(slots) = names.get_mut(&self.name) {
                slots.retain(|s| s.strong_count() > 0 && !core::ptr::eq(s.as_ptr(), &*self.slot));
                if slots.is_empty() {
                    names.remove(&self.name);
                }
            }
            let empty = names.is_empty();
            if empty {
                table.dirs.remove(&self.dir);
            }
            empty
        };
        if empty {
            // Best effort: the directory may be gone already.
            let _ = watcher.unwatch(&self.dir);
        }
    }
}

/// The number of directories watched (for tests).
#[cfg(test)]
pub(crate) fn watched_dirs() -> usize {
    hub().map_or(0, |hub| lock(&hub.table).dirs.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;
    use std::time::Instant;

    fn wait_for(sub: &Subscription) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        while Instant::now() < deadline {
            if sub.poll_changed(&mut cx) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no inotify")]
    fn a_write_a_rename_and_a_new_file_mark_the_name_and_only_it() {
        let dir = std::env::temp_dir().join(alloc::format!("aiter-hub-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.log");
        let other = dir.join("other.log");
        std::fs::write(&path, b"").unwrap();
        let sub = subscribe(&path).expect("inotify works here");
        let sub2 = subscribe(&path).expect("a second follower of the same name");
        assert!(!sub.poll_changed(&mut Context::from_waker(futures::task::noop_waker_ref())));
        std::fs::write(&other, b"x").unwrap();
        std::fs::write(&path, b"line\n").unwrap();
        assert!(wait_for(&sub) && wait_for(&sub2));
        std::fs::rename(&path, dir.join("app.log.1")).unwrap();
        assert!(wait_for(&sub));
        std::fs::write(&path, b"new\n").unwrap();
        assert!(wait_for(&sub));
        drop(sub2);
        assert!(watched_dirs() >= 1);
        drop(sub);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
