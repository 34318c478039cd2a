"""Gunicorn for Loa's web process: ``gunicorn -c config/gunicorn.conf.py`` from the checkout (or install) folder,
whose ``config/publisher.env`` the app reads. nginx (config/nginx-loa.conf) stands in front and terminates HTTPS;
set ``PUBLISHER_PROXY_COUNT=1`` so that the app trusts its X-Forwarded-* headers.

Every value can be overridden on the command line (``--bind 0.0.0.0:8000``) or with ``GUNICORN_CMD_ARGS``.
"""

import multiprocessing
import os

wsgi_app = "web:create_app()"

# Behind nginx on the same machine; another machine's proxy needs --bind on a private address.
bind = ["127.0.0.1:8000"]

# Processes x threads. Threads overlap what a request waits for (the database, a platform's answer when an admin
# connects a channel); WEB_CONCURRENCY is the usual knob for the number of processes.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", 4))

# The longest request Loa answers is a video upload of PUBLISHER_MAX_VIDEO_MB (4 GB by default), which nginx has
# buffered to disk first and hands over the loopback, then Loa stores and probes; a channel call waits at most
# PUBLISHER_CHANNEL_TIMEOUT_SECONDS (30). 300 s covers both with room; nginx's proxy timeouts are the same.
timeout = 300
graceful_timeout = 30
keepalive = 5  # below nginx's upstream keepalive_timeout

# A worker is replaced after this many requests (with jitter, so that they do not all restart at once): memory
# that slowly grows (renditions, report charts) is given back.
max_requests = 2000
max_requests_jitter = 200

# ProxyFix in the app (PUBLISHER_PROXY_COUNT) decides what a forwarded scheme means, not gunicorn as well.
secure_scheme_headers: dict[str, str] = {}

accesslog = "-"
errorlog = "-"
loglevel = "info"
proc_name = "loa-web"
