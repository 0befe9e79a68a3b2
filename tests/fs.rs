//! File access through every runtime adapter: chunked reads and clear errors.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::{on_every_runtime, temp_dir, write_file, Runtime};

use std::io::ErrorKind;

async fn reads_a_file_in_chunks<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let data: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let path = write_file(&dir, "data.bin", &data);
    let file = rt.open(path.clone()).await.expect("open");
    assert_eq!(file.path(), path.as_path());
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    loop {
        let (n, back) = rt.read_at(&file, offset, buf, 0).await;
        buf = back;
        let n = n.expect("read");
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        offset += n as u64;
    }
    assert_eq!(got, data);
    let meta = rt.metadata(&file).await.unwrap();
    assert_eq!(meta.len, data.len() as u64);
    assert_eq!(rt.path_metadata(path).await.unwrap().id, meta.id);
}

async fn missing_file_is_a_typed_error_naming_the_path<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = dir.path().join("nope.log");
    let err = rt.open(path.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.path(), path.as_path());
    // The cause is the source, not repeated in the message.
    assert_eq!(err.to_string(), path.display().to_string());
    assert!(std::error::Error::source(&err).is_some());
}

async fn directory_is_a_typed_error<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let err = rt.open(dir.path().to_path_buf()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IsADirectory);
    assert_eq!(err.to_string(), dir.path().display().to_string());
}

/// A socket file cannot be opened for reading by anyone, root included
/// (CI runs as root, which bypasses permission bits).
#[cfg(unix)]
async fn unreadable_file_is_a_typed_error<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = dir.path().join("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let err = rt.open(path.clone()).await.unwrap_err();
    assert_eq!(err.path(), path.as_path());
    assert_eq!(err.to_string(), path.display().to_string());
    assert!(std::error::Error::source(&err).is_some());
}

/// Permission bits, where they apply (not as root).
#[cfg(unix)]
async fn permission_denied_is_a_typed_error<R: Runtime>(rt: R) {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let path = write_file(&dir, "secret", b"x\n");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    match rt.open(path.clone()).await {
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::PermissionDenied);
            assert_eq!(err.to_string(), path.display().to_string());
        }
        // Root reads anything: then there is nothing to deny.
        Ok(_) => assert!(std::fs::read(&path).is_ok(), "open succeeded only as root"),
    }
}

async fn read_errors_name_the_path_and_offset<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = write_file(&dir, "f", b"abc");
    let file = rt.open(path.clone()).await.unwrap();
    let (res, _) = rt.read_at(&file, 3, vec![0; 4], 4).await;
    let err = res.unwrap_err();
    assert_eq!(err.offset(), Some(3));
    assert_eq!(err.path(), path.as_path());
    assert_eq!(
        err.to_string(),
        format!("{} (byte offset 3)", path.display())
    );
}

on_every_runtime!(
    reads_a_file_in_chunks,
    missing_file_is_a_typed_error_naming_the_path,
    directory_is_a_typed_error,
    unreadable_file_is_a_typed_error,
    permission_denied_is_a_typed_error,
    read_errors_name_the_path_and_offset,
);
