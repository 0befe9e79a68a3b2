//! aiter's paged cursor over a real SQLite database, on tokio.
//!
//! Run with `cargo run --example sqlite_cursor --features tokio`.
//!
//! 1. A temporary database with a `users` table of 100 000 rows is streamed
//!    1 000 rows per page. One prepared statement stays open across pages
//!    (DB-API `fetchmany` style) on a query thread; each page is awaited
//!    through the runtime's blocking pool (`Blocking::unblock`), so the next
//!    page is read while this one is consumed.
//! 2. A bad query comes out as an error item, not a panic; so does a write
//!    (only read-only statements run).
//! 3. Background fetching from an async service: the cursor never spawns,
//!    so a plain `async` fetch only progresses while the cursor is polled.
//!    Returning a `tokio::spawn`ed task from the fetch function makes the
//!    prefetch run while the consumer is busy.

use std::pin::pin;
use std::time::{Duration, Instant};

use aiter::cursor::{Cursor, Page};
use aiter::next;
use aiter::tokio::Tokio;
use aiter_sqlite::{Database, Query};
use futures::future::Either;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("demo.db");
    rusqlite::Connection::open(&path)?.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER NOT NULL);
         WITH RECURSIVE n(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM n WHERE id < 100000)
         INSERT INTO users SELECT id, 'user-' || id, 18 + id % 60 FROM n;",
    )?;

    // 1. Every row of at least a minimum age, one page of 1 000 ahead.
    let query = Query::new("SELECT id, name, age FROM users WHERE age >= ?1 ORDER BY id")
        .param(18)
        .page_size(1_000);
    let fetch = aiter_sqlite::pages(Tokio, Database::path(&path), query, |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
        ))
    });
    let mut users = pin!(Cursor::new(fetch).prefetch(1));
    let start = Instant::now();
    let (mut count, mut ages) = (0u64, 0i64);
    while let Some(user) = next(&mut users).await {
        // The outer `?`: a page failed (the end); the inner: this row did.
        let (_id, _name, age) = user??;
        count += 1;
        ages += age;
    }
    println!(
        "{count} users, mean age {:.2}, in {:?}",
        ages as f64 / count as f64,
        start.elapsed()
    );

    // 2. Errors are items: one `Err` naming the file and the SQL (SQLite's
    //    own message is its source), then the end.
    for sql in ["SELECT * FROM nope", "DELETE FROM users"] {
        let fetch = aiter_sqlite::pages(
            Tokio,
            Database::path(&path),
            Query::new(sql),
            aiter_sqlite::row_values,
        );
        let mut broken = pin!(Cursor::new(fetch));
        if let Some(Err(e)) = next(&mut broken).await {
            match std::error::Error::source(e.error()) {
                Some(cause) => println!("error item: {}: {cause}", e.error()),
                None => println!("error item: {}", e.error()),
            }
        }
        assert!(next(&mut broken).await.is_none());
    }

    // 3. An async service with 5 ms latency per page, and a consumer that
    //    spends 5 ms of CPU per page.
    for (how, spawned) in [
        ("plain async fetch", false),
        ("tokio::spawn'ed fetch", true),
    ] {
        let fetch = move |from: Option<u32>| {
            let page = async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let n = from.unwrap_or(0);
                let items: Vec<u32> = (n * 100..(n + 1) * 100).collect();
                Ok::<_, String>(if n < 19 {
                    Page::more(items, n + 1)
                } else {
                    Page::done(items)
                })
            };
            if spawned {
                // Spawning starts the request at once, on the runtime, and
                // it runs whether or not the cursor is polled.
                let task = tokio::spawn(page);
                Either::Left(async move { task.await.map_err(|e| e.to_string())? })
            } else {
                Either::Right(page)
            }
        };
        let mut numbers = pin!(Cursor::new(fetch).prefetch(1));
        let start = Instant::now();
        let mut sum = 0u64;
        while let Some(n) = next(&mut numbers).await {
            let n = n.map_err(|e| e.to_string())?;
            sum += u64::from(n);
            if n % 100 == 99 {
                busy_for(Duration::from_millis(5));
            }
        }
        assert_eq!(sum, (0..2_000u64).sum());
        println!("20 pages, prefetch 1, {how}: {:?}", start.elapsed());
    }
    Ok(())
}

/// CPU work (not a sleep, so that nothing else runs on this thread).
fn busy_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}
