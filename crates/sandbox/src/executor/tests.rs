use super::*;

fn small(name: &str, slots: usize) -> ExecutorConfig {
    ExecutorConfig {
        name: name.into(),
        slots,
        threads_per_slot: 1,
        queue: 4,
        per_client: 2,
        queue_wait: Duration::from_secs(5),
        stack_bytes: 8 << 20,
        nice: 7,
        idle: false,
        cpus: None,
        grace: Duration::from_millis(300),
        max_replacements: 2,
    }
}

fn limits(ms: u64) -> JobLimits {
    JobLimits {
        time: Duration::from_millis(ms),
        memory: 64 << 20,
    }
}

#[tokio::test]
async fn jobs_run_on_lowered_executor_threads_not_the_callers() {
    let ex = Executor::new(small("t-where", 1));
    let me = std::thread::current().id();
    let (thread, nice, on_executor) = ex
        .run(ex.admit("a").unwrap(), limits(5_000), move || async move {
            (
                std::thread::current().id(),
                priority::nice_of(priority::thread_id()),
                budget::on_executor(),
            )
        })
        .await
        .unwrap();
    assert_ne!(thread, me);
    assert_eq!(nice, Some(7));
    assert!(on_executor);
    assert!(
        !budget::on_executor(),
        "the caller's thread is not an executor's"
    );
}

#[tokio::test]
async fn admission_caps_each_client_and_the_total() {
    let ex = Executor::new(small("t-admit", 1));
    let a1 = ex.admit("a").unwrap();
    let a2 = ex.admit("a").unwrap();
    let e = ex.admit("a").err().unwrap();
    assert_eq!(e.reason, BusyReason::Client { limit: 2 });
    assert!(
        e.to_string().contains("2 queries running or waiting"),
        "{e}"
    );
    drop(a1);
    let a3 = ex.admit("a").unwrap();
    // Total: 1 slot + 4 queued.
    let others: Vec<_> = ["b", "b", "c"]
        .iter()
        .map(|c| ex.admit(c).unwrap())
        .collect();
    assert_eq!(ex.admit("d").err().unwrap().reason, BusyReason::Full);
    drop((a2, a3, others));
    assert!(ex.admit("d").is_ok());
}

