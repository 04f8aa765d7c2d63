"""gunicorn's settings for the portal: ``gunicorn -c config/gunicorn.py config.wsgi`` (the
Dockerfile and ``ops/stack.py``); the number of workers is given on the command line.

The access log names each request's path and never its query string: a coordinator's search
of the requests by a family's e-mail address (``?q=…``) would otherwise be written to it, and
the logs hold no patient data."""

# Threaded workers keep answering while one request streams a large upload or download; the
# timeout covers a 2 GB imaging file through a slow proxy.
worker_class = "gthread"
threads = 4
timeout = 600
accesslog = "-"
# Address, time, method, path (no query), protocol, status, bytes sent, seconds taken.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s'
