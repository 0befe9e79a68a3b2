//! Model checks of both hand-over slots with a `Co`'s sender moved to
//! another thread: `RUSTFLAGS="--cfg loom" cargo test -p aiter-core
//! --release --lib loom`.
//!
//! Items are clones of one loom `Arc`, so every check ends by asserting that
//! each item was dropped exactly once (no leak, no double drop); loom itself
//! reports any unsynchronised access to a slot.

use core::pin::pin;
use core::task::{Context, Poll, Waker};

use loom::sync::Arc;
use loom::thread;

use super::Misuse;

/// How many items are alive.
fn item_count(items: &Arc<()>) -> usize {
    Arc::strong_count(items) - 1
}

mod atomic {
    use super::super::atomic::{slot, Receiver};
    use super::*;

    /// Polls a body that is `f`, once.
    fn poll_once<T, R>(
        rx: &mut Receiver<T>,
        f: impl FnOnce() -> R,
    ) -> Result<(R, Option<T>), Misuse> {
        let mut f = Some(f);
        let body = pin!(core::future::poll_fn(|_| {
            Poll::Ready(f.take().expect("polled once")())
        }));
        let (polled, item) = rx.poll_with(body, &mut Context::from_waker(Waker::noop()))?;
        match polled {
            Poll::Ready(r) => Ok((r, item)),
            Poll::Pending => unreachable!("the body is always ready"),
        }
    }

    /// A generator (body and stream) moved to another thread between polls:
    /// the second thread sees the first item taken and hands over the next.
    #[test]
    fn loom_atomic_generator_moved_between_polls() {
        loom::model(|| {
            let items = Arc::new(());
            let (tx, mut rx) = slot::<Arc<()>>();
            let ((), got) = poll_once(&mut rx, || {
                let waiter = tx.send(Arc::clone(&items)).expect("sent");
                assert_eq!(waiter.taken(), Ok(false));
            })
            .unwrap();
            assert!(got.is_some());
            drop(got);
            let more = Arc::clone(&items);
            let mover = thread::spawn(move || {
                let (waiter, got) = poll_once(&mut rx, || tx.send(more).expect("sent")).unwrap();
                assert!(got.is_some());
                assert_eq!(waiter.taken(), Ok(true));
            });
            mover.join().unwrap();
            assert_eq!(item_count(&items), 0);
        });
    }

    /// A `Co`'s sender moved to another thread hands items over while the
    /// stream polls here and is then dropped: items come out whole or are
    /// dropped with the slot, the stream may report the misuse, nothing
    /// races or leaks.
    #[test]
    fn loom_atomic_co_on_another_thread_races_the_stream() {
        loom::model(|| {
            let items = Arc::new(());
            let (tx, mut rx) = slot::<Arc<()>>();
            let thief_items = Arc::clone(&items);
            let thief = thread::spawn(move || {
                for _ in 0..3 {
                    match tx.send(Arc::clone(&thief_items)) {
                        Ok(waiter) => {
                            let _ = waiter.taken();
                        }
                        Err((_, Misuse::NotTaken | Misuse::Closed)) => {}
                        Err((_, Misuse::Outside)) => unreachable!("only the stream reports it"),
                    }
                }
                drop(thief_items);
            });
            for _ in 0..3 {
                match poll_once(&mut rx, || ()) {
                    Ok(((), item)) => drop(item),
                    Err(misuse) => assert_eq!(misuse, Misuse::Outside),
                }
            }
            drop(rx);
            thief.join().unwrap();
            assert_eq!(item_count(&items), 0);
        });
    }
}

#[cfg(feature = "std")]
mod local {
    use super::super::local::{slot, Receiver};
    use super::*;

    /// Polls a body that is `f`, once.
    fn poll_once<T, R>(
        rx: &mut Receiver<T>,
        f: impl FnOnce() -> R,
    ) -> Result<(R, Option<T>), Misuse> {
        let mut f = Some(f);
        let body = pin!(core::future::poll_fn(|_| {
            Poll::Ready(f.take().expect("polled once")())
        }));
        let (polled, item) = rx.poll_with(body, &mut Context::from_waker(Waker::noop()))?;
        match polled {
            Poll::Ready(r) => Ok((r, item)),
            Poll::Pending => unreachable!("the body is always ready"),
        }
    }

    /// A generator (body and stream) moved to another thread between polls:
    /// the thread-local id moves with the poll.
    #[test]
    fn loom_local_generator_moved_between_polls() {
        loom::model(|| {
            let items = Arc::new(());
            let (tx, mut rx) = slot::<Arc<()>>();
            let ((), got) = poll_once(&mut rx, || {
                let waiter = tx.send(Arc::clone(&items)).expect("sent");
                assert_eq!(waiter.taken(), Ok(false));
            })
            .unwrap();
            assert!(got.is_some());
            drop(got);
            let more = Arc::clone(&items);
            let mover = thread::spawn(move || {
                let (waiter, got) = poll_once(&mut rx, || tx.send(more).expect("sent")).unwrap();
                assert!(got.is_some());
                // Outside the poll the waiter is refused, inside it sees the
                // item taken.
                assert_eq!(waiter.taken(), Err(Misuse::Outside));
                let (taken, _) = poll_once(&mut rx, || waiter.taken()).unwrap();
                assert_eq!(taken, Ok(true));
            });
            mover.join().unwrap();
            assert_eq!(item_count(&items), 0);
        });
    }

    /// A `Co`'s sender moved to another thread while the stream polls here
    /// and is then dropped: the sender is always refused (outside, or
    /// closed once the stream is gone), never touches the slot, and the
    /// items it tried to hand over come back to it.
    #[test]
    fn loom_local_co_on_another_thread_is_refused() {
        loom::model(|| {
            let items = Arc::new(());
            let (tx, mut rx) = slot::<Arc<()>>();
            let thief_items = Arc::clone(&items);
            let thief = thread::spawn(move || {
                for _ in 0..3 {
                    match tx.send(Arc::clone(&thief_items)) {
                        Err((item, Misuse::Outside | Misuse::Closed)) => drop(item),
                        Err((_, Misuse::NotTaken)) => panic!("the slot was checked"),
                        Ok(_) => panic!("a sender off its poll's thread was let in"),
                    }
                }
                drop(thief_items);
            });
            for _ in 0..3 {
                let ((), item) = poll_once(&mut rx, || ()).unwrap();
                assert!(item.is_none());
            }
            drop(rx);
            thief.join().unwrap();
            assert_eq!(item_count(&items), 0);
        });
    }

    /// After the stream is gone the sender says so.
    #[test]
    fn loom_local_sender_after_the_stream_is_dropped_is_closed() {
        loom::model(|| {
            let (tx, rx) = slot::<u8>();
            let dropper = thread::spawn(move || drop(rx));
            dropper.join().unwrap();
            assert!(matches!(tx.send(1), Err((1, Misuse::Closed))));
        });
    }
}
