//! C entry points over tokio's public API for the rtctx benchmark driver.
//!
//! - post from an outside thread: `Handle::spawn`
//! - post from a task on the runtime: `tokio::spawn`
//! - post blocking work (W5): `Handle::spawn_blocking`
//! - round trip (hop): `Handle::spawn` of the call + `Handle::block_on` of a
//!   oneshot channel's receiver
//! - round trip (inline): `Handle::block_on(async { f(arg) })`, which runs
//!   the future on the calling thread

use std::ffi::{c_char, c_void};
use tokio::runtime::{Builder, Handle, Runtime};

pub type TaskFn = extern "C" fn(*mut c_void);

#[derive(Clone, Copy)]
struct Job {
    f: TaskFn,
    arg: *mut c_void,
}
// The C side owns `arg` and makes it safe to use from any thread.
unsafe impl Send for Job {}

impl Job {
    #[inline]
    fn run(self) {
        (self.f)(self.arg)
    }
}

pub struct Rt {
    rt: Runtime,
    handle: Handle,
}

#[no_mangle]
pub extern "C" fn bench_tokio_new(workers: u32) -> *mut Rt {
    match Builder::new_multi_thread()
        .worker_threads(workers.max(1) as usize)
        .build()
    {
        Ok(rt) => {
            let handle = rt.handle().clone();
            Box::into_raw(Box::new(Rt { rt, handle }))
        }
        Err(_) => std::ptr::null_mut(),
    }
}

/// # Safety
/// `rt` comes from `bench_tokio_new` and was not freed.
#[no_mangle]
pub unsafe extern "C" fn bench_tokio_spawn(rt: *const Rt, f: TaskFn, arg: *mut c_void) {
    let job = Job { f, arg };
    drop((*rt).handle.spawn(async move { job.run() }));
}

/// Called from a task running on the runtime.
#[no_mangle]
pub extern "C" fn bench_tokio_spawn_from_task(f: TaskFn, arg: *mut c_void) {
    let job = Job { f, arg };
    drop(tokio::spawn(async move { job.run() }));
}

/// W5's blocking tasks: tokio's blocking pool.
///
/// # Safety
/// As `bench_tokio_spawn`.
#[no_mangle]
pub unsafe extern "C" fn bench_tokio_spawn_blocking(rt: *const Rt, f: TaskFn, arg: *mut c_void) {
    let job = Job { f, arg };
    drop((*rt).handle.spawn_blocking(move || job.run()));
}

/// # Safety
/// As `bench_tokio_spawn`.
#[no_mangle]
pub unsafe extern "C" fn bench_tokio_roundtrip(rt: *const Rt, f: TaskFn, arg: *mut c_void) {
    let job = Job { f, arg };
    let h = &(*rt).handle;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    drop(h.spawn(async move {
        job.run();
        let _ = tx.send(());
    }));
    h.block_on(rx).expect("round trip task vanished");
}

/// # Safety
/// As `bench_tokio_spawn`.
#[no_mangle]
pub unsafe extern "C" fn bench_tokio_block_on_inline(rt: *const Rt, f: TaskFn, arg: *mut c_void) {
    let job = Job { f, arg };
    (*rt).handle.block_on(async move { job.run() });
}

/// # Safety
/// `rt` comes from `bench_tokio_new`; it is freed here.
#[no_mangle]
pub unsafe extern "C" fn bench_tokio_free(rt: *mut Rt) {
    let rt = Box::from_raw(rt);
    let Rt { rt, handle } = *rt;
    drop(handle);
    drop(rt); // waits for the worker threads
}

#[no_mangle]
pub extern "C" fn bench_tokio_version() -> *const c_char {
    concat!(env!("BENCH_TOKIO_VERSION"), "\0").as_ptr() as *const c_char
}
