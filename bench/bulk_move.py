"""Benchmark of a bulk action in the worker: move N deals (10,000 by default) to another stage.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python -m bench.bulk_move --deals 10000
    DATABASE_URL=… python -m bench.bulk_move --deals 10000 --worker   # through a running Celery worker
    DATABASE_URL=… python -m bench.bulk_move --deals 10000 --open-deals 20000   # a smaller data set

It uses the data set ``bench.run`` generated (or generates 100,000 deals if the database has none),
creates one bulk job as ``bench-admin`` over N open deals of the default pipeline that are not in
the target stage yet, and runs it: by default by calling the worker's task here (the same code the
worker runs), with ``--worker`` by queueing it for a running worker and polling the job. It then
checks what the issue asks: one history row per deal moved, and the totals the database keeps equal
to the live sums (``rollup_differences``); the target is 60 s for 10,000 deals on PostgreSQL.
"""

import argparse
import sys
import time

TARGET_SECONDS = 60


def bulk_move(*, user, deals: int, worker: bool = False, out=sys.stdout) -> dict:
    """Move ``deals`` open deals of the default pipeline to its second open stage in one bulk job;
    returns the figures and raises AssertionError when a check fails."""
    from django.db import transaction

    from bulk.services import bulk_job_create, bulk_job_run
    from core.outbox import task_request
    from opportunities.models import Opportunity
    from opportunities.rollups import ROLLUPS, rollup_differences
    from pipeline.models import Pipeline, StageChange

    pipeline = Pipeline.objects.get(is_default=True)
    target = pipeline.stages.filter(kind="open").order_by("order")[1]
    ids = list(
        Opportunity.objects.filter(pipeline=pipeline, status="open", archived_at__isnull=True)
        .exclude(stage=target)
        .order_by("id")
        .values_list("id", flat=True)[:deals]
    )
    history_before = StageChange.objects.filter(to_stage=target).count()
    started = time.perf_counter()
    with transaction.atomic():
        job = bulk_job_create(user=user, kind="deal", action="stage", params={"stage": target.pk}, ids=ids, run=False)
    if worker:
        task_request("bulk.tasks.bulk_job_run", kwargs={"job_id": job.pk}, waiting="bench bulk job")
        while True:
            job.refresh_from_db()
            if job.is_finished:
                break
            out.write(f"\r{job.cursor} / {job.total}")
            out.flush()
            time.sleep(0.5)
        out.write("\n")
    else:
        bulk_job_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    history_rows = StageChange.objects.filter(to_stage=target).count() - history_before
    differences = {rollup.name: len(rollup_differences(rollup)) for rollup in ROLLUPS}
    result = {
        "deals": len(ids),
        "status": job.status,
        "changed": job.changed_count,
        "refused": job.refused_count,
        "history_rows": history_rows,
        "seconds": round(seconds, 2),
        "rollup_differences": differences,
    }
    out.write(f"{result}\n")
    assert job.status == "done", job.error
    assert history_rows == job.changed_count == len(ids), result
    assert not any(differences.values()), differences
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--worker", action="store_true", help="queue the job for a running Celery worker")
    parser.add_argument(
        "--open-deals",
        type=int,
        default=None,
        help="open deals to generate when the database has too few (default: twice --deals, at least 100,000)",
    )
    args = parser.parse_args(argv)

    from bench.run import _require_bench_database_url, configure_environment, dataset_ensure

    _require_bench_database_url()
    configure_environment()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from accounts.models import User
    from opportunities.models import Opportunity

    if not Opportunity.objects.filter(status="open").count() >= args.deals:
        dataset_ensure(open_deals=args.open_deals or max(args.deals * 2, 100_000), closed_deals=0)
    result = bulk_move(user=User.objects.get(username="bench-admin"), deals=args.deals, worker=args.worker)
    verdict = "within" if result["seconds"] <= TARGET_SECONDS else "OVER"
    print(f"{result['deals']} deals moved in {result['seconds']} s: {verdict} the {TARGET_SECONDS} s target")


if __name__ == "__main__":
    main()
