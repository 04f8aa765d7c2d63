"""Markers for views that the project's middleware treats apart."""


def reads_raw_body(view):
    """Mark a view that reads ``request.body`` itself (a webhook, a JSON endpoint): its body is
    not parsed ahead as a form (``records.uploads.NamedFileParserMiddleware``), which would
    leave nothing for it to read."""
    view.reads_raw_body = True
    return view
