//! Sensor readings and a heartbeat, merged into one stream.
//!
//! Three "sensors" (async streams that sleep between readings, so they are
//! `!Unpin` and each wakes on its own timer) and `aiter::tokio::interval` as a
//! heartbeat, merged with `aiter::merge::merge`. The merge polls only the
//! input whose timer fired, serves ready inputs round-robin, and drops each
//! sensor as soon as it ends; the heartbeat goes on.
//!
//! Run with: `cargo run --example merge_heartbeat --features tokio`
#![allow(missing_docs)]

#[cfg(feature = "tokio")]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    use std::time::{Duration, Instant};

    use aiter::merge::merge;
    use aiter::next;
    use futures::StreamExt;

    /// Both kinds of input, as one item type.
    #[derive(Debug)]
    enum Msg {
        Reading { sensor: usize, value: u32 },
        Heartbeat(u64),
    }

    let start = Instant::now();
    let sensors = (0..3).map(|sensor| {
        futures::stream::unfold(0u32, move |n| async move {
            if n == 4 {
                return None; // this sensor is done
            }
            aiter::tokio::sleep(Duration::from_millis(15 * (sensor as u64 + 1))).await;
            Some((
                Msg::Reading {
                    sensor,
                    value: 100 * sensor as u32 + n,
                },
                n + 1,
            ))
        })
        .boxed()
    });
    let heartbeat = aiter::tokio::interval(Duration::from_millis(25))
        .map(Msg::Heartbeat)
        .boxed();

    let mut merged = merge(sensors.chain([heartbeat]));
    let mut readings = 0;
    while readings < 12 {
        let msg = next(&mut merged).await.expect("the heartbeat never ends");
        let at = start.elapsed().as_millis();
        match msg {
            Msg::Reading { sensor, value } => {
                readings += 1;
                println!("{at:>4} ms  sensor {sensor}: {value}");
            }
            Msg::Heartbeat(tick) => println!(
                "{at:>4} ms  heartbeat #{tick} ({} inputs live)",
                merged.len()
            ),
        }
    }
    // Every sensor has delivered its 4 readings; the next heartbeat comes
    // after the ended sensors were dropped.
    if let Some(Msg::Heartbeat(tick)) = next(&mut merged).await {
        println!("heartbeat #{tick}: {} input live", merged.len());
    }
}

#[cfg(not(feature = "tokio"))]
fn main() {
    eprintln!("this example needs the tokio adapter: cargo run --example merge_heartbeat --features tokio");
}
