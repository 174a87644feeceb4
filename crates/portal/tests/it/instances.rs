//! The job queue, singleton tasks and shared rate limits with two connection pools on one
//! database, as two portal instances hold them (issue 20), on SQLite and on PostgreSQL. The
//! test with two real processes, one killed mid-job, is the CLI's `portal_instances`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use secviz_portal::db::states::JobState;
use secviz_portal::db::{Db, jobs, singleton};
use secviz_portal::ratelimit::RateLimiter;
use secviz_portal::{Backend, ManualClock};

use crate::common::fresh_database;

const JOBS: i64 = 40;

/// Two pools on one fresh database, with `JOBS` queued jobs.
async fn two_instances(backend: Backend) -> (Db, Db, Box<dyn std::any::Any + Send>) {
    let (url, keep) = fresh_database(backend).await;
    let one = Db::connect(&url).await.unwrap();
    let two = Db::connect(&url).await.unwrap();
    sqlx::query("INSERT INTO users (username, email, password_hash, created_at) VALUES ('ana', 'ana@example.org', 'x', 0)")
        .execute(&one.pool)
        .await
        .unwrap();
    let user: i64 = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&one.pool)
        .await
        .unwrap();
    for n in 0..JOBS {
        let id = format!("d{n}");
        sqlx::query("INSERT INTO datasets (id, owner_id, label, anonymized, status, created_at, updated_at) VALUES ($1, $2, 'l', 1, 'queued', 0, 0)")
            .bind(&id)
            .bind(user)
            .execute(&one.pool)
            .await
            .unwrap();
        let mut conn = one.pool.acquire().await.unwrap();
        jobs::insert(&mut conn, &id, &format!("s{n}"), 1, 0)
            .await
            .unwrap();
    }
    (one, two, keep)
}