#[tokio::test]
async fn a_job_that_checks_stops_at_its_deadline() {
    let ex = Executor::new(small("t-deadline", 1));
    let started = Instant::now();
    let r = ex
        .run(ex.admit("a").unwrap(), limits(200), || async {
            loop {
                if let Err(e) = budget::check() {
                    return e;
                }
                std::hint::spin_loop();
            }
        })
        .await
        .unwrap();
    assert!(matches!(r, Exceeded::Time { .. }), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(ex.stats().stuck, 0);
}

#[tokio::test]
async fn a_job_that_awaits_is_dropped_at_its_deadline() {
    let ex = Executor::new(small("t-await", 1));
    let r = ex
        .run(ex.admit("a").unwrap(), limits(150), || async {
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
        .await;
    assert_eq!(
        r,
        Err(RunError::Exceeded(Exceeded::Time {
            limit: Duration::from_millis(150)
        }))
    );
}

#[tokio::test]
async fn a_stuck_job_is_set_aside_and_its_slot_replaced() {
    let ex = Executor::new(small("t-stuck", 1));
    let stop = Arc::new(AtomicBool::new(false));
    let spin = stop.clone();
    let r = ex
        .run(ex.admit("a").unwrap(), limits(100), move || async move {
            // Never checks its budget.
            while !spin.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        })
        .await;
    assert!(
        matches!(r, Err(RunError::Exceeded(Exceeded::Time { .. }))),
        "{r:?}"
    );
    // The watchdog notices within a period or two, and a new thread serves the next job.
    let mut waited = 0;
    while ex.stats().replaced == 0 && waited < 50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    let s = ex.stats();
    assert_eq!((s.stuck, s.replaced), (1, 1), "{s:?}");
    let v = ex
        .run(ex.admit("b").unwrap(), limits(2_000), || async { 42 })
        .await
        .unwrap();
    assert_eq!(v, 42);
    stop.store(true, Ordering::Relaxed);
    let mut waited = 0;
    while ex.stats().stuck == 1 && waited < 50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert_eq!(
        ex.stats().stuck,
        0,
        "the stuck thread left once it finished"
    );
}

#[tokio::test]
async fn memory_past_the_limit_fails_the_check() {
    let ex = Executor::new(small("t-mem", 1));
    let r = ex
        .run(ex.admit("a").unwrap(), limits(5_000), || async {
            let mut held = Vec::new();
            for _ in 0..100 {
                held.push(vec![7u8; 1 << 20]);
                if let Err(e) = budget::check() {
                    return (held.len(), Some(e));
                }
            }
            (held.len(), None)
        })
        .await
        .unwrap();
    assert!(r.0 > 60 && r.0 <= 66, "stopped near 64 MiB: {r:?}");
    assert!(matches!(r.1, Some(Exceeded::Memory { limit, .. }) if limit == 64 << 20));
}

#[tokio::test]
async fn a_panic_fails_the_job_and_the_executor_goes_on() {
    let ex = Executor::new(small("t-panic", 1));
    let r: Result<(), _> = ex
        .run(ex.admit("a").unwrap(), limits(5_000), || async {
            panic!("boom");
        })
        .await;
    assert_eq!(r, Err(RunError::Panicked));
    let v = ex
        .run(ex.admit("a").unwrap(), limits(5_000), || async { 1 })
        .await;
    assert_eq!(v, Ok(1));
}

#[tokio::test]
async fn dropping_the_waiter_cancels_the_job() {
    let ex = Executor::new(small("t-cancel", 1));
    let seen = Arc::new(Mutex::new(None));
    let record = seen.clone();
    let waiter = ex.run(ex.admit("a").unwrap(), limits(10_000), move || async move {
        loop {
            if let Err(e) = budget::check() {
                *lock(&record) = Some(e);
                return;
            }
            tokio::task::yield_now().await;
        }
    });
    let _ = tokio::time::timeout(Duration::from_millis(100), waiter).await;
    let mut waited = 0;
    while lock(&seen).is_none() && waited < 40 {
        tokio::time::sleep(Duration::from_millis(25)).await;
        waited += 1;
    }
    assert_eq!(*lock(&seen), Some(Exceeded::Cancelled));
}

#[tokio::test]
async fn clients_take_turns_in_the_queue() {
    let ex = Executor::new(ExecutorConfig {
        per_client: 8,
        queue: 16,
        ..small("t-turns", 1)
    });
    let order = Arc::new(Mutex::new(Vec::new()));
    // Block the slot so that everything below queues up.
    let gate = Arc::new(AtomicBool::new(false));
    let g = gate.clone();
    let blocker = ex.run(ex.admit("z").unwrap(), limits(5_000), move || async move {
        while !g.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let blocker = tokio::spawn(blocker);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut waiters = Vec::new();
    for (client, n) in [("a", 4), ("b", 2)] {
        for i in 0..n {
            let o = order.clone();
            let tag = format!("{client}{i}");
            let fut = ex.run(
                ex.admit(client).unwrap(),
                limits(5_000),
                move || async move {
                    lock(&o).push(tag);
                },
            );
            waiters.push(tokio::spawn(fut));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    gate.store(true, Ordering::Relaxed);
    blocker.await.unwrap().unwrap();
    for w in waiters {
        w.await.unwrap().unwrap();
    }
    assert_eq!(*lock(&order), ["a0", "b0", "a1", "b1", "a2", "a3"]);
}

#[tokio::test]
async fn a_job_that_waits_too_long_in_the_queue_is_busy() {
    let ex = Executor::new(ExecutorConfig {
        queue_wait: Duration::from_millis(100),
        ..small("t-wait", 1)
    });
    let hold = ex.run(ex.admit("a").unwrap(), limits(2_000), || async {
        tokio::time::sleep(Duration::from_millis(600)).await;
    });
    let hold = tokio::spawn(hold);
    tokio::time::sleep(Duration::from_millis(30)).await;
    let r = ex
        .run(ex.admit("b").unwrap(), limits(2_000), || async {})
        .await;
    assert!(
        matches!(
            r,
            Err(RunError::Busy(Busy {
                reason: BusyReason::QueueWait,
                ..
            }))
        ),
        "{r:?}"
    );
    hold.await.unwrap().unwrap();
}
