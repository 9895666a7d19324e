"""gunicorn settings for the CRM: ``gunicorn -c python:crm.gunicorn_conf crm.wsgi:application``.

An access log line per request on standard output, and the bookkeeping Prometheus needs when
several workers share ``PROMETHEUS_MULTIPROC_DIR`` (see core/metrics.py): the directory is emptied
when gunicorn starts (samples of a previous run would be added up again) and a worker's files are
marked dead when it exits. Command-line options override these.
"""

import os
import shutil
from pathlib import Path

accesslog = "-"
# The request id (core/observability.py) ends every access line, to join it with the app's log.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms %({x-request-id}o)s'


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        if path.exists():
            for child in path.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        path.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