/// Eight claimers, four on each pool, empty the queue: every job is claimed, none twice.
async fn every_job_is_claimed_once(backend: Backend) {
    let (one, two, _keep) = two_instances(backend).await;
    let mut tasks = Vec::new();
    for n in 0..8 {
        let db = if n % 2 == 0 { one.clone() } else { two.clone() };
        tasks.push(tokio::spawn(async move {
            let owner = format!("instance-{}-{n}", n % 2);
            let mut mine = Vec::new();
            while let Some(job) = jobs::claim_next(&db, &owner, 100).await.unwrap() {
                assert_eq!(job.owner, owner);
                assert_eq!(job.attempts, 1);
                assert_eq!(job.state, JobState::Running);
                mine.push(job.id.0);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    let mut per_claimer = Vec::new();
    for t in tasks {
        let mine = t.await.unwrap();
        per_claimer.push(mine.len());
        all.extend(mine);
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), JOBS as usize, "claims: {per_claimer:?}");
    assert_eq!(distinct.len(), JOBS as usize, "a job was claimed twice");
}

/// A claim that went stale and was taken over cannot write any more: its heartbeat says so
/// and its finish changes nothing; the new claim's finish counts.
async fn a_lost_claim_writes_nothing(backend: Backend) {
    let (one, two, _keep) = two_instances(backend).await;
    let first = jobs::claim_next(&one, "a", 100).await.unwrap().unwrap();
    let progress = jobs::Progress {
        bytes_read: 10,
        phase: "parsing",
        ..Default::default()
    };
    assert!(
        jobs::progress(&one, &first.lease(), &progress, 101)
            .await
            .unwrap()
    );
    // Instance a stops beating; b finds the job stale and queues it again.
    let stale = jobs::stale(&two, 200).await.unwrap();
    assert_eq!(
        stale.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![first.id]
    );
    assert!(jobs::requeue(&two, first.id, 200).await.unwrap());
    assert!(
        !jobs::requeue(&one, first.id, 200).await.unwrap(),
        "requeued once"
    );
    let second = jobs::claim_next(&two, "b", 201).await.unwrap().unwrap();
    assert_eq!((second.id, second.attempts), (first.id, 2));

    assert!(
        !jobs::progress(&one, &first.lease(), &progress, 202)
            .await
            .unwrap(),
        "the old claim's heartbeat tells it to stop"
    );
    let mut conn = one.pool.acquire().await.unwrap();
    assert!(
        !jobs::finish(&mut conn, &first.lease(), JobState::Failed, 203)
            .await
            .unwrap(),
        "the old claim cannot end the job"
    );
    let mut conn = two.pool.acquire().await.unwrap();
    assert!(
        jobs::finish(&mut conn, &second.lease(), JobState::Done, 204)
            .await
            .unwrap()
    );
    let job = jobs::get(&one, first.id).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.owner.as_str(), job.attempts),
        (JobState::Done, "b", 2)
    );
    assert!(
        !jobs::finish(&mut conn, &second.lease(), JobState::Done, 205)
            .await
            .unwrap(),
        "a job ends once"
    );
    // A job taken over only to be failed: only while it is stale.
    let third = jobs::claim_next(&one, "a", 300).await.unwrap().unwrap();
    assert!(
        jobs::take_over(&two, third.id, "b", 300, 301)
            .await
            .unwrap()
            .is_none(),
        "a fresh heartbeat is not taken over"
    );
    let lease = jobs::take_over(&two, third.id, "b", 400, 401)
        .await
        .unwrap()
        .expect("a stale one is");
    assert_eq!((lease.owner.as_str(), lease.attempt), ("b", 1));
    assert!(
        !jobs::progress(&one, &third.lease(), &progress, 402)
            .await
            .unwrap()
    );
}

/// A singleton task runs on one instance at a time; the other skips it, and may run it once
/// it is over.
async fn singleton_tasks_run_alone(backend: Backend) {
    let (one, two, _keep) = two_instances(backend).await;
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let work = |running: Arc<AtomicUsize>, most: Arc<AtomicUsize>| async move {
        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        running.fetch_sub(1, Ordering::SeqCst);
    };
    let a = singleton::run_alone(
        &one,
        singleton::Task::Sweep,
        "a",
        1000,
        work(running.clone(), most.clone()),
    );
    let b = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        singleton::run_alone(
            &two,
            singleton::Task::Sweep,
            "b",
            1000,
            work(running.clone(), most.clone()),
        )
        .await
    };
    let (a, b) = tokio::join!(a, b);
    assert_eq!(a.unwrap(), Some(()), "the first instance runs it");
    assert_eq!(b.unwrap(), None, "the second skips it while it runs");
    assert_eq!(most.load(Ordering::SeqCst), 1);
    let again = singleton::run_alone(&two, singleton::Task::Sweep, "b", 1001, async { 7 })
        .await
        .unwrap();
    assert_eq!(again, Some(7), "free again once it ended");
}

/// Counters shared through PostgreSQL: hits on two instances count against one limit, even
/// when they race; on SQLite each instance counts its own (one instance per database).
async fn rate_limits_are_shared(backend: Backend) {
    let (one, two, _keep) = two_instances(backend).await;
    let clock = Arc::new(ManualClock::new());
    let a = RateLimiter::for_db(clock.clone(), &one);
    let b = RateLimiter::for_db(clock.clone(), &two);
    assert_eq!(a.is_shared(), backend == Backend::Postgres);
    if backend == Backend::Sqlite {
        return;
    }
    let mut tasks = Vec::new();
    for n in 0..40 {
        let limiter = if n % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            limiter.take("login-ip:192.0.2.7", 10, 60).await
        }));
    }
    let mut granted = 0;
    for t in tasks {
        granted += usize::from(t.await.unwrap());
    }
    assert_eq!(granted, 10, "forty racing hits on two instances, limit 10");
    assert_eq!(b.count("login-ip:192.0.2.7", 60).await, 10);
    // A reservation given back frees its slot for both.
    let other = a.reserve(&["k1", "k2"], 1, 60).await.expect("free");
    assert!(b.reserve(&["k2"], 1, 60).await.is_none(), "held");
    drop(other);
    let mut freed = false;
    for _ in 0..50 {
        if let Some(r) = b.reserve(&["k2"], 1, 60).await {
            r.keep();
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(freed, "the given-back hit is free on the other instance");
    // A new window starts over.
    clock.advance(61);
    assert!(a.take("login-ip:192.0.2.7", 10, 60).await);
}

on_both!(
    every_job_is_claimed_once,
    a_lost_claim_writes_nothing,
    singleton_tasks_run_alone,
    rate_limits_are_shared
);
