//! One shape for blocking and async transports, so the driver's logic is written once.
//!
//! The driver's procedures are `async fn`s over a [`Link`]. The async client runs them on
//! tokio; the blocking client runs them with [`block_on`] over a [`SyncLink`], whose futures
//! are always ready at once (the transport blocks inside `exchange`).

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::protocol::Frame;
#[cfg(feature = "tokio")]
use crate::transport::AsyncTransport;
use crate::transport::{ExchangeError, Transport};

/// What the driver needs from a transport.
pub(super) trait Link: Send {
    /// One request out, one response frame back.
    fn exchange<'a>(
        &'a mut self,
        request: &'a [u8],
        timeout: Duration,
    ) -> impl Future<Output = Result<Frame, ExchangeError>> + Send + 'a;
    /// Forget connection state after a doubtful exchange.
    fn reset(&mut self);
    /// The device, for messages.
    fn peer(&self) -> &str;
    /// Wait (between retries).
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send;
}

/// A blocking transport as a [`Link`].
pub(super) struct SyncLink(pub Box<dyn Transport>);

impl Link for SyncLink {
    fn exchange<'a>(
        &'a mut self,
        request: &'a [u8],
        timeout: Duration,
    ) -> impl Future<Output = Result<Frame, ExchangeError>> + Send + 'a {
        std::future::ready(self.0.exchange(request, timeout))
    }
    fn reset(&mut self) {
        self.0.reset()
    }
    fn peer(&self) -> &str {
        self.0.peer()
    }
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        std::thread::sleep(d);
        std::future::ready(())
    }
}

/// An async transport as a [`Link`] (tokio timers).
#[cfg(feature = "tokio")]
pub(super) struct AsyncLink(pub Box<dyn AsyncTransport>);

#[cfg(feature = "tokio")]
impl Link for AsyncLink {
    fn exchange<'a>(
        &'a mut self,
        request: &'a [u8],
        timeout: Duration,
    ) -> impl Future<Output = Result<Frame, ExchangeError>> + Send + 'a {
        self.0.exchange(request, timeout)
    }
    fn reset(&mut self) {
        self.0.reset()
    }
    fn peer(&self) -> &str {
        self.0.peer()
    }
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread. Over a [`SyncLink`] every future is ready when
/// first polled, so this never parks; it parks (and is woken) correctly for any other future.
pub(super) fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_on_runs_ready_and_pending_futures() {
        assert_eq!(block_on(async { 1 + 1 }), 2);
        // A future that is pending once and wakes itself from another thread.
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let h = std::thread::spawn(move || tx.send(()).unwrap());
        let mut got = false;
        let v = block_on(std::future::poll_fn(|cx| {
            if got || rx.try_recv().is_ok() {
                got = true;
                Poll::Ready(7)
            } else {
                let w = cx.waker().clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(5));
                    w.wake()
                });
                Poll::Pending
            }
        }));
        assert_eq!(v, 7);
        h.join().unwrap();
    }
}
